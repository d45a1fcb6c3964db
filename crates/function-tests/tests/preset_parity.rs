//! Every preset case, run through the real Wasm under wasmtime, decides exactly as the core
//! does natively (or, for a preset that tests facts outside the input query, is refused with
//! UNSUPPORTED_FACT in both places the Function runs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use cancel_policy_function_tests::build;
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::expected_output;
use cancel_policy_function_tests::presets;
use cancel_policy_function_tests::render::function_input;

#[test]
fn every_preset_case_decides_the_same_in_wasm_and_natively() {
    let artifacts = build::artifacts().unwrap();
    let runner = FunctionRunner::order_cancellation(artifacts).unwrap();
    let presets = presets::load_all().unwrap();
    assert!(!presets.is_empty());
    let (mut compared, mut refused) = (0, Vec::new());
    let mut mismatches = Vec::new();
    for preset in &presets {
        for case in &preset.cases {
            let facts = case.facts(&preset.policy);
            let input = function_input(
                &facts,
                case.at,
                case.trigger,
                Some(&preset.policy),
                Some(&preset.json),
            );
            let run = runner.run(&input).unwrap();
            let rejection = run.output.pointer("/operations/0/inputRejected/code");
            if rejection == Some(&serde_json::Value::from("UNSUPPORTED_FACT")) {
                refused.push(format!("{} / {}", preset.file, case.name));
                continue;
            }
            let expected = expected_output(&preset.policy, &facts, case.at, case.trigger);
            if run.output != expected {
                mismatches.push(format!(
                    "{} / {}:\n  wasm:   {}\n  native: {}",
                    preset.file, case.name, run.output, expected
                ));
            }
            compared += 1;
        }
    }
    println!("compared {compared} preset cases; refused (unsupported facts): {refused:#?}");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(compared > 0);
}

/// The default outcome's line selector asks about product tags too: they must be among the
/// input variables, or the Function never learns a line has them.
#[test]
fn a_default_that_cancels_tagged_lines_decides_the_same_in_wasm() {
    use cancel_policy_function_tests::bench;
    let source = r#"
id = "default-lines"
name = "Default cancels engraved lines"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Copenhagen"
triggers = ["customer_request"]

[default]
cancel_lines = { where = { product_tags = { any_of = ["Engraved"] } } }

[[rule]]
id = "shipped"
on = ["customer_request"]
when = { fulfillment_status = { in = ["FULFILLED"] } }
then.deny = {}
"#;
    let policy = cancel_policy_core::compile::compile(source, "default-lines.toml")
        .policy
        .unwrap();
    assert_eq!(policy.input_variables().product_tags, ["engraved"]);
    let mut facts = bench::order(3);
    facts.order.line_items[1].product_tags = vec!["Engraved".to_string()];
    let (now, trigger) = (bench::now(), cancel_policy_core::Trigger::CustomerRequest);
    let input = function_input(&facts, now, trigger, Some(&policy), Some(&policy.to_json()));
    let artifacts = build::artifacts().unwrap();
    let runner = FunctionRunner::order_cancellation(artifacts).unwrap();
    let output = runner.run(&input).unwrap().output;
    assert_eq!(output, expected_output(&policy, &facts, now, trigger));
    let lines = &output["operations"][0]["decisionSet"]["actions"][0]["lines"];
    assert_eq!(
        lines[0]["id"],
        facts.order.line_items[1].id.as_str(),
        "{output}"
    );
}

/// What the input query leaves out (the order id, the placement's local time, the request's
/// source) changes no preset case's decision: the parity above compares the Wasm with the core
/// on the facts the input carries, and this shows those are enough for the shipped presets.
#[test]
fn no_preset_case_depends_on_what_the_input_leaves_out() {
    use cancel_policy_function_tests::render::as_input_carries;
    let mut differ = Vec::new();
    for preset in presets::load_all().unwrap() {
        for case in &preset.cases {
            let facts = case.facts(&preset.policy);
            let decide =
                |facts| cancel_policy_core::evaluate(&preset.policy, facts, case.at, case.trigger);
            if decide(&facts) != decide(&as_input_carries(&facts)) {
                differ.push(format!("{} / {}", preset.file, case.name));
            }
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}
