//! The shipped presets (`presets/*.toml`, read at test time so new presets are covered) with
//! their compiled policies and embedded test cases.

use std::fs;
use std::path::PathBuf;

use cancel_policy_core::compile::{self, cases::Case};
use cancel_policy_core::compiled::CompiledPolicy;

use crate::build::workspace_root;

pub struct Preset {
    pub file: String,
    pub policy: CompiledPolicy,
    pub json: String,
    pub cases: Vec<Case>,
}

/// Every preset, compiled; an error names the preset that does not compile.
pub fn load_all() -> anyhow::Result<Vec<Preset>> {
    let dir = workspace_root().join("presets");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut presets = Vec::new();
    for path in paths {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = fs::read_to_string(&path)?;
        let compiled = compile::compile(&source, &file);
        let policy = compiled.policy.ok_or_else(|| {
            anyhow::anyhow!("{file} does not compile:\n{}", compiled.diagnostics.len())
        })?;
        let cases = compile::cases::parse_cases(&source, &file)?;
        presets.push(Preset {
            json: policy.to_json(),
            file,
            policy,
            cases,
        });
    }
    Ok(presets)
}
