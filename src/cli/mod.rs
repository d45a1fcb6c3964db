//! The `cancel-policy` command line.

mod check;
mod compile;
mod demo;
mod explain;
mod order_input;
mod policy_file;
mod schema;
mod simulate;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cancel-policy",
    version,
    about = "Order-cancellation policies for Shopify"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report every diagnostic of one or more policy files (exit 1 on errors).
    Check(check::CheckArgs),
    /// Compile a policy to the JSON stored in the Function's metafield.
    Compile(compile::CompileArgs),
    /// Decide one order and show why.
    Explain(explain::ExplainArgs),
    /// Run the test cases embedded in policy files.
    Test(test::TestArgs),
    /// Replay a policy over past orders (JSON Lines) and count the outcomes.
    Simulate(simulate::SimulateArgs),
    /// Print the policy file's JSON Schema (for editors).
    Schema(schema::SchemaArgs),
    /// Play the demo story on the embedded presets.
    Demo(demo::DemoArgs),
    /// Run the local Shopify dev store in the foreground (Admin GraphQL API, webhooks out).
    DevStore(cancel_policy_dev_store::DevStoreArgs),
    /// Run the companion service (webhooks, customer requests, workers).
    Serve(crate::commands::ServeArgs),
    /// Show every decision and step recorded for an order.
    Audit(crate::commands::AuditArgs),
    /// Cancellations per day, rule and reason, and the cancellation rate.
    Stats(crate::commands::StatsArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs one command; `Ok` carries the exit code of a command that ran to its end.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::DevStore(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cancel_policy_dev_store::run(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => crate::commands::serve(&args),
        Command::Audit(args) => crate::commands::audit(&args),
        Command::Stats(args) => crate::commands::stats(&args),
    }
}
