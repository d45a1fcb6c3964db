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
