//! Properties: evaluation never panics and is deterministic for any facts, moment and trigger;
//! compile → JSON → load gives back the same policy; the compiler never panics on any text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cancel_policy_core::compile::compile;
use cancel_policy_core::{CompiledPolicy, EvalOptions, Facts, Trigger, evaluate_with};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

fn presets() -> Vec<CompiledPolicy> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../presets");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        out.push(compile(&source, "preset").policy.unwrap());
    }
    assert!(out.len() >= 8);
    out
}

/// Moments across chrono's whole range, with a bias towards ordinary ones.
fn moment() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        3 => 1_700_000_000i64..1_900_000_000,
        1 => -8_000_000_000_000i64..8_000_000_000_000,
    ]
    .prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

fn word(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(valid).prop_map(str::to_string),
        1 => "[A-Za-z_ ]{0,12}",
    ]
}

fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..100_000, 0u32..100).prop_map(|(u, c)| format!("{u}.{c:02}")),
        Just("0".to_string()),
        Just("999999999999.999".to_string()),
    ]
}

fn line() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9]{1,4}",
        any::<i64>(),
        proptest::collection::vec(
            word(&["personalised", "engraved", "preorder", "final-sale"]),
            0..3,
        ),
        proptest::option::of(word(&["subscription", "pre_order", "none"])),
        proptest::option::of(any::<i64>()),
        proptest::option::of(word(&["DENY", "CONTINUE"])),
        proptest::option::of(amount()),
        any::<bool>(),
    )
        .prop_map(
            |(id, quantity, tags, plan, inventory, policy, total, gift)| {
                json!({
                    "id": id, "quantity": quantity, "productTags": tags, "sellingPlan": plan,
                    "inventoryQuantity": inventory, "inventoryPolicy": policy, "giftCard": gift,
                    "sku": format!("SKU-{id}"),
                    "total": total.map(|a| json!({ "amount": a, "currencyCode": "EUR" })),
                })
            },
        )
}

fn facts() -> impl Strategy<Value = Facts> {
    let statuses = &[
        "UNFULFILLED",
        "FULFILLED",
        "PARTIALLY_FULFILLED",
        "IN_PROGRESS",
        "ON_HOLD",
        "SCHEDULED",
    ];
    (
        (
            proptest::option::of(moment()),
            proptest::option::of(word(statuses)),
            proptest::option::of(word(&["PAID", "AUTHORIZED", "PENDING", "REFUNDED", "PARTIALLY_REFUNDED"])),
            proptest::option::of(amount()),
            proptest::collection::vec(line(), 0..6),
            proptest::collection::vec(word(&["HIGH", "MEDIUM", "LOW", "NONE", "PENDING"]), 0..3),
            proptest::option::of(word(&["CANCEL", "INVESTIGATE", "ACCEPT", "NONE"])),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(word(&["OPEN", "IN_PROGRESS", "CLOSED", "ON_HOLD"]), 0..3),
            proptest::collection::vec(word(&["UNSUBMITTED", "SUBMITTED", "ACCEPTED"]), 0..3),
            proptest::option::of(word(&["customer", "staff", "automation", "flow"])),
            proptest::option::of(word(&["en", "fr", "da", "nb", "de", "fr-CA", "pt-BR"])),
            proptest::option::of(moment()),
        ),
    )
        .prop_map(|((created, fulfillment, financial, total, lines, levels, recommendation), rest)| {
            let (b2b, cancelled, fo_status, fo_request, source, locale, now_local) = rest;
            let fulfillment_orders: Vec<Value> = fo_status
                .iter()
                .zip(fo_request.iter().chain(std::iter::repeat(&"UNSUBMITTED".to_string())))
                .map(|(s, r)| json!({ "id": "fo", "status": s, "requestStatus": r }))
                .collect();
            let value = json!({
                "order": {
                    "createdAt": created, "displayFulfillmentStatus": fulfillment,
                    "displayFinancialStatus": financial,
                    "totalPrice": total.map(|a| json!({ "amount": a, "currencyCode": "JPY" })),
                    "lineItems": lines, "b2b": b2b, "cancelled": cancelled,
                    "fulfillmentOrders": fulfillment_orders,
                    "risk": {
                        "recommendation": recommendation,
                        "assessments": levels.iter().map(|l| json!({ "riskLevel": l })).collect::<Vec<_>>(),
                    },
                },
                "request": { "source": source, "locale": locale, "reason": "changed_mind" },
                "nowLocal": now_local.map(|t| t.naive_utc()),
            });
            serde_json::from_value(value).unwrap_or_default()
        })
}

