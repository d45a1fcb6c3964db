//! The compiled policy's header for the Shopify Function: what a run must know before it tries
//! any rule, so that it can read the rules one at a time and stop at the one that decides.
//!
//! Per trigger, which parts of the Function's input a decision can consult ([`InputNeeds`]:
//! Shopify's provider decodes the input lazily and each field read costs about a thousand
//! instructions, so the Function reads only those), and the product tags its input query asks
//! Shopify about (the Function matches the `hasTags` answers to them by position).
//!
//! The header is derived from the rules, so a reader that ignores it (`load`, the full reader)
//! decides the same. The Function trusts it but checks every rule it reads against it
//! ([`FunctionHeader::admits`]): a hand-edited header that leaves out what a rule it reaches
//! consults is refused rather than decided differently from the service.

use serde::{Deserialize, Serialize};

use super::reader::{FACT_COUNT, FACTS};
use super::{
    CompiledPolicy, Condition, FactSet, LineField, Rule, Test, Trigger, Unanswerable,
    function_answers,
};
use crate::catalog::Fact;
use crate::outcome::{Outcome, OutcomeKind, RefundMethod};
use crate::placeholder::Placeholder;
use crate::text::{ascii_without_capitals, same_text};

/// Parts of the Function's input a decision can consult, a bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputNeeds(pub u32);

impl InputNeeds {
    pub const REQUEST_REASON: u32 = 1;
    /// `shop.localTime`: time of day, weekday, and the placement's local time.
    pub const NOW_LOCAL: u32 = 1 << 1;
    /// `createdAt`.
    pub const PLACED: u32 = 1 << 2;
    pub const CANCELLED: u32 = 1 << 3;
    pub const FULFILLMENT_STATUS: u32 = 1 << 4;
    pub const FULFILLMENT_ORDERS: u32 = 1 << 5;
    pub const FINANCIAL_STATUS: u32 = 1 << 6;
    pub const TOTAL_PRICE: u32 = 1 << 7;
    pub const B2B: u32 = 1 << 8;
    pub const RISK: u32 = 1 << 9;
    /// The lines are consulted, if only their number.
    pub const LINES: u32 = 1 << 10;
    pub const LINE_ID: u32 = 1 << 11;
    pub const LINE_QUANTITY: u32 = 1 << 12;
    pub const LINE_SKU: u32 = 1 << 13;
    pub const LINE_SELLING_PLAN: u32 = 1 << 14;
    pub const LINE_VARIANT: u32 = 1 << 15;
    pub const LINE_PRODUCT: u32 = 1 << 16;
    /// A line's quantity only to name the lines a `cancel_lines` decision cancels (with their
    /// ids): the Function reads it for those lines, after the decision. [`Self::LINE_QUANTITY`]
    /// (a condition or line selector tests it) has it read for every line.
    pub const LINE_QUANTITY_NAMED: u32 = 1 << 17;

    pub fn has(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// Whether every part `other` consults is one of these.
    pub fn covers(self, other: InputNeeds) -> bool {
        other.0 & !self.0 == 0
    }

    const fn of_line(field: LineField) -> u32 {
        Self::LINES
            | match field {
                LineField::Id => Self::LINE_ID,
                LineField::Quantity => Self::LINE_QUANTITY,
                LineField::Sku => Self::LINE_SKU,
                LineField::SellingPlan => Self::LINE_SELLING_PLAN,
                LineField::Variant => Self::LINE_VARIANT,
                LineField::Product => Self::LINE_PRODUCT,
            }
    }

    fn fact(&mut self, fact: Fact) {
        self.0 |= Self::of_fact(fact);
    }

    /// What the facts of `set` consult, from [`NEEDS_OF_FACT`].
    fn of_facts(set: FactSet) -> InputNeeds {
        InputNeeds(set.indexes().fold(0, |needs, index| {
            needs | NEEDS_OF_FACT.get(index as usize).copied().unwrap_or(0)
        }))
    }

    const fn of_fact(fact: Fact) -> u32 {
        match fact {
            Fact::LocalTime | Fact::LocalWeekday => Self::NOW_LOCAL,
            // Minutes since placement are counted in UTC: `requestedAt` - `createdAt`.
            Fact::MinutesSincePlaced => Self::PLACED,
            // The placement's shop-local time is `createdAt` shifted by the offset
            // `shop.localTime` shows.
            Fact::BusinessDaysSincePlaced | Fact::BeforeCutoff => Self::NOW_LOCAL | Self::PLACED,
            Fact::FulfillmentStatus => Self::FULFILLMENT_STATUS,
            Fact::FulfillmentOrderStatus | Fact::FulfillmentRequestStatus => {
                Self::FULFILLMENT_ORDERS
            }
            Fact::FinancialStatus => Self::FINANCIAL_STATUS,
            Fact::TotalPrice | Fact::Currency => Self::TOTAL_PRICE,
            Fact::B2b => Self::B2B,
            Fact::Cancelled => Self::CANCELLED,
            Fact::RiskLevel | Fact::RiskRecommendation | Fact::RiskThirdParty => Self::RISK,
            Fact::LineCount => Self::LINES,
            Fact::RequestReason => Self::REQUEST_REASON,
            fact => match LineField::of_fact(fact) {
                Some(field) => Self::of_line(field),
                // The input has no `source` (the core takes the one the trigger implies), the
                // locale is always read, and the Function refuses other facts.
                None => 0,
            },
        }
    }

    fn conditions<'c>(&mut self, conditions: impl IntoIterator<Item = &'c Condition>) {
        for condition in conditions {
            condition.visit_facts(&mut |fact, _| self.fact(fact));
        }
    }

