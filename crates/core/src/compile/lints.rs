//! Warnings about rule order and meaning. The first matching rule decides, so an earlier rule
//! that always matches when a later one does hides it.

use std::collections::HashMap;

use super::RuleSpans;
use super::diagnostic::codes;
use super::reader::Reader;
use crate::catalog::Fact;
use crate::compiled::{CompiledPolicy, Condition, Rule, Test, Trigger};
use crate::outcome::{OutcomeKind, RefundMethod};

pub(super) fn run(
    reader: &mut Reader,
    policy: &CompiledPolicy,
    spans: &[RuleSpans],
    declared: &[Trigger],
    declared_span: std::ops::Range<usize>,
    default_span: std::ops::Range<usize>,
) {
    duplicate_ids(reader, policy, spans);
    outside_function(reader, policy, spans, default_span);
    order(reader, policy, spans);
    for (rule, span) in policy.rules.iter().zip(spans) {
        if let Some(message) = contradiction(&rule.when) {
            reader
                .diags
                .warning(
                    codes::CONTRADICTION,
                    span.id.clone(),
                    format!("rule `{}` can never match: {message}", rule.id),
                )
                .with_help("fix the bounds, or split the rule with `any`");
        }
        if reaches_b2b_store_credit(rule) {
            reader
                .diags
                .warning(
                    codes::B2B_STORE_CREDIT,
                    span.id.clone(),
                    format!("rule `{}` refunds to store credit and can match B2B orders, which Shopify rejects", rule.id),
                )
                .with_help("add `b2b = false` to `when`, or accept the fallback: B2B orders are refunded to the original payment method");
        }
    }
    for trigger in declared {
        if !policy.rules.iter().any(|r| r.triggers & trigger.bit() != 0) {
            reader
                .diags
                .warning(
                    codes::UNUSED_TRIGGER,
                    declared_span.clone(),
                    format!("trigger `{}` is declared but no rule uses it: every such decision falls to the default", trigger.name()),
                );
        }
    }
}

/// What the Shopify Function's input cannot answer: the Function refuses the policy on the
/// triggers of those rules, where the service still decides it.
fn outside_function(
    reader: &mut Reader,
    policy: &CompiledPolicy,
    spans: &[RuleSpans],
    default_span: std::ops::Range<usize>,
) {
    for (index, what) in policy.unanswerable_in_function() {
        let (span, whose) = match index.and_then(|i| Some((policy.rules.get(i)?, spans.get(i)?))) {
            Some((rule, span)) => (span.id.clone(), format!("rule `{}`", rule.id)),
            None => (default_span.clone(), "the default".to_string()),
        };
        reader
            .diags
            .warning(
                codes::OUTSIDE_FUNCTION,
                span,
                format!("{whose} uses {what}, which the Shopify Function's input does not carry: the Function refuses this policy where that is consulted (the service still decides it)"),
            )
            .with_help("use the facts listed in README.md (\"The Function\"), or keep this policy to the service");
    }
}

fn duplicate_ids(reader: &mut Reader, policy: &CompiledPolicy, spans: &[RuleSpans]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, rule) in policy.rules.iter().enumerate() {
        if let Some(first) = seen.get(rule.id.as_str()) {
            let span = spans.get(index).map_or(0..1, |s| s.id.clone());
            reader
                .diags
                .warning(
                    codes::DUPLICATE_ID,
                    span,
                    format!("rule id `{}` is used twice", rule.id),
                )
                .with_help(format!(
                    "rule #{} has it already; decisions name rules by id",
                    first + 1
                ));
        } else {
            seen.insert(&rule.id, index);
        }
    }
}

/// A rule that decides whenever it is reached: no conditions and not `cancel_lines` (which
/// falls through when no line matches).
fn always_decides(rule: &Rule) -> bool {
    rule.when.is_empty() && rule.then.kind != OutcomeKind::CancelLines
}

fn order(reader: &mut Reader, policy: &CompiledPolicy, spans: &[RuleSpans]) {
    for (later_index, later) in policy.rules.iter().enumerate() {
        let Some(span) = spans.get(later_index) else {
            continue;
        };
        for earlier in policy.rules.iter().take(later_index) {
            let covers = earlier.triggers & later.triggers == later.triggers && later.triggers != 0;
            if !covers || earlier.then.kind == OutcomeKind::CancelLines {
                continue;
            }
            if always_decides(earlier) {
                reader
                    .diags
                    .warning(
                        codes::UNREACHABLE_RULE,
                        span.rule.start..span.rule.start + 1,
                        format!(
                            "rule `{}` is unreachable: rule `{}` before it matches every order",
                            later.id, earlier.id
                        ),
                    )
                    .with_help("move it above, or give the earlier rule conditions");
                break;
            }
            if implies_all(&later.when, &earlier.when) {
                reader
                    .diags
                    .warning(
                        codes::SHADOWED_RULE,
                        span.id.clone(),
                        format!("rule `{}` is shadowed by rule `{}`: whenever it matches, `{}` matches first", later.id, earlier.id, earlier.id),
                    )
                    .with_help("put the more specific rule first");
                break;
            }
        }
    }
}

