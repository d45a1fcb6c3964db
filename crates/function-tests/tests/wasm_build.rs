//! The built module: within Shopify's size limit, and the build-time baked-in policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::fs;
use std::sync::Mutex;

use cancel_policy_function_tests::build;
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::expected_output;
use cancel_policy_function_tests::presets;
use cancel_policy_function_tests::render::function_input;
use serde_json::json;

/// The two tests build into the same directory (with and without the baked-in policy): one
/// at a time.
static BUILDS: Mutex<()> = Mutex::new(());

/// Shopify's limit on the compiled module: 256 kB, with 1 kB = 1000 bytes.
/// https://shopify.dev/docs/api/functions/latest#limitations
const SIZE_LIMIT: u64 = 256_000;

#[test]
fn wasm_module_is_within_shopifys_size_limit() {
    let _one_build_at_a_time = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    // Not `artifacts()`: a baked build may have replaced the cached one since.
    let artifacts = build::build_into(&build::wasm_target_dir(), None).unwrap();
    let size = fs::metadata(&artifacts.function).unwrap().len();
    println!("cancel-policy-function.wasm: {size} bytes");
    assert!(
        size <= SIZE_LIMIT,
        "the module is {size} bytes; Shopify allows {SIZE_LIMIT}"
    );
}

#[test]
fn a_baked_in_preset_decides_when_the_owner_has_no_policy() {
    let _one_build_at_a_time = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let presets = presets::load_all().unwrap();
    let grace = presets
        .iter()
        .find(|p| p.file == "one-hour-grace.toml")
        .unwrap();
    let made = presets
        .iter()
        .find(|p| p.file == "made-to-order.toml")
        .unwrap();

    // Same target directory as the plain build: only the Function crate is rebuilt (its build
    // script reruns when the variable changes), and the next plain build undoes it.
    let target = build::wasm_target_dir();
    fs::create_dir_all(&target).unwrap();
    let policy_file = target.join("baked-one-hour-grace.json");
    fs::write(&policy_file, &grace.json).unwrap();
    let artifacts = build::build_into(&target, Some(&policy_file)).unwrap();
    let runner = FunctionRunner::order_cancellation(&artifacts).unwrap();

    for case in &grace.cases {
        let facts = case.facts(&grace.policy);
        let input = function_input(&facts, case.at, case.trigger, Some(&grace.policy), None);
        assert_eq!(input["cancellationPolicy"]["metafield"], json!(null));
        let run = runner.run(&input).unwrap();
        assert_eq!(
            run.output,
            expected_output(&grace.policy, &facts, case.at, case.trigger),
            "{}",
            case.name
        );
    }

    // The owner's metafield still wins over the built-in policy.
    let case = &made.cases[1];
    let facts = case.facts(&made.policy);
    let input = function_input(
        &facts,
        case.at,
        case.trigger,
        Some(&made.policy),
        Some(&made.json),
    );
    let run = runner.run(&input).unwrap();
    assert_eq!(
        run.output,
        expected_output(&made.policy, &facts, case.at, case.trigger)
    );
}
