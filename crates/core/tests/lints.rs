//! Each lint fires where it should, with its stable code, and the whole report is snapshotted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cancel_policy_core::compile::{Severity, compile};

const POLICY: &str = r#"
id = "lints"
name = "Every lint"
version = "0.1.0"
default_locale = "en"
timezone = "Europe/Paris"
triggers = ["customer_request", "staff_request", "scheduled"]

[default]
deny = {}

[[rule]]
id = "short-window"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 60 } }
then.allow = { reason = "CUSTOMER", refund = "original" }

# Shadowed: whenever this matches, `short-window` already matched.
[[rule]]
id = "shorter-window"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 30 } }
then.deny = {}

[[rule]]
id = "impossible"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 10, gt = 60 } }
then.deny = {}

[[rule]]
id = "no-days"
on = ["customer_request"]
when = { before_cutoff = { at = "14:00", days = [] } }
then.deny = {}

[[rule]]
id = "credit"
on = ["staff_request"]
then.cancel = { reason = "STAFF", refund = "store_credit" }

[[rule]]
id = "credit"
on = ["staff_request"]
then.deny = {}

[[rule]]
id = "after-catch-all"
on = ["staff_request"]
when = { b2b = true }
then.deny = {}
"#;

#[test]
fn every_lint_fires_with_its_code() {
    let output = compile(POLICY, "lints.toml");
    assert!(output.policy.is_some(), "warnings never block compilation");
    assert!(
        output
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    let mut codes: Vec<&str> = output.diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    insta::assert_snapshot!(output.render(POLICY));
    for code in ["W101", "W102", "W103", "W104", "W105", "W106", "W107"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn a_clean_policy_has_no_diagnostics() {
    let source = POLICY.split("# Shadowed").next().unwrap().replace(
        r#"triggers = ["customer_request", "staff_request", "scheduled"]"#,
        r#"triggers = ["customer_request"]"#,
    );
    let output = compile(&source, "clean.toml");
    assert!(output.diagnostics.is_empty(), "{}", output.render(&source));
}

/// Facts outside the Shopify Function's input, `all_in` on product tags and `{order}` in a
/// staff note: each is reported once, at the first rule that asks it (or the default).
#[test]
fn what_the_function_cannot_answer_is_reported_once_where_it_is_first_asked() {
    let source = r#"
id = "outside"
name = "Outside the Function"
version = "0.1.0"
default_locale = "en"
timezone = "Europe/Paris"
triggers = ["customer_request", "staff_request"]

[default]
cancel_lines = { where = { vendor = { in = ["Acme"] } } }

[[rule]]
id = "vip"
on = ["customer_request"]
when = { customer_tags = { any_of = ["vip"] }, lines.all = { product_tags = { all_in = ["a"] } } }
then.allow = { reason = "CUSTOMER", refund = "original" }

[[rule]]
id = "vip-staff"
on = ["staff_request"]
when = { customer_tags = { any_of = ["vip"] } }
then.cancel = { reason = "STAFF", refund = "original", staff_note = "Order {order} by {rule}." }
"#;
    let output = compile(source, "outside.toml");
    let found: Vec<(&str, usize)> = output
        .diagnostics
        .iter()
        .filter(|d| d.code == "W109")
        .map(|d| (d.message.as_str(), d.line))
        .collect();
    let messages: Vec<&str> = found.iter().map(|(m, _)| *m).collect();
    assert_eq!(found.len(), 4, "{}", output.render(source));
    // In the file's order: the default comes first.
    assert!(messages[0].starts_with("the default uses `vendor`, which the Shopify Function"));
    assert!(messages[1].starts_with("rule `vip` uses `customer_tags`"));
    assert!(messages[2].starts_with("rule `vip` uses `product_tags` with `all_in`"));
    assert!(messages[3].starts_with("rule `vip-staff` uses `{order}` in a staff note"));
    assert_eq!(found[0].1, 9, "at `[default]`");
    assert_eq!(found[1].1, 13, "at rule `vip`'s id");
    assert!(output.policy.is_some(), "a warning, not an error");
}