fn trigger() -> impl Strategy<Value = Trigger> {
    proptest::sample::select(Trigger::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn evaluate_is_total_and_deterministic(facts in facts(), now in moment(), trigger in trigger()) {
        for policy in presets_cached() {
            let options = EvalOptions { trace: true, locale: Some("fr".into()) };
            let first = evaluate_with(policy, &facts, now, trigger, &options);
            let second = evaluate_with(policy, &facts, now, trigger, &options);
            prop_assert_eq!(&first, &second);
            if let Some(note) = first.actions.iter().find_map(|a| match a {
                cancel_policy_core::Action::CancelOrder { staff_note, .. } => staff_note.clone(),
                _ => None,
            }) {
                prop_assert!(note.chars().count() <= 255);
            }
        }
    }
}

fn presets_cached() -> &'static [CompiledPolicy] {
    static PRESETS: std::sync::OnceLock<Vec<CompiledPolicy>> = std::sync::OnceLock::new();
    PRESETS.get_or_init(presets)
}

/// One condition, written as policy TOML.
fn condition() -> impl Strategy<Value = String> {
    let hhmm = (0u16..24, 0u16..60).prop_map(|(h, m)| format!("\"{h:02}:{m:02}\""));
    prop_oneof![
        (-1e6f64..1e6).prop_map(|n| format!("minutes_since_placed = {{ lt = {n:?} }}")),
        (0u32..100_000, 0u32..1000)
            .prop_map(|(a, b)| format!("total_price = {{ ge = {a}.{b:03} }}")),
        proptest::sample::select(&["NONE", "PENDING", "LOW", "MEDIUM", "HIGH"][..])
            .prop_map(|l| format!("risk_level = {{ at_least = \"{l}\" }}")),
        "[a-z]{1,8}"
            .prop_map(|t| format!("lines.any = {{ product_tags = {{ any_of = [\"{t}\"] }} }}")),
        (
            hhmm.clone(),
            proptest::sample::subsequence(
                vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                1..7
            )
        )
            .prop_map(|(at, days)| format!(
                "before_cutoff = {{ at = {at}, days = [{}] }}",
                days.iter()
                    .map(|d| format!("\"{d}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        hhmm.prop_map(|t| format!("local_time = {{ after = {t} }}")),
        "[a-z]{1,8}".prop_map(|t| format!("order_tags = {{ none_of = [\"{t}\"] }}")),
        (0i64..5)
            .prop_map(|n| format!("lines.count = {{ where = {{ oversold = true }}, ge = {n} }}")),
        any::<bool>().prop_map(|b| format!("b2b = {b}")),
        "[A-Z]{2}".prop_map(|c| format!(
            "any = [{{ shipping_country = \"{c}\" }}, {{ local_pickup = true }}]"
        )),
        "[a-z]{1,6}".prop_map(|c| format!("not = {{ discount_codes = {{ any_of = [\"{c}\"] }} }}")),
    ]
}

fn outcome() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=100).prop_map(|p| format!(
            "then.allow = {{ reason = \"CUSTOMER\", refund = \"original\", fee = {{ percent = {p} }}, restock = true, notify = true }}"
        )),
        Just("then.cancel = { reason = \"FRAUD\", refund = \"none\", tags = [\"x\"], staff_note = \"{rule} on {order}\" }".to_string()),
        Just("then.deny = { message = \"no\" }".to_string()),
        Just("then.review = { hold = \"HIGH_RISK_OF_FRAUD\" }".to_string()),
        (1u32..10_000).prop_map(|m| format!("then.hold = {{ reason = \"OTHER\", minutes = {m} }}")),
        Just("then.cancel_lines = { where = { oversold = true }, reason = \"INVENTORY\", refund = \"original\", restock = true }".to_string()),
    ]
}

fn policy_source() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (proptest::collection::vec(condition(), 0..4), outcome(), proptest::sample::select(Trigger::ALL.to_vec())),
        0..8,
    )
    .prop_map(|rules| {
        let mut source = String::from(
            "id = \"generated\"\nname = \"Generated\"\nversion = \"1.0.0\"\ndefault_locale = \"en\"\n\
             timezone = \"America/Sao_Paulo\"\n[default]\ndeny = { message = \"no\" }\n",
        );
        for (n, (conditions, outcome, trigger)) in rules.iter().enumerate() {
            source.push_str(&format!("[[rule]]\nid = \"r{n}\"\non = [\"{}\"]\n", trigger.name()));
            // Each condition on its own line as a dotted key of `when`.
            for condition in conditions {
                source.push_str(&format!("when.{condition}\n"));
            }
            source.push_str(outcome);
            source.push('\n');
        }
        source.push_str("[messages.en]\nno = \"No.\"\n[messages.fr]\nno = \"Non.\"\n");
        source
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn compile_to_json_and_back_is_lossless(source in policy_source()) {
        let output = compile(&source, "generated.toml");
        // Generated rules may repeat a key (`when.b2b` twice): that is a reported error, fine.
        if let Some(policy) = output.policy {
            let loaded = CompiledPolicy::load(&policy.to_json());
            prop_assert_eq!(loaded.ok(), Some(policy));
        } else {
            prop_assert!(output.has_errors());
        }
    }

    #[test]
    fn compile_never_panics_on_any_text(source in "\\PC{0,400}") {
        let _ = compile(&source, "noise.toml");
    }

    #[test]
    fn compile_never_panics_on_mutated_presets(cut in 0usize..4000, insert in "[\\[\\]{}=\",.a-z0-9 \\n]{0,6}") {
        let base = include_str!("../../../presets/fraud-first.toml");
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let source = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let _ = compile(&source, "mutated.toml");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The Function reads only the messages of the request's locale (and the default): it
    /// must decide exactly as the whole policy does.
    #[test]
    fn reading_one_locales_messages_decides_as_the_whole_policy(
        mut facts in facts(),
        now in moment(),
        trigger in trigger(),
        locale in proptest::option::of(proptest::sample::select(
            &["fr", "fr-CA", "fr_CA", "FR", "de-DE", "nb", "en", "en-GB", "da", "xx", ""][..],
        )),
    ) {
        facts.request.locale = locale.map(str::to_string);
        for policy in presets_cached() {
            let json = policy.to_json();
            let whole = CompiledPolicy::read(&json).unwrap();
            let part = CompiledPolicy::read_for_locale(&json, facts.request.locale.as_deref())
                .unwrap();
            prop_assert!(part.messages.len() <= whole.messages.len());
            let options = EvalOptions::default();
            prop_assert_eq!(
                evaluate_with(&part, &facts, now, trigger, &options),
                evaluate_with(&whole, &facts, now, trigger, &options)
            );
        }
    }
}

#[test]
fn reading_one_locale_leaves_the_other_locales_out() {
    for policy in presets_cached() {
        let json = policy.to_json();
        let part = CompiledPolicy::read_for_locale(&json, Some("fr-CA")).unwrap();
        let kept: Vec<&str> = part.messages.keys().map(String::as_str).collect();
        let expected: Vec<&str> = policy
            .messages
            .keys()
            .map(String::as_str)
            .filter(|l| *l == "fr" || *l == policy.default_locale)
            .collect();
        assert_eq!(kept, expected, "{}", policy.id);
    }
}
