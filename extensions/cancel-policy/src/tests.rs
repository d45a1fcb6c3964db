//! Native runs of the Function (`run_function_with_input`) over the Shopify CLI fixtures in
//! `tests/fixtures/`; crates/function-tests replays the same files through the Wasm.

use std::fs;
use std::path::PathBuf;

use shopify_function::run_function_with_input;

use crate::order_cancellation_run::{RawInput, decide};
use crate::output::RunOutput;

fn run(input: &serde_json::Value) -> RunOutput {
    run_function_with_input(|raw: RawInput| Ok(decide(&raw.0)), &input.to_string()).unwrap()
}

#[test]
fn every_fixture_gives_its_recorded_output_natively() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let fixture: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let payload = &fixture["payload"];
        assert_eq!(
            payload["export"],
            "order_cancellation_run",
            "{}",
            path.display()
        );
        assert_eq!(payload["target"], "cancel-policy.order-cancellation.run");
        let output = run(&payload["input"]).to_json();
        assert_eq!(output, payload["output"], "{}", path.display());
        count += 1;
    }
    assert!(
        count >= 5,
        "expected the fixture corpus in {}",
        dir.display()
    );
}
