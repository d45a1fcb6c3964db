//! Parity on generated data: 1,000 random policies (over every fact the Function's input
//! supplies, every outcome kind) and random orders, each decided by the Wasm under wasmtime and
//! by the core natively; the two outputs must be identical JSON.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::sync::OnceLock;

use cancel_policy_core::compile;
use cancel_policy_core::compiled::Trigger;
use cancel_policy_core::facts::{
    CustomerFacts, Facts, FulfillmentOrderFacts, LineFacts, OrderFacts, RequestFacts,
    RiskAssessmentFacts, RiskFacts,
};
use cancel_policy_core::money::{Amount, Money};
use cancel_policy_function_tests::build;
use cancel_policy_function_tests::harness::FunctionRunner;
use cancel_policy_function_tests::native::expected_output;
use cancel_policy_function_tests::render::function_input;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

const ZONE: &str = "Europe/Copenhagen";
const TAGS: &[&str] = &["final-sale", "Engraved", "preorder", "gift", "VIP-only"];
const FULFILLMENT: &[&str] = &[
    "UNFULFILLED",
    "PARTIALLY_FULFILLED",
    "FULFILLED",
    "ON_HOLD",
    "IN_PROGRESS",
    "SCHEDULED",
];
const FO_STATUS: &[&str] = &["OPEN", "IN_PROGRESS", "CLOSED", "ON_HOLD", "SCHEDULED"];
const FO_REQUEST: &[&str] = &["UNSUBMITTED", "SUBMITTED", "ACCEPTED", "REJECTED"];
const FINANCIAL: &[&str] = &[
    "PENDING",
    "AUTHORIZED",
    "PAID",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
];
const RISK: &[&str] = &["NONE", "PENDING", "LOW", "MEDIUM", "HIGH"];
const RECOMMENDATION: &[&str] = &["CANCEL", "INVESTIGATE", "ACCEPT", "NONE"];
const TRIGGERS: &[&str] = &[
    "customer_request",
    "staff_request",
    "order_created",
    "risk_changed",
];

fn runner() -> &'static FunctionRunner {
    static RUNNER: OnceLock<FunctionRunner> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let artifacts = build::artifacts().unwrap();
        FunctionRunner::order_cancellation(artifacts).unwrap()
    })
}

fn quoted(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", inner.join(", "))
}

fn nonempty(values: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(values, 1..=values.len().min(3))
}

/// A condition on one line, as TOML.
fn line_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        nonempty(TAGS).prop_map(|t| format!(
            "product_tags = {{ any_of = {} }}",
            quoted(&t).to_lowercase()
        )),
        nonempty(TAGS).prop_map(|t| format!(
            "product_tags = {{ none_of = {} }}",
            quoted(&t).to_lowercase()
        )),
        nonempty(TAGS).prop_map(|t| format!(
            "product_tags = {{ all_of = {} }}",
            quoted(&t).to_lowercase()
        )),
        select(&["SKU-1*", "SKU-?2", "*-9", "PERS-*"][..])
            .prop_map(|g| format!("sku = {{ matches = \"{g}\" }}")),
        select(&["subscription", "pre_order", "none"][..])
            .prop_map(|p| format!("selling_plan = \"{p}\"")),
        any::<bool>().prop_map(|b| format!("oversold = {b}")),
        (0i64..4).prop_map(|n| format!("quantity = {{ ge = {n} }}")),
        (-3i64..6).prop_map(|n| format!("inventory_available = {{ lt = {n} }}")),
    ]
}

