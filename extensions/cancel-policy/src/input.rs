//! Reads the Function input (the shape `order_cancellation_run.graphql` asks for) into order
//! facts, checking every value's type on the way so that a malformed input gives an error that
//! says what is wrong and where, never a trap.
//!
//! Fields are read by position where that is sound. The GraphQL spec serializes a response's
//! fields in the order the query selects them and includes every selected field, null or not,
//! except those an `@include(if: false)` leaves out
//! (https://spec.graphql.org/October2021/#sec-Serialized-Map-Ordering), so in an object with
//! exactly as many fields as the query selects, field `i` is the query's `i`-th field. A
//! positional read costs Shopify's provider about half a keyed one (the benchmark's per-call
//! figures: ~610 instructions against ~1,300 for an interned key and 1,500-1,900 for a plain
//! one), and most of the input is read that way. Checks, cheapest first:
//! - every object: its length (free, it is in the value's NaN-box). An object read once with
//!   fewer fields than the query selects is malformed and refused; one with more (an input
//!   built for a wider query) is read by key.
//! - `order`, whose fields the input variables may leave out (`OrderInputs`): with every field
//!   it is read in the query's order; else the policy's header tells which fields the
//!   variables include, and the key of each field read is checked at the place those put it
//!   (by its length, in the key's handle: `createdAt` and `lineItems`, the two names of one
//!   length, by their types). A field found elsewhere is read by name, one not there refused.
//! - the objects read once per line (line, variant, …): the first one shows where the fields
//!   are. When it has every selected field, or those the input variables set from this
//!   policy include (the header tells which), the keys of those the policy needs are checked
//!   at their places by their length (in the key's handle); otherwise all its keys are read,
//!   once per run. An object of another length is read by key, and a field the policy needs
//!   that the input lacks is refused. A line's id is read only for the lines a decision
//!   cancels ([`LineIds`]).
//! - objects read once (root, request, order, …) are trusted on their length: checking their
//!   keys would cost what reading them by key costs. An input with the right number of fields
//!   in another order could be misread there (a type check catches most such misreads);
//!   Shopify's runner serializes by the spec, and `crates/function-tests/src/render.rs` and
//!   the fixtures follow the query's order (crates/function-tests/tests/input_shape.rs checks).

use std::cell::Cell;
use std::fmt;

use cancel_policy_core::Trigger;
use cancel_policy_core::facts::{
    Facts, FulfillmentOrderFacts, LineFacts, OrderFacts, RequestFacts, RiskAssessmentFacts,
    RiskFacts,
};
use cancel_policy_core::money::{Amount, Money};
use cancel_policy_core::text::same_text;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

mod raw;
pub use raw::Value;

use crate::policy::{LineNeeds, Needs};
use cancel_policy_core::compiled::{FunctionHeader, InputNeeds, LineInputs, OrderInputs};

/// A place in the input, rendered only when an error needs it.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step,
}

#[derive(Clone, Copy)]
enum Step {
    Root,
    /// Field `index` of a selection: named only when an error is rendered.
    Member(&'static [&'static str], usize),
    Index(usize),
}

impl<'a> Path<'a> {
    pub const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
    };

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Root => f.write_str("input"),
            Step::Member(fields, index) => {
                write!(f, ".{}", fields.get(index).copied().unwrap_or("?"))
            }
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// A value of the wrong type, or a required value that is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path, self.problem)
    }
}

/// Boxed: an error of two `String`s would make every reader's `Result` that large, copied
/// through memory on each return; boxed, a read returns little more than its value.
type Read<T> = Result<T, Box<InputError>>;

fn error(path: &Path, problem: impl Into<String>) -> Box<InputError> {
    Box::new(InputError {
        path: path.to_string(),
        problem: problem.into(),
    })
}

fn describe(value: &Value) -> &'static str {
    if value.is_null() {
        "null"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.as_number().is_some() {
        "a number"
    } else if value.as_string().is_some() {
        "a string"
    } else if value.is_array() {
        "a list"
    } else if value.is_obj() {
        "an object"
    } else {
        "an unreadable value"
    }
}

fn expected(value: &Value, path: &Path, what: &str) -> Box<InputError> {
    error(path, format!("expected {what}, found {}", describe(value)))
}

/// The fields an input-query selection asks for, in the query's order, and how objects of
/// this kind are laid out (see the module comment).
struct Selection {
    fields: &'static [&'static str],
    /// The fields that will be read, bit `i` for field `i`: the keys checked.
    read: u64,
    /// The fields the input variables set from this policy include (per-line selections;
    /// all for the others).
    included: u64,
    /// Whether fields may be left out by `@include(if:)` (per-line selections).
    optional: bool,
    /// `Unknown` until the first object has been looked at.
    layout: Cell<Layout>,
}

/// Where an object's fields are. A selection's objects share one layout: GraphQL gives each
/// the same fields in the same order.
#[derive(Clone, Copy)]
enum Layout {
    Unknown,
    /// Field `i` of the selection at index `i`.
    QueryOrder,
    /// Field `i` at `positions[i]`, [`ABSENT`] when the query's variables leave it out; for
    /// objects of `len` fields.
    Positions {
        positions: [u8; MAX_FIELDS],
        len: usize,
    },
    /// Read by name (an input laid out otherwise than the query, or with extra fields).
    ByKey,
}

/// The most fields a per-line selection has.
const MAX_FIELDS: usize = 8;
const ABSENT: u8 = u8::MAX;

impl Selection {
    /// A selection read once per run: trusted on its length.
    const fn once(fields: &'static [&'static str]) -> Selection {
        Selection {
            fields,
            read: 0,
            included: u64::MAX,
            optional: false,
            layout: Cell::new(Layout::QueryOrder),
        }
    }

    /// A selection read for every line, of which the fields in `read` (bits) are read, some
    /// of which the query's variables may leave out (they include `included` when set from
    /// this policy): the first object's keys show where its fields are. Reading another
    /// field is a bug.
    fn per_line(fields: &'static [&'static str], read: u64, included: u64) -> Selection {
        Selection {
            fields,
            read,
            included,
            optional: true,
            layout: Cell::new(Layout::Unknown),
        }
    }

    /// A per-line selection all of whose fields are selected and read.
    fn per_line_all(fields: &'static [&'static str]) -> Selection {
        Selection {
            fields,
            read: u64::MAX,
            included: u64::MAX,
            optional: false,
            layout: Cell::new(Layout::Unknown),
        }
    }

    fn reads(&self, index: usize) -> bool {
        self.read & (1u64 << (index % 64)) != 0
    }
}

/// The error for field `name`, which the policy needs, left out of the object at `path`.
fn missing(name: &str, path: &Path) -> Box<InputError> {
    error(
        path,
        format!(
            "no `{name}`, which the policy needs (the query selects it unless the \
             input-variables metafield leaves it out: set them from this policy)"
        ),
    )
}

