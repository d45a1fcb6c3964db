//! Reading and compiling policy files for the commands.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cancel_policy_core::CompiledPolicy;
use cancel_policy_core::compile::{CompileOutput, compile};

/// A policy file read from disk and compiled.
pub struct PolicyFile {
    pub path: PathBuf,
    pub source: String,
    pub output: CompileOutput,
}

impl PolicyFile {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let output = compile(&source, &path.display().to_string());
        Ok(PolicyFile {
            path: path.to_path_buf(),
            source,
            output,
        })
    }

    /// The compiled policy, or an error that carries every diagnostic.
    pub fn policy(&self) -> anyhow::Result<&CompiledPolicy> {
        match &self.output.policy {
            Some(policy) => Ok(policy),
            None => bail!(
                "{} does not compile:\n{}",
                self.path.display(),
                self.output.render(&self.source)
            ),
        }
    }
}

/// Expands directories into the `.toml` files they hold (sorted), keeping files as given.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{} holds no .toml policy file", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
