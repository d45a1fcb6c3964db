//! `test FILE|DIR…`: runs the `[[case]]`s embedded in policy files.

use std::path::PathBuf;
use std::process::ExitCode;

use cancel_policy_core::compile::cases::parse_cases;

use super::policy_file::{PolicyFile, expand};

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or folders of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print only failures and the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in expand(&args.files)? {
        let file = PolicyFile::read(&path)?;
        let name = path.display().to_string();
        let policy = match file.policy() {
            Ok(policy) => policy,
            Err(error) => {
                println!("FAIL {name}: {error:#}");
                failed += 1;
                continue;
            }
        };
        let cases = match parse_cases(&file.source, &name) {
            Ok(cases) => cases,
            Err(error) => {
                println!("FAIL {error}");
                failed += 1;
                continue;
            }
        };
        if cases.is_empty() {
            println!("warning: {name} has no [[case]]");
        }
        for case in &cases {
            let result = case.run(policy);
            if result.failures.is_empty() {
                passed += 1;
                if !args.quiet {
                    println!("ok   {name}: {}", result.name);
                }
            } else {
                failed += 1;
                println!("FAIL {name}: {}", result.name);
                for failure in &result.failures {
                    println!("       {failure}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