/// Where a field is in its object.
enum Located {
    At(usize),
    /// Left out by the query's variables.
    Absent,
    /// Only its key can tell.
    ByKey,
}

/// An input object and how its fields are read.
struct Object<'s> {
    value: Value,
    /// Its number of fields.
    len: usize,
    selection: &'s Selection,
    layout: Layout,
}

impl Object<'_> {
    /// Where field `index` is, as far as the layout tells.
    #[inline(always)]
    fn locate(&self, index: usize) -> Located {
        match self.layout {
            Layout::QueryOrder if index < self.len => Located::At(index),
            Layout::QueryOrder => Located::Absent,
            Layout::Positions { positions, .. } => match positions.get(index) {
                Some(&at) if at != ABSENT => Located::At(usize::from(at)),
                _ => Located::Absent,
            },
            Layout::Unknown | Layout::ByKey => Located::ByKey,
        }
    }

    /// Field `index` of the selection (null when the input leaves it out).
    fn get(&self, index: usize) -> Value {
        match self.locate(index) {
            Located::At(at) => self.value.get_at_index(at),
            Located::Absent | Located::ByKey => self.value.get_obj_prop(self.name(index)),
        }
    }

    /// Field `index`, or `None` when the query's variables left it out.
    fn present(&self, index: usize) -> Option<Value> {
        match self.locate(index) {
            Located::At(at) => Some(self.value.get_at_index(at)),
            Located::Absent => None,
            Located::ByKey => {
                let name = self.name(index);
                self.has_key(name).then(|| self.value.get_obj_prop(name))
            }
        }
    }

    fn has_key(&self, name: &str) -> bool {
        (0..self.value.obj_len().unwrap_or_default())
            .any(|at| is_key(self.value.get_obj_key_at_index(at), name))
    }

    /// Field `index`, which the policy needs: an error when the input leaves it out.
    fn required(&self, index: usize, path: &Path) -> Read<Value> {
        self.present(index)
            .ok_or_else(|| missing(self.name(index), path))
    }

    /// The path of field `index` under `parent` (this object's path).
    fn path_of<'p>(&self, parent: &'p Path<'p>, index: usize) -> Path<'p> {
        Path {
            parent: Some(parent),
            step: Step::Member(self.selection.fields, index),
        }
    }

    fn name(&self, index: usize) -> &'static str {
        self.selection
            .fields
            .get(index)
            .copied()
            .unwrap_or_default()
    }
}

// Each type test decodes the value's NaN-box again, so the readers below make one test on the
// expected path (`obj_len`, `as_string`, …) and look closer only when it fails. The scalar
// readers and `opt_object` are inlined (the crate is built for size, where they would stay
// calls): 121 bytes for 23k instructions on 200 lines.

fn object<'s>(value: Value, selection: &'s Selection, path: &Path) -> Read<Object<'s>> {
    match value.obj_len() {
        Some(len) => laid_out(value, len, selection, path),
        None => Err(expected(&value, path, "an object")),
    }
}

#[inline(always)]
fn opt_object<'s>(value: Value, selection: &'s Selection, path: &Path) -> Read<Option<Object<'s>>> {
    match value.obj_len() {
        Some(len) => laid_out(value, len, selection, path).map(Some),
        None if value.is_null() => Ok(None),
        None => Err(expected(&value, path, "an object")),
    }
}

/// An object of `len` fields: read by position when its layout is known.
///
/// The usual case (the layout known, the length that of the selection's other objects) is
/// inlined into the readers; the rest is [`laid_out_slow`].
#[inline(always)]
fn laid_out<'s>(
    value: Value,
    len: usize,
    selection: &'s Selection,
    path: &Path,
) -> Read<Object<'s>> {
    let layout = match selection.layout.get() {
        // At least as many fields as any the selection requires: no length error.
        Layout::QueryOrder if len == selection.fields.len() => Layout::QueryOrder,
        // `known` passed the length check when the layout was taken from its first object.
        Layout::Positions {
            positions,
            len: known,
        } if len == known => Layout::Positions {
            positions,
            len: known,
        },
        _ => return laid_out_slow(value, len, selection, path),
    };
    Ok(Object {
        value,
        len,
        selection,
        layout,
    })
}

/// [`laid_out`] where its usual case does not hold.
fn laid_out_slow<'s>(
    value: Value,
    len: usize,
    selection: &'s Selection,
    path: &Path,
) -> Read<Object<'s>> {
    let wanted = selection.fields.len();
    if len < wanted && !selection.optional {
        return Err(error(
            path,
            format!(
                "expected the {wanted} fields the input query selects ({}), found {len}",
                selection.fields.join(", ")
            ),
        ));
    }
    // `laid_out` has taken a known layout at its objects' length: left here are a
    // selection's first object, and other lengths.
    let layout = match selection.layout.get() {
        Layout::Unknown => {
            let layout = first_layout(&value, len, selection);
            selection.layout.set(layout);
            layout
        }
        // Another length than the selection's other objects: read this one by name.
        _ => Layout::ByKey,
    };
    Ok(Object {
        value,
        len,
        selection,
        layout,
    })
}

/// The layout of a per-line selection, from its first object: that of every field the query
/// selects, or else of those the input variables set from this policy include, when the
/// object has as many and the keys of those read are in place (by their length, in the
/// key's handle: no key string read, once per run); else where each field is, from all its
/// keys.
fn first_layout(value: &Value, len: usize, selection: &Selection) -> Layout {
    let wanted = selection.fields.len();
    let every = u64::MAX >> (64 - wanted.clamp(1, 64));
    let included = selection.included & every;
    let key = |at: usize| value.get_obj_key_at_index(at);
    for fields in [every, included] {
        if let Some(layout) = expected_layout(value, len, selection, fields) {
            return layout;
        }
        if included == every {
            break;
        }
    }
    if wanted > MAX_FIELDS || len > usize::from(ABSENT) {
        return Layout::ByKey;
    }
    let mut positions = [ABSENT; MAX_FIELDS];
    for at in 0..len {
        let Some(name) = key(at) else {
            return Layout::ByKey;
        };
        let field = selection
            .fields
            .iter()
            .position(|field| same_text(field.as_bytes(), name.as_bytes()));
        if let Some(slot) = field.and_then(|field| positions.get_mut(field)) {
            // `len` is at most `ABSENT`, checked above.
            *slot = u8::try_from(at).unwrap_or(ABSENT);
        }
    }
    Layout::Positions { positions, len }
}

