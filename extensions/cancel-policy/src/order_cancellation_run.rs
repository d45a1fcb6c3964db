//! The `cancel-policy.order-cancellation.run` target: input → facts → core → output.

use shopify_function::wasm_api;

use cancel_policy_core::eval::{Decides, RuleByRule};
use cancel_policy_core::facts::Facts;
use cancel_policy_core::{Decision, Trigger};
use chrono::{DateTime, Utc};

use crate::input::{self, Value};
use crate::output::{RejectCode, RunOutput};
use crate::policy::{self, Needs};

/// The target's export: a no-argument function, written as `#[shopify_function]` writes it
/// except for the input's root. The macro hands the function a `wasm_api::Value` whose
/// handle is private, so `input.rs`, which decodes handles itself, had to ask the provider
/// for the root a second time (about 330 instructions a run). The panic handler is installed
/// as the macro installs it, so a panic (none is expected) logs its message before the
/// Function aborts.
/// https://shopify.dev/docs/apps/build/functions/programming-languages/webassembly-for-functions
#[unsafe(export_name = "order_cancellation_run")]
extern "C" fn order_cancellation_run() {
    wasm_api::init_panic_handler();
    let mut context = wasm_api::Context::new();
    let output = decide(&Value::input());
    if let Err(error) = wasm_api::Serialize::serialize(&output, &mut context) {
        shopify_function::log!("the output could not be written: {error:?}");
    }
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
    let read = input::read_facts(root, head, &needs, &chosen.header);
    let (mut facts, tag_answers, line_ids) = match read {
        Ok(read) => read,
        Err(error) => return invalid_input(&error),
    };
    if needs.lines.is_some_and(|lines| lines.with_product)
        && let Err(rejection) = policy::apply_answers(&chosen.header, &mut facts, &tag_answers)
    {
        return rejected(rejection);
    }
    let decided = decide_rule_by_rule(chosen, &mut facts, line_ids.as_ref(), requested_at, trigger);
    let decision = match decided {
        Ok(decision) => decision,
        Err(rejection) => return rejected(rejection),
    };
    // The bump allocator never frees, so dropping the policy and the facts would only walk
    // them for nothing (a few thousand instructions a run; more on long orders).
    std::mem::forget((facts, tag_answers, policy_json));
    RunOutput::Decision(decision)
}

/// Tries the trigger's rules as they are read, in order; the first that decides does, else
/// the default outcome (see `cancel_policy_core::eval::RuleByRule`). The ids of the lines a
/// `cancel_lines` decision cancels are read then (`line_ids`), and only theirs.
fn decide_rule_by_rule(
    mut chosen: policy::Chosen<'_>,
    facts: &mut Facts,
    line_ids: Option<&input::LineIds>,
    requested_at: DateTime<Utc>,
    trigger: Trigger,
) -> Result<Decision, policy::Rejection> {
    let evaluation = RuleByRule::new(facts, requested_at, trigger);
    let locale = facts.request.locale.as_deref();
    let mut decided = None;
    while let Some(rule) = chosen.next_rule()? {
        if !evaluation.conditions_hold(rule.triggers, &rule.when) {
            chosen.passed(rule, None)?;
            continue;
        }
        // A `cancel_lines` rule that selects no line does not decide: known from its line
        // selector alone, without its id or the rest of its outcome.
        if let Some(selector) = chosen.line_selector(&rule)?
            && evaluation.outcome_decides(&selector).is_none()
        {
            chosen.passed(rule, Some(&selector))?;
            std::mem::forget(selector);
            continue;
        }
        // Only now is the rule's outcome read (and its id).
        let rule = chosen.whole(rule)?;
        if let Some(decides) = evaluation.outcome_decides(&rule.then) {
            decided = Some((rule, decides));
            break;
        }
        // (Not dropped, as above: the allocator would not reuse the memory.)
        std::mem::forget(rule);
    }
    let policy = chosen.finish(decided.as_ref().map(|(rule, _)| &rule.then), locale)?;
    // The lines the decision cancels: the deciding rule's, or the default outcome's.
    let default_picks = match (&decided, line_ids, &policy.default.lines) {
        (None, Some(_), Some(_)) => evaluation.outcome_decides(&policy.default),
        _ => None,
    };
    let picked = match &decided {
        Some((_, decides)) => decides.lines(),
        None => default_picks.as_ref().and_then(Decides::lines),
    };
    let evaluation = match (line_ids, picked) {
        (Some(line_ids), Some(lines)) => {
            // The evaluation borrows the facts: a new one over them with the ids.
            std::mem::forget(evaluation);
            line_ids
                .read_into(facts, lines)
                .map_err(|error| policy::Rejection {
                    code: RejectCode::InvalidInput,
                    message: error.to_string(),
                })?;
            RuleByRule::new(facts, requested_at, trigger)
        }
        _ => evaluation,
    };
    let (decision, rule) = match decided {
        Some((rule, decides)) => {
            // The rule's id becomes the decision's; its conditions and outcome stay.
            let decision = evaluation.decide(&policy, rule.id, &rule.then, decides);
            (decision, Some((rule.when, rule.then)))
        }
        None => (evaluation.decide_by_default(&policy, &policy.default), None),
    };
    std::mem::forget((policy, rule, evaluation, default_picks));
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
