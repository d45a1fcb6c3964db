//! Builds the Function and the provider for `wasm32-unknown-unknown`, in a target directory of
//! their own (a nested `cargo build` must not wait on the outer build's lock). The Function is
//! built by the script Shopify's build command runs (`extensions/cancel-policy/build.sh`: the
//! `function` profile, then binaryen's `wasm-opt` passes), so the tests run the module Shopify deploys.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The environment variable that bakes a compiled policy into the Function (see its build.rs).
pub const BAKED_POLICY_VAR: &str = "CANCEL_POLICY_BAKED_POLICY";

/// The script that builds the Function (`build.command` in its shopify.extension.toml).
pub const FUNCTION_BUILD_SCRIPT: &str = "extensions/cancel-policy/build.sh";

/// The module that script writes, in `<target>/wasm32-unknown-unknown/function/`.
pub const FUNCTION_MODULE: &str = "cancel-policy-function-opt.wasm";

#[derive(Debug, Clone)]
pub struct Artifacts {
    pub function: PathBuf,
    pub provider: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("could not start cargo: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("building for wasm32-unknown-unknown failed:\n{0}")]
    Failed(String),
}

pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// Where the Wasm builds go: `function-wasm` in the workspace's target directory.
pub fn wasm_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("function-wasm")
}

/// Builds (or finds up to date) the Function and the provider, once per process.
pub fn artifacts() -> Result<&'static Artifacts, String> {
    static BUILT: OnceLock<Result<Artifacts, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_into(&wasm_target_dir(), None).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Builds the Function with `baked_policy` (a compiled policy JSON file) built in.
pub fn build_into(target_dir: &Path, baked_policy: Option<&Path>) -> Result<Artifacts, BuildError> {
    ensure_wasm_target();
    let mut function = Command::new("sh");
    function
        .current_dir(workspace_root())
        .arg(workspace_root().join(FUNCTION_BUILD_SCRIPT))
        .arg("--quiet")
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove(BAKED_POLICY_VAR);
    if let Some(policy) = baked_policy {
        function.env(BAKED_POLICY_VAR, policy);
    }
    run(function)?;
    // Shopify publishes its provider built with `cargo build --release` (its workspace sets no
    // profile), so the tests run it optimised for speed, not with the Function's size profile.
    // https://github.com/Shopify/shopify-function-wasm-api/blob/main/.github/workflows/publish.yml
    run(wasm_build(
        target_dir,
        "cancel-policy-function-provider",
        "release",
    ))?;
    let dir = target_dir.join("wasm32-unknown-unknown");
    Ok(Artifacts {
        function: dir.join("function").join(FUNCTION_MODULE),
        provider: dir
            .join("release")
            .join("cancel_policy_function_provider.wasm"),
    })
}

fn wasm_build(target_dir: &Path, package: &str, profile: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            package,
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            profile,
            "--target-dir",
        ])
        .arg(target_dir)
        .env_remove(BAKED_POLICY_VAR);
    command
}

fn run(mut command: Command) -> Result<(), BuildError> {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BuildError::Failed(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }
}

/// rustup installs the targets of rust-toolchain.toml only with a new toolchain; on a machine
/// whose toolchain came first, add the Wasm target so `cargo test` works from a fresh clone.
fn ensure_wasm_target() {
    static ADDED: OnceLock<()> = OnceLock::new();
    ADDED.get_or_init(|| {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .current_dir(workspace_root())
            .output();
        let missing = installed.is_ok_and(|out| {
            !String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|t| t.trim() == "wasm32-unknown-unknown")
        });
        if missing {
            // A failure shows up as the build's own "target may not be installed" error.
            let _ = Command::new("rustup")
                .args(["target", "add", "wasm32-unknown-unknown"])
                .current_dir(workspace_root())
                .status();
        }
    });
}