/// The layout of an object of `len` fields that holds the selection's `fields` (bits) in the
/// query's order, if it has as many and the key of each field read there is as long as the
/// field's name. The per-line selections' names differ in length but for a line's `variant`
/// and `product`, two objects that their lengths tell apart: each reader refuses the other
/// (a variant's selection is checked too, and has two fields; a product, read by name at
/// another length, has no `hasAnyTag`).
fn expected_layout(
    value: &Value,
    len: usize,
    selection: &Selection,
    fields: u64,
) -> Option<Layout> {
    let wanted = selection.fields.len();
    // (Positions are kept for the first `MAX_FIELDS` fields.)
    if fields.count_ones() as usize != len || (len != wanted && wanted > MAX_FIELDS) {
        return None;
    }
    let mut positions = [ABSENT; MAX_FIELDS];
    for (index, name) in selection.fields.iter().enumerate() {
        let bit = 1u64 << (index % 64);
        if fields & bit == 0 {
            continue;
        }
        let at = (fields & (bit - 1)).count_ones() as usize;
        if selection.reads(index) && value.key_at_index(at).str_len() != Some(name.len()) {
            return None;
        }
        if let Some(slot) = positions.get_mut(index) {
            // Below `MAX_FIELDS`.
            *slot = u8::try_from(at).unwrap_or(ABSENT);
        }
    }
    Some(if len == wanted {
        Layout::QueryOrder
    } else {
        Layout::Positions { positions, len }
    })
}

/// Whether `key` (an object's key, if it has one there) is `name`: compared a word at a time
/// (a byte at a time, `==` cost about twenty instructions a byte in Wasm).
fn is_key(key: Option<String>, name: &str) -> bool {
    key.is_some_and(|key| same_text(key.as_bytes(), name.as_bytes()))
}

/// A present object whose fields are not read (`__typename` presence checks).
fn present(value: &Value, path: &Path) -> Read<bool> {
    if value.is_obj() {
        Ok(true)
    } else if value.is_null() {
        Ok(false)
    } else {
        Err(expected(value, path, "an object"))
    }
}

fn string(value: &Value, path: &Path) -> Read<String> {
    value
        .as_string()
        .ok_or_else(|| expected(value, path, "a string"))
}

#[inline(always)]
fn opt_string(value: &Value, path: &Path) -> Read<Option<String>> {
    match value.as_string() {
        Some(text) => Ok(Some(text)),
        None if value.is_null() => Ok(None),
        None => Err(expected(value, path, "a string")),
    }
}

#[inline(always)]
fn boolean(value: &Value, path: &Path) -> Read<bool> {
    value
        .as_bool()
        .ok_or_else(|| expected(value, path, "a boolean"))
}

#[inline(always)]
fn integer(value: &Value, path: &Path) -> Read<i64> {
    match value.as_number() {
        Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
        _ => Err(expected(value, path, "an integer")),
    }
}

fn list(value: &Value, path: &Path) -> Read<usize> {
    value
        .array_len()
        .ok_or_else(|| expected(value, path, "a list"))
}

fn utc(value: &Value, path: &Path) -> Read<Option<DateTime<Utc>>> {
    opt_string(value, path)?
        .map(|text| {
            parse_utc(&text).ok_or_else(|| {
                error(
                    path,
                    format!("`{text}` is not a DateTime (`2026-03-02T10:00:00Z`)"),
                )
            })
        })
        .transpose()
}

fn local(value: &Value, path: &Path) -> Read<Option<NaiveDateTime>> {
    opt_string(value, path)?
        .map(|text| {
            parse_local(text.as_bytes())
                .filter(|(_, rest)| rest.is_empty())
                .map(|(at, _)| at)
                .ok_or_else(|| {
                    error(
                        path,
                        format!(
                            "`{text}` is not a DateTimeWithoutTimezone (`2026-03-02T11:00:00`)"
                        ),
                    )
                })
        })
        .transpose()
}
/// `YYYY-MM-DDTHH:MM:SS[.fraction]` and what follows it. A small parser instead of chrono's
/// general one keeps the Wasm module well under Shopify's size limit.
fn parse_local(text: &[u8]) -> Option<(NaiveDateTime, &[u8])> {
    fn digits(text: &[u8], at: usize, len: usize) -> Option<u32> {
        text.get(at..at + len)?.iter().try_fold(0u32, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    }
    // The fixed-width part as one array: constant offsets into it need no bound checks
    // (this runs two or three times a run, at a few hundred instructions less each).
    // Inlined by hand: the Function's crate is built for size, where helpers stay calls.
    #[inline(always)]
    fn byte(head: &[u8; 19], at: usize) -> u8 {
        head.get(at).copied().unwrap_or_default()
    }
    #[inline(always)]
    fn two(head: &[u8; 19], at: usize) -> Option<u32> {
        let tens = byte(head, at).wrapping_sub(b'0');
        let ones = byte(head, at + 1).wrapping_sub(b'0');
        (tens < 10 && ones < 10).then_some(u32::from(tens) * 10 + u32::from(ones))
    }
    let (head, mut rest) = text.split_first_chunk::<19>()?;
    // Each separator compared in place: a loop over them cost about 150 instructions a parse.
    let separated = byte(head, 4) == b'-'
        && byte(head, 7) == b'-'
        && byte(head, 10) == b'T'
        && byte(head, 13) == b':'
        && byte(head, 16) == b':';
    if !separated {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(two(head, 0)? * 100 + two(head, 2)?).ok()?,
        two(head, 5)?,
        two(head, 8)?,
    )?;
    let (hour, minute, second) = (two(head, 11)?, two(head, 14)?, two(head, 17)?);
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        nanos = digits(fraction, 0, len)? * 10u32.pow(9 - len as u32);
        rest = fraction.get(len..)?;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some((date.and_time(time), rest))
}

/// A `DateTime`: a local date and time followed by `Z` or an offset `±HH:MM`.
fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let (local, rest) = parse_local(text.as_bytes())?;
    let offset_minutes: i64 = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let all = [*h1, *h2, *m1, *m2];
            if !all.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = |a: u8, b: u8| i64::from(a - b'0') * 10 + i64::from(b - b'0');
            let minutes = value(*h1, *h2) * 60 + value(*m1, *m2);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    if offset_minutes == 0 {
        return Some(local.and_utc());
    }
    let utc = local.checked_sub_signed(TimeDelta::minutes(offset_minutes))?;
    Some(utc.and_utc())
}

/// The selections of `order_cancellation_run.graphql`, field by field in the query's order
/// (a field's index is its position). Keep them in step with the query.
mod query {
    pub const ROOT: &[&str] = &["request", "shop", "cancellationPolicy", "order"];
    pub const ROOT_REQUEST: usize = 0;
    pub const ROOT_SHOP: usize = 1;
    pub const ROOT_OWNER: usize = 2;
    pub const ROOT_ORDER: usize = 3;

