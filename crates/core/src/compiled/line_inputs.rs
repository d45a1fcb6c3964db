//! Which fields of each order line the Function's input query includes for a policy.
//!
//! Shopify's provider decodes every value of line `i - 1` before it hands out line `i`, and
//! each value costs it about 300 instructions, so a field no rule can consult is left out of
//! the input with an `@include(if: $with…)` directive whose variable the service sets from
//! the policy (in [`super::InputVariables`]). `@include` is one of the directives Shopify's Function
//! API schemas declare (`include` on FIELD).
//! https://shopify.dev/docs/apps/build/functions/input-queries/use-variables-input-queries

use serde::{Deserialize, Serialize};

use super::{CompiledPolicy, Test};
use crate::catalog::Fact;
use crate::lowercase::to_lowercase;
use crate::outcome::{Outcome, OutcomeKind};

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
    pub fn of_fact(fact: Fact) -> Option<LineField> {
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

impl CompiledPolicy {
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
    let lower: Vec<String> = tags.iter().map(|tag| to_lowercase(tag)).collect();
    lower.iter().all(|tag| asked.contains(tag)) && asked.iter().all(|tag| lower.contains(tag))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::LineInputs;
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

    #[test]
    fn a_metafield_without_the_switches_includes_every_field() {
        let old: InputVariables = serde_json::from_str(
            r#"{"orderTags":[],"customerTags":[],"productTags":["gift"],"collectionIds":[]}"#,
        )
        .unwrap();
        assert_eq!(old.lines, LineInputs::default());
        assert!(old.lines.with_tag_answers && old.lines.with_sku);
    }
}
