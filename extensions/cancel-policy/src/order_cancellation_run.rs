//! The `cancel-policy.order-cancellation.run` target: input → facts → core → output.

use shopify_function::prelude::*;
use shopify_function::wasm_api::{self, Deserialize, read::Error as ReadError};

use cancel_policy_core::eval::RuleByRule;
use cancel_policy_core::facts::Facts;
use cancel_policy_core::{Decision, Trigger};
use chrono::{DateTime, Utc};

use crate::input::{self, Value};
use crate::output::{RejectCode, RunOutput};
use crate::policy::{self, Needs};

/// The raw input: read by `input::read`, which reports bad values instead of trapping.
pub struct RawInput(pub Value);

impl Deserialize for RawInput {
    /// The root again, as a handle `input.rs` decodes itself (`wasm_api::Value` keeps its
    /// handle private); the provider's cost is one more root object, not yet descended into.
    fn deserialize(_: &wasm_api::Value) -> std::result::Result<Self, ReadError> {
        Ok(RawInput(Value::input()))
    }
}

#[shopify_function]
fn order_cancellation_run(input: RawInput) -> shopify_function::Result<RunOutput> {
    Ok(decide(&input.0))
}

pub fn decide(root: &Value) -> RunOutput {
    let mut head = match input::read_head(root) {
        Ok(head) => head,
        Err(error) => return invalid_input(&error),
    };
    let (requested_at, trigger) = (head.requested_at, head.trigger);
    // The stream borrows the policy's text while the head goes on to the input's read.
    let policy_json = head.policy_json.take();
    let chosen = policy::choose(policy_json.as_deref(), trigger);
    let chosen = match chosen {
        Ok(Some(chosen)) => chosen,
        Ok(None) => return RunOutput::PolicyMissing,
        Err(rejection) => return rejected(rejection),
    };
    let needs = Needs::from(chosen.header.needs_of(trigger));
    let (mut facts, tag_answers) = match input::read_facts(root, head, &needs, &chosen.header) {
        Ok(read) => read,
        Err(error) => return invalid_input(&error),
    };
    if needs.lines.is_some_and(|lines| lines.with_product)
        && let Err(rejection) = policy::apply_answers(&chosen.header, &mut facts, &tag_answers)
    {
        return rejected(rejection);
    }
    let decision = match decide_rule_by_rule(chosen, &facts, requested_at, trigger) {
        Ok(decision) => decision,
        Err(rejection) => return rejected(rejection),
    };
    // The bump allocator never frees, so dropping the policy and the facts would only walk
    // them for nothing (a few thousand instructions a run; more on long orders).
    std::mem::forget((facts, tag_answers, policy_json));
    RunOutput::Decision(decision)
}

/// Tries the trigger's rules as they are read, in order; the first that decides does, else
/// the default outcome (see `cancel_policy_core::eval::RuleByRule`).
fn decide_rule_by_rule(
    mut chosen: policy::Chosen<'_>,
    facts: &Facts,
    requested_at: DateTime<Utc>,
    trigger: Trigger,
) -> Result<Decision, policy::Rejection> {
    let evaluation = RuleByRule::new(facts, requested_at, trigger);
    let locale = facts.request.locale.as_deref();
    while let Some(rule) = chosen.next_rule()? {
        if !evaluation.conditions_hold(rule.triggers, &rule.when) {
            chosen.passed(rule)?;
            continue;
        }
        // Only now is the rule's outcome read (and its id).
        let rule = chosen.whole(rule)?;
        if let Some(decides) = evaluation.outcome_decides(&rule.then) {
            let policy = chosen.finish(Some(&rule.then), locale)?;
            let decision = evaluation.decide(&policy, &rule, decides);
            std::mem::forget((policy, rule));
            return Ok(decision);
        }
        std::mem::forget(rule);
    }
    let policy = chosen.finish(None, locale)?;
    let decision = evaluation.decide_by_default(&policy, &policy.default);
    std::mem::forget(policy);
    Ok(decision)
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