/// A condition on the order, as TOML.
fn order_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..4000).prop_map(|m| format!("minutes_since_placed = {{ lt = {m} }}")),
        (0u32..8).prop_map(|d| format!("business_days_since_placed = {{ le = {d} }}")),
        (0u32..24, select(&["before", "after"][..]))
            .prop_map(|(h, op)| format!("local_time = {{ {op} = \"{h:02}:30\" }}")),
        nonempty(&["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
            .prop_map(|d| format!("local_weekday = {{ in = {} }}", quoted(&d))),
        (8u32..18, nonempty(&["mon", "tue", "wed", "thu", "fri"])).prop_map(|(h, d)| format!(
            "before_cutoff = {{ at = \"{h:02}:00\", days = {} }}",
            quoted(&d)
        )),
        nonempty(FULFILLMENT)
            .prop_map(|s| format!("fulfillment_status = {{ in = {} }}", quoted(&s))),
        nonempty(FULFILLMENT)
            .prop_map(|s| format!("fulfillment_status = {{ not_in = {} }}", quoted(&s))),
        nonempty(FO_STATUS)
            .prop_map(|s| format!("fulfillment_order_status = {{ any_of = {} }}", quoted(&s))),
        nonempty(FO_REQUEST)
            .prop_map(|s| format!("fulfillment_request_status = {{ any_of = {} }}", quoted(&s))),
        nonempty(FINANCIAL).prop_map(|s| format!("financial_status = {{ in = {} }}", quoted(&s))),
        (0u32..300).prop_map(|p| format!("total_price = {{ gt = {p} }}")),
        nonempty(&["EUR", "DKK", "JPY"])
            .prop_map(|c| format!("currency = {{ in = {} }}", quoted(&c))),
        any::<bool>().prop_map(|b| format!("b2b = {b}")),
        any::<bool>().prop_map(|b| format!("cancelled = {b}")),
        select(RISK).prop_map(|r| format!("risk_level = {{ at_least = \"{r}\" }}")),
        select(RECOMMENDATION).prop_map(|r| format!("risk_recommendation = \"{r}\"")),
        any::<bool>().prop_map(|b| format!("risk_third_party = {b}")),
        select(&["customer", "staff", "automation", "flow"][..])
            .prop_map(|s| format!("request_source = \"{s}\"")),
        nonempty(&["changed_mind", "found_cheaper", "mistake"])
            .prop_map(|r| format!("request_reason = {{ in = {} }}", quoted(&r))),
        (0u32..5).prop_map(|n| format!("line_count = {{ ge = {n} }}")),
        (select(&["any", "all", "none"][..]), line_condition())
            .prop_map(|(q, c)| format!("lines.{q} = {{ {c} }}")),
        (line_condition(), 0u32..3)
            .prop_map(|(c, n)| format!("lines.count = {{ where = {{ {c} }}, ge = {n} }}")),
    ]
}

fn outcome() -> impl Strategy<Value = String> {
    let note = select(
        &[
            "By {rule}: {reason}, risk {risk_level}, asked {request_reason}.",
            "Customer cancelled.",
        ][..],
    );
    prop_oneof![
        select(&["closed", "shipping"][..]).prop_map(|m| format!("deny = {{ message = \"{m}\" }}")),
        (select(&["original", "store_credit", "none"][..]), any::<bool>(), note.clone())
            .prop_map(|(r, restock, n)| format!("allow = {{ reason = \"CUSTOMER\", refund = \"{r}\", restock = {restock}, notify = true, staff_note = \"{n}\", tags = [\"cancelled\"] }}")),
        (select(&["original", "store_credit"][..]), prop_oneof![(1u32..40).prop_map(|p| format!("{{ percent = {p} }}")), select(&["5.00", "12.5", "500"][..]).prop_map(|a| format!("{{ amount = \"{a}\" }}"))])
            .prop_map(|(r, fee)| format!("cancel = {{ reason = \"OTHER\", refund = \"{r}\", fee = {fee}, restock = true, message = \"fee\" }}")),
        note.prop_map(|n| format!("review = {{ hold = \"HIGH_RISK_OF_FRAUD\", staff_note = \"{n}\", tags = [\"review\"] }}")),
        (30u32..5000).prop_map(|m| format!("hold = {{ reason = \"OTHER\", minutes = {m} }}")),
        line_condition().prop_map(|c| format!("cancel_lines = {{ where = {{ {c} }}, reason = \"INVENTORY\", refund = \"original\", restock = true, notify = true, message = \"closed\" }}")),
    ]
}

fn policy_source() -> impl Strategy<Value = String> {
    let rule = (
        subsequence(TRIGGERS, 1..=2),
        prop::collection::vec(order_condition(), 0..3),
        outcome(),
    );
    (prop::collection::vec(rule, 1..7), outcome()).prop_map(|(rules, default)| {
        let mut toml = String::from(
            "id = \"generated\"\nname = \"Generated\"\nversion = \"1.0.0\"\ndescription = \"generated\"\n\
             default_locale = \"en\"\nlocales = [\"en\", \"fr\"]\ntimezone = \"Europe/Copenhagen\"\n\
             triggers = [\"customer_request\", \"staff_request\", \"order_created\", \"risk_changed\"]\n\n",
        );
        toml.push_str(&format!("[default]\n{default}\n\n"));
        for (i, (on, when, then)) in rules.into_iter().enumerate() {
            // Conditions on the same fact would make a duplicate TOML key: keep the first.
            let mut seen = Vec::new();
            let when: Vec<String> = when
                .into_iter()
                .filter(|c| {
                    let key = c.split([' ', '.']).next().unwrap_or("").to_string();
                    let fresh = !seen.contains(&key);
                    seen.push(key);
                    fresh
                })
                .collect();
            toml.push_str(&format!(
                "[[rule]]\nid = \"r{i}\"\non = {}\nwhen = {{ {} }}\nthen.{then}\n\n",
                quoted(&on),
                when.join(", ")
            ));
        }
        toml.push_str(
            "[messages.en]\nclosed = \"Closed.\"\nshipping = \"Shipping.\"\nfee = \"A fee applies.\"\n\
             [messages.fr]\nclosed = \"Fermé.\"\nshipping = \"En route.\"\nfee = \"Des frais.\"\n",
        );
        toml
    })
}

