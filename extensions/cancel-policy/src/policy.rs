//! Which policy decides (the owner's metafield, else the built-in one), and whether this
//! Function's input can answer everything the policy asks.

use cancel_policy_core::catalog::Fact;
use cancel_policy_core::compiled::{CompiledPolicy, Condition, FORMAT_VERSION, LoadError, Test};
use cancel_policy_core::facts::Facts;

use crate::output::RejectCode;

/// The compiled policy built in with `CANCEL_POLICY_BAKED_POLICY` (empty when none was).
const BAKED_POLICY: &str = include_str!(concat!(env!("OUT_DIR"), "/baked_policy.json"));

/// The facts `order_cancellation_run.graphql` supplies. Shopify's input-query cost limit (30)
/// does not leave room for the whole catalog; policies that test other facts are refused.
/// https://shopify.dev/docs/api/functions/latest#limitations
pub const SUPPORTED_FACTS: &[Fact] = &[
    Fact::MinutesSincePlaced,
    Fact::BusinessDaysSincePlaced,
    Fact::LocalTime,
    Fact::LocalWeekday,
    Fact::BeforeCutoff,
    Fact::FulfillmentStatus,
    Fact::FulfillmentOrderStatus,
    Fact::FulfillmentRequestStatus,
    Fact::FinancialStatus,
    Fact::TotalPrice,
    Fact::Currency,
    Fact::B2b,
    Fact::LineCount,
    Fact::Cancelled,
    Fact::RiskLevel,
    Fact::RiskRecommendation,
    Fact::RiskThirdParty,
    Fact::RequestSource,
    Fact::RequestReason,
    Fact::RequestLocale,
    Fact::ProductTags,
    Fact::Sku,
    Fact::SellingPlan,
    Fact::InventoryAvailable,
    Fact::Oversold,
    Fact::Quantity,
];

#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
}

fn reject(code: RejectCode, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// The policy to evaluate: `Ok(None)` when neither the owner nor the build supplies one.
pub fn choose(metafield: Option<&str>) -> Result<Option<CompiledPolicy>, Rejection> {
    let (source, json) = match metafield {
        Some(json) => ("the compiled-policy metafield", json),
        None if BAKED_POLICY.trim().is_empty() => return Ok(None),
        None => ("the built-in policy", BAKED_POLICY),
    };
    load(json).map(Some).map_err(|e| match e {
        LoadError::UnsupportedVersion { found } => reject(
            RejectCode::UnsupportedPolicyVersion,
            format!(
                "{source} has format version {found}; this Function reads version {FORMAT_VERSION}"
            ),
        ),
        e => reject(RejectCode::InvalidPolicy, format!("{source}: {e}")),
    })
}

/// `CompiledPolicy::load` without the intermediate `serde_json::Value`, and in one pass for a
/// policy of the current format (the common case): the text is parsed straight into the
/// policy, and only when that fails is it read again for its version, to tell an unknown
/// format from a broken document. Same errors, far fewer instructions in the Wasm.
fn load(json: &str) -> Result<CompiledPolicy, LoadError> {
    #[derive(serde::Deserialize)]
    struct Version {
        v: Option<serde_json::Number>,
    }
    let parse_error = match serde_json::from_str::<CompiledPolicy>(json) {
        Ok(policy) if policy.format == FORMAT_VERSION => return Ok(policy),
        Ok(policy) => {
            return Err(LoadError::UnsupportedVersion {
                found: u64::from(policy.format),
            });
        }
        Err(e) => e,
    };
    let version: Version = serde_json::from_str(json)?;
    match version.v.as_ref().and_then(serde_json::Number::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => Err(parse_error.into()),
        Some(found) => Err(LoadError::UnsupportedVersion { found }),
        None => Err(LoadError::MissingVersion),
    }
}

/// Refuses a policy that tests facts this Function's input does not carry, naming them all.
pub fn check_supported(policy: &CompiledPolicy) -> Result<(), Rejection> {
    let mut missing: Vec<String> = Vec::new();
    let mut visit = |fact: Fact, test: &Test| {
        let problem = if !SUPPORTED_FACTS.contains(&fact) {
            Some(format!("`{}`", fact.name()))
        } else if matches!(test, Test::AllIn(_)) && fact == Fact::ProductTags {
            // `hasTags` only answers for the tags the policy names, so "every tag is one of
            // these" cannot be decided.
            Some(format!("`{}` with `all_in`", fact.name()))
        } else {
            None
        };
        if let Some(problem) = problem
            && !missing.contains(&problem)
        {
            missing.push(problem);
        }
    };
    let outcomes = policy
        .rules
        .iter()
        .map(|rule| &rule.then)
        .chain(std::iter::once(&policy.default));
    for rule in &policy.rules {
        visit_all(&rule.when, &mut visit);
    }
    for outcome in outcomes {
        if let Some(selector) = &outcome.lines {
            visit_all(selector, &mut visit);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(reject(
            RejectCode::UnsupportedFact,
            format!(
                "the policy tests {} that this Function's input query does not supply",
                missing.join(", ")
            ),
        ))
    }
}

fn visit_all(conditions: &[Condition], visit: &mut impl FnMut(Fact, &Test)) {
    for condition in conditions {
        condition.visit_facts(visit);
    }
}

/// Turns the positional `hasTags` answers into each line's product tags.
pub fn apply_answers(
    policy: &CompiledPolicy,
    facts: &mut Facts,
    tag_answers: &[Option<Vec<bool>>],
) -> Result<(), Rejection> {
    let variables = policy.input_variables();
    for (index, line) in facts.order.line_items.iter_mut().enumerate() {
        let tags = tag_answers.get(index).and_then(Option::as_deref);
        line.product_tags = matched(
            &variables.product_tags,
            tags,
            index,
            "hasTags",
            "productTags",
        )?;
    }
    Ok(())
}

fn matched(
    asked: &[String],
    answers: Option<&[bool]>,
    line: usize,
    field: &str,
    variable: &str,
) -> Result<Vec<String>, Rejection> {
    // A line whose product was deleted has no tags.
    let Some(answers) = answers else {
        return Ok(Vec::new());
    };
    if answers.len() != asked.len() {
        return Err(reject(
            RejectCode::InputVariablesMismatch,
            format!(
                "`input.order.lineItems[{line}].product.{field}` has {} answers but the policy \
                 asks about {} values: set the `{variable}` input variable from this policy",
                answers.len(),
                asked.len()
            ),
        ));
    }
    Ok(asked
        .iter()
        .zip(answers)
        .filter(|(_, has)| **has)
        .map(|(value, _)| value.clone())
        .collect())
}
