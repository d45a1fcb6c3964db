//! `schema [-o FILE]`: the policy file's JSON Schema, generated from the model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write the schema here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &SchemaArgs) -> anyhow::Result<ExitCode> {
    let schema = cancel_policy_core::model::json_schema();
    match &args.output {
        Some(path) => std::fs::write(path, schema)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{schema}"),
    }
    Ok(ExitCode::SUCCESS)
}
