//! Bakes a compiled policy into the Function when `CANCEL_POLICY_BAKED_POLICY` names a compiled
//! policy JSON file (an agency's custom app ships its preset this way). Without it the Function
//! has no built-in policy and answers `policyMissing` when the owner has no policy metafield.

use std::{env, fs, path::PathBuf};

const VAR: &str = "CANCEL_POLICY_BAKED_POLICY";

fn main() -> Result<(), String> {
    println!("cargo:rerun-if-env-changed={VAR}");
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let baked = match env::var_os(VAR) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            fs::read_to_string(&path)
                .map_err(|e| format!("{VAR}: cannot read `{}`: {e}", path.display()))?
        }
        _ => String::new(),
    };
    fs::write(out_dir.join("baked_policy.json"), baked)
        .map_err(|e| format!("cannot write the baked policy: {e}"))
}
