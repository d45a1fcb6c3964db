//! Turns the deciding outcome into actions and a localized message.

use crate::placeholder::Placeholder;
use std::borrow::Cow;

use chrono::Duration;

use crate::compiled::CompiledPolicy;
use crate::decision::{Action, Decision, LineSelection, Message};
use crate::eval::{Context, EvalOptions};
use crate::lowercase::to_lowercase;
use crate::money::{Amount, Money};
use crate::outcome::{CancelReason, Fee, Outcome, OutcomeKind, RefundMethod};
use crate::text::same_text;

/// Shopify's limit on `orderCancel(staffNote:)`.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/orderCancel
pub const STAFF_NOTE_LIMIT: usize = 255;

/// The note for a staff note cut to `STAFF_NOTE_LIMIT` characters (a test checks the number).
const STAFF_NOTE_CUT: &str = "staff note cut to Shopify's 255 characters";

pub(super) fn decide(
    policy: &CompiledPolicy,
    rule_id: Option<String>,
    outcome: &Outcome,
    selected_lines: Option<Vec<usize>>,
    ctx: &Context,
    options: &EvalOptions,
) -> Decision {
    let mut notes = Vec::new();
    let mut actions = Vec::new();
    let order = &ctx.facts.order;

    let mut refund = outcome.refund.unwrap_or(RefundMethod::Original);
    if refund == RefundMethod::StoreCredit && order.b2b {
        // Shopify rejects store credit on B2B orders (STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED);
        // the documented fallback is the original payment method.
        // https://shopify.dev/docs/api/admin-graphql/2026-04/enums/OrderCancelUserErrorCode
        refund = RefundMethod::Original;
        note(
            &mut notes,
            "store credit refunds are not supported on B2B orders: refunding to the original payment method",
        );
    }
    let reason = outcome.reason.unwrap_or(match outcome.kind {
        OutcomeKind::CancelLines => CancelReason::Inventory,
        _ if ctx.request_source() == "customer" => CancelReason::Customer,
        _ => CancelReason::Other,
    });
    let staff_note = outcome
        .staff_note
        .as_ref()
        .map(|template| render_staff_note(template, rule_id.as_deref(), reason, ctx, &mut notes));

    match outcome.kind {
        OutcomeKind::Cancel | OutcomeKind::Allow => {
            let fee = outcome
                .fee
                .as_ref()
                .and_then(|fee| fee_amount(fee, ctx, refund, &mut notes));
            // With a fee, the cancellation refunds nothing and a partial refund follows.
            push(
                &mut actions,
                Action::CancelOrder {
                    reason,
                    refund: if fee.is_some() {
                        RefundMethod::None
                    } else {
                        refund
                    },
                    restock: outcome.restock,
                    notify_customer: outcome.notify,
                    staff_note,
                },
            );
            if let Some((fee, remaining)) = fee {
                push(
                    &mut actions,
                    Action::RefundPartial {
                        amount: remaining,
                        fee,
                        method: refund,
                    },
                );
            }
        }
        OutcomeKind::CancelLines => {
            let lines = selected_lines
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| order.line_items.get(i))
                .map(|line| LineSelection {
                    id: line.id.clone(),
                    quantity: line.quantity,
                })
                .collect();
            push(
                &mut actions,
                Action::CancelLines {
                    lines,
                    reason,
                    refund,
                    restock: outcome.restock,
                    notify_customer: outcome.notify,
                },
            );
        }
        OutcomeKind::Review => {
            if let Some(reason) = &outcome.hold_reason {
                push(
                    &mut actions,
                    Action::HoldFulfillment {
                        reason: reason.clone(),
                        release_at: None,
                    },
                );
            }
            push(&mut actions, Action::RequestReview);
        }
        OutcomeKind::Hold => {
            let release_at = outcome.hold_minutes.and_then(|m| {
                // Checked: chrono's `+` panics past its last representable moment.
                ctx.placed_at()?
                    .checked_add_signed(Duration::minutes(i64::from(m)))
            });
            push(
                &mut actions,
                Action::HoldFulfillment {
                    reason: outcome
                        .hold_reason
                        .clone()
                        .unwrap_or_else(|| "OTHER".to_string()),
                    release_at,
                },
            );
            match release_at {
                Some(at) if at > ctx.now => push(&mut actions, Action::Reevaluate { at }),
                Some(_) => {}
                None => note(
                    &mut notes,
                    "the hold has no end: the placement time or the hold length is unknown",
                ),
            }
        }
        OutcomeKind::Deny => {}
    }
    if !outcome.tags.is_empty() {
        push(
            &mut actions,
            Action::AddTags {
                tags: outcome.tags.clone(),
            },
        );
    }

    let message = outcome
        .message
        .as_ref()
        .and_then(|key| localize(policy, key, ctx, options, &mut notes));

    Decision {
        outcome: outcome.kind,
        rule: rule_id,
        actions,
        message,
        notes,
        trace: None,
    }
}

