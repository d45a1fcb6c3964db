//! `simulate FILE --orders ORDERS.jsonl`: replays a policy over past orders.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cancel_policy_core::decision::Action;
use cancel_policy_core::{Trigger, evaluate};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::order_input::OrderRecord;
use super::policy_file::PolicyFile;

/// Runs shorter than this finish before a bar would be worth drawing.
const PROGRESS_THRESHOLD: usize = 2_000;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The policy file.
    pub file: PathBuf,
    /// Past orders, one JSON object a line: `{"order": …, "at": …, "trigger": …, "request": …}`.
    #[arg(long)]
    pub orders: PathBuf,
    /// Decide every order with this trigger instead of each line's own.
    #[arg(long)]
    pub trigger: Option<Trigger>,
    /// Decide every order at this moment instead of each line's own `at`.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub orders: usize,
    pub invalid: usize,
    pub by_outcome: BTreeMap<String, usize>,
    pub by_rule: BTreeMap<String, usize>,
    /// Cancellation reason codes of the orders and lines the policy would cancel.
    pub by_reason: BTreeMap<String, usize>,
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let file = PolicyFile::read(&args.file)?;
    let policy = file.policy()?;
    let text = std::fs::read_to_string(&args.orders)
        .with_context(|| format!("cannot read {}", args.orders.display()))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .collect();
    let bar = if lines.len() >= PROGRESS_THRESHOLD {
        ProgressBar::new(lines.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} orders {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    for (index, line) in lines {
        bar.inc(1);
        let record = match OrderRecord::parse(line) {
            Ok(record) => record,
            Err(error) => {
                bar.suspend(|| {
                    eprintln!(
                        "{}:{}: skipped: {error:#}",
                        args.orders.display(),
                        index + 1
                    )
                });
                summary.invalid += 1;
                continue;
            }
        };
        let at = args.at.or(record.at).unwrap_or_else(Utc::now);
        let trigger = args
            .trigger
            .or(record.trigger)
            .unwrap_or(Trigger::CustomerRequest);
        let facts = record.facts(policy, at)?;
        let decision = evaluate(policy, &facts, at, trigger);
        summary.orders += 1;
        *summary
            .by_outcome
            .entry(decision.outcome.name().to_string())
            .or_default() += 1;
        let rule = decision.rule.unwrap_or_else(|| "default".to_string());
        *summary.by_rule.entry(rule).or_default() += 1;
        for action in &decision.actions {
            if let Action::CancelOrder { reason, .. } | Action::CancelLines { reason, .. } = action
            {
                *summary
                    .by_reason
                    .entry(reason.name().to_string())
                    .or_default() += 1;
            }
        }
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_table(&summary);
    }
    Ok(if summary.invalid > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(summary: &Summary) {
    println!(
        "{} orders decided, {} invalid line(s) skipped",
        summary.orders, summary.invalid
    );
    let percent = |n: usize| n as f64 * 100.0 / summary.orders.max(1) as f64;
    for (title, counts) in [
        ("outcome", &summary.by_outcome),
        ("rule", &summary.by_rule),
        ("cancel reason", &summary.by_reason),
    ] {
        println!("\nby {title}:");
        for (key, count) in counts {
            println!("  {key:<32} {count:>8}  {:>5.1}%", percent(*count));
        }
    }
}
