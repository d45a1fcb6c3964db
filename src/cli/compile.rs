//! `compile FILE [-o OUT]`: the metafield JSON and its size against Shopify's limit.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cancel_policy_core::compiled::METAFIELD_LIMIT_BYTES;

use super::policy_file::PolicyFile;

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The policy file.
    pub file: PathBuf,
    /// Write the compiled JSON here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write the Function's input variables (tag and collection lists) as JSON here.
    #[arg(long)]
    pub variables: Option<PathBuf>,
}

pub fn run(args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let file = PolicyFile::read(&args.file)?;
    let warnings = file.output.render(&file.source);
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    let policy = file.policy()?;
    let json = policy.to_json();
    match &args.output {
        Some(out) => {
            std::fs::write(out, &json).with_context(|| format!("cannot write {}", out.display()))?
        }
        None => println!("{json}"),
    }
    if let Some(out) = &args.variables {
        let variables = serde_json::to_string_pretty(&policy.input_variables())?;
        std::fs::write(out, variables)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    // The size goes to stderr so that stdout stays pure JSON for pipes.
    eprintln!(
        "{}: {} bytes of {METAFIELD_LIMIT_BYTES} allowed in a metafield ({:.1}%)",
        args.file.display(),
        json.len(),
        json.len() as f64 * 100.0 / METAFIELD_LIMIT_BYTES as f64
    );
    Ok(ExitCode::SUCCESS)
}