    pub const REQUEST: &[&str] = &["trigger", "requestedAt", "reason", "locale"];
    pub const REQUEST_TRIGGER: usize = 0;
    pub const REQUEST_REQUESTED_AT: usize = 1;
    pub const REQUEST_REASON: usize = 2;
    pub const REQUEST_LOCALE: usize = 3;

    pub const SHOP: &[&str] = &["localTime"];
    pub const LOCAL_TIME: &[&str] = &["dateTime"];
    pub const OWNER: &[&str] = &["metafield"];
    pub const METAFIELD: &[&str] = &["value"];

    pub const ORDER: &[&str] = &[
        "createdAt",
        "cancellation",
        "displayFulfillmentStatus",
        "displayFinancialStatus",
        "fulfillmentOrders",
        "totalPriceSet",
        "purchasingEntity",
        "risk",
        "lineItems",
        "lineTags",
    ];
    pub const ORDER_CREATED_AT: usize = 0;
    pub const ORDER_CANCELLATION: usize = 1;
    pub const ORDER_FULFILLMENT_STATUS: usize = 2;
    pub const ORDER_FINANCIAL_STATUS: usize = 3;
    pub const ORDER_FULFILLMENT_ORDERS: usize = 4;
    pub const ORDER_TOTAL_PRICE: usize = 5;
    pub const ORDER_PURCHASING_ENTITY: usize = 6;
    pub const ORDER_RISK: usize = 7;
    pub const ORDER_LINE_ITEMS: usize = 8;
    /// `lineTags: lineItems { product { hasTags } }`, left out by `$withTagAnswers`.
    pub const ORDER_LINE_TAGS: usize = 9;

    pub const FULFILLMENT_ORDER: &[&str] = &["status", "requestStatus"];
    pub const TOTAL_PRICE: &[&str] = &["presentmentMoney"];
    pub const MONEY: &[&str] = &["amount", "currencyCode"];
    pub const TYPENAME: &[&str] = &["__typename"];
    pub const RISK: &[&str] = &["recommendation", "assessments"];
    pub const ASSESSMENT: &[&str] = &["riskLevel", "provider"];

    pub const LINE: &[&str] = &["id", "quantity", "sku", "sellingPlan", "variant", "product"];
    pub const LINE_ID: usize = 0;
    pub const LINE_QUANTITY: usize = 1;
    pub const LINE_SKU: usize = 2;
    pub const LINE_SELLING_PLAN: usize = 3;
    pub const LINE_VARIANT: usize = 4;
    pub const LINE_PRODUCT: usize = 5;

    pub const SELLING_PLAN: &[&str] = &["category"];
    pub const VARIANT: &[&str] = &["inventoryQuantity", "inventoryPolicy"];
    pub const PRODUCT: &[&str] = &["hasAnyTag"];
    pub const LINE_TAGS: &[&str] = &["product"];
    pub const TAGS_PRODUCT: &[&str] = &["hasTags"];
    pub const ANSWER: &[&str] = &["hasTag"];
}

/// The `CancellationTrigger` values of schema.graphql, with their triggers (a test checks
/// them against `Trigger::name`).
const TRIGGER_VALUES: [(&str, Trigger); 7] = [
    ("CUSTOMER_REQUEST", Trigger::CustomerRequest),
    ("STAFF_REQUEST", Trigger::StaffRequest),
    ("ORDER_CREATED", Trigger::OrderCreated),
    ("RISK_CHANGED", Trigger::RiskChanged),
    ("INVENTORY_CHANGED", Trigger::InventoryChanged),
    ("FLOW_ACTION", Trigger::FlowAction),
    ("SCHEDULED", Trigger::Scheduled),
];

/// What the Function reads before it knows the policy.
pub struct Head {
    pub trigger: Trigger,
    pub requested_at: DateTime<Utc>,
    /// The `request` object, for the fields read once the policy is known.
    request: Value,
    request_layout: Layout,
    request_len: usize,
    /// The customer's locale: it picks which of the policy's messages are read.
    pub locale: Option<String>,
    /// The compiled-policy metafield's value, when the owner has one.
    pub policy_json: Option<String>,
}

/// The request and the policy: read for every run.
pub fn read_head(root: &Value) -> Read<Head> {
    let path = Path::ROOT;
    let root_selection = Selection::once(query::ROOT);
    let root = object(*root, &root_selection, &path)?;

    let request_path = root.path_of(&path, query::ROOT_REQUEST);
    let request_selection = Selection::once(query::REQUEST);
    let request = object(
        root.get(query::ROOT_REQUEST),
        &request_selection,
        &request_path,
    )?;
    let trigger_path = request.path_of(&request_path, query::REQUEST_TRIGGER);
    let trigger_name = string(&request.get(query::REQUEST_TRIGGER), &trigger_path)?;
    // `CUSTOMER_REQUEST` is the trigger named `customer_request`: found as the schema spells
    // it by comparing words, else in any case (a byte at a time, a few hundred instructions).
    let as_spelled = TRIGGER_VALUES
        .iter()
        .find(|(value, _)| same_text(value.as_bytes(), trigger_name.as_bytes()))
        .map(|&(_, trigger)| trigger);
    let trigger = as_spelled
        .or_else(|| {
            Trigger::ALL
                .into_iter()
                .find(|trigger| trigger.name().eq_ignore_ascii_case(&trigger_name))
        })
        .ok_or_else(|| {
            error(
                &trigger_path,
                format!("`{trigger_name}` is not a CancellationTrigger"),
            )
        })?;
    let requested_path = request.path_of(&request_path, query::REQUEST_REQUESTED_AT);
    let requested_at = utc(&request.get(query::REQUEST_REQUESTED_AT), &requested_path)?
        .ok_or_else(|| error(&requested_path, "required, found null"))?;
    let locale = opt_string(
        &request.get(query::REQUEST_LOCALE),
        &request.path_of(&request_path, query::REQUEST_LOCALE),
    )?;

    let owner_path = root.path_of(&path, query::ROOT_OWNER);
    let owner_selection = Selection::once(query::OWNER);
    let owner = object(root.get(query::ROOT_OWNER), &owner_selection, &owner_path)?;
    let metafield_path = owner.path_of(&owner_path, 0);
    let metafield_selection = Selection::once(query::METAFIELD);
    let policy_json = match opt_object(owner.get(0), &metafield_selection, &metafield_path)? {
        Some(metafield) => Some(string(
            &metafield.get(0),
            &metafield.path_of(&metafield_path, 0),
        )?),
        None => None,
    };

    Ok(Head {
        trigger,
        requested_at,
        request: request.value,
        request_layout: request.layout,
        request_len: request.len,
        locale,
        policy_json,
    })
}

