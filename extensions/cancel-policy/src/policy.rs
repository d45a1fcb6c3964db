//! Which policy decides (the owner's metafield, else the built-in one), and whether this
//! Function's input can answer everything the policy asks.

use cancel_policy_core::Trigger;
use cancel_policy_core::catalog::Fact;
use cancel_policy_core::compiled::{
    CompiledPolicy, FORMAT_VERSION, LineField, LineInputs, LoadError,
};
use cancel_policy_core::facts::Facts;
use cancel_policy_core::outcome::{Outcome, OutcomeKind, RefundMethod};
use cancel_policy_core::placeholder::Placeholder;

use crate::input::Answers;
use crate::output::RejectCode;

/// The compiled policy built in with `CANCEL_POLICY_BAKED_POLICY` (empty when none was).
const BAKED_POLICY: &str = include_str!(concat!(env!("OUT_DIR"), "/baked_policy.json"));

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

/// The policy to evaluate for `trigger`: `Ok(None)` when neither the owner nor the build
/// supplies one. Only what a decision for `trigger` in `locale` can use is built (see
/// `CompiledPolicy::read_compiled_for`): the rules of other triggers are checked as JSON and
/// left out.
///
/// Both sources are written by `CompiledPolicy::to_json` (`cancel-policy compile`, the
/// service, the build), so only that form is read: anything else is a hand-edited or damaged
/// text, refused with where reading stopped.
pub fn choose(
    metafield: Option<&str>,
    locale: Option<&str>,
    trigger: Trigger,
) -> Result<Option<CompiledPolicy>, Rejection> {
    let (source, json) = match metafield {
        Some(json) => ("the compiled-policy metafield", json),
        None if BAKED_POLICY.trim().is_empty() => return Ok(None),
        None => ("the built-in policy", BAKED_POLICY),
    };
    let read = CompiledPolicy::read_compiled_for(json, locale, trigger);
    read.map(Some).map_err(|e| match e {
        LoadError::UnsupportedVersion { found } => reject(
            RejectCode::UnsupportedPolicyVersion,
            format!(
                "{source} has format version {found}; this Function reads version {FORMAT_VERSION}"
            ),
        ),
        other => {
            // `read_compiled_for` gives no other error; the match spares the module the
            // other errors' wording.
            let at = match other {
                LoadError::Invalid { at, .. } => at,
                _ => 0,
            };
            reject(
                RejectCode::InvalidPolicy,
                format!(
                    "{source} is not a compiled policy as `cancel-policy compile` writes it \
                     (reading stopped at byte {at}): recompile it with `cancel-policy compile` \
                     and save it again"
                ),
            )
        }
    })
}

/// Refuses a policy that tests facts this Function's input does not carry, naming them all
/// (`cancel-policy check` warns about the same rules: W109).
///
/// `policy` holds only the rules of the run's trigger (see `choose`), so a rule of another
/// trigger that tests an unsupported fact does not refuse this run: the Function refuses only
/// what it would have to answer.
pub fn check_supported(policy: &CompiledPolicy) -> Result<(), Rejection> {
    let missing = policy.unanswerable_in_function();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing.iter().map(|(_, what)| what.to_string()).collect();
    Err(reject(
        RejectCode::UnsupportedFact,
        format!(
            "the policy uses {} that this Function's input query does not supply",
            names.join(", ")
        ),
    ))
}