    /// What deciding by `outcome` may read: its line selector, and what its actions use.
    pub fn of_outcome(outcome: &Outcome) -> InputNeeds {
        let mut needs = InputNeeds::default();
        if outcome.fee.is_some() {
            needs.0 |= Self::FINANCIAL_STATUS | Self::TOTAL_PRICE;
        }
        if outcome.refund == Some(RefundMethod::StoreCredit) {
            needs.0 |= Self::B2B;
        }
        if let Some(note) = &outcome.staff_note {
            for placeholder in Placeholder::in_note(note) {
                needs.0 |= match placeholder {
                    Placeholder::RiskLevel => Self::RISK,
                    Placeholder::RequestReason => Self::REQUEST_REASON,
                    _ => 0,
                };
            }
        }
        // A hold runs from `createdAt` (UTC).
        if outcome.kind == OutcomeKind::Hold && outcome.hold_minutes.is_some() {
            needs.0 |= Self::PLACED;
        }
        for field in LineField::of_outcome(outcome) {
            needs.0 |= match field {
                LineField::Quantity => Self::LINES | Self::LINE_QUANTITY_NAMED,
                other => Self::of_line(*other),
            };
        }
        needs.conditions(outcome.lines.iter().flatten());
        needs
    }

    /// What trying `rule`, and deciding by it, may read.
    pub fn of_rule(rule: &Rule) -> InputNeeds {
        let mut needs = Self::of_outcome(&rule.then);
        needs.conditions(&rule.when);
        needs
    }
}

/// What the Function reads before the rules (see the module's documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionHeader {
    /// [`InputNeeds`] by trigger (index `Trigger as usize`): those of its rules and of the
    /// default outcome.
    #[serde(rename = "n")]
    pub needs: [u32; 7],
    /// The product tags the input query asks about (`InputVariables::product_tags`).
    #[serde(rename = "pt")]
    pub product_tags: Vec<String>,
    /// Whether `hasAnyTag` alone answers every product-tag test
    /// ([`CompiledPolicy::tags_answered_by_any`]).
    #[serde(rename = "pa")]
    pub tags_by_any: bool,
    /// Where the text after the rules starts, in bytes from the rules' `[`: the `,` before
    /// `"d"`, and the `,` before `"m"` (zeros when unknown, as in
    /// [`CompiledPolicy::function_header`]; [`CompiledPolicy::to_json`] fills them in). The
    /// Function goes straight there once a rule decides, rather than scanning the rest of the
    /// rules: checking them cost more than reading the rules that decide.
    #[serde(rename = "at", default)]
    pub after_rules: [u32; 2],
}

/// Why [`FunctionHeader::admits`] refuses a rule or outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAdmitted {
    /// It consults input the header does not say the trigger needs.
    Needs,
    /// It tests product tags the header does not list, or in a way it says no test does.
    ProductTags,
    /// It asks what the Function's input cannot answer (see [`super::unanswerable_in`]).
    Unanswerable(Vec<Unanswerable>),
}

/// [`InputNeeds::of_fact`] by `Fact as u32`.
const NEEDS_OF_FACT: [u32; FACT_COUNT] = {
    let mut table = [0; FACT_COUNT];
    let mut facts: &[(&str, Fact)] = &FACTS;
    while let [(_, fact), rest @ ..] = facts {
        // Evaluated at compile time, where an index out of range fails the build.
        #[allow(clippy::indexing_slicing)]
        {
            table[*fact as usize] = InputNeeds::of_fact(*fact);
        }
        facts = rest;
    }
    table
};

impl FunctionHeader {
    /// What deciding for `trigger` may read.
    pub fn needs_of(&self, trigger: Trigger) -> InputNeeds {
        InputNeeds(self.needs.get(trigger as usize).copied().unwrap_or(0))
    }