/// Whether `specific` (all must hold) implies every condition of `general`.
fn implies_all(specific: &[Condition], general: &[Condition]) -> bool {
    general
        .iter()
        .all(|g| specific.iter().any(|s| implies(s, g)))
}

fn implies(s: &Condition, g: &Condition) -> bool {
    if s == g {
        return true;
    }
    match (s, g) {
        (Condition::Fact(fs, ts), Condition::Fact(fg, tg)) if fs == fg => test_implies(ts, tg),
        (Condition::All(list), _) => list.iter().any(|c| implies(c, g)),
        (_, Condition::Any(list)) => list.iter().any(|c| implies(s, c)),
        _ => false,
    }
}

fn test_implies(s: &Test, g: &Test) -> bool {
    use Test::*;
    match (s, g) {
        (Lt(a), Lt(b)) | (Le(a), Le(b)) | (Lt(a), Le(b)) => a <= b,
        (Le(a), Lt(b)) => a < b,
        (Gt(a), Gt(b)) | (Ge(a), Ge(b)) | (Gt(a), Ge(b)) => a >= b,
        (Ge(a), Gt(b)) => a > b,
        (Eq(a), Lt(b)) => a < b,
        (Eq(a), Le(b)) => a <= b,
        (Eq(a), Gt(b)) => a > b,
        (Eq(a), Ge(b)) => a >= b,
        (In(a), In(b)) => a.iter().all(|x| b.contains(x)),
        (In(a), NotIn(b)) => a.iter().all(|x| !b.contains(x)),
        (NotIn(a), NotIn(b)) => b.iter().all(|x| a.contains(x)),
        (AnyOf(a), AnyOf(b)) => a.iter().all(|x| b.contains(x)),
        (AllOf(a), AnyOf(b)) => a.iter().any(|x| b.contains(x)),
        (AllOf(a), AllOf(b)) => b.iter().all(|x| a.contains(x)),
        (NoneOf(a), NoneOf(b)) => b.iter().all(|x| a.contains(x)),
        (AtLeast(a), AtLeast(b)) => rank(a) >= rank(b),
        (AtMost(a), AtMost(b)) => rank(a) <= rank(b),
        _ => false,
    }
}

fn rank(level: &str) -> usize {
    crate::catalog::RISK_LEVEL
        .iter()
        .position(|l| *l == level)
        .unwrap_or(0)
}

/// Why the top-level conditions can never hold together, if they cannot.
fn contradiction(when: &[Condition]) -> Option<String> {
    let mut lower: HashMap<Fact, (f64, bool)> = HashMap::new();
    let mut upper: HashMap<Fact, (f64, bool)> = HashMap::new();
    let mut bools: HashMap<Fact, bool> = HashMap::new();
    let mut sets: HashMap<Fact, Vec<String>> = HashMap::new();
    for cond in when {
        let Condition::Fact(fact, test) = cond else {
            continue;
        };
        match test {
            Test::Gt(n) | Test::Ge(n) | Test::Eq(n) => {
                let strict = matches!(test, Test::Gt(_));
                let entry = lower.entry(*fact).or_insert((*n, strict));
                if *n > entry.0 || (*n == entry.0 && strict) {
                    *entry = (*n, strict);
                }
                if let Test::Eq(_) = test {
                    let entry = upper.entry(*fact).or_insert((*n, false));
                    if *n < entry.0 {
                        *entry = (*n, false);
                    }
                }
            }
            Test::Lt(n) | Test::Le(n) => {
                let strict = matches!(test, Test::Lt(_));
                let entry = upper.entry(*fact).or_insert((*n, strict));
                if *n < entry.0 || (*n == entry.0 && strict) {
                    *entry = (*n, strict);
                }
            }
            Test::Is(b) => {
                if let Some(previous) = bools.insert(*fact, *b)
                    && previous != *b
                {
                    return Some(format!(
                        "`{}` is required to be both true and false",
                        fact.name()
                    ));
                }
            }
            Test::In(values) => {
                let entry = sets.entry(*fact).or_insert_with(|| values.clone());
                entry.retain(|v| values.contains(v));
                if entry.is_empty() {
                    return Some(format!(
                        "`{}` cannot be in all the listed value sets",
                        fact.name()
                    ));
                }
            }
            _ => {}
        }
    }
    for (fact, (low, low_strict)) in &lower {
        if let Some((high, high_strict)) = upper.get(fact)
            && (low > high || (low == high && (*low_strict || *high_strict)))
        {
            return Some(format!(
                "`{}` must be {} {} and {} {}",
                fact.name(),
                if *low_strict { ">" } else { ">=" },
                crate::eval::conditions::format_number(*low),
                if *high_strict { "<" } else { "<=" },
                crate::eval::conditions::format_number(*high)
            ));
        }
    }
    None
}

fn reaches_b2b_store_credit(rule: &Rule) -> bool {
    rule.then.refund == Some(RefundMethod::StoreCredit)
        && rule.then.kind.cancels()
        && !rule
            .when
            .iter()
            .any(|c| matches!(c, Condition::Fact(Fact::B2b, Test::Is(false))))
}
