//! Conditions written back in the policy's own words, for traces and explanations.

use crate::compiled::{Condition, Quantifier, Test};
use crate::eval::Context;
use crate::eval::conditions::{Value, format_number, value_of, weekday_name};

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

fn hhmm(minutes: u16) -> String {
    format!("\"{:02}:{:02}\"", minutes / 60, minutes % 60)
}

pub fn test(test: &Test) -> String {
    match test {
        Test::Is(b) => format!("= {b}"),
        Test::Eq(n) => format!("= {}", format_number(*n)),
        Test::Ne(n) => format!("!= {}", format_number(*n)),
        Test::Lt(n) => format!("< {}", format_number(*n)),
        Test::Le(n) => format!("<= {}", format_number(*n)),
        Test::Gt(n) => format!("> {}", format_number(*n)),
        Test::Ge(n) => format!(">= {}", format_number(*n)),
        Test::In(v) => format!("in {}", list(v)),
        Test::NotIn(v) => format!("not in {}", list(v)),
        Test::Prefix(v) => format!("starts with one of {}", list(v)),
        Test::Matches(p) => format!("matches \"{p}\""),
        Test::AnyOf(v) => format!("has any of {}", list(v)),
        Test::AllOf(v) => format!("has all of {}", list(v)),
        Test::NoneOf(v) => format!("has none of {}", list(v)),
        Test::AllIn(v) => format!("all in {}", list(v)),
        Test::AtLeast(l) => format!("at least {l}"),
        Test::AtMost(l) => format!("at most {l}"),
        Test::Before(m) => format!("before {}", hhmm(*m)),
        Test::After(m) => format!("at or after {}", hhmm(*m)),
        Test::Cutoff { at, days } => {
            let names: Vec<&str> = (0..7u32)
                .filter(|d| days & (1 << d) != 0)
                .map(weekday_name)
                .collect();
            format!("before the cut-off {} on {}", hhmm(*at), names.join("/"))
        }
    }
}

/// A condition without values.
pub fn condition(cond: &Condition) -> String {
    match cond {
        Condition::All(list) => format!("all of ({})", conjunction(list)),
        Condition::Any(list) => {
            let parts: Vec<String> = list.iter().map(condition).collect();
            format!("any of ({})", parts.join(" | "))
        }
        Condition::Not(inner) => format!("not ({})", condition(inner)),
        Condition::Fact(fact, t) => format!("{} {}", fact.name(), test(t)),
        Condition::Lines(quantifier, conds) => {
            let q = match quantifier {
                Quantifier::Any => "any line".to_string(),
                Quantifier::All => "every line".to_string(),
                Quantifier::None => "no line".to_string(),
                Quantifier::Count(t) => format!("number of lines {} where", test(t)),
            };
            format!("{q}: {}", conjunction(conds))
        }
    }
}

pub fn conjunction(conds: &[Condition]) -> String {
    let parts: Vec<String> = conds.iter().map(condition).collect();
    parts.join(" and ")
}

/// A condition with the value the order had, for "why" answers.
pub fn with_value(cond: &Condition, ctx: &Context) -> String {
    match cond {
        Condition::Fact(fact, _) => {
            let value = value_of(*fact, ctx, None);
            match value {
                Value::Missing => format!(
                    "{} (unknown: the order has no {})",
                    condition(cond),
                    fact.name()
                ),
                value => format!("{} (was {value})", condition(cond)),
            }
        }
        other => condition(other),
    }
}
