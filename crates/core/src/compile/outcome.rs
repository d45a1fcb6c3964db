//! `then` and `default` tables: one outcome with its options.

use toml::de::DeValue;

use super::diagnostic::{codes, did_you_mean};
use super::reader::{Node, Reader};
use crate::catalog::Scope;
use crate::eval::STAFF_NOTE_LIMIT;
use crate::outcome::{
    CANCEL_REASONS, CancelReason, Fee, HOLD_REASONS, Outcome, OutcomeKind, REFUND_METHODS,
    RefundMethod,
};

const OUTCOME_NAMES: &[&str] = &["cancel", "allow", "deny", "review", "hold", "cancel_lines"];

fn options_for(kind: OutcomeKind) -> &'static [&'static str] {
    match kind {
        OutcomeKind::Cancel | OutcomeKind::Allow => &[
            "reason",
            "refund",
            "fee",
            "restock",
            "notify",
            "staff_note",
            "tags",
            "message",
        ],
        OutcomeKind::Deny => &["message", "tags"],
        OutcomeKind::Review => &["hold", "staff_note", "tags", "message"],
        OutcomeKind::Hold => &["reason", "minutes", "tags", "message"],
        OutcomeKind::CancelLines => &[
            "where", "reason", "refund", "restock", "notify", "tags", "message",
        ],
    }
}

/// A message key used by an outcome, with where it was written.
pub struct MessageUse {
    pub key: String,
    pub span: std::ops::Range<usize>,
}

