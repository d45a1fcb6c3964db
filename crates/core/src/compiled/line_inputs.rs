//! Which fields of each order line the Function's input query includes for a policy.
//!
//! Shopify's provider decodes every value of line `i - 1` before it hands out line `i`, and
//! each value costs it about 300 instructions, so a field no rule can consult is left out of
//! the input with an `@include(if: $with…)` directive whose variable the service sets from
//! the policy (in [`super::InputVariables`]). `@include` is one of the directives Shopify's Function
//! API schemas declare (`include` on FIELD).
//! https://shopify.dev/docs/apps/build/functions/input-queries/use-variables-input-queries

use serde::{Deserialize, Serialize};

use super::{CompiledPolicy, FunctionHeader, InputNeeds, Test};
use crate::catalog::Fact;
use crate::lowercase::to_lowercase;
use crate::outcome::{Outcome, OutcomeKind};
use crate::text::{ascii_without_capitals, same_text};

/// A per-line field of the input query that a variable can leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineField {
    Id,
    Quantity,
    Sku,
    SellingPlan,
    /// `variant { inventoryQuantity inventoryPolicy }`.
    Variant,
    /// `product { hasAnyTag hasTags }`.
    Product,
}

impl LineField {
    /// The field a line fact is read from; `None` for facts that are not per line.
    pub const fn of_fact(fact: Fact) -> Option<LineField> {
        match fact {
            Fact::Quantity => Some(LineField::Quantity),
            Fact::Sku => Some(LineField::Sku),
            Fact::SellingPlan => Some(LineField::SellingPlan),
            Fact::InventoryAvailable | Fact::Oversold => Some(LineField::Variant),
            Fact::ProductTags => Some(LineField::Product),
            _ => None,
        }
    }

    /// The fields an outcome consults besides its line selector: `cancel_lines` names the
    /// lines it cancels and their quantities.
    pub fn of_outcome(outcome: &Outcome) -> &'static [LineField] {
        if outcome.kind == OutcomeKind::CancelLines {
            &[LineField::Id, LineField::Quantity]
        } else {
            &[]
        }
    }
}

/// The `@include` variables of the line fields. A variable missing from the metafield (one
/// written before they existed) includes its field: Shopify uses the query's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineInputs {
    #[serde(default = "included")]
    pub with_line_id: bool,
    #[serde(default = "included")]
    pub with_quantity: bool,
    #[serde(default = "included")]
    pub with_sku: bool,
    #[serde(default = "included")]
    pub with_selling_plan: bool,
    #[serde(default = "included")]
    pub with_variant: bool,
    #[serde(default = "included")]
    pub with_product: bool,
    /// `hasTags`: left out when `hasAnyTag` alone answers every tag test (see
    /// [`CompiledPolicy::tags_answered_by_any`]).
    #[serde(default = "included")]
    pub with_tag_answers: bool,
}

fn included() -> bool {
    true
}

impl Default for LineInputs {
    /// Every field, as the query's defaults have it.
    fn default() -> Self {
        LineInputs {
            with_line_id: true,
            with_quantity: true,
            with_sku: true,
            with_selling_plan: true,
            with_variant: true,
            with_product: true,
            with_tag_answers: true,
        }
    }
}

impl LineInputs {
    /// No line field.
    pub const NONE: LineInputs = LineInputs {
        with_line_id: false,
        with_quantity: false,
        with_sku: false,
        with_selling_plan: false,
        with_variant: false,
        with_product: false,
        with_tag_answers: false,
    };

    /// The line fields `needs` consults (not `with_tag_answers`): for what any trigger
    /// needs, those the policy's input variables include (as `line_inputs` finds them), which
    /// the Function derives from the header to know where a line's fields are.
    pub fn of_needs(needs: InputNeeds) -> LineInputs {
        LineInputs {
            with_line_id: needs.has(InputNeeds::LINE_ID),
            with_quantity: needs.0 & (InputNeeds::LINE_QUANTITY | InputNeeds::LINE_QUANTITY_NAMED)
                != 0,
            with_sku: needs.has(InputNeeds::LINE_SKU),
            with_selling_plan: needs.has(InputNeeds::LINE_SELLING_PLAN),
            with_variant: needs.has(InputNeeds::LINE_VARIANT),
            with_product: needs.has(InputNeeds::LINE_PRODUCT),
            with_tag_answers: false,
        }
    }

