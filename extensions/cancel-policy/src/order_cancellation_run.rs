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
    let head = match input::read_head(root) {
        Ok(head) => head,
        Err(error) => return invalid_input(&error),
    };
    let chosen = policy::choose(
        head.policy_json.as_deref(),
        head.locale.as_deref(),
        head.trigger,
    );
    let policy = match chosen {
        Ok(Some(policy)) => policy,
        Ok(None) => return RunOutput::PolicyMissing,
        Err(rejection) => return rejected(rejection),
    };
    if let Err(rejection) = policy::check_supported(&policy) {
        return rejected(rejection);
    }
    let needs = policy::needs(&policy, head.trigger);
    let (requested_at, trigger) = (head.requested_at, head.trigger);
    let (mut facts, tag_answers) = match input::read_facts(root, head, &needs) {
        Ok(read) => read,
        Err(error) => return invalid_input(&error),
    };
    if needs.lines.is_some_and(|lines| lines.with_product)
        && let Err(rejection) = policy::apply_answers(&policy, &mut facts, &tag_answers)
    {
        return rejected(rejection);
    }
    let decision = cancel_policy_core::evaluate(&policy, &facts, requested_at, trigger);
    // The bump allocator never frees, so dropping the policy and the facts would only walk
    // them for nothing (a few thousand instructions a run; more on long orders).
    std::mem::forget((policy, facts, tag_answers));
    RunOutput::Decision(decision)
}

fn invalid_input(error: &input::InputError) -> RunOutput {
    RunOutput::Rejected {
        code: RejectCode::InvalidInput,
        message: error.to_string(),
    }
}

fn rejected(rejection: policy::Rejection) -> RunOutput {
    RunOutput::Rejected {
        code: rejection.code,
        message: rejection.message,
    }
}
