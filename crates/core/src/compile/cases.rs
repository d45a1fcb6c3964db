//! Test cases embedded in a policy file (`[[case]]`): order facts, a moment and a trigger,
//! and the expected outcome and deciding rule.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::compiled::{CompiledPolicy, Trigger};
use crate::decision::{Action, Decision};
use crate::eval::{EvalOptions, evaluate_with};
use crate::facts::{Facts, OrderFacts, RequestFacts};
use crate::outcome::OutcomeKind;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub trigger: Trigger,
    /// The moment of the decision (UTC, RFC 3339).
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub order: OrderFacts,
    #[serde(default)]
    pub request: RequestFacts,
    pub expect: Expect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: OutcomeKind,
    /// The deciding rule's id, or `default`.
    pub rule: String,
    /// The message key shown, when one is expected.
    #[serde(default)]
    pub message: Option<String>,
    /// Action types in order (`cancel_order`, `refund_partial`, …), when given.
    #[serde(default)]
    pub actions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct CaseFile {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: invalid test case: {message}")]
pub struct CaseError {
    pub file: String,
    pub message: String,
}

/// Reads the `[[case]]` tables of a policy file.
pub fn parse_cases(source: &str, file: &str) -> Result<Vec<Case>, CaseError> {
    // Rules and header are the compiler's business: read only `case` here.
    let table: toml::Table = toml::from_str(source).map_err(|e| CaseError {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let cases = table
        .get("case")
        .cloned()
        .unwrap_or(toml::Value::Array(Vec::new()));
    let mut wrapper = toml::Table::new();
    wrapper.insert("case".to_string(), cases);
    let parsed: CaseFile = wrapper.try_into().map_err(|e: toml::de::Error| CaseError {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(parsed.case)
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub decision: Decision,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

impl Case {
    /// The facts this case describes, with shop-local times filled in where the build can.
    pub fn facts(&self, policy: &CompiledPolicy) -> Facts {
        #[allow(unused_mut)]
        let mut facts = Facts {
            order: self.order.clone(),
            request: self.request.clone(),
            now_local: None,
        };
        #[cfg(feature = "tz")]
        {
            // The policy's zone compiled, so it is known.
            let _ = crate::tz::localize(&mut facts, self.at, &policy.timezone);
        }
        #[cfg(not(feature = "tz"))]
        let _ = policy;
        facts
    }

    pub fn run(&self, policy: &CompiledPolicy) -> CaseResult {
        let facts = self.facts(policy);
        let options = EvalOptions {
            trace: true,
            locale: None,
        };
        let decision = evaluate_with(policy, &facts, self.at, self.trigger, &options);
        let mut failures = Vec::new();
        if decision.outcome != self.expect.outcome {
            failures.push(format!(
                "outcome: expected `{}`, got `{}`",
                self.expect.outcome.name(),
                decision.outcome.name()
            ));
        }
        let rule = decision.rule.as_deref().unwrap_or("default");
        if rule != self.expect.rule {
            failures.push(format!(
                "rule: expected `{}`, got `{rule}`",
                self.expect.rule
            ));
        }
        if let Some(expected) = &self.expect.message {
            let got = decision.message.as_ref().map(|m| m.key.as_str());
            if got != Some(expected.as_str()) {
                failures.push(format!(
                    "message: expected `{expected}`, got `{}`",
                    got.unwrap_or("none")
                ));
            }
        }
        if let Some(expected) = &self.expect.actions {
            let got: Vec<&str> = decision.actions.iter().map(action_type).collect();
            if got != *expected {
                failures.push(format!("actions: expected {expected:?}, got {got:?}"));
            }
        }
        CaseResult {
            name: self.name.clone(),
            decision,
            failures,
        }
    }
}

pub fn action_type(action: &Action) -> &'static str {
    match action {
        Action::CancelOrder { .. } => "cancel_order",
        Action::RefundPartial { .. } => "refund_partial",
        Action::CancelLines { .. } => "cancel_lines",
        Action::HoldFulfillment { .. } => "hold_fulfillment",
        Action::RequestReview => "request_review",
        Action::Reevaluate { .. } => "reevaluate",
        Action::AddTags { .. } => "add_tags",
    }
}