fn line() -> impl Strategy<Value = LineFacts> {
    (
        0u32..1000,
        1i64..4,
        subsequence(TAGS, 0..3),
        prop::option::of(select(&["SKU-12", "SKU-1", "PERS-7", "X-9"][..])),
        prop::option::of(select(&["subscription", "pre_order"][..])),
        prop::option::of(-3i64..8),
        prop::option::of(select(&["DENY", "CONTINUE"][..])),
        any::<bool>(),
    )
        .prop_map(
            |(id, quantity, tags, sku, plan, stock, policy, no_product)| LineFacts {
                id: format!("gid://shopify/LineItem/{id}"),
                quantity,
                // A line whose product was deleted has no tags.
                product_tags: if no_product {
                    Vec::new()
                } else {
                    tags.iter().map(|t| t.to_string()).collect()
                },
                sku: sku.map(str::to_string),
                selling_plan: plan.map(str::to_string),
                inventory_quantity: stock,
                inventory_policy: policy.map(str::to_string),
                ..LineFacts::default()
            },
        )
}

#[derive(Debug, Clone)]
struct Scenario {
    facts: Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let order = (
        (prop::option::of(0i64..400 * 24 * 60), 0i64..6000),
        prop::option::of(select(FULFILLMENT)),
        prop::collection::vec((select(FO_STATUS), select(FO_REQUEST)), 0..3),
        prop::option::of(select(FINANCIAL)),
        prop::option::of((0i64..400_000, select(&["EUR", "DKK", "JPY"][..]))),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop::option::of(select(RECOMMENDATION)),
            prop::collection::vec((select(RISK), any::<bool>()), 0..3),
        ),
        prop::collection::vec(line(), 0..6),
    );
    let request = (
        prop::option::of(select(&["customer", "staff", "automation"][..])),
        prop::option::of(select(&["changed_mind", "mistake"][..])),
        prop::option::of(select(&["fr", "fr-CA", "en", "de"][..])),
        select(TRIGGERS),
    );
    (order, request).prop_map(|(order, request)| {
        let (
            (placed, minutes_after),
            fulfillment,
            fos,
            financial,
            total,
            (b2b, cancelled, customer),
            (recommendation, risks),
            lines,
        ) = order;
        let base: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let created = placed.map(|m| base + Duration::minutes(m));
        let now = created.unwrap_or(base + Duration::days(200)) + Duration::minutes(minutes_after);
        let mut facts = Facts {
            order: OrderFacts {
                id: "gid://shopify/Order/42".to_string(),
                created_at: created,
                display_fulfillment_status: fulfillment.map(str::to_string),
                fulfillment_orders: fos
                    .into_iter()
                    .map(|(status, request)| FulfillmentOrderFacts {
                        id: String::new(),
                        status: status.to_string(),
                        request_status: request.to_string(),
                    })
                    .collect(),
                display_financial_status: financial.map(str::to_string),
                total_price: total.map(|(cents, currency)| Money {
                    amount: Amount::from_thousandths(cents * 10),
                    currency_code: currency.to_string(),
                }),
                b2b,
                cancelled,
                customer: customer.then(|| CustomerFacts {
                    id: "gid://shopify/Customer/7".into(),
                    ..CustomerFacts::default()
                }),
                risk: RiskFacts {
                    recommendation: recommendation.map(str::to_string),
                    assessments: risks
                        .into_iter()
                        .map(|(level, third)| RiskAssessmentFacts {
                            risk_level: level.to_string(),
                            third_party: third,
                        })
                        .collect(),
                },
                line_items: lines,
                ..OrderFacts::default()
            },
            request: RequestFacts {
                source: request.0.map(str::to_string),
                reason: request.1.map(str::to_string),
                locale: request.2.map(str::to_string),
            },
            now_local: None,
        };
        cancel_policy_core::tz::localize(&mut facts, now, ZONE).unwrap();
        Scenario {
            facts,
            now,
            trigger: Trigger::by_name(request.3).unwrap(),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn wasm_decides_generated_orders_as_the_core_does(source in policy_source(), scenario in scenario()) {
        let compiled = compile::compile(&source, "generated.toml");
        let policy = compiled.policy.clone().unwrap_or_else(|| panic!("{}\n{source}", compiled.render(&source)));
        let json = policy.to_json();
        let input = function_input(&scenario.facts, scenario.now, scenario.trigger, Some(&policy), Some(&json));
        let run = runner().run(&input).unwrap();
        let expected = expected_output(&policy, &scenario.facts, scenario.now, scenario.trigger);
        prop_assert_eq!(run.output, expected, "policy:\n{}", source);
    }
}