/// A line's answers about the tags of the `$productTags` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answers {
    /// The product has none of them (its `hasAnyTag` pre-check is false), or no longer
    /// exists, or the policy asks about no tag.
    Unread,
    /// `hasTags`: one answer per tag, in the variable's order.
    Each(Vec<bool>),
    /// `hasAnyTag` is true: the product has some of the tags. Replaced by `Each` from
    /// `lineTags` when the variables include it; else that is all the policy's tag tests
    /// ask (see `tags_answered_by_any`).
    Any,
}

/// The order facts the policy can consult (`needs`); the rest keep their defaults, unread.
/// `header` tells which order fields the input variables include when they are set from this
/// policy (`OrderInputs::of_needs` of what any trigger needs).
pub fn read_facts(
    root: &Value,
    head: Head,
    needs: &Needs,
    header: &FunctionHeader,
) -> Read<(Facts, Vec<Answers>, Option<LineIds>)> {
    let path = Path::ROOT;
    let root_selection = Selection::once(query::ROOT);
    let root = object(*root, &root_selection, &path)?;
    let request_selection = Selection::once(query::REQUEST);
    let request = Object {
        value: head.request,
        len: head.request_len,
        selection: &request_selection,
        layout: head.request_layout,
    };
    let reason = if needs.request_reason {
        let reason_path = root.path_of(&path, query::ROOT_REQUEST);
        opt_string(
            &request.get(query::REQUEST_REASON),
            &request.path_of(&reason_path, query::REQUEST_REASON),
        )?
    } else {
        None
    };
    let request = RequestFacts {
        // Not in the input: the core takes the source the trigger implies (see the query).
        source: None,
        reason,
        locale: head.locale,
    };
    let now_local = if needs.now_local {
        let shop_path = root.path_of(&path, query::ROOT_SHOP);
        let shop_selection = Selection::once(query::SHOP);
        let shop = object(root.get(query::ROOT_SHOP), &shop_selection, &shop_path)?;
        let local_time_path = shop.path_of(&shop_path, 0);
        let local_time_selection = Selection::once(query::LOCAL_TIME);
        let local_time = object(shop.get(0), &local_time_selection, &local_time_path)?;
        let now_path = local_time.path_of(&local_time_path, 0);
        Some(
            local(&local_time.get(0), &now_path)?
                .ok_or_else(|| error(&now_path, "required, found null"))?,
        )
    } else {
        None
    };

    // What the input variables set from this policy include follows from this.
    let any_trigger_needs = header.any_trigger_needs();
    let order_path = root.path_of(&path, query::ROOT_ORDER);
    let order_selection = Selection::once(query::ORDER);
    let order = OrderObject::new(
        root.get(query::ROOT_ORDER),
        any_trigger_needs,
        &order_selection,
        &order_path,
    )?;
    let line_tags_unread = header.tags_by_any.then_some(any_trigger_needs);
    let (order, tag_answers, line_ids) = read_order(
        &order,
        &order_path,
        needs,
        line_tags_unread,
        any_trigger_needs,
    )?;
    Ok((
        Facts {
            order,
            request,
            now_local,
        },
        tag_answers,
        line_ids,
    ))
}

/// The lines' ids, read after the decision and only for the lines it cancels: an id names a
/// line in a `cancel_lines` decision, and no condition tests it (each costs the provider
/// about a thousand instructions). So are their quantities when only that decision consults
/// them (`Needs::quantities_later`).
pub struct LineIds {
    lines: Value,
    /// The lines' selection, laid out as the lines were read.
    selection: Selection,
    quantities: bool,
}

impl LineIds {
    /// Sets the id (and the quantity, if it is read later) of the lines at `indexes` in
    /// `facts`.
    pub fn read_into(&self, facts: &mut Facts, indexes: &[usize]) -> Read<()> {
        let order_path = Path {
            parent: Some(&Path::ROOT),
            step: Step::Member(query::ROOT, query::ROOT_ORDER),
        };
        let lines_path = Path {
            parent: Some(&order_path),
            step: Step::Member(query::ORDER, query::ORDER_LINE_ITEMS),
        };
        for &index in indexes {
            let Some(line_facts) = facts.order.line_items.get_mut(index) else {
                continue;
            };
            let line_path = lines_path.index(index);
            let line = object(self.lines.get_at_index(index), &self.selection, &line_path)?;
            line_facts.id = string(
                &line.required(query::LINE_ID, &line_path)?,
                &line.path_of(&line_path, query::LINE_ID),
            )?;
            if self.quantities {
                line_facts.quantity = integer(
                    &line.required(query::LINE_QUANTITY, &line_path)?,
                    &line.path_of(&line_path, query::LINE_QUANTITY),
                )?;
            }
        }
        Ok(())
    }
}

/// The order object. With every field the query selects, they are in the query's order
/// (trusted on its length, as objects read once are). With fewer (the input variables leave
/// out `lineTags`, or fields no rule consults), `included` tells where each field should be,
/// and its key is checked before it is read: variables that do not match the policy leave out
/// or move what it reads, which is then looked up by name and refused when absent.
struct OrderObject<'s> {
    object: Object<'s>,
    /// The fields the variables include (see [`order_fields`]); `None`: every field, in the
    /// query's order (or, at another length, read by name).
    included: Option<u16>,
}