    /// Includes `field`.
    pub fn include(&mut self, field: LineField) {
        match field {
            LineField::Id => self.with_line_id = true,
            LineField::Quantity => self.with_quantity = true,
            LineField::Sku => self.with_sku = true,
            LineField::SellingPlan => self.with_selling_plan = true,
            LineField::Variant => self.with_variant = true,
            LineField::Product => self.with_product = true,
        }
    }
}

/// The `@include` variables of the order's own fields (those before `lineItems`). Shopify's
/// provider decodes every field before the one read, about a thousand instructions a
/// fulfillment order or `risk` object, so a field no trigger's rules, outcomes or default
/// consult (the header's [`InputNeeds`]: one input-variables metafield serves every trigger)
/// is left out, when that pays: the Function then checks the key of each order field it reads
/// (see [`OrderInputs::of_needs`]). A variable missing from the metafield includes its field,
/// as the query's default does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderInputs {
    #[serde(default = "included")]
    pub with_created_at: bool,
    #[serde(default = "included")]
    pub with_cancellation: bool,
    #[serde(default = "included")]
    pub with_fulfillment_status: bool,
    #[serde(default = "included")]
    pub with_financial_status: bool,
    #[serde(default = "included")]
    pub with_fulfillment_orders: bool,
    #[serde(default = "included")]
    pub with_total_price: bool,
    #[serde(default = "included")]
    pub with_purchasing_entity: bool,
    #[serde(default = "included")]
    pub with_risk: bool,
}

impl Default for OrderInputs {
    /// Every field, as the query's defaults have it.
    fn default() -> Self {
        OrderInputs::ALL
    }
}

/// The order's own fields in the query's order: the need that consults each, and an estimate
/// of what leaving it out saves when a later field is read (Shopify's provider decodes a
/// fulfillment order in ~1,150 instructions, an empty `risk` in ~980, a scalar or a null in
/// far fewer). With [`KEY_CHECK`], they pick the faster
/// layout for every shipped preset on the benchmark (2026-11-29: leaving fields out saves
/// 0.4k to 3.2k instructions for four presets, and would cost 0.1k to 0.8k for the others).
const ORDER_FIELDS: [(u32, u32); 8] = [
    (InputNeeds::PLACED, 250),
    (InputNeeds::CANCELLED, 150),
    (InputNeeds::FULFILLMENT_STATUS, 250),
    (InputNeeds::FINANCIAL_STATUS, 200),
    (InputNeeds::FULFILLMENT_ORDERS, 600),
    (InputNeeds::TOTAL_PRICE, 400),
    (InputNeeds::B2B, 200),
    (InputNeeds::RISK, 1000),
];

/// What the Function spends checking the key of an order field it reads when some are left
/// out (a provider call and a length compare).
const KEY_CHECK: u32 = 300;

impl OrderInputs {
    /// Every field.
    pub const ALL: OrderInputs = OrderInputs {
        with_created_at: true,
        with_cancellation: true,
        with_fulfillment_status: true,
        with_financial_status: true,
        with_fulfillment_orders: true,
        with_total_price: true,
        with_purchasing_entity: true,
        with_risk: true,
    };

    /// The fields to include for a policy that consults `needs`: those it consults, when
    /// leaving out the others saves more than the key checks cost (the fields left out before
    /// the last one read, against a check per field read); else every field, whose positions
    /// are then the query's (trusted on the object's length, no key read). The Function
    /// derives the same from the policy's header to know where the fields are.
    pub fn of_needs(needs: InputNeeds) -> OrderInputs {
        // Plain loops: the Function runs this on every order whose fields are not all there.
        let (mut saved, mut unread, mut reads) = (0u32, 0u32, 0u32);
        for (bit, cost) in ORDER_FIELDS {
            if needs.has(bit) {
                // Every field left out before this one is decoded no more.
                saved += unread;
                unread = 0;
                reads += 1;
            } else {
                unread += cost;
            }
        }
        if needs.has(InputNeeds::LINES) {
            saved += unread;
            reads += 1;
        }
        if saved <= KEY_CHECK * reads {
            return OrderInputs::ALL;
        }
        OrderInputs {
            with_created_at: needs.has(InputNeeds::PLACED),
            with_cancellation: needs.has(InputNeeds::CANCELLED),
            with_fulfillment_status: needs.has(InputNeeds::FULFILLMENT_STATUS),
            with_financial_status: needs.has(InputNeeds::FINANCIAL_STATUS),
            with_fulfillment_orders: needs.has(InputNeeds::FULFILLMENT_ORDERS),
            with_total_price: needs.has(InputNeeds::TOTAL_PRICE),
            with_purchasing_entity: needs.has(InputNeeds::B2B),
            with_risk: needs.has(InputNeeds::RISK),
        }
    }
}

