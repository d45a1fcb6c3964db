//! The native side of parity: the core's decision, serialized as the Function's output.

use cancel_policy_core::compiled::{CompiledPolicy, Trigger};
use cancel_policy_core::facts::Facts;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::render::as_input_carries;

/// `OrderCancellationRunResult` holding the core's decision for these facts, as far as the
/// Function's input carries them (`render::as_input_carries`).
pub fn expected_output(
    policy: &CompiledPolicy,
    facts: &Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
) -> Value {
    let carried = as_input_carries(facts);
    let decision = cancel_policy_core::evaluate(policy, &carried, now, trigger);
    json!({ "operations": [{ "decisionSet": decision }] })
}

/// The rejection the Function returns, for comparing error results.
pub fn rejected(code: &str) -> impl Fn(&Value) -> bool + '_ {
    move |output| output.pointer("/operations/0/inputRejected/code") == Some(&Value::from(code))
}