impl<'s> OrderObject<'s> {
    /// `needs`: what deciding for any trigger may read (the included fields follow from it).
    fn new(
        value: Value,
        needs: InputNeeds,
        selection: &'s Selection,
        path: &Path,
    ) -> Read<OrderObject<'s>> {
        let Some(len) = value.obj_len() else {
            return Err(expected(&value, path, "an object"));
        };
        let (layout, included) = if len == query::ORDER.len() {
            (Layout::QueryOrder, None)
        } else {
            let fields = order_fields(&OrderInputs::of_needs(needs));
            let without_tags = (fields & !(1 << query::ORDER_LINE_TAGS)).count_ones() as usize;
            let known = len == without_tags || len == without_tags + 1;
            (Layout::ByKey, known.then_some(fields))
        };
        let object = Object {
            value,
            len,
            selection,
            layout,
        };
        Ok(OrderObject { object, included })
    }

    /// Field `index`, or `None` when the input leaves it out.
    fn present(&self, index: usize) -> Option<Value> {
        let object = &self.object;
        match self.included {
            None if matches!(object.layout, Layout::QueryOrder) => {
                (index < object.len).then(|| object.value.get_at_index(index))
            }
            Some(included) => {
                let bit = 1u16 << (index % 16);
                let at = (included & (bit - 1)).count_ones() as usize;
                if included & bit == 0 || at >= object.len {
                    return None;
                }
                let value = object.value.get_at_index(at);
                if self.key_is(at, index, &value) {
                    Some(value)
                } else {
                    // Variables other than the policy's: the field is elsewhere, if anywhere.
                    self.by_key(index)
                }
            }
            None => self.by_key(index),
        }
    }

    /// Field `index` looked up by name. The by-name arm of `Object::present` again, on
    /// purpose: calling that instead saved 215 bytes of module but changed what is inlined on
    /// the per-line path, +19k instructions on 200 lines × 50 rules.
    fn by_key(&self, index: usize) -> Option<Value> {
        let name = self.object.name(index);
        let value = &self.object.value;
        let len = value.obj_len().unwrap_or_default();
        (0..len)
            .any(|at| is_key(value.get_obj_key_at_index(at), name))
            .then(|| value.get_obj_prop(name))
    }

    /// Whether the key at `at`, whose value is `value`, is field `index`'s name. The query's
    /// field names differ in length (in the key's handle, no string read), but for
    /// `createdAt` and `lineItems`, of which one is a string and the other a list: a response
    /// to this query has no other keys.
    fn key_is(&self, at: usize, index: usize, value: &Value) -> bool {
        let name = self.object.name(index);
        let key = self.object.value.key_at_index(at);
        key.str_len() == Some(name.len())
            && (SHARED_LENGTH & (1 << (index % 16)) == 0
                || value.is_array() == (index == query::ORDER_LINE_ITEMS))
    }

    /// Field `index`, which the policy needs: an error when the input leaves it out.
    fn required(&self, index: usize, path: &Path) -> Read<Value> {
        self.present(index)
            .ok_or_else(|| missing(self.object.name(index), path))
    }

    fn path_of<'p>(&self, parent: &'p Path<'p>, index: usize) -> Path<'p> {
        self.object.path_of(parent, index)
    }
}

/// The fields of `query::ORDER` whose name is as long as another's, bit `i` for field `i`.
const SHARED_LENGTH: u16 = shared_length(query::ORDER);

const fn shared_length(fields: &[&str]) -> u16 {
    let mut shared = 0u16;
    let (mut rest, mut index) = (fields, 0);
    while let [field, tail @ ..] = rest {
        let (mut others, mut same) = (fields, 0);
        while let [other, more @ ..] = others {
            if other.len() == field.len() {
                same += 1;
            }
            others = more;
        }
        if same > 1 {
            shared |= 1 << (index % 16);
        }
        index += 1;
        rest = tail;
    }
    shared
}

/// The order fields `included` includes, bit `i` for field `i` of `query::ORDER`; `lineItems`
/// and `lineTags` (which has its own switch, the last field) always.
fn order_fields(included: &OrderInputs) -> u16 {
    let bit = |included: bool, index: usize| u16::from(included) << index;
    bit(included.with_created_at, query::ORDER_CREATED_AT)
        | bit(included.with_cancellation, query::ORDER_CANCELLATION)
        | bit(
            included.with_fulfillment_status,
            query::ORDER_FULFILLMENT_STATUS,
        )
        | bit(
            included.with_financial_status,
            query::ORDER_FINANCIAL_STATUS,
        )
        | bit(
            included.with_fulfillment_orders,
            query::ORDER_FULFILLMENT_ORDERS,
        )
        | bit(included.with_total_price, query::ORDER_TOTAL_PRICE)
        | bit(
            included.with_purchasing_entity,
            query::ORDER_PURCHASING_ENTITY,
        )
        | bit(included.with_risk, query::ORDER_RISK)
        | bit(true, query::ORDER_LINE_ITEMS)
        | bit(true, query::ORDER_LINE_TAGS)
}

/// `tags_by_any`: what any trigger needs, when `hasAnyTag` alone answers the tag tests.
fn read_order(
    order: &OrderObject,
    path: &Path,
    needs: &Needs,
    tags_by_any: Option<InputNeeds>,
    any_trigger_needs: InputNeeds,
) -> Read<(OrderFacts, Vec<Answers>, Option<LineIds>)> {
    let field_path = |index| order.path_of(path, index);
    let mut facts = OrderFacts::default();
    if needs.placed {
        facts.created_at = utc(
            &order.required(query::ORDER_CREATED_AT, path)?,
            &field_path(query::ORDER_CREATED_AT),
        )?;
    }
    if needs.cancelled {
        facts.cancelled = present(
            &order.required(query::ORDER_CANCELLATION, path)?,
            &field_path(query::ORDER_CANCELLATION),
        )?;
    }
    if needs.fulfillment_status {
        facts.display_fulfillment_status = opt_string(
            &order.required(query::ORDER_FULFILLMENT_STATUS, path)?,
            &field_path(query::ORDER_FULFILLMENT_STATUS),
        )?;
    }
    if needs.financial_status {
        facts.display_financial_status = opt_string(
            &order.required(query::ORDER_FINANCIAL_STATUS, path)?,
            &field_path(query::ORDER_FINANCIAL_STATUS),
        )?;
    }
    if needs.fulfillment_orders {
        let fo_path = field_path(query::ORDER_FULFILLMENT_ORDERS);
        let fulfillment_orders = order.required(query::ORDER_FULFILLMENT_ORDERS, path)?;
        let selection = Selection::per_line_all(query::FULFILLMENT_ORDER);
        for index in 0..list(&fulfillment_orders, &fo_path)? {
            let item_path = fo_path.index(index);
            let item = object(
                fulfillment_orders.get_at_index(index),
                &selection,
                &item_path,
            )?;
            facts.fulfillment_orders.push(FulfillmentOrderFacts {
                status: string(&item.get(0), &item.path_of(&item_path, 0))?,
                request_status: string(&item.get(1), &item.path_of(&item_path, 1))?,
                ..FulfillmentOrderFacts::default()
            });
        }
    }
    if needs.total_price {
        let total_path = field_path(query::ORDER_TOTAL_PRICE);
        let selection = Selection::once(query::TOTAL_PRICE);
        if let Some(total) = opt_object(
            order.required(query::ORDER_TOTAL_PRICE, path)?,
            &selection,
            &total_path,
        )? {
            let money_path = total.path_of(&total_path, 0);
            facts.total_price = Some(money(total.get(0), &money_path)?);
        }
    }
    if needs.b2b {
        let entity_path = field_path(query::ORDER_PURCHASING_ENTITY);
        let selection = Selection::once(query::TYPENAME);
        if let Some(entity) = opt_object(
            order.required(query::ORDER_PURCHASING_ENTITY, path)?,
            &selection,
            &entity_path,
        )? {
            let typename = string(&entity.get(0), &entity.path_of(&entity_path, 0))?;
            facts.b2b = typename == "PurchasingCompany";
        }
    }
    if needs.risk {
        facts.risk = read_risk(
            order.required(query::ORDER_RISK, path)?,
            &field_path(query::ORDER_RISK),
        )?;
    }

    let mut tag_answers = Vec::new();
    let mut line_ids = None;
    if let Some(line_needs) = &needs.lines {
        let lines_path = field_path(query::ORDER_LINE_ITEMS);
        let lines = order.required(query::ORDER_LINE_ITEMS, path)?;
        // Where a line's fields are, when the variables are set from this policy.
        let included_lines = line_fields(&LineInputs::of_needs(any_trigger_needs));
        let count = list(&lines, &lines_path)?;
        facts.line_items.reserve(count);
        // (The ids are read later, and the quantities that only name lines: `LineIds`.)
        let quantities_later = needs.quantities_later;
        let read_now = LineNeeds {
            with_line_id: false,
            with_quantity: line_needs.with_quantity && !quantities_later,
            ..*line_needs
        };
        // The keys of the fields read later are checked with the others', on the first line.
        let selection = Selection::per_line(query::LINE, line_fields(line_needs), included_lines);
        let selection = if line_fields(&read_now) != 0 {
            let mut reader = LineReader::new(&read_now, selection);
            if line_needs.with_product {
                tag_answers.reserve(count);
            }
            facts.line_items.resize_with(count, LineFacts::default);
            for (index, line) in facts.line_items.iter_mut().enumerate() {
                let line_path = lines_path.index(index);
                let tags = reader.read(lines.get_at_index(index), &line_path, line)?;
                if line_needs.with_product {
                    tag_answers.push(tags);
                }
            }
            if tag_answers
                .iter()
                .any(|answers| matches!(answers, Answers::Any))
                && !tags_by_any.is_some_and(only_kept_in_place)
                && let Some(line_tags) = order.present(query::ORDER_LINE_TAGS)
            {
                let tags_path = field_path(query::ORDER_LINE_TAGS);
                read_tag_answers(line_tags, &tags_path, &mut tag_answers)?;
            }
            reader.line
        } else {
            // Only the number of lines is consulted (and perhaps their ids, later).
            facts.line_items.resize_with(count, LineFacts::default);
            selection
        };
        line_ids = line_needs.with_line_id.then_some(LineIds {
            lines,
            selection,
            quantities: quantities_later,
        });
    }
    Ok((facts, tag_answers, line_ids))
}

