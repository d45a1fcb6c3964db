//! Native runs of the Function (`run_function_with_input`) over the Shopify CLI fixtures in
//! `tests/fixtures/`; crates/function-tests replays the same files through the Wasm.

use std::fs;
use std::path::PathBuf;

use shopify_function::run_function_with_input;
use shopify_function::wasm_api::{self, Deserialize, read::Error as ReadError};

use crate::input::Value;
use crate::order_cancellation_run::decide;
use crate::output::RunOutput;

/// The raw input for `run_function_with_input`: the root as a handle `input.rs` decodes
/// itself (`wasm_api::Value` keeps its handle private), as the export reads it.
struct RawInput(Value);

impl Deserialize for RawInput {
    fn deserialize(_: &wasm_api::Value) -> Result<Self, ReadError> {
        Ok(RawInput(Value::input()))
    }
}

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

/// The header the compiled policy carries for the Function is trusted for what the run reads,
/// but each rule the run reaches is checked against it: a header that leaves out what such a
/// rule consults (hand-edited) refuses the policy, rather than decide on input the run did not
/// read, as the service (which reads the rules themselves) would not.
#[test]
fn a_header_that_leaves_out_what_a_reached_rule_consults_is_refused() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let fixture: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("one-hour-grace-allowed.json")).unwrap())
            .unwrap();
    let payload = &fixture["payload"];
    let with_header = |customer_request_needs: u32| {
        let mut input = payload["input"].clone();
        let policy = input["cancellationPolicy"]["metafield"]["value"]
            .as_str()
            .unwrap()
            .replacen(
                r#","r":["#,
                &format!(
                    r#","h":{{"n":[{customer_request_needs},0,0,0,0,0,0],"pt":[],"pa":true,"at":[0,0]}},"r":["#
                ),
                1,
            );
        input["cancellationPolicy"]["metafield"]["value"] = policy.into();
        run(&input).to_json()
    };
    // The rules of `customer_request` consult the fulfillment status (16), the placement (4)
    // and, in a staff note, the request's reason (1): the recorded decision.
    assert_eq!(with_header(16 | 4 | 1), payload["output"]);
    // Without the fulfillment status, the first rule; without the placement, the second.
    for needs in [4 | 1, 16 | 1] {
        let output = with_header(needs);
        let rejected = &output["operations"][0]["inputRejected"];
        assert_eq!(rejected["code"], "INVALID_POLICY", "{output}");
    }
}