impl Reader<'_> {
    pub fn outcome(
        &mut self,
        node: &Node,
        what: &str,
        messages: &mut Vec<MessageUse>,
    ) -> Option<Outcome> {
        let table = self.table(node, what)?;
        if table.len() != 1 {
            self.diags
                .error(
                    codes::UNKNOWN_OUTCOME,
                    node.span(),
                    format!("{what} must name exactly one outcome"),
                )
                .with_help(format!("one of: {}", OUTCOME_NAMES.join(", ")));
            return None;
        }
        let (key, options_node) = table.iter().next()?;
        let name: &str = key.get_ref();
        let Some(kind) = OutcomeKind::by_name(name) else {
            let d = self.diags.error(
                codes::UNKNOWN_OUTCOME,
                key.span(),
                format!("unknown outcome `{name}`"),
            );
            match did_you_mean(name, OUTCOME_NAMES.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("one of: {}", OUTCOME_NAMES.join(", "))),
            };
            return None;
        };
        let mut outcome = Outcome::new(kind);
        let options = match options_node.get_ref() {
            DeValue::Table(t) => t,
            DeValue::Boolean(true) => return Some(outcome),
            _ => {
                self.wrong_type(options_node, &format!("`{name}`"), "a table of options");
                return None;
            }
        };
        let context = format!("outcome `{name}`");
        self.check_keys(options, options_for(kind), &context);
        for (key, value) in options.iter() {
            let option: &str = key.get_ref();
            if !options_for(kind).contains(&option) {
                continue;
            }
            let what = format!("`{name}.{option}`");
            match option {
                "reason" if kind == OutcomeKind::Hold => {
                    outcome.hold_reason = self.enum_value(value, &what, HOLD_REASONS)
                }
                "reason" => {
                    outcome.reason = self
                        .enum_value(value, &what, CANCEL_REASONS)
                        .and_then(|r| CancelReason::by_name(&r));
                }
                "refund" => {
                    outcome.refund = self
                        .enum_value(value, &what, REFUND_METHODS)
                        .and_then(|r| RefundMethod::by_name(&r));
                }
                "fee" => outcome.fee = self.fee(value, &what),
                "restock" => outcome.restock = self.boolean(value, &what).unwrap_or(false),
                "notify" => outcome.notify = self.boolean(value, &what).unwrap_or(false),
                "staff_note" => {
                    if let Some(note) = self.string(value, &what) {
                        let fixed: usize = strip_placeholders(&note).chars().count();
                        if fixed > STAFF_NOTE_LIMIT {
                            self.diags
                                .error(
                                    codes::STAFF_NOTE_TOO_LONG,
                                    value.span(),
                                    format!("the staff note is {fixed} characters; Shopify takes at most {STAFF_NOTE_LIMIT}"),
                                )
                                .with_help("https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/orderCancel");
                        }
                        outcome.staff_note = Some(note);
                    }
                }
                "tags" => {
                    outcome.tags = self
                        .strings(value, &what)
                        .map(|list| list.into_iter().map(|(t, _)| t).collect())
                        .unwrap_or_default();
                }
                "message" => {
                    if let Some(message) = self.string(value, &what) {
                        messages.push(MessageUse {
                            key: message.clone(),
                            span: value.span(),
                        });
                        outcome.message = Some(message);
                    }
                }
                "hold" => {
                    outcome.hold_reason = match value.get_ref() {
                        DeValue::Boolean(true) => Some("OTHER".to_string()),
                        DeValue::Boolean(false) => None,
                        _ => self.enum_value(value, &what, HOLD_REASONS),
                    };
                }
                "minutes" => {
                    outcome.hold_minutes = self.integer(value, &what, 1..525_601).map(|m| m as u32);
                }
                "where" => outcome.lines = Some(self.conditions(value, Scope::Line)),
                _ => {}
            }
        }
        if kind == OutcomeKind::Cancel
            && outcome.reason.is_none()
            && !options.contains_key("reason")
        {
            self.diags
                .error(
                    codes::MISSING_KEY,
                    key.span(),
                    "outcome `cancel` is missing `reason`",
                )
                .with_help(format!(
                    "Shopify's OrderCancelReason: {}",
                    CANCEL_REASONS.join(", ")
                ));
        }
        if kind == OutcomeKind::CancelLines
            && outcome.lines.is_none()
            && !options.contains_key("where")
        {
            self.diags
                .error(
                    codes::MISSING_KEY,
                    key.span(),
                    "outcome `cancel_lines` is missing `where`",
                )
                .with_help("say which lines, e.g. where = { oversold = true }");
        }
        if kind == OutcomeKind::Hold
            && outcome.hold_minutes.is_none()
            && !options.contains_key("minutes")
        {
            self.diags
                .error(
                    codes::MISSING_KEY,
                    key.span(),
                    "outcome `hold` is missing `minutes`",
                )
                .with_help("how long after placement the hold ends, e.g. minutes = 60");
        }
        Some(outcome)
    }

    fn enum_value(&mut self, node: &Node, what: &str, allowed: &[&str]) -> Option<String> {
        let value = self.string(node, what)?;
        if allowed.contains(&value.as_str()) {
            return Some(value);
        }
        let d = self.diags.error(
            codes::UNKNOWN_VALUE,
            node.span(),
            format!("{what} `{value}` is not allowed"),
        );
        match did_you_mean(&value, allowed.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("one of: {}", allowed.join(", "))),
        };
        None
    }

    fn fee(&mut self, node: &Node, what: &str) -> Option<Fee> {
        let table = self.table(node, what)?;
        self.check_keys(table, &["percent", "amount"], what);
        if table.len() != 1 {
            self.diags.error(
                codes::INVALID_VALUE,
                node.span(),
                format!("{what} needs exactly one of `percent` or `amount`"),
            );
            return None;
        }
        if let Some(p) = table.get("percent") {
            let percent = self.number(p, &format!("{what}.percent"))?;
            if !(0.0..=100.0).contains(&percent) {
                self.diags.error(
                    codes::INVALID_VALUE,
                    p.span(),
                    format!("a fee of {percent}% is not between 0 and 100"),
                );
                return None;
            }
            return Some(Fee::Percent(percent));
        }
        let a = table.get("amount")?;
        let text = match a.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => match super::reader::number_of(other) {
                Some(n) => n.to_string(),
                None => {
                    self.wrong_type(
                        a,
                        &format!("{what}.amount"),
                        "a decimal amount such as \"5.00\"",
                    );
                    return None;
                }
            },
        };
        match crate::money::Amount::parse(&text) {
            Ok(amount) if amount >= crate::money::Amount::ZERO => {
                Some(Fee::Fixed(amount.to_string()))
            }
            _ => {
                self.diags.error(
                    codes::INVALID_VALUE,
                    a.span(),
                    format!("`{text}` is not a non-negative amount with at most three decimals"),
                );
                None
            }
        }
    }
}

/// The note's fixed text, without `{placeholders}`.
fn strip_placeholders(note: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in note.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
