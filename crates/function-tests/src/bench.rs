//! Synthetic policies and orders for the instruction benchmark: every rule fails, so the
//! evaluator tries them all and scans every line (the worst case for a given size).

use cancel_policy_core::compile;
use cancel_policy_core::compiled::CompiledPolicy;
use cancel_policy_core::facts::{Facts, LineFacts, OrderFacts, RequestFacts};
use cancel_policy_core::money::{Amount, Money};
use chrono::{DateTime, NaiveDateTime, Utc};

/// Shopify's instruction limit for an input with `lines` lines: 11M scaled by
/// `clamp(lines × 0.005, 1, 10)` (`@scaleLimits(rate: 0.005)` on the line list).
/// https://shopify.dev/docs/api/functions/latest#limitations
pub fn instruction_limit(lines: usize) -> u64 {
    let scale = (lines as f64 * 0.005).clamp(1.0, 10.0);
    (11_000_000.0 * scale) as u64
}

/// A policy of `rules` rules over the facts the Function supplies, none of which matches the
/// benchmark orders.
pub fn policy_source(rules: usize) -> String {
    let mut toml = format!(
        "id = \"bench-{rules}\"\nname = \"Benchmark, {rules} rules\"\nversion = \"1.0.0\"\n\
         description = \"Every rule fails: the evaluator tries them all.\"\n\
         default_locale = \"en\"\nlocales = [\"en\"]\ntimezone = \"Europe/Copenhagen\"\n\
         triggers = [\"customer_request\"]\n\n[default]\ndeny = {{ message = \"closed\" }}\n\n"
    );
    for i in 0..rules {
        let when = match i % 5 {
            0 => format!("lines.any = {{ product_tags = {{ any_of = [\"bench-tag-{i}\"] }} }}"),
            1 => format!("lines.any = {{ sku = {{ matches = \"NOPE-{i}-*\" }} }}"),
            2 => format!(
                "fulfillment_status = {{ in = [\"UNFULFILLED\"] }}, total_price = {{ gt = {} }}",
                100_000 + i
            ),
            3 => "risk_level = { at_least = \"HIGH\" }".to_string(),
            _ => format!("lines.any = {{ quantity = {{ ge = {} }} }}", 1000 + i),
        };
        toml.push_str(&format!(
            "[[rule]]\nid = \"rule-{i}\"\non = [\"customer_request\"]\nwhen = {{ {when} }}\n\
             then.allow = {{ reason = \"CUSTOMER\", refund = \"original\", restock = true, notify = true }}\n\n"
        ));
    }
    toml.push_str("[messages.en]\nclosed = \"This order can no longer be cancelled.\"\n");
    toml
}

/// The tag the last tag rule of a `rules`-rule policy names (every fifth rule, from the first,
/// names its own tag).
pub fn last_tag(rules: usize) -> String {
    let last = rules.saturating_sub(1) / 5 * 5;
    format!("bench-tag-{last}")
}

pub fn policy(rules: usize) -> anyhow::Result<CompiledPolicy> {
    let source = policy_source(rules);
    let output = compile::compile(&source, "bench.toml");
    let rendered = output.render(&source);
    output
        .policy
        .ok_or_else(|| anyhow::anyhow!("the benchmark policy does not compile:\n{rendered}"))
}

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// An unfulfilled, paid order of `lines` lines placed two hours before `now()`.
pub fn order(lines: usize) -> Facts {
    let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok();
    let line_items = (0..lines)
        .map(|i| LineFacts {
            id: format!("gid://shopify/LineItem/{}", 1000 + i),
            quantity: 1 + (i % 3) as i64,
            sku: Some(format!("SKU-{i:04}")),
            product_tags: vec!["regular".to_string(), format!("colour-{}", i % 7)],
            inventory_quantity: Some(5),
            inventory_policy: Some("DENY".to_string()),
            requires_shipping: true,
            ..LineFacts::default()
        })
        .collect();
    Facts {
        order: OrderFacts {
            id: "gid://shopify/Order/1001".to_string(),
            created_at: DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            created_at_local: at("2026-03-02T11:00:00"),
            display_fulfillment_status: Some("UNFULFILLED".to_string()),
            display_financial_status: Some("PAID".to_string()),
            total_price: Some(Money {
                amount: Amount::from_thousandths(149_000),
                currency_code: "EUR".to_string(),
            }),
            line_items,
            ..OrderFacts::default()
        },
        request: RequestFacts {
            source: Some("customer".to_string()),
            reason: Some("changed_mind".to_string()),
            locale: Some("en".to_string()),
        },
        now_local: at("2026-03-02T13:00:00"),
    }
}
