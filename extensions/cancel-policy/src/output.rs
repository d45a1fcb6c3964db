//! The Function's output: `OrderCancellationRunResult` with exactly one operation.
//!
//! A decision is written field by field in the core's own JSON form (what `serde` makes of
//! `Decision`, which the schema's `DecisionSetOperation` mirrors), so the service's native
//! evaluation serializes to the very same JSON; the Wasm parity tests compare the two. Writing
//! directly, rather than through `serde_json::Value`, keeps the module small and cheap to run.

use std::num::NonZeroU64;

use cancel_policy_core::decision::{Action, Decision, Message};
use cancel_policy_core::money::{Amount, Money};
use chrono::{DateTime, Datelike, Timelike, Utc};
use shopify_function::wasm_api::{Context, Serialize, write::Error as WriteError};

/// `InputRejectedCode` in schema.graphql.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCode {
    InvalidInput,
    InvalidPolicy,
    UnsupportedPolicyVersion,
    UnsupportedFact,
    InputVariablesMismatch,
}

impl RejectCode {
    pub fn name(self) -> &'static str {
        match self {
            RejectCode::InvalidInput => "INVALID_INPUT",
            RejectCode::InvalidPolicy => "INVALID_POLICY",
            RejectCode::UnsupportedPolicyVersion => "UNSUPPORTED_POLICY_VERSION",
            RejectCode::UnsupportedFact => "UNSUPPORTED_FACT",
            RejectCode::InputVariablesMismatch => "INPUT_VARIABLES_MISMATCH",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutput {
    Decision(Decision),
    PolicyMissing,
    Rejected { code: RejectCode, message: String },
}

pub const POLICY_MISSING_MESSAGE: &str =
    "no compiled-policy metafield on the owner and no policy built into this Function";

type Written = Result<(), WriteError>;

impl Serialize for RunOutput {
    fn serialize(&self, cx: &mut Context) -> Written {
        cx.write_object(
            |cx| {
                cx.write_utf8_str("operations")?;
                cx.write_array(|cx| cx.write_object(|cx| self.write_operation(cx), 1), 1)
            },
            1,
        )
    }
}

impl RunOutput {
    fn write_operation(&self, cx: &mut Context) -> Written {
        match self {
            RunOutput::Decision(decision) => {
                cx.write_utf8_str("decisionSet")?;
                write_decision(decision, cx)
            }
            RunOutput::PolicyMissing => {
                cx.write_utf8_str("policyMissing")?;
                cx.write_object(|cx| field_str(cx, "message", POLICY_MISSING_MESSAGE), 1)
            }
            RunOutput::Rejected { code, message } => {
                cx.write_utf8_str("inputRejected")?;
                cx.write_object(
                    |cx| {
                        field_str(cx, "code", code.name())?;
                        field_str(cx, "message", message)
                    },
                    2,
                )
            }
        }
    }

    /// The output as JSON, built with `serde` from the core's types: what the Wasm must write.
    #[cfg(test)]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let operation = match self {
            RunOutput::Decision(decision) => json!({ "decisionSet": decision }),
            RunOutput::PolicyMissing => {
                json!({ "policyMissing": { "message": POLICY_MISSING_MESSAGE } })
            }
            RunOutput::Rejected { code, message } => {
                json!({ "inputRejected": { "code": code.name(), "message": message } })
            }
        };
        json!({ "operations": [operation] })
    }
}

fn field_str(cx: &mut Context, key: &str, value: &str) -> Written {
    cx.write_utf8_str(key)?;
    cx.write_utf8_str(value)
}

fn field_bool(cx: &mut Context, key: &str, value: bool) -> Written {
    cx.write_utf8_str(key)?;
    cx.write_bool(value)
}

fn opt_str(cx: &mut Context, value: Option<&str>) -> Written {
    match value {
        Some(text) => cx.write_utf8_str(text),
        None => cx.write_null(),
    }
}

