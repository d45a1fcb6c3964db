//! The `cancel-policy.order-cancellation.run` target: input → facts → core → output.

use shopify_function::prelude::*;
use shopify_function::wasm_api::{Deserialize, Value, read::Error as ReadError};

use crate::input;
use crate::output::{RejectCode, RunOutput};
use crate::policy;

/// The raw input: read by `input::read`, which reports bad values instead of trapping.
pub struct RawInput(pub Value);

impl Deserialize for RawInput {
    fn deserialize(value: &Value) -> std::result::Result<Self, ReadError> {
        Ok(RawInput(*value))
    }
}

#[shopify_function]
fn order_cancellation_run(input: RawInput) -> shopify_function::Result<RunOutput> {
    Ok(decide(&input.0))
}

pub fn decide(root: &Value) -> RunOutput {
    let input = match input::read(root) {
        Ok(input) => input,
        Err(error) => {
            return RunOutput::Rejected {
                code: RejectCode::InvalidInput,
                message: error.to_string(),
            };
        }
    };
    let decided = policy::choose(input.policy_json.as_deref()).and_then(|policy| {
        let Some(policy) = policy else {
            return Ok(RunOutput::PolicyMissing);
        };
        policy::check_supported(&policy)?;
        let mut facts = input.facts;
        policy::apply_answers(&policy, &mut facts, &input.tag_answers)?;
        Ok(RunOutput::Decision(cancel_policy_core::evaluate(
            &policy,
            &facts,
            input.requested_at,
            input.trigger,
        )))
    });
    decided.unwrap_or_else(|rejection| RunOutput::Rejected {
        code: rejection.code,
        message: rejection.message,
    })
}