/// Whether variables set for a policy whose tag tests `hasAnyTag` alone answers, and which
/// consults `needs`, keep `lineTags` only so that the order has every field (see
/// `CompiledPolicy::included_inputs`): it is not read then. (Where they include it for no
/// such reason, it is read and checked.)
fn only_kept_in_place(needs: InputNeeds) -> bool {
    OrderInputs::of_needs(needs) == OrderInputs::ALL
}

fn money(value: Value, path: &Path) -> Read<Money> {
    let selection = Selection::once(query::MONEY);
    let money = object(value, &selection, path)?;
    let amount_path = money.path_of(path, 0);
    let text = string(&money.get(0), &amount_path)?;
    let amount = Amount::parse(&text).map_err(|e| error(&amount_path, e.to_string()))?;
    Ok(Money {
        amount,
        currency_code: string(&money.get(1), &money.path_of(path, 1))?,
    })
}

fn read_risk(value: Value, path: &Path) -> Read<RiskFacts> {
    let selection = Selection::once(query::RISK);
    let risk = object(value, &selection, path)?;
    let assessments_path = risk.path_of(path, 1);
    let assessments = risk.get(1);
    let mut facts = RiskFacts {
        recommendation: Some(string(&risk.get(0), &risk.path_of(path, 0))?),
        ..RiskFacts::default()
    };
    let item_selection = Selection::per_line_all(query::ASSESSMENT);
    for index in 0..list(&assessments, &assessments_path)? {
        let item_path = assessments_path.index(index);
        let item = object(assessments.get_at_index(index), &item_selection, &item_path)?;
        facts.assessments.push(RiskAssessmentFacts {
            risk_level: string(&item.get(0), &item.path_of(&item_path, 0))?,
            third_party: present(&item.get(1), &item.path_of(&item_path, 1))?,
        });
    }
    Ok(facts)
}

/// The fields of a line that `needs` reads, bit `i` for field `i`. (Shifts, not a loop over
/// pairs: a few instructions, where the loop cost about 300 a run.)
fn line_fields(needs: &LineNeeds) -> u64 {
    let bit = |wanted: bool, index: usize| u64::from(wanted) << index;
    bit(needs.with_line_id, query::LINE_ID)
        | bit(needs.with_quantity, query::LINE_QUANTITY)
        | bit(needs.with_sku, query::LINE_SKU)
        | bit(needs.with_selling_plan, query::LINE_SELLING_PLAN)
        | bit(needs.with_variant, query::LINE_VARIANT)
        | bit(needs.with_product, query::LINE_PRODUCT)
}

/// Reads lines, remembering across them how their objects are laid out.
struct LineReader<'n> {
    needs: &'n LineNeeds,
    line: Selection,
    selling_plan: Selection,
    variant: Selection,
    product: Selection,
}

impl<'n> LineReader<'n> {
    /// `needs`: the fields read now; `line`: the lines' selection (whose keys checked may
    /// include fields read later, by `LineIds`).
    fn new(needs: &'n LineNeeds, line: Selection) -> Self {
        LineReader {
            needs,
            line,
            // A one-field selection needs no key check: an object with one field holds it.
            selling_plan: Selection::once(query::SELLING_PLAN),
            variant: Selection::per_line_all(query::VARIANT),
            product: Selection::once(query::PRODUCT),
        }
    }