    /// Whether the Function can decide by `conditions` and `outcome` (a rule's, or the
    /// default with no conditions) for `trigger`: the header accounts for everything they
    /// consult, and the Function's input answers it. One pass over their facts: the Function
    /// checks each rule it reaches. `next_tag` is where to look for the next product tag
    /// first (start at 0, and pass it on from rule to rule).
    pub fn admits(
        &self,
        trigger: Trigger,
        conditions: &[Condition],
        outcome: &Outcome,
        next_tag: &mut usize,
    ) -> Result<(), NotAdmitted> {
        let mut needs = InputNeeds::of_outcome(outcome);
        let (mut tags_listed, mut answerable) = (true, true);
        let mut visit = |fact: Fact, test: &Test| {
            needs.fact(fact);
            answerable &= function_answers(fact);
            if fact != Fact::ProductTags {
                return;
            }
            answerable &= !matches!(test, Test::AllIn(_));
            let values = test.values();
            if self.lists_exactly(values) {
                // Each is where `lists` looks first, and (written in lower case) they are
                // the header's set of tags, which `hasAnyTag` answers alone for these tests.
                *next_tag = values.len();
                if self.tags_by_any {
                    tags_listed &= match test {
                        Test::AnyOf(_) | Test::NoneOf(_) => true,
                        Test::AllOf(_) => values.len() == 1,
                        _ => false,
                    };
                }
                return;
            }
            tags_listed &= values.iter().all(|tag| self.lists(tag, next_tag));
            if self.tags_by_any {
                tags_listed &= super::line_inputs::answered_by_any(test, &self.product_tags);
            }
        };
        for condition in conditions.iter().chain(outcome.lines.iter().flatten()) {
            condition.visit_facts(&mut visit);
        }
        // (A header lacking a need is refused for that first, as `admits_needs` does.)
        if !tags_listed && self.needs_of(trigger).covers(needs) {
            return Err(NotAdmitted::ProductTags);
        }
        self.admits_needs(trigger, needs, answerable, conditions, outcome)
    }

    /// The end of both admission checks: `needs` (what the rule consults) within the
    /// trigger's, and, unless `answerable` and no staff-note placeholder says otherwise,
    /// nothing the Function's input lacks.
    // Inlined: a call here cost 200 lines × 50 rules 2.4k instructions (a rule checked each).
    #[inline(always)]
    fn admits_needs(
        &self,
        trigger: Trigger,
        needs: InputNeeds,
        answerable: bool,
        conditions: &[Condition],
        outcome: &Outcome,
    ) -> Result<(), NotAdmitted> {
        if !self.needs_of(trigger).covers(needs) {
            return Err(NotAdmitted::Needs);
        }
        let staff_note = outcome.staff_note.as_deref().unwrap_or_default();
        if !answerable || staff_note.contains('{') {
            let missing = super::unanswerable_in(conditions, outcome);
            if !missing.is_empty() {
                return Err(NotAdmitted::Unanswerable(missing));
            }
        }
        Ok(())
    }

    /// [`FunctionHeader::admits`] for a rule as [`PolicyStream`](super::PolicyStream) read
    /// it, `facts` those its conditions and line selector name
    /// ([`PolicyStream::facts_read`](super::PolicyStream::facts_read)): the same answer
    /// without visiting the conditions again, unless they test product tags or a fact the
    /// Function's input does not carry (the Function checks every rule it reaches, the
    /// 200-line benchmark 50 of them).
    pub fn admits_read(
        &self,
        trigger: Trigger,
        facts: FactSet,
        conditions: &[Condition],
        outcome: &Outcome,
        next_tag: &mut usize,
    ) -> Result<(), NotAdmitted> {
        if !facts.needs_alone() {
            return self.admits(trigger, conditions, outcome, next_tag);
        }
        let needs = InputNeeds(InputNeeds::of_outcome(outcome).0 | InputNeeds::of_facts(facts).0);
        self.admits_needs(trigger, needs, true, conditions, outcome)
    }
}

impl FunctionHeader {
    /// [`FunctionHeader::admits_read`] for rules that do not decide and whose facts together
    /// are `facts`, which [`FactSet::needs_alone`] checks: whether the trigger's needs cover
    /// what they consult. (Their outcomes were not read: a rule that does not decide is not
    /// applied.)
    pub fn admits_passed(&self, trigger: Trigger, facts: FactSet) -> Result<(), NotAdmitted> {
        if self.needs_of(trigger).covers(InputNeeds::of_facts(facts)) {
            Ok(())
        } else {
            Err(NotAdmitted::Needs)
        }
    }

