//! Typed reads from the spanned TOML tree that record a diagnostic and go on, so that one run
//! reports every mistake.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostics, codes, did_you_mean};

pub type Node<'i> = Spanned<DeValue<'i>>;

pub fn type_name(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub struct Reader<'s> {
    pub diags: Diagnostics<'s>,
}

impl<'s> Reader<'s> {
    pub fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.diags.error(
            codes::WRONG_TYPE,
            node.span(),
            format!(
                "{what} must be {expected}, not {}",
                type_name(node.get_ref())
            ),
        );
    }

    pub fn table<'a, 'i>(&mut self, node: &'a Node<'i>, what: &str) -> Option<&'a DeTable<'i>> {
        match node.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(node, what, "a table");
                None
            }
        }
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(node, what, "a boolean (true or false)");
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match number_of(node.get_ref()) {
            Some(n) => Some(n),
            None => {
                self.wrong_type(node, what, "a number");
                None
            }
        }
    }

    pub fn integer(&mut self, node: &Node, what: &str, range: Range<i64>) -> Option<i64> {
        let value = match node.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match value {
            Some(v) if range.contains(&v) => Some(v),
            Some(v) => {
                self.diags.error(
                    codes::INVALID_VALUE,
                    node.span(),
                    format!(
                        "{what} is {v}; it must be from {} to {}",
                        range.start,
                        range.end - 1
                    ),
                );
                None
            }
            None => {
                self.wrong_type(node, what, "an integer");
                None
            }
        }
    }

    /// A string or an array of strings, with each element's span.
    pub fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<(String, Range<usize>)>> {
        match node.get_ref() {
            DeValue::String(s) => Some(vec![(s.to_string(), node.span())]),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.to_string(), item.span())),
                        _ => {
                            self.wrong_type(item, &format!("each element of {what}"), "a string");
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.wrong_type(node, what, "a string or an array of strings");
                None
            }
        }
    }

    /// Reports keys outside `allowed`, with a suggestion.
    pub fn check_keys(&mut self, table: &DeTable, allowed: &[&str], context: &str) {
        for (key, _) in table.iter() {
            let name: &str = key.get_ref();
            if !allowed.contains(&name) {
                let d = self.diags.error(
                    codes::UNKNOWN_KEY,
                    key.span(),
                    format!("unknown key `{name}` in {context}"),
                );
                match did_you_mean(name, allowed.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("expected one of: {}", allowed.join(", "))),
                };
            }
        }
    }

    pub fn required<'a, 'i>(
        &mut self,
        table: &'a DeTable<'i>,
        key: &str,
        span: Range<usize>,
        context: &str,
    ) -> Option<&'a Node<'i>> {
        let found = table.get(key);
        if found.is_none() {
            self.diags.error(
                codes::MISSING_KEY,
                span,
                format!("{context} is missing `{key}`"),
            );
        }
        found
    }
}

pub fn number_of(value: &DeValue) -> Option<f64> {
    match value {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|v| v as f64),
        DeValue::Float(f) => f.as_str().parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

/// The span of a table's header line: its first key, or the whole table.
pub fn head_span(node: &Node) -> Range<usize> {
    let span = node.span();
    span.start
        ..span
            .start
            .saturating_add(1)
            .min(span.end.max(span.start + 1))
}

/// `HH:MM` as minutes after midnight.
pub fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}
