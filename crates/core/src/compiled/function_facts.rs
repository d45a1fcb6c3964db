//! What the Shopify Function can decide: its input query
//! (extensions/cancel-policy/src/order_cancellation_run.graphql) carries only some facts,
//! because Shopify caps a query's cost at 30
//! (https://shopify.dev/docs/api/functions/latest#limitations). The Function refuses a policy
//! that needs anything else (`UNSUPPORTED_FACT`) rather than guess, and `cancel-policy check`
//! warns about the same rules (W109); the service decides every policy natively.

use std::fmt;

use super::{CompiledPolicy, Condition, Test};
use crate::catalog::Fact;
use crate::outcome::Outcome;
use crate::placeholder::Placeholder;

/// The facts the Function's input query supplies.
pub const FUNCTION_FACTS: &[Fact] = &[
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

/// `FUNCTION_FACTS` as a set, bit `fact as u32` per fact: the Function looks up every fact
/// test of a policy (a list search cost ~25 comparisons each).
const FUNCTION_FACT_SET: u128 = fact_set(FUNCTION_FACTS);

const fn fact_set(facts: &[Fact]) -> u128 {
    let mut set = 0u128;
    let mut rest = facts;
    while let [fact, tail @ ..] = rest {
        set |= 1u128 << (*fact as u32 % 128);
        rest = tail;
    }
    set
}

/// Whether the Function's input carries `fact`.
pub fn function_answers(fact: Fact) -> bool {
    FUNCTION_FACT_SET & (1u128 << (fact as u32 % 128)) != 0
}

/// A set of facts, bit `fact as u32` per fact: those a rule's conditions and line selector
/// name, as [`PolicyStream`](super::PolicyStream) notes them while it reads the rule, so that
/// the Function checks the rule against the header without visiting its conditions again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactSet(u64);

// Every fact has its bit.
const _: () = assert!(super::reader::FACT_COUNT <= 64);

impl FactSet {
    pub fn contains(self, fact: Fact) -> bool {
        self.0 & (1u64 << (fact as u32 % 64)) != 0
    }

    pub(crate) fn insert(&mut self, fact: Fact) {
        self.0 |= 1u64 << (fact as u32 % 64);
    }

    /// The facts in `conditions` and in `outcome`'s line selector.
    pub fn of(conditions: &[Condition], outcome: &Outcome) -> FactSet {
        let mut set = FactSet::default();
        for condition in conditions.iter().chain(outcome.lines.iter().flatten()) {
            condition.visit_facts(&mut |fact, _| set.insert(fact));
        }
        set
    }

    /// Whether the Function's input carries every one of them.
    pub fn answered(self) -> bool {
        // Facts past the 64th have no bit, and `FactSet` holds none (checked above).
        self.0 & !(FUNCTION_FACT_SET as u64) == 0
    }

    /// The facts of either set.
    pub fn union(self, other: FactSet) -> FactSet {
        FactSet(self.0 | other.0)
    }

    /// Whether checking conditions that name these facts against a header takes their needs
    /// alone ([`FunctionHeader::admits_read`](super::FunctionHeader::admits_read)): no product
    /// tag (whose tests are checked against the header's tags) and nothing the Function's
    /// input lacks (whose conditions are named).
    pub fn needs_alone(self) -> bool {
        !self.contains(Fact::ProductTags) && self.answered()
    }

    /// The facts' bits, lowest first, as `Fact as u32`.
    pub(crate) fn indexes(self) -> impl Iterator<Item = u32> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let index = (rest != 0).then(|| rest.trailing_zeros())?;
            rest &= rest - 1;
            Some(index)
        })
    }
}

/// Something a policy asks that the Function's input cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswerable {
    /// A fact outside its input query.
    Fact(Fact),
    /// `product_tags` with `all_in`: `hasTags` only answers for the tags the policy names, so
    /// "every tag is one of these" cannot be decided.
    TagsAllIn,
    /// A staff note naming `{order}`: the input carries no order id (see the query).
    OrderInStaffNote,
}

impl fmt::Display for Unanswerable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswerable::Fact(fact) => write!(f, "`{}`", fact.name()),
            Unanswerable::TagsAllIn => f.write_str("`product_tags` with `all_in`"),
            Unanswerable::OrderInStaffNote => f.write_str("`{order}` in a staff note"),
        }
    }
}

impl CompiledPolicy {
    /// What the Function cannot answer, each once, with the index of the first rule that asks
    /// it (`None`: the default outcome), in rule order.
    pub fn unanswerable_in_function(&self) -> Vec<(Option<usize>, Unanswerable)> {
        let mut found: Vec<(Option<usize>, Unanswerable)> = Vec::new();
        let outcomes = self.rules.iter().map(|rule| (&rule.when[..], &rule.then));
        let indexes = (0..self.rules.len()).map(Some).chain([None]);
        for (index, (when, then)) in indexes.zip(outcomes.chain([(&[][..], &self.default)])) {
            visit_unanswerable(when, then, &mut |problem| {
                if !found.iter().any(|(_, seen)| *seen == problem) {
                    found.push((index, problem));
                }
            });
        }
        found
    }
}

/// What the Function cannot answer of one rule's `conditions` and `outcome` (of the default
/// outcome, with no conditions), each once: the Function refuses a rule it reaches that asks
/// any of it in its conditions, or in its outcome when the conditions hold.
pub fn unanswerable_in(conditions: &[Condition], outcome: &Outcome) -> Vec<Unanswerable> {
    let mut found = Vec::new();
    visit_unanswerable(conditions, outcome, &mut |problem| {
        if !found.contains(&problem) {
            found.push(problem);
        }
    });
    found
}

fn visit_unanswerable(
    conditions: &[Condition],
    outcome: &Outcome,
    note: &mut impl FnMut(Unanswerable),
) {
    for condition in conditions.iter().chain(outcome.lines.iter().flatten()) {
        condition.visit_facts(&mut |fact, test| {
            if !function_answers(fact) {
                note(Unanswerable::Fact(fact));
            } else if fact == Fact::ProductTags && matches!(test, Test::AllIn(_)) {
                note(Unanswerable::TagsAllIn);
            }
        });
    }
    if names_order(outcome) {
        note(Unanswerable::OrderInStaffNote);
    }
}

fn names_order(outcome: &Outcome) -> bool {
    outcome
        .staff_note
        .as_deref()
        .is_some_and(|note| Placeholder::in_note(note).any(|p| p == Placeholder::Order))
}

#[cfg(test)]
mod tests {
    use super::{FUNCTION_FACTS, function_answers};
    use crate::catalog::CATALOG;

    #[test]
    fn the_set_is_the_list() {
        assert!(!CATALOG.is_empty());
        for spec in CATALOG {
            assert_eq!(
                function_answers(spec.fact),
                FUNCTION_FACTS.contains(&spec.fact),
                "{}",
                spec.name
            );
        }
    }
}
