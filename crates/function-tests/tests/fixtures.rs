//! The Shopify CLI fixtures in extensions/cancel-policy/tests/fixtures/ replayed through the
//! Wasm (the extension's own unit test replays them natively with `run_function_with_input`).
//! `UPDATE_FIXTURES=1 cargo test -p cancel-policy-function-tests --test fixtures` rewrites
//! them from the corpus below; a decision fixture is only written when the Wasm agrees with
//! the core natively.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::fs;
use std::path::PathBuf;

use cancel_policy_function_tests::build::{self, workspace_root};
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::expected_output;
use cancel_policy_function_tests::presets::{self, Preset};
use cancel_policy_function_tests::render::function_input;
use serde_json::{Value, json};

const EXPORT: &str = "order_cancellation_run";
const TARGET: &str = "cancel-policy.order-cancellation.run";

fn fixtures_dir() -> PathBuf {
    workspace_root().join("extensions/cancel-policy/tests/fixtures")
}

fn runner() -> FunctionRunner {
    let artifacts = build::artifacts().unwrap();
    FunctionRunner::new(&artifacts.function, &artifacts.provider, EXPORT).unwrap()
}

fn preset<'a>(presets: &'a [Preset], file: &str) -> &'a Preset {
    presets.iter().find(|p| p.file == file).unwrap()
}

/// Input of case `index` of a preset, as the Function receives it.
fn case_input(preset: &Preset, index: usize) -> (Value, Value) {
    let case = &preset.cases[index];
    let facts = case.facts(&preset.policy);
    let input = function_input(
        &facts,
        case.at,
        case.trigger,
        Some(&preset.policy),
        Some(&preset.json),
    );
    let expected = expected_output(&preset.policy, &facts, case.at, case.trigger);
    (input, expected)
}

/// name → (input, the native decision when there is one).
fn corpus() -> Vec<(String, Value, Option<Value>)> {
    let presets = presets::load_all().unwrap();
    let mut corpus = Vec::new();
    for (name, file, index) in [
        ("one-hour-grace-allowed", "one-hour-grace.toml", 0),
        ("one-hour-grace-refused-in-french", "one-hour-grace.toml", 3),
        ("made-to-order-refused", "made-to-order.toml", 1),
        ("daily-cutoff-allowed", "daily-cutoff.toml", 0),
        ("fraud-first-high-risk-cancelled", "fraud-first.toml", 0),
        ("oversell-lines-cancelled", "oversell.toml", 0),
        (
            "subscriptions-preorder-fee",
            "subscriptions-preorders.toml",
            2,
        ),
    ] {
        let (input, expected) = case_input(preset(&presets, file), index);
        corpus.push((name.to_string(), input, Some(expected)));
    }
    let grace = preset(&presets, "one-hour-grace.toml");
    let (base, _) = case_input(grace, 0);
    let with = |pointer: &str, value: Value| {
        let mut input = base.clone();
        *input.pointer_mut(pointer).unwrap() = value;
        input
    };
    let mut unknown_version: Value = serde_json::from_str(&grace.json).unwrap();
    unknown_version["v"] = json!(99);
    let made = preset(&presets, "made-to-order.toml");
    let (mut stale, _) = case_input(made, 1);
    // Variables of another policy: `lineTags` with one answer where the policy asks about three
    // tags (made-to-order's one set needs no `lineTags`; an input that has it is still checked).
    let lines = stale["order"]["lineItems"].as_array().unwrap().len();
    stale["order"]["lineItems"][0]["product"]["hasAnyTag"] = json!(true);
    stale["order"]["lineTags"] = json!(vec![
        json!({ "product": { "hasTags": [{ "hasTag": true }] } });
        lines
    ]);
    let mut unsupported: Value = serde_json::from_str(&grace.json).unwrap();
    unsupported["r"][0]["w"] = json!([{ "f": ["customer_tags", { "anyof": ["vip"] }] }]);
    for (name, input) in [
        (
            "no-policy",
            with("/cancellationPolicy/metafield", Value::Null),
        ),
        (
            "policy-not-json",
            with("/cancellationPolicy/metafield/value", json!("{not json")),
        ),
        (
            "policy-unknown-version",
            with(
                "/cancellationPolicy/metafield/value",
                json!(unknown_version.to_string()),
            ),
        ),
        (
            "policy-unsupported-fact",
            with(
                "/cancellationPolicy/metafield/value",
                json!(unsupported.to_string()),
            ),
        ),
        ("empty-order", with("/order", json!({}))),
        ("missing-request", {
            let mut input = base.clone();
            input.as_object_mut().unwrap().shift_remove("request");
            input
        }),
        ("quantity-not-a-number", {
            // Oversell cancels lines, so it reads their quantities (the Function reads only
            // what the policy consults).
            let (mut input, _) = case_input(preset(&presets, "oversell.toml"), 0);
            input["order"]["lineItems"][0]["quantity"] = json!("two");
            input
        }),
        (
            "requested-at-not-a-date",
            with("/request/requestedAt", json!("yesterday")),
        ),
        (
            "unknown-trigger",
            with("/request/trigger", json!("SOMETIME")),
        ),
        ("stale-input-variables", stale),
    ] {
        corpus.push((name.to_string(), input, None));
    }
    corpus
}

#[test]
fn fixtures_replay_in_wasm() {
    let runner = runner();
    let dir = fixtures_dir();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        fs::create_dir_all(&dir).unwrap();
        for (name, input, expected) in corpus() {
            let output = runner.run(&input).unwrap().output;
            if let Some(expected) = expected {
                assert_eq!(output, expected, "{name}: the Wasm disagrees with the core");
            }
            let fixture = json!({ "payload": {
                "export": EXPORT, "target": TARGET, "input": input, "output": output,
            }});
            let text = serde_json::to_string_pretty(&fixture).unwrap() + "\n";
            fs::write(dir.join(format!("{name}.json")), text).unwrap();
        }
    }
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let fixture: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let payload = &fixture["payload"];
        assert_eq!(payload["export"], EXPORT);
        let run = runner.run(&payload["input"]).unwrap();
        assert_eq!(run.output, payload["output"], "{}", path.display());
        count += 1;
    }
    assert!(count >= 15, "{count} fixtures in {}", dir.display());
}

#[test]
fn bad_input_gives_a_defined_error_never_a_trap() {
    let runner = runner();
    for (name, input, expected) in corpus() {
        if expected.is_some() {
            continue;
        }
        let run = runner
            .run(&input)
            .unwrap_or_else(|e| panic!("{name} trapped: {e:#}"));
        let operation = &run.output["operations"][0];
        assert!(
            operation.get("inputRejected").is_some() || operation.get("policyMissing").is_some(),
            "{name}: {}",
            run.output
        );
    }
}
