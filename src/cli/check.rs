//! `check FILE…`: every diagnostic, rustc-style.

use std::path::PathBuf;
use std::process::ExitCode;

use cancel_policy_core::compile::Severity;

use super::policy_file::{PolicyFile, expand};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files or folders of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in expand(&args.files)? {
        let file = PolicyFile::read(&path)?;
        let rendered = file.output.render(&file.source);
        if !rendered.is_empty() {
            println!("{rendered}");
        }
        let file_errors = file
            .output
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        errors += file_errors;
        warnings += file.output.diagnostics.len() - file_errors;
        if file_errors == 0 {
            println!("{}: ok", path.display());
        }
    }
    println!("{errors} error(s), {warnings} warning(s)");
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