impl FunctionHeader {
    /// What deciding for any trigger may read: the input the variables include.
    pub fn any_trigger_needs(&self) -> InputNeeds {
        InputNeeds(self.needs.iter().fold(0, |all, needs| all | needs))
    }
}

impl CompiledPolicy {
    /// The order fields to include for the policy (see [`OrderInputs::of_needs`]).
    pub fn order_inputs(&self) -> OrderInputs {
        OrderInputs::of_needs(self.function_header().any_trigger_needs())
    }

    /// The line and order fields to include for the policy. When every order field is and
    /// some is read, `lineTags` is included too (the Function reads it only when a line's
    /// `hasAnyTag` is true, and unread it costs nothing): the order then has every field the
    /// query selects, whose places need no key check.
    pub fn included_inputs(&self, product_tags: &[String]) -> (LineInputs, OrderInputs) {
        let needs = self.function_header().any_trigger_needs();
        let order = OrderInputs::of_needs(needs);
        let mut lines = self.line_inputs(product_tags);
        let order_bits = ORDER_FIELDS.iter().fold(0, |bits, (bit, _)| bits | bit);
        if order == OrderInputs::ALL && needs.0 & (order_bits | InputNeeds::LINES) != 0 {
            lines.with_tag_answers = true;
        }
        (lines, order)
    }

    /// The line fields some rule, outcome or the default of the policy can consult, for
    /// every trigger (one input-variables metafield serves them all).
    pub fn line_inputs(&self, product_tags: &[String]) -> LineInputs {
        let mut inputs = LineInputs::NONE;
        self.visit_facts(&mut |fact, _| {
            if let Some(field) = LineField::of_fact(fact) {
                inputs.include(field);
            }
        });
        let outcomes = self.rules.iter().map(|rule| &rule.then);
        for outcome in outcomes.chain([&self.default]) {
            for field in LineField::of_outcome(outcome) {
                inputs.include(*field);
            }
        }
        inputs.with_tag_answers = inputs.with_product && !self.tags_answered_by_any(product_tags);
        inputs
    }

    /// Whether `hasAnyTag($productTags)` alone decides every product-tag test: each one asks
    /// whether a product has any (`any_of`), none (`none_of`) or, with a single tag, all
    /// (`all_of`) of exactly the tags `$productTags` lists (`asked`, lower case). A product
    /// that has any of them then tests as one that has them all.
    pub fn tags_answered_by_any(&self, asked: &[String]) -> bool {
        let mut answered = true;
        self.visit_facts(&mut |fact, test| {
            if fact != Fact::ProductTags {
                return;
            }
            answered &= answered_by_any(test, asked);
        });
        answered
    }
}

/// Whether `hasAnyTag($productTags)` alone decides the product-tag test `test` (see
/// [`CompiledPolicy::tags_answered_by_any`]).
pub(super) fn answered_by_any(test: &Test, asked: &[String]) -> bool {
    match test {
        Test::AnyOf(tags) | Test::NoneOf(tags) => same_tags(tags, asked),
        Test::AllOf(tags) => asked.len() == 1 && same_tags(tags, asked),
        _ => false,
    }
}