    /// Reads a line into `facts` (a default `LineFacts`) and returns its tag answers. Not its
    /// id: see [`LineIds`] (whose selection this one becomes, its key checked with the others
    /// on the first line).
    fn read(&mut self, value: Value, path: &Path, facts: &mut LineFacts) -> Read<Answers> {
        let needs = self.needs;
        let line = object(value, &self.line, path)?;
        let field_path = |index| line.path_of(path, index);
        if needs.with_quantity {
            facts.quantity = integer(
                &line.required(query::LINE_QUANTITY, path)?,
                &field_path(query::LINE_QUANTITY),
            )?;
        }
        if needs.with_sku {
            facts.sku = opt_string(
                &line.required(query::LINE_SKU, path)?,
                &field_path(query::LINE_SKU),
            )?;
        }
        if needs.with_selling_plan {
            let plan_path = field_path(query::LINE_SELLING_PLAN);
            if let Some(plan) = opt_object(
                line.required(query::LINE_SELLING_PLAN, path)?,
                &self.selling_plan,
                &plan_path,
            )? {
                // `SellingPlanCategory` (SUBSCRIPTION, PRE_ORDER) is the fact's value in upper case.
                facts.selling_plan =
                    opt_string(&plan.get(0), &plan.path_of(&plan_path, 0))?.map(|mut category| {
                        // In place: no second string.
                        category.make_ascii_lowercase();
                        category
                    });
            }
        }
        if needs.with_variant {
            let variant_path = field_path(query::LINE_VARIANT);
            if let Some(variant) = opt_object(
                line.required(query::LINE_VARIANT, path)?,
                &self.variant,
                &variant_path,
            )? {
                let quantity = variant.get(0);
                if !quantity.is_null() {
                    facts.inventory_quantity =
                        Some(integer(&quantity, &variant.path_of(&variant_path, 0))?);
                }
                facts.inventory_policy =
                    opt_string(&variant.get(1), &variant.path_of(&variant_path, 1))?;
            }
        }
        if !needs.with_product {
            return Ok(Answers::Unread);
        }
        let product_path = field_path(query::LINE_PRODUCT);
        let Some(product) = opt_object(
            line.required(query::LINE_PRODUCT, path)?,
            &self.product,
            &product_path,
        )?
        else {
            return Ok(Answers::Unread);
        };
        let any = boolean(&product.get(0), &product.path_of(&product_path, 0))?;
        // The answers themselves are in `lineTags`, read once every line is (`read_tag_answers`).
        Ok(if any { Answers::Any } else { Answers::Unread })
    }
}

/// Replaces `Answers::Any` with the line's `hasTags` answers from `lineTags` (the same lines).
/// Only lines with some of the tags are read, so the provider decodes `lineTags` only up to
/// the last of them.
fn read_tag_answers(line_tags: Value, path: &Path, tag_answers: &mut [Answers]) -> Read<()> {
    let count = list(&line_tags, path)?;
    if count != tag_answers.len() {
        return Err(error(
            path,
            format!(
                "expected {} lines, as `lineItems`, found {count}",
                tag_answers.len()
            ),
        ));
    }
    let line_selection = Selection::once(query::LINE_TAGS);
    let product_selection = Selection::once(query::TAGS_PRODUCT);
    for (index, line_answers) in tag_answers.iter_mut().enumerate() {
        if !matches!(line_answers, Answers::Any) {
            continue;
        }
        let line_path = path.index(index);
        let line = object(line_tags.get_at_index(index), &line_selection, &line_path)?;
        let product_path = line.path_of(&line_path, 0);
        *line_answers = match opt_object(line.get(0), &product_selection, &product_path)? {
            Some(product) => {
                let answers_path = product.path_of(&product_path, 0);
                Answers::Each(answers(product.get(0), &answers_path)?)
            }
            None => Answers::Unread,
        };
    }
    Ok(())
}

/// The booleans of a `hasTags` answer list.
fn answers(items: Value, path: &Path) -> Read<Vec<bool>> {
    let count = list(&items, path)?;
    let selection = Selection::once(query::ANSWER);
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let item = items.get_at_index(index);
        // `{hasTag: bool}` is read in two calls (one answer per tag and tagged line: the hot
        // loop of a tag-heavy order); anything else is looked at closely.
        let expected = match item.obj_len() {
            Some(1) => item.get_at_index(0).as_bool(),
            _ => None,
        };
        let has = match expected {
            Some(has) => has,
            None => {
                let item_path = path.index(index);
                let item = object(item, &selection, &item_path)?;
                boolean(&item.get(0), &item.path_of(&item_path, 0))?
            }
        };
        out.push(has);
    }
    Ok(out)
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn the_trigger_values_are_the_triggers_names_in_capitals() {
        let triggers: Vec<Trigger> = TRIGGER_VALUES.iter().map(|&(_, t)| t).collect();
        assert_eq!(triggers, Trigger::ALL);
        for (value, trigger) in TRIGGER_VALUES {
            assert_eq!(value, trigger.name().to_ascii_uppercase());
        }
        let schema = include_str!("../schema.graphql");
        let values = schema
            .split("enum CancellationTrigger {")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .unwrap();
        let values: Vec<&str> = values.split_whitespace().collect();
        let ours: Vec<&str> = TRIGGER_VALUES.iter().map(|&(value, _)| value).collect();
        assert_eq!(values, ours);
    }

    #[test]
    fn only_created_at_and_line_items_share_a_name_length() {
        // `OrderObject::key_is` tells these two apart by their types, the rest by length.
        let shared = (1 << query::ORDER_CREATED_AT) | (1 << query::ORDER_LINE_ITEMS);
        assert_eq!(SHARED_LENGTH, shared);
        assert_eq!(query::ORDER.len(), query::ORDER_LINE_TAGS + 1);
    }

    #[test]
    fn date_times_with_z_or_an_offset_are_the_same_instant() {
        let at = |text| parse_utc(text).map(|t| t.to_rfc3339());
        let expected = Some("2026-03-02T10:00:00+00:00".to_string());
        assert_eq!(at("2026-03-02T10:00:00Z"), expected);
        assert_eq!(at("2026-03-02T11:00:00+01:00"), expected);
        assert_eq!(at("2026-03-02T04:30:00-05:30"), expected);
        assert_eq!(
            at("2026-03-02T10:00:00.250Z").as_deref(),
            Some("2026-03-02T10:00:00.250+00:00")
        );
        assert_eq!(at("2026-03-02T10:00:00"), None);
        assert_eq!(at("2026-03-02T10:00:00+1:00"), None);
        assert_eq!(at("2026-02-30T10:00:00Z"), None);
        assert_eq!(at("2026-0a-02T10:00:00Z"), None);
        assert_eq!(at("2026-03-02T10:00:6Z"), None);
        assert_eq!(at("2026-03-02 10:00:00Z"), None);
        assert_eq!(at("2026-03-02T24:00:00Z"), None);
        assert_eq!(at("2026-03-02T10:00:00.Z"), None);
        // Each separator is checked in its place.
        for place in [4, 7, 10, 13, 16] {
            let mut text = "2026-03-02T10:00:00Z".to_string();
            text.replace_range(place..=place, "/");
            assert_eq!(parse_utc(&text), None, "{text}");
        }
    }

    #[test]
    fn local_times_keep_their_fraction_and_refuse_trailing_text() {
        fn at(text: &str) -> Option<(String, &[u8])> {
            parse_local(text.as_bytes()).map(|(t, rest)| (t.to_string(), rest))
        }
        assert_eq!(
            at("2026-03-02T23:59:59.5"),
            Some(("2026-03-02 23:59:59.500".to_string(), &b""[..]))
        );
        assert_eq!(
            at("1999-12-31T00:00:00+01:00"),
            Some(("1999-12-31 00:00:00".to_string(), &b"+01:00"[..]))
        );
        assert_eq!(at("1999-12-31T00:00"), None);
    }
}