/// `actions.push(action)`, out of line: inlined, each of `decide`'s pushes copied the action
/// field by field and checked the capacity, at a cost to the Function's module.
#[inline(never)]
fn push(actions: &mut Vec<Action>, action: Action) {
    actions.push(action);
}

/// Adds the note `text`: one call where `to_string` and `push` inlined at each note cost the
/// Function's module more.
#[inline(never)]
fn note(notes: &mut Vec<String>, text: &str) {
    notes.push(text.to_string());
}

/// The fee kept and the amount refunded, or `None` when no fee applies.
fn fee_amount(
    fee: &Fee,
    ctx: &Context,
    refund: RefundMethod,
    notes: &mut Vec<String>,
) -> Option<(Money, Money)> {
    let order = &ctx.facts.order;
    if refund == RefundMethod::None {
        return None;
    }
    if order.display_financial_status.as_deref() == Some("AUTHORIZED") {
        note(
            notes,
            "no cancellation fee: the payment is only authorized, and cancelling voids it",
        );
        return None;
    }
    let Some(total) = order.total_price.as_ref() else {
        note(notes, "no cancellation fee: the order total is unknown");
        return None;
    };
    let currency = total.currency_code.as_str();
    let fee_value = match fee {
        Fee::Percent(p) => total.amount.percent(*p, currency),
        Fee::Fixed(text) => match Amount::parse(text) {
            Ok(a) => a.round_to_currency(currency),
            Err(_) => return None,
        },
    };
    let fee_value = fee_value.min(total.amount).max(Amount::ZERO);
    let money = |amount| Money {
        amount,
        currency_code: currency.to_string(),
    };
    Some((
        money(fee_value),
        money(total.amount.saturating_sub(fee_value)),
    ))
}

fn render_staff_note(
    template: &str,
    rule: Option<&str>,
    reason: CancelReason,
    ctx: &Context,
    notes: &mut Vec<String>,
) -> String {
    let order = &ctx.facts.order;
    // One placeholder after the other, as successive `str::replace` calls would (a value
    // that contains a later placeholder gets it filled in too), but without setting up a
    // substring searcher per placeholder or copying the note when a placeholder is absent.
    let mut rendered = Cow::Borrowed(template);
    // Placeholders start at a `{`: the text before the first one is never scanned again.
    let mut from = brace_from(template, 0);
    for placeholder in Placeholder::ALL {
        let Some(start) = from else { break };
        let value = match placeholder {
            Placeholder::Rule => rule.unwrap_or("default"),
            Placeholder::Order => order.id.as_str(),
            Placeholder::Reason => reason.name(),
            Placeholder::RiskLevel => order.risk.highest_level(),
            Placeholder::RequestReason => ctx.facts.request.reason.as_deref().unwrap_or("none"),
        };
        if let Some(replaced) = replace_placeholder(&rendered, start, placeholder.text(), value) {
            rendered = Cow::Owned(replaced);
            // The text before `start` is unchanged.
            from = brace_from(&rendered, start);
        }
    }
    // A string has at least as many bytes as characters: most notes need no count.
    if rendered.len() > STAFF_NOTE_LIMIT && rendered.chars().count() > STAFF_NOTE_LIMIT {
        note(notes, STAFF_NOTE_CUT);
        rendered.chars().take(STAFF_NOTE_LIMIT).collect()
    } else {
        rendered.into_owned()
    }
}