/// Whether `tags` names exactly the tags of `asked` (lower case, without repeats), in any
/// case and order.
fn same_tags(tags: &[String], asked: &[String]) -> bool {
    // Tags as the compiler writes them (ASCII without capitals) are their own lower case:
    // compared as they are, without lower-cased copies (the Function checks every tag test
    // it reaches this way).
    if tags
        .iter()
        .all(|tag| ascii_without_capitals(tag.as_bytes()))
    {
        let has = |list: &[String], tag: &String| {
            list.iter()
                .any(|other| same_text(other.as_bytes(), tag.as_bytes()))
        };
        return tags.iter().all(|tag| has(asked, tag)) && asked.iter().all(|tag| has(tags, tag));
    }
    let lower: Vec<String> = tags.iter().map(|tag| to_lowercase(tag)).collect();
    lower.iter().all(|tag| asked.contains(tag)) && asked.iter().all(|tag| lower.contains(tag))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::{LineInputs, OrderInputs, same_tags};
    use crate::compile::compile;
    use crate::compiled::InputVariables;

    fn variables(rules: &str) -> InputVariables {
        let source = format!(
            "id = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\ndefault_locale = \"en\"\n\
             locales = [\"en\"]\ntimezone = \"Europe/Oslo\"\n\
             triggers = [\"customer_request\", \"staff_request\"]\n\n[default]\ndeny = {{}}\n\n{rules}"
        );
        let output = compile(&source, "p.toml");
        let rendered = output.render(&source);
        output.policy.expect(&rendered).input_variables()
    }

    /// Tags as the compiler writes them are compared as they are; others lower-cased, with
    /// the same answers.
    #[test]
    fn same_tags_answers_as_lower_casing_every_tag_does() {
        let list = |tags: &[&str]| -> Vec<String> { tags.iter().map(|t| t.to_string()).collect() };
        let asked = list(&["gift", "made-to-order-2026"]);
        let reference = |tags: &[String], asked: &[String]| {
            let lower: Vec<String> = tags.iter().map(|t| t.to_lowercase()).collect();
            lower.iter().all(|t| asked.contains(t)) && asked.iter().all(|t| lower.contains(t))
        };
        for tags in [
            list(&["made-to-order-2026", "gift"]),
            list(&["gift", "made-to-order-2026", "gift"]),
            list(&["Gift", "MADE-TO-ORDER-2026"]),
            list(&["gift"]),
            list(&["gift", "made-to-order-2026", "x"]),
            list(&["gift", "made-to-order-2027"]),
            list(&[]),
        ] {
            assert_eq!(
                same_tags(&tags, &asked),
                reference(&tags, &asked),
                "{tags:?}"
            );
        }
        // A header that lists a tag not in lower case (hand-edited) matches no tag test.
        for tags in [list(&["Gift"]), list(&["gift"])] {
            assert!(!same_tags(&tags, &list(&["Gift"])), "{tags:?}");
        }
    }

    #[test]
    fn only_the_line_fields_some_rule_consults_are_included() {
        let none = variables("");
        assert_eq!(none.lines, LineInputs::NONE);

        let vars = variables(
            "[[rule]]\nid = \"a\"\non = [\"staff_request\"]\n\
             when.lines.any = { sku = { matches = \"X-*\" } }\nthen.deny = {}\n",
        );
        assert_eq!(
            vars.lines,
            LineInputs {
                with_sku: true,
                ..LineInputs::NONE
            }
        );

        let vars = variables(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\nwhen = {}\n\
             then.cancel_lines = { where = { oversold = true } }\n",
        );
        assert!(vars.lines.with_line_id && vars.lines.with_quantity && vars.lines.with_variant);
        assert!(!vars.lines.with_sku && !vars.lines.with_product);
    }

    #[test]
    fn has_tags_is_left_out_when_has_any_tag_answers_every_tag_test() {
        let one_set = variables(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
             when.lines.any = { product_tags = { any_of = [\"Gift\", \"engraved\"] } }\nthen.deny = {}\n\
             [[rule]]\nid = \"b\"\non = [\"staff_request\"]\n\
             when.lines.all = { product_tags = { none_of = [\"engraved\", \"gift\"] } }\nthen.deny = {}\n",
        );
        assert_eq!(one_set.product_tags, ["gift", "engraved"]);
        assert!(one_set.lines.with_product && !one_set.lines.with_tag_answers);

        let two_sets = variables(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
             when.lines.any = { product_tags = { any_of = [\"gift\"] } }\nthen.deny = {}\n\
             [[rule]]\nid = \"b\"\non = [\"customer_request\"]\n\
             when.lines.any = { product_tags = { any_of = [\"engraved\"] } }\nthen.deny = {}\n",
        );
        assert!(two_sets.lines.with_tag_answers);

        let all_of_two = variables(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
             when.lines.any = { product_tags = { all_of = [\"gift\", \"engraved\"] } }\nthen.deny = {}\n",
        );
        assert!(all_of_two.lines.with_tag_answers);
    }

    /// A policy that scans the lines (so every order field left out before `lineItems` is
    /// decoded no more) and tests `when` besides.
    fn with_lines(when: &str) -> InputVariables {
        with_line_test("", when)
    }

    /// [`with_lines`], whose line test has `line` too.
    fn with_line_test(line: &str, when: &str) -> InputVariables {
        variables(&format!(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
             when = {{ lines.any = {{ sku = {{ matches = \"X-*\" }}{line} }}{when} }}\nthen.deny = {{}}\n"
        ))
    }

    #[test]
    fn an_order_field_is_included_when_a_rule_or_an_outcome_consults_it() {
        let none = OrderInputs {
            with_created_at: false,
            with_cancellation: false,
            with_fulfillment_status: false,
            with_financial_status: false,
            with_fulfillment_orders: false,
            with_total_price: false,
            with_purchasing_entity: false,
            with_risk: false,
        };
        assert_eq!(with_lines("").order, none);
        type Include = fn(&mut OrderInputs);
        let cases: [(&str, Include); 9] = [
            (", minutes_since_placed = { lt = 60 }", |o| {
                o.with_created_at = true
            }),
            (", cancelled = false", |o| o.with_cancellation = true),
            (", fulfillment_status = { in = [\"UNFULFILLED\"] }", |o| {
                o.with_fulfillment_status = true
            }),
            (", financial_status = { in = [\"PAID\"] }", |o| {
                o.with_financial_status = true
            }),
            (
                ", fulfillment_order_status = { any_of = [\"OPEN\"] }",
                |o| o.with_fulfillment_orders = true,
            ),
            (
                ", fulfillment_request_status = { any_of = [\"SUBMITTED\"] }",
                |o| o.with_fulfillment_orders = true,
            ),
            (", total_price = { gt = 10 }", |o| o.with_total_price = true),
            (", b2b = true", |o| o.with_purchasing_entity = true),
            (", risk_level = \"HIGH\"", |o| o.with_risk = true),
        ];
        for (when, include) in cases {
            let mut expected = none;
            include(&mut expected);
            assert_eq!(with_lines(when).order, expected, "{when}");
        }

        // What outcomes consult: a fee the total and the financial status, store credit
        // whether the buyer is a company, a staff note's `{risk_level}` the risk.
        let outcome = |then: &str| {
            variables(&format!(
                "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
                 when.lines.any = {{ sku = {{ matches = \"X-*\" }} }}\nthen.allow = {{ {then} }}\n"
            ))
            .order
        };
        let allow = "reason = \"CUSTOMER\", restock = true, notify = true";
        let fee = outcome(&format!(
            "{allow}, refund = \"original\", fee = {{ percent = 5 }}"
        ));
        assert!(fee.with_total_price && fee.with_financial_status && !fee.with_risk);
        let credit = outcome(&format!("{allow}, refund = \"store_credit\""));
        assert!(credit.with_purchasing_entity && !credit.with_total_price);
        let note = outcome(&format!(
            "{allow}, refund = \"original\", staff_note = \"Risk {{risk_level}}.\""
        ));
        assert!(note.with_risk && !note.with_purchasing_entity);
    }

    #[test]
    fn every_order_field_is_included_when_leaving_some_out_saves_less_than_the_key_checks() {
        // Only the first fields are read: the ones after them are never decoded anyway.
        let early = variables(
            "[[rule]]\nid = \"a\"\non = [\"customer_request\"]\n\
             when = { minutes_since_placed = { lt = 60 }, fulfillment_status = { in = [\"UNFULFILLED\"] } }\n\
             then.deny = {}\n",
        );
        assert_eq!(early.order, OrderInputs::ALL);
        // With every order field, `lineTags` is included too (one set of tags would not need
        // it): the order then has every field the query selects, whose places need no check.
        let tagged = with_line_test(
            ", product_tags = { any_of = [\"gift\"] }",
            ", minutes_since_placed = { lt = 60 }, \
             fulfillment_status = { in = [\"UNFULFILLED\"] }, financial_status = { in = [\"PAID\"] }, \
             total_price = { gt = 10 }, b2b = false, risk_level = \"HIGH\"",
        );
        assert_eq!(tagged.order, OrderInputs::ALL);
        assert!(tagged.lines.with_product && tagged.lines.with_tag_answers);
        let lines_only = with_line_test(", product_tags = { any_of = [\"gift\"] }", "");
        assert!(!lines_only.order.with_risk && !lines_only.lines.with_tag_answers);
    }

    #[test]
    fn a_metafield_without_the_switches_includes_every_field() {
        let old: InputVariables = serde_json::from_str(
            r#"{"orderTags":[],"customerTags":[],"productTags":["gift"],"collectionIds":[]}"#,
        )
        .unwrap();
        assert_eq!(old.lines, LineInputs::default());
        assert_eq!(old.order, OrderInputs::ALL);
        assert!(old.lines.with_tag_answers && old.lines.with_sku);
    }
}