fn strings(cx: &mut Context, items: &[String]) -> Written {
    cx.write_array(
        |cx| items.iter().try_for_each(|item| cx.write_utf8_str(item)),
        items.len(),
    )
}

fn time(cx: &mut Context, at: &DateTime<Utc>) -> Written {
    cx.write_utf8_str(&rfc3339(at))
}

/// As chrono's `Serialize` writes it: `to_rfc3339_opts(SecondsFormat::AutoSi, true)` (RFC 3339,
/// `Z`, a fraction of 3, 6 or 9 digits when there is one, a sign on years beyond 0000–9999, a
/// leap second as :60). Written here, not by chrono, to keep its formatter out of the module.
fn rfc3339(at: &DateTime<Utc>) -> String {
    let at = at.naive_utc();
    let mut text = String::with_capacity(32);
    let year = at.year();
    if !(0..=9999).contains(&year) {
        text.push(if year < 0 { '-' } else { '+' });
    }
    push_digits(&mut text, year.unsigned_abs().into(), 4);
    let (mut second, mut nano) = (at.second(), at.nanosecond());
    if nano >= 1_000_000_000 {
        second += 1;
        nano -= 1_000_000_000;
    }
    let (month, day) = month_day(at.date().leap_year(), at.ordinal0());
    for (separator, value) in [
        ('-', month),
        ('-', day),
        ('T', at.hour()),
        (':', at.minute()),
        (':', second),
    ] {
        text.push(separator);
        push_digits(&mut text, value.into(), 2);
    }
    if nano != 0 {
        let (fraction, width) = if nano % 1_000_000 == 0 {
            (nano / 1_000_000, 3)
        } else if nano % 1_000 == 0 {
            (nano / 1_000, 6)
        } else {
            (nano, 9)
        };
        text.push('.');
        push_digits(&mut text, fraction.into(), width);
    }
    text.push('Z');
    text
}

/// `value` in decimal, zero-padded to at least `width` digits (at most 20).
fn push_digits(text: &mut String, value: u64, width: u32) {
    // A non-zero divisor by type: no division-by-zero panic path in the module.
    const TEN: NonZeroU64 = NonZeroU64::MIN.saturating_add(9);
    let mut unit = NonZeroU64::MIN;
    let mut digits = 1;
    while digits < width || value / unit >= 10 {
        unit = unit.saturating_mul(TEN);
        digits += 1;
    }
    loop {
        text.push(char::from(b'0' + (value / unit % 10) as u8));
        match NonZeroU64::new(unit.get() / 10) {
            Some(smaller) => unit = smaller,
            None => return,
        }
    }
}