/// The index of the first `{` at or after `from`.
fn brace_from(text: &str, from: usize) -> Option<usize> {
    // Eight bytes at a time (a byte equal to `{` becomes a zero byte, which the borrow trick
    // finds); byte by byte, the scans cost more than the rest of the note.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let bytes = text.get(from..)?.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = from;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?) ^ (ONES * u64::from(b'{'));
        let zero_bytes = word.wrapping_sub(ONES) & !word & HIGH_BITS;
        if zero_bytes != 0 {
            // The lowest flagged byte is the first `{` (false flags only sit above a true one).
            return Some(offset + (zero_bytes.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let rest = chunks.remainder().iter().position(|b| *b == b'{')?;
    Some(offset + rest)
}

/// `text.replace(placeholder, value)`, or `None` when `text` does not contain `placeholder`;
/// `placeholder` starts with `{`, so only the bytes at a `{` are compared, from `from` (the
/// text before it has none).
fn replace_placeholder(text: &str, from: usize, placeholder: &str, value: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Where the text not yet copied to `out` starts.
    let mut copied = 0;
    let mut at = from;
    while let Some(start) = brace_from(text, at) {
        if bytes
            .get(start..)
            .is_some_and(|rest| rest.starts_with(placeholder.as_bytes()))
        {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + value.len()));
            out.push_str(text.get(copied..start).unwrap_or_default());
            out.push_str(value);
            at = start + placeholder.len();
            copied = at;
        } else {
            at = start + 1;
        }
    }
    let mut out = out?;
    out.push_str(text.get(copied..).unwrap_or_default());
    Some(out)
}

/// The message in the request's locale, its language, the option's locale, or the default:
/// the locales `message_locales` lists, tried one by one without building the list.
fn localize(
    policy: &CompiledPolicy,
    key: &str,
    ctx: &Context,
    options: &EvalOptions,
    notes: &mut Vec<String>,
) -> Option<Message> {
    // Compared a word at a time (`BTreeMap::get` compares keys a byte at a time in Wasm),
    // among the few locales a policy has.
    let same = |a: &String, b: &str| same_text(a.as_bytes(), b.as_bytes());
    let find = |locale: &str| {
        let (_, texts) = policy.messages.iter().find(|(l, _)| same(l, locale))?;
        let (_, text) = texts.iter().find(|(k, _)| same(k, key))?;
        Some(Message {
            key: key.to_string(),
            locale: locale.to_string(),
            text: text.clone(),
        })
    };
    let found = [
        ctx.facts.request.locale.as_deref(),
        options.locale.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|locale| {
        let locale = if locale.contains('_') {
            Cow::Owned(locale.replace('_', "-"))
        } else {
            Cow::Borrowed(locale)
        };
        find(&locale)
            .or_else(|| {
                let (language, _) = locale.split_once('-')?;
                find(language)
            })
            .or_else(|| find(&lowercase(&locale)))
    })
    .or_else(|| find(&policy.default_locale));
    if found.is_none() {
        notes.push(format!("message `{key}` has no text in any locale"));
    }
    found
}

/// `text.to_lowercase()`, borrowed when that changes nothing.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(to_lowercase(text))
    }
}

/// The locales a message is looked for in, in order, before the policy's default: the
/// request's locale (`_` read as `-`), its language and its lower-case form, then the same for
/// the fallback locale.
pub fn message_locales(request: Option<&str>, fallback: Option<&str>) -> Vec<String> {
    let mut candidates = Vec::new();
    for locale in [request, fallback].into_iter().flatten() {
        let locale = locale.replace('_', "-");
        candidates.push(locale.clone());
        if let Some((language, _)) = locale.split_once('-') {
            candidates.push(language.to_string());
        }
        candidates.push(to_lowercase(&locale));
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_as_str_replace_would() {
        let cases = [
            ("no placeholder", "{rule}", "x"),
            ("{rule}", "{rule}", "r-1"),
            ("a {rule} b {rule}", "{rule}", "r"),
            ("{{rule}}", "{rule}", "x"),
            ("{rul {rule", "{rule}", "x"),
            ("é{rule}ü", "{rule}", "{order}"),
            ("", "{rule}", "x"),
        ];
        for (text, placeholder, value) in cases {
            let expected = text.replace(placeholder, value);
            let from = brace_from(text, 0).unwrap_or(text.len());
            for start in [0, from] {
                let replaced = replace_placeholder(text, start, placeholder, value);
                assert_eq!(replaced.is_some(), text.contains(placeholder), "{text}");
                let got = replaced.unwrap_or_else(|| text.to_string());
                assert_eq!(got, expected, "{text}");
            }
        }
    }

    #[test]
    fn brace_from_finds_the_first_brace() {
        let texts = [
            "",
            "{",
            "no brace at all, long enough for a few words",
            "é{ü}{{",
            "0123456{89abcdef{",
            "01234567{9abcdef",
            "\u{7f}\u{80}{z{{{{{{{{{{{{{{{{",
            "日本語のテキスト{rule}とその他{order}",
        ];
        for text in texts {
            for from in 0..=text.len() + 1 {
                let expected = text
                    .get(from..)
                    .and_then(|rest| rest.find('{'))
                    .map(|i| from + i);
                assert_eq!(brace_from(text, from), expected, "{text} from {from}");
            }
        }
    }

    #[test]
    fn staff_note_cut_names_the_limit() {
        assert_eq!(
            STAFF_NOTE_CUT,
            format!("staff note cut to Shopify's {STAFF_NOTE_LIMIT} characters")
        );
    }

    #[test]
    fn lowercase_matches_to_lowercase() {
        for text in ["en", "EN-us", "fr-CA", "ǅa", "Ébc", ""] {
            assert_eq!(lowercase(text), text.to_lowercase());
        }
    }
}
