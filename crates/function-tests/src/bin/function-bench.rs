//! Instructions per run (wasmtime fuel, as Shopify's runner counts), Wasm size and peak memory
//! of the cancel-policy Function, next to Shopify's limits.
//!
//! `cargo run --release -p cancel-policy-function-tests --bin function-bench`

use std::fs;

use anyhow::Context as _;
use cancel_policy_core::compiled::CompiledPolicy;
use cancel_policy_core::facts::Facts;
use cancel_policy_function_tests::bench::{self, instruction_limit};
use cancel_policy_function_tests::build;
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::expected_output;
use cancel_policy_function_tests::presets;
use cancel_policy_function_tests::render::function_input;

fn main() -> anyhow::Result<()> {
    let artifacts = build::artifacts().map_err(anyhow::Error::msg)?;
    let size = fs::metadata(&artifacts.function)
        .with_context(|| artifacts.function.display().to_string())?
        .len();
    let runner = FunctionRunner::order_cancellation(artifacts)?;
    println!(
        "Wasm module: {size} bytes ({:.1} kB; Shopify's limit 256 kB)\n",
        size as f64 / 1000.0
    );

    println!("Shipped presets on a 5-line order:\n");
    println!("| preset | instructions | of which provider | limit | peak memory |");
    println!("|---|---:|---:|---:|---:|");
    let order = bench::order(5);
    for preset in presets::load_all()? {
        let Some(case) = preset.cases.first() else {
            continue;
        };
        let mut facts = case.facts(&preset.policy);
        facts.order.line_items = order.order.line_items.clone();
        let input = function_input(
            &facts,
            case.at,
            case.trigger,
            Some(&preset.policy),
            Some(&preset.json),
        );
        let run = runner.run(&input)?;
        anyhow::ensure!(
            run.output == expected_output(&preset.policy, &facts, case.at, case.trigger),
            "{}: the Wasm disagrees with the core",
            preset.file
        );
        println!(
            "| {} | {} | {} | {} | {} kB |",
            preset.file.trim_end_matches(".toml"),
            group(run.instructions),
            group(run.provider_instructions),
            group(instruction_limit(5)),
            run.memory_bytes / 1024
        );
    }

    println!("\nSynthetic worst case (every rule tried, every line scanned):\n");
    println!(
        "| lines | rules | instructions | of which provider | Shopify limit | share of limit | input | peak memory |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for rules in [5, 20, 50] {
        let policy = bench::policy(rules)?;
        for lines in [1, 10, 50, 200, 500] {
            synthetic_row(&runner, &policy, lines, bench::order(lines))?;
        }
    }

    // The rows above carry no tag the policy names, so no line's `hasTags` answers are read.
    let tag = bench::last_tag(50);
    println!(
        "\nEvery line tagged `{tag}` (its `hasTags` answers read on every line; the rules \
         before the one naming it are tried first):\n"
    );
    println!(
        "| lines | rules | instructions | of which provider | Shopify limit | share of limit | input | peak memory |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let policy = bench::policy(50)?;
    for lines in [200, 500] {
        let mut facts = bench::order(lines);
        for line in &mut facts.order.line_items {
            line.product_tags.push(tag.clone());
        }
        synthetic_row(&runner, &policy, lines, facts)?;
    }
    Ok(())
}

/// Runs one synthetic order, checks it against the core and prints its row.
fn synthetic_row(
    runner: &FunctionRunner,
    policy: &CompiledPolicy,
    lines: usize,
    facts: Facts,
) -> anyhow::Result<()> {
    let rules = policy.rules.len();
    let json = policy.to_json();
    let now = bench::now();
    let trigger = cancel_policy_core::Trigger::CustomerRequest;
    let input = function_input(&facts, now, trigger, Some(policy), Some(&json));
    let run = runner.run(&input)?;
    anyhow::ensure!(
        run.output == expected_output(policy, &facts, now, trigger),
        "{lines} lines × {rules} rules: the Wasm disagrees with the core"
    );
    let limit = instruction_limit(lines);
    println!(
        "| {lines} | {rules} | {} | {} | {} | {:.2}% | {} kB | {} kB |",
        group(run.instructions),
        group(run.provider_instructions),
        group(limit),
        run.instructions as f64 * 100.0 / limit as f64,
        serde_json::to_vec(&input)?.len() / 1000,
        run.memory_bytes / 1024
    );
    Ok(())
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