/// The month and day of the `ordinal0`th day (from 0) of a year. Worked out here because
/// chrono's `month()` and `day()` read a 0.7 kB table that nothing else in the module needs.
fn month_day(leap: bool, ordinal0: u32) -> (u32, u32) {
    // Days before the end of January, February, … November, in a common year.
    const ENDS: [u32; 11] = [31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let common = match ordinal0 {
        59 if leap => return (2, 29),
        60.. if leap => ordinal0 - 1,
        _ => ordinal0,
    };
    let (mut month, mut before) = (1, 0);
    for end in ENDS {
        if common < end {
            break;
        }
        (month, before) = (month + 1, end);
    }
    (month, common - before + 1)
}

/// As `Amount`'s `Display` writes it (`12.0`, `12.50`, `0.125`), without `format!`, whose
/// padded integers cost the module ~0.2 kB.
fn amount_text(amount: Amount) -> String {
    let thousandths = amount.thousandths();
    let abs = thousandths.unsigned_abs();
    let (whole, frac) = (abs / 1000, abs % 1000);
    let (frac, width) = if frac == 0 {
        (0, 1)
    } else if frac % 10 == 0 {
        (frac / 10, 2)
    } else {
        (frac, 3)
    };
    // A sign, at most 16 whole digits (`i64::MIN` / 1000), a point and three decimals.
    let mut text = String::with_capacity(21);
    if thousandths < 0 {
        text.push('-');
    }
    push_digits(&mut text, whole, 1);
    text.push('.');
    push_digits(&mut text, frac, width);
    text
}

fn money(cx: &mut Context, money: &Money) -> Written {
    cx.write_object(
        |cx| {
            field_str(cx, "amount", &amount_text(money.amount))?;
            field_str(cx, "currencyCode", &money.currency_code)
        },
        2,
    )
}

// Field order, names and omissions follow the `serde` attributes of `Decision`.
fn write_decision(decision: &Decision, cx: &mut Context) -> Written {
    let fields = 4 + usize::from(!decision.notes.is_empty());
    cx.write_object(
        |cx| {
            field_str(cx, "outcome", decision.outcome.name())?;
            cx.write_utf8_str("rule")?;
            opt_str(cx, decision.rule.as_deref())?;
            cx.write_utf8_str("actions")?;
            cx.write_array(
                |cx| {
                    decision
                        .actions
                        .iter()
                        .try_for_each(|a| write_action(a, cx))
                },
                decision.actions.len(),
            )?;
            cx.write_utf8_str("message")?;
            match &decision.message {
                Some(message) => write_message(message, cx)?,
                None => cx.write_null()?,
            }
            if !decision.notes.is_empty() {
                cx.write_utf8_str("notes")?;
                strings(cx, &decision.notes)?;
            }
            Ok(())
        },
        fields,
    )
}

fn write_message(message: &Message, cx: &mut Context) -> Written {
    cx.write_object(
        |cx| {
            field_str(cx, "key", &message.key)?;
            field_str(cx, "locale", &message.locale)?;
            field_str(cx, "text", &message.text)
        },
        3,
    )
}

fn refund_name(refund: cancel_policy_core::outcome::RefundMethod) -> &'static str {
    use cancel_policy_core::outcome::RefundMethod;
    match refund {
        RefundMethod::Original => "original",
        RefundMethod::StoreCredit => "store_credit",
        RefundMethod::None => "none",
    }
}

fn write_action(action: &Action, cx: &mut Context) -> Written {
    match action {
        Action::CancelOrder {
            reason,
            refund,
            restock,
            notify_customer,
            staff_note,
        } => cx.write_object(
            |cx| {
                field_str(cx, "type", "cancel_order")?;
                field_str(cx, "reason", reason.name())?;
                field_str(cx, "refund", refund_name(*refund))?;
                field_bool(cx, "restock", *restock)?;
                field_bool(cx, "notifyCustomer", *notify_customer)?;
                if let Some(note) = staff_note {
                    field_str(cx, "staffNote", note)?;
                }
                Ok(())
            },
            5 + usize::from(staff_note.is_some()),
        ),
        Action::RefundPartial {
            amount,
            fee,
            method,
        } => cx.write_object(
            |cx| {
                field_str(cx, "type", "refund_partial")?;
                cx.write_utf8_str("amount")?;
                money(cx, amount)?;
                cx.write_utf8_str("fee")?;
                money(cx, fee)?;
                field_str(cx, "method", refund_name(*method))
            },
            4,
        ),
        Action::CancelLines {
            lines,
            reason,
            refund,
            restock,
            notify_customer,
        } => cx.write_object(
            |cx| {
                field_str(cx, "type", "cancel_lines")?;
                cx.write_utf8_str("lines")?;
                cx.write_array(
                    |cx| {
                        lines.iter().try_for_each(|line| {
                            cx.write_object(
                                |cx| {
                                    field_str(cx, "id", &line.id)?;
                                    cx.write_utf8_str("quantity")?;
                                    integer(cx, line.quantity)
                                },
                                2,
                            )
                        })
                    },
                    lines.len(),
                )?;
                field_str(cx, "reason", reason.name())?;
                field_str(cx, "refund", refund_name(*refund))?;
                field_bool(cx, "restock", *restock)?;
                field_bool(cx, "notifyCustomer", *notify_customer)
            },
            6,
        ),
        Action::HoldFulfillment { reason, release_at } => cx.write_object(
            |cx| {
                field_str(cx, "type", "hold_fulfillment")?;
                field_str(cx, "reason", reason)?;
                if let Some(at) = release_at {
                    cx.write_utf8_str("releaseAt")?;
                    time(cx, at)?;
                }
                Ok(())
            },
            2 + usize::from(release_at.is_some()),
        ),
        Action::RequestReview => cx.write_object(|cx| field_str(cx, "type", "request_review"), 1),
        Action::Reevaluate { at } => cx.write_object(
            |cx| {
                field_str(cx, "type", "reevaluate")?;
                cx.write_utf8_str("at")?;
                time(cx, at)
            },
            2,
        ),
        Action::AddTags { tags } => cx.write_object(
            |cx| {
                field_str(cx, "type", "add_tags")?;
                cx.write_utf8_str("tags")?;
                strings(cx, tags)
            },
            2,
        ),
    }
}