    /// Whether `values` are the header's product tags in its order, written in lower case (a
    /// tag test of the only rule, or the first, to name tags usually is): [`Self::lists`]
    /// finds each where it looks first, and they lower-case to the header's set.
    fn lists_exactly(&self, values: &[String]) -> bool {
        !values.is_empty()
            && values.len() == self.product_tags.len()
            && values.iter().zip(&self.product_tags).all(|(value, asked)| {
                same_text(value.as_bytes(), asked.as_bytes())
                    && ascii_without_capitals(value.as_bytes())
            })
    }

    /// Whether `product_tags` holds `tag` in lower case. Most tags are written in lower case,
    /// and are found by comparing words (tags that differ mostly differ at their end); only
    /// a tag not found so is lower-cased.
    ///
    /// The list holds the tags in the order the rules first name them, so the one after the
    /// last found (`next`, updated) is tried first: rules read in order find most tags there.
    fn lists(&self, tag: &str, next: &mut usize) -> bool {
        if self
            .product_tags
            .get(*next)
            .is_some_and(|asked| same_text(asked.as_bytes(), tag.as_bytes()))
        {
            *next += 1;
            return true;
        }
        let same = |asked: &String| same_text(asked.as_bytes(), tag.as_bytes());
        let lower;
        let found = match self.product_tags.iter().position(same) {
            Some(found) => found,
            None => {
                lower = crate::lowercase::to_lowercase(tag);
                let Some(found) = self.product_tags.iter().position(|asked| *asked == lower) else {
                    return false;
                };
                found
            }
        };
        *next = found + 1;
        true
    }
}

impl CompiledPolicy {
    /// The header [`CompiledPolicy::to_json`] writes before the rules (without where the
    /// text after the rules starts, which only `to_json` knows).
    pub fn function_header(&self) -> FunctionHeader {
        let product_tags = self.asked_lists().product_tags;
        let default = InputNeeds::of_outcome(&self.default);
        let mut needs = [default.0; 7];
        for rule in &self.rules {
            let of_rule = InputNeeds::of_rule(rule);
            for trigger in Trigger::ALL {
                if rule.triggers & trigger.bit() != 0
                    && let Some(slot) = needs.get_mut(trigger as usize)
                {
                    *slot |= of_rule.0;
                }
            }
        }
        FunctionHeader {
            needs,
            tags_by_any: self.tags_answered_by_any(&product_tags),
            product_tags,
            after_rules: [0, 0],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // test code

    use super::*;

    /// A tag test that names the header's tags in its order is admitted as looking each up
    /// and comparing the sets admits it, with the same place to look for the next tag.
    #[test]
    fn tags_named_as_the_header_lists_them_are_admitted_as_when_looked_up() {
        let list = |tags: &[&str]| -> Vec<String> { tags.iter().map(|t| t.to_string()).collect() };
        let headers = [
            list(&["gift", "made-to-order"]),
            list(&["gift"]),
            list(&["Gift", "made-to-order"]),
            list(&[]),
        ];
        let values = [
            list(&["gift", "made-to-order"]),
            list(&["made-to-order", "gift"]),
            list(&["gift"]),
            list(&["Gift", "made-to-order"]),
            list(&["GIFT", "MADE-TO-ORDER"]),
            list(&["gift", "made-to-order", "x"]),
            list(&[]),
        ];
        let mut checked = 0;
        for asked in &headers {
            for tags_by_any in [false, true] {
                let header = FunctionHeader {
                    needs: [u32::MAX; 7],
                    product_tags: asked.clone(),
                    tags_by_any,
                    after_rules: [0, 0],
                };
                for values in &values {
                    for test in [
                        Test::AnyOf(values.clone()),
                        Test::AllOf(values.clone()),
                        Test::NoneOf(values.clone()),
                        Test::In(values.clone()),
                    ] {
                        for start in [0, 1] {
                            // Looked up one by one, then the set compared: the way round
                            // `lists_exactly`.
                            let mut expected_next = start;
                            let mut expected = values
                                .iter()
                                .all(|tag| header.lists(tag, &mut expected_next));
                            if tags_by_any {
                                expected &=
                                    super::super::line_inputs::answered_by_any(&test, asked);
                            }
                            let condition = Condition::Lines(
                                super::super::Quantifier::Any,
                                vec![Condition::Fact(Fact::ProductTags, test.clone())],
                            );
                            let mut next = start;
                            let admitted = header.admits(
                                Trigger::CustomerRequest,
                                &[condition],
                                &Outcome::new(crate::outcome::OutcomeKind::Deny),
                                &mut next,
                            );
                            let label = format!("{asked:?} {tags_by_any} {test:?} {start}");
                            match admitted {
                                Ok(()) => assert!(expected, "{label}"),
                                Err(NotAdmitted::ProductTags) => assert!(!expected, "{label}"),
                                Err(other) => panic!("{label}: {other:?}"),
                            }
                            if expected {
                                assert_eq!(next, expected_next, "{label}");
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 200);
    }
}