/// Turns each line's tag answers into its product tags.
pub fn apply_answers(
    policy: &CompiledPolicy,
    facts: &mut Facts,
    tag_answers: &[Answers],
) -> Result<(), Rejection> {
    // A line without answers (no product, or none of the tags) keeps its empty tag list.
    if tag_answers
        .iter()
        .all(|answers| matches!(answers, Answers::Unread))
    {
        return Ok(());
    }
    let variables = policy.asked_lists();
    let asked = &variables.product_tags;
    let answered_by_any = tag_answers
        .iter()
        .any(|answers| matches!(answers, Answers::Any))
        && policy.tags_answered_by_any(asked);
    for (index, (line, answers)) in facts
        .order
        .line_items
        .iter_mut()
        .zip(tag_answers)
        .enumerate()
    {
        match answers {
            Answers::Unread => {}
            Answers::Each(each) => {
                line.product_tags = matched(asked, each, index)?;
            }
            // Every tag test asks about any of exactly these tags, so a product with some of
            // them tests as one with all of them.
            Answers::Any if answered_by_any => {
                line.product_tags = asked.clone();
            }
            Answers::Any => {
                return Err(reject(
                    RejectCode::InputVariablesMismatch,
                    format!(
                        "`input.order` has no `lineTags`, whose answers this policy's tag \
                         tests need for `lineItems[{index}]`: set the `withTagAnswers` input \
                         variable from this policy"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The tags of `asked` that a line's `hasTags` answers say its product has.
fn matched(asked: &[String], answers: &[bool], line: usize) -> Result<Vec<String>, Rejection> {
    if answers.len() != asked.len() {
        return Err(reject(
            RejectCode::InputVariablesMismatch,
            format!(
                "`input.order.lineTags[{line}].product.hasTags` has {} answers but the policy \
                 asks about {} values: set the `productTags` input variable from this policy",
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

/// The parts of the input a decision can depend on. Shopify's provider decodes the input
/// lazily and each field read costs about a thousand instructions, so the Function reads only
/// what the rules of this trigger, their outcomes and the default can consult.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub request_reason: bool,
    /// `shop.localTime`: time of day, weekday, and the placement's local time (business days,
    /// cut-off).
    pub now_local: bool,
    /// `createdAt`.
    pub placed: bool,
    pub cancelled: bool,
    pub fulfillment_status: bool,
    pub fulfillment_orders: bool,
    pub financial_status: bool,
    pub total_price: bool,
    pub b2b: bool,
    pub risk: bool,
    /// `None` when no line is consulted, not even the number of lines.
    pub lines: Option<LineNeeds>,
}

/// Which fields of each line are consulted (the number of lines always is): the line fields
/// of the input variables, for this trigger's rules (`with_tag_answers` is not used here).
pub type LineNeeds = LineInputs;

impl Needs {
    fn lines(&mut self) -> &mut LineNeeds {
        self.lines.get_or_insert(LineInputs::NONE)
    }

    fn fact(&mut self, fact: Fact) {
        match fact {
            Fact::LocalTime | Fact::LocalWeekday => self.now_local = true,
            // Minutes since placement are counted in UTC: `requestedAt` - `createdAt`.
            Fact::MinutesSincePlaced => self.placed = true,
            // The placement's shop-local time is `createdAt` shifted by the offset
            // `shop.localTime` shows.
            Fact::BusinessDaysSincePlaced | Fact::BeforeCutoff => {
                self.now_local = true;
                self.placed = true;
            }
            Fact::FulfillmentStatus => self.fulfillment_status = true,
            Fact::FulfillmentOrderStatus | Fact::FulfillmentRequestStatus => {
                self.fulfillment_orders = true;
            }
            Fact::FinancialStatus => self.financial_status = true,
            Fact::TotalPrice | Fact::Currency => self.total_price = true,
            Fact::B2b => self.b2b = true,
            Fact::Cancelled => self.cancelled = true,
            Fact::RiskLevel | Fact::RiskRecommendation | Fact::RiskThirdParty => self.risk = true,
            Fact::LineCount => {
                self.lines();
            }
            fact if let Some(field) = LineField::of_fact(fact) => self.lines().include(field),
            // The input has no `source`: the core takes the one the trigger implies.
            Fact::RequestSource => {}
            Fact::RequestReason => self.request_reason = true,
            // The locale is always read; other facts are refused by `check_supported`.
            _ => {}
        }
    }

    fn outcome(&mut self, outcome: &Outcome) {
        if outcome.fee.is_some() {
            self.financial_status = true;
            self.total_price = true;
        }
        if outcome.refund == Some(RefundMethod::StoreCredit) {
            self.b2b = true;
        }
        if let Some(note) = &outcome.staff_note {
            for placeholder in Placeholder::in_note(note) {
                self.risk |= placeholder == Placeholder::RiskLevel;
                self.request_reason |= placeholder == Placeholder::RequestReason;
            }
        }
        // A hold runs from `createdAt` (UTC).
        if outcome.kind == OutcomeKind::Hold && outcome.hold_minutes.is_some() {
            self.placed = true;
        }
        for field in LineField::of_outcome(outcome) {
            self.lines().include(*field);
        }
        for condition in outcome.lines.iter().flatten() {
            condition.visit_facts(&mut |fact, _| self.fact(fact));
        }
    }
}

/// What deciding `policy` for `trigger` may read.
pub fn needs(policy: &CompiledPolicy, trigger: Trigger) -> Needs {
    let mut needs = Needs::default();
    for rule in policy
        .rules
        .iter()
        .filter(|rule| rule.triggers & trigger.bit() != 0)
    {
        for condition in &rule.when {
            condition.visit_facts(&mut |fact, _| needs.fact(fact));
        }
        needs.outcome(&rule.then);
    }
    needs.outcome(&policy.default);
    needs
}