/// JSON integers: 32-bit ones as MessagePack integers, larger ones as floats (exact to 2^53).
fn integer(cx: &mut Context, value: i64) -> Written {
    match i32::try_from(value) {
        Ok(small) => cx.write_i32(small),
        Err(_) => cx.write_f64(value as f64),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use cancel_policy_core::money::Amount;
    use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};

    #[test]
    fn amounts_are_written_as_display_writes_them() {
        for thousandths in [
            0,
            1,
            -1,
            10,
            -10,
            100,
            999,
            1000,
            -1000,
            1001,
            1010,
            1100,
            12_500,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let amount = Amount::from_thousandths(thousandths);
            assert_eq!(super::amount_text(amount), amount.to_string());
        }
        let min = Amount::from_thousandths(i64::MIN);
        assert_eq!(super::amount_text(min), "-9223372036854775.808");
    }

    #[test]
    fn spread_amounts_are_written_as_display_writes_them() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Every magnitude, from a few thousandths to the whole range.
            let thousandths = (seed as i64) >> (seed % 61);
            let amount = Amount::from_thousandths(thousandths);
            assert_eq!(super::amount_text(amount), amount.to_string());
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let check = |at: DateTime<Utc>| {
            assert_eq!(
                super::rfc3339(&at),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            );
        };
        let nanos = [
            0,
            1,
            7_000_000,
            120_000,
            123_456_789,
            999_999_999,
            500_000_000,
        ];
        // Years across chrono's whole range (negative, 0000–9999, five and six digits).
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let spread = (seed >> 11) as i64 % (2 * 8_200_000_000_000) - 8_200_000_000_000;
            let nano = nanos[(seed % 7) as usize] as u32;
            let nano = if seed & 0x80 == 0 {
                nano
            } else {
                (seed >> 20) as u32 % 1_000_000_000
            };
            if let Some(at) = DateTime::from_timestamp(spread, nano) {
                check(at);
            }
        }
        for year in [
            -262_000, -10_000, -9999, -1, 0, 1, 999, 2026, 9999, 10_000, 262_000,
        ] {
            let day = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
            check(day.and_hms_nano_opt(23, 59, 59, 0).unwrap().and_utc());
        }
        // Around February's end, in common, leap and century years.
        for year in [1900, 1999, 2000, 2023, 2024, 2100, 2400, -4, -100] {
            let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            for day in start.iter_days().take_while(|day| day.year() == year) {
                check(day.and_hms_opt(0, 0, 0).unwrap().and_utc());
            }
        }
        // A leap second.
        let day = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap();
        for nano in [1_000_000_000, 1_500_000_000, 1_000_000_001] {
            check(day.and_hms_nano_opt(23, 59, 59, nano).unwrap().and_utc());
        }
    }
}
