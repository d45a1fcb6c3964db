//! `demo`: the README's story, played for real on loopback.
//!
//! A local dev store and the companion service start side by side (SQLite in a temporary
//! folder); the demo policy (`story.toml`) is published through the merchant API; then four
//! scenes go through the doors a live shop uses — the customer's cancel button, a fraud app's
//! risk assessment, an incoming order — and each prints the decision and the order as Shopify
//! shows it afterwards. Then both keep serving until Ctrl-C (or stop at once with `--exit`).

mod doors;
mod report;
mod scenes;
mod stage;

use std::process::ExitCode;

use anyhow::Context;

use stage::{Stage, StageOptions};

/// The demo's policy, in the same form as a preset (with its own `[[case]]`s).
pub const STORY_POLICY: &str = include_str!("story.toml");

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Stop after the story instead of serving until Ctrl-C (tests, CI).
    #[arg(long)]
    pub exit: bool,
    /// Port of the companion service on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Port of the dev store on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub store_port: u16,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(play(args))
}

async fn play(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    // Warnings only: the story is the output, but a failing step must still show.
    crate::telemetry::init(
        &std::env::var("CANCEL_POLICY_LOG").unwrap_or_else(|_| "warn".to_string()),
    );
    let stage = Stage::start(StageOptions {
        service_port: args.port,
        store_port: args.store_port,
    })
    .await?;
    report::stage(&stage);
    let published = stage.publish(STORY_POLICY).await?;
    report::published(&published);

    // The stage is stopped whatever the story's outcome, so the temporary database goes too.
    let story = scenes::play(&stage).await;
    let outcome = match story {
        Ok(audited_order) => {
            report::urls(&stage, &audited_order);
            if args.exit {
                Ok(ExitCode::SUCCESS)
            } else {
                println!("Serving until Ctrl-C.");
                tokio::signal::ctrl_c()
                    .await
                    .context("waiting for Ctrl-C")
                    .map(|()| ExitCode::SUCCESS)
            }
        }
        Err(error) => Err(error),
    };
    stage.stop().await;
    outcome
}

#[cfg(test)]
mod tests {
    use cancel_policy_core::compile::cases::parse_cases;
    use cancel_policy_core::compile::compile;

    use super::STORY_POLICY;

    #[test]
    fn the_story_policy_compiles_cleanly_and_passes_its_cases() -> Result<(), String> {
        let output = compile(STORY_POLICY, "story.toml");
        assert!(
            output.diagnostics.is_empty(),
            "diagnostics: {:?}",
            output.diagnostics
        );
        let policy = output.policy.ok_or("the story policy does not compile")?;
        let cases = parse_cases(STORY_POLICY, "story.toml").map_err(|e| e.to_string())?;
        assert!(cases.len() >= 4, "one case per scene at least");
        for case in &cases {
            let result = case.run(&policy);
            assert!(
                result.failures.is_empty(),
                "{}: {:?}",
                result.name,
                result.failures
            );
        }
        Ok(())
    }
}
