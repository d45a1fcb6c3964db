//! Three-valued evaluation of conditions: a fact the order lacks makes a test unknown, and a
//! rule decides only when all its conditions are known to hold.

use std::borrow::Cow;

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};

use crate::catalog::Fact;
use crate::compiled::{Condition, Quantifier, Test};
use crate::eval::Context;
use crate::facts::{FulfillmentOrderFacts, LineFacts, OrderFacts};
use crate::lowercase::{is_lowercase, to_lowercase};
use crate::text::same_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// A fact's value for one order (or line), borrowed from the facts where it can be: a policy
/// reads facts once per rule and line, and copying them dominated evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Num(f64),
    Bool(bool),
    Text(Cow<'a, str>),
    Set(Cow<'a, [String]>),
    /// Minutes after midnight.
    Time(u16),
    /// Placement and now, shop-local.
    Moments {
        placed: NaiveDateTime,
        now: NaiveDateTime,
    },
    Missing,
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(n) => write!(f, "{}", format_number(*n)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) => write!(f, "`{t}`"),
            Value::Set(items) => write!(f, "[{}]", items.join(", ")),
            Value::Time(m) => write!(f, "{:02}:{:02}", m / 60, m % 60),
            Value::Moments { placed, now } => write!(
                f,
                "placed {} , now {}",
                placed.format("%a %Y-%m-%d %H:%M"),
                now.format("%a %Y-%m-%d %H:%M")
            ),
            Value::Missing => write!(f, "missing"),
        }
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Evaluates a conjunction, returning the index of the first condition that is not true.
pub fn eval_all(
    conds: &[Condition],
    ctx: &Context,
    line: Option<&LineFacts>,
) -> (Tri, Option<usize>) {
    let mut result = Tri::True;
    let mut first_not_true = None;
    for (index, cond) in conds.iter().enumerate() {
        match eval(cond, ctx, line) {
            Tri::True => {}
            Tri::False => return (Tri::False, Some(index)),
            Tri::Unknown => {
                result = Tri::Unknown;
                first_not_true.get_or_insert(index);
            }
        }
    }
    (result, first_not_true)
}

pub fn eval(cond: &Condition, ctx: &Context, line: Option<&LineFacts>) -> Tri {
    match cond {
        Condition::All(list) => eval_all(list, ctx, line).0,
        Condition::Any(list) => {
            let mut result = Tri::False;
            for c in list {
                match eval(c, ctx, line) {
                    Tri::True => return Tri::True,
                    Tri::Unknown => result = Tri::Unknown,
                    Tri::False => {}
                }
            }
            result
        }
        Condition::Not(inner) => eval(inner, ctx, line).not(),
        Condition::Fact(fact, test) => test_fact(*fact, test, ctx, line),
        Condition::Lines(quantifier, conds) => eval_lines(quantifier, conds, ctx),
    }
}

fn eval_lines(quantifier: &Quantifier, conds: &[Condition], ctx: &Context) -> Tri {
    let lines = ctx.facts.order.line_items.iter();
    let check = LineCheck::new(conds);
    // A loop of its own for the usual checks, so that each line costs only its test.
    match check {
        LineCheck::Number(NumberField::Quantity, compare, bound) => {
            if let Some(result) =
                quantity_by_range(quantifier, compare, bound, ctx.quantity_range())
            {
                return result;
            }
            return quantify(
                quantifier,
                lines.map(|line| Tri::from_bool(compare.holds(line.quantity as f64, bound))),
            );
        }
        LineCheck::Glob {
            field,
            pattern,
            first,
        } => {
            if let Some(byte) = first
                && ctx.facts.order.line_items.len() >= TEXT_STARTS_MIN_LINES
            {
                let starts = ctx.text_starts(field);
                if !starts.starts_some(byte) {
                    return starts.quantify_failed(quantifier);
                }
            }
            return quantify(
                quantifier,
                lines.map(|line| glob_line(field, pattern, first, line)),
            );
        }
        LineCheck::ProductTags { test, untagged } => {
            // On a short order, building the sets costs more than the comparisons they save.
            if ctx.facts.order.line_items.len() >= TAG_SETS_MIN_LINES
                && let Some(sets) = ctx.line_tags()
            {
                // Without tags on any line, every line gives `untagged`.
                if !sets.tagged && !sets.lines.is_empty() {
                    match quantifier {
                        Quantifier::Any | Quantifier::All => return untagged,
                        Quantifier::None => return untagged.not(),
                        Quantifier::Count(_) => {}
                    }
                }
                if let Some(mask) = sets.mask(test) {
                    return quantify(
                        quantifier,
                        sets.lines.iter().map(|&bits| {
                            if bits == 0 {
                                untagged
                            } else {
                                Tri::from_bool(mask.holds(bits))
                            }
                        }),
                    );
                }
            }
        }
        _ => {}
    }
    quantify(quantifier, lines.map(|line| check.test(line, ctx)))
}

/// The fewest lines for which tag tests use `LineTagSets`.
const TAG_SETS_MIN_LINES: usize = 8;

/// The fewest lines for which glob tests look at `TextStarts` first.
const TEXT_STARTS_MIN_LINES: usize = 8;

/// Which bytes one line text starts with across the order's lines. A glob that starts with a
/// byte no line's text starts with fails on every line that has the text, so on a long order
/// a rule like `sku = { matches = "PRE-*" }` costs one look instead of one per line.
#[derive(Clone, Copy, Default)]
pub struct TextStarts {
    /// Bit `b % 64` set when some line's text starts with byte `b`. Bytes 64 apart share a
    /// bit (a lower-case letter and a digit or sign, say): a shared bit only sends the test to
    /// the lines, where it is exact. Upper-case letters and digits, what SKUs and globs usually
    /// start with, have bits of their own.
    first_bytes: u64,
    /// Some line has the text (an empty one starts with no byte).
    with_text: bool,
    /// Some line lacks the text.
    without_text: bool,
}

impl TextStarts {
    pub fn new(lines: &[LineFacts], field: TextField) -> Self {
        // A loop per field, so that choosing the field costs nothing per line.
        match field {
            TextField::Sku => Self::of(lines.iter().map(|line| line.sku.as_deref())),
            TextField::ProductType => {
                Self::of(lines.iter().map(|line| line.product_type.as_deref()))
            }
            TextField::Vendor => Self::of(lines.iter().map(|line| line.vendor.as_deref())),
        }
    }

    fn of<'t>(texts: impl Iterator<Item = Option<&'t str>>) -> Self {
        let mut starts = TextStarts::default();
        for text in texts {
            match text {
                Some(text) => {
                    starts.with_text = true;
                    if let Some(&byte) = text.as_bytes().first() {
                        starts.first_bytes |= 1 << (byte % 64);
                    }
                }
                None => starts.without_text = true,
            }
        }
        starts
    }

    fn starts_some(&self, byte: u8) -> bool {
        self.first_bytes & (1 << (byte % 64)) != 0
    }

    /// `quantify` over the lines when every line with the text fails the test and every line
    /// without it is unknown.
    fn quantify_failed(self, quantifier: &Quantifier) -> Tri {
        let some_line = if self.without_text {
            Tri::Unknown
        } else {
            Tri::False
        };
        match quantifier {
            Quantifier::Any => some_line,
            Quantifier::None => some_line.not(),
            Quantifier::All if self.with_text => Tri::False,
            Quantifier::All if self.without_text => Tri::Unknown,
            Quantifier::All => Tri::True,
            Quantifier::Count(test) => apply(Fact::LineCount, test, &Value::Num(0.0)),
        }
    }
}

/// A line quantity test read off the order's smallest and largest quantities, where those
/// decide it: `>`/`>=` holds on some line when it holds on the largest, on every line when it
/// holds on the smallest (the other way round for `<`/`<=`). `None` when the lines must be
/// counted or compared one by one, or the order has no lines.
fn quantity_by_range(
    quantifier: &Quantifier,
    compare: Compare,
    bound: f64,
    range: Option<(i64, i64)>,
) -> Option<Tri> {
    let (smallest, largest) = range?;
    // Converting to `f64` keeps the order of quantities, so the extremes stay extremes.
    let (for_some, for_every) = match compare {
        Compare::Gt | Compare::Ge => (largest, smallest),
        Compare::Lt | Compare::Le => (smallest, largest),
        Compare::Eq | Compare::Ne => return None,
    };
    let quantity = match quantifier {
        Quantifier::Any | Quantifier::None => for_some,
        Quantifier::All => for_every,
        Quantifier::Count(_) => return None,
    };
    let holds = Tri::from_bool(compare.holds(quantity as f64, bound));
    Some(if matches!(quantifier, Quantifier::None) {
        holds.not()
    } else {
        holds
    })
}

/// Each line's product tags as a set of bits, one per distinct tag of the order: a tag test
/// then costs one mask per line, where comparing texts cost hundreds of instructions per line
/// and rule.
pub struct LineTagSets<'a> {
    /// The distinct tags: no two of them compare equal.
    distinct: Vec<&'a str>,
    /// Per line, the bits of the `distinct` tags it has: zero exactly when it has no tags.
    lines: Vec<u64>,
    tagged: bool,
}

/// A set test on a line's tag bits: it holds when `(bits ^ flip) & mask == 0`, negated
/// when `negate` is set.
#[derive(Clone, Copy)]
struct TagMask {
    flip: u64,
    mask: u64,
    negate: bool,
}

impl TagMask {
    fn holds(self, bits: u64) -> bool {
        ((bits ^ self.flip) & self.mask == 0) != self.negate
    }
}

impl<'a> LineTagSets<'a> {
    /// `None` when the order has more than 64 distinct tags, or a line whose tags a set test
    /// compares lower-cased copies of (an upper-case letter among non-ASCII text; the
    /// policy's tags, and so the Function's, are lower case): its texts are compared instead.
    pub fn new(lines: &'a [LineFacts]) -> Option<Self> {
        let ci = Fact::ProductTags.case_insensitive();
        let mut distinct: Vec<&'a str> = Vec::new();
        let mut sets = Vec::with_capacity(lines.len());
        let mut tagged = false;
        for line in lines {
            // Most lines carry none of the policy's tags (the Function reads a line's tags
            // only when it has some).
            if line.product_tags.is_empty() {
                sets.push(0);
                continue;
            }
            let Cow::Borrowed(tags) = compared_tags(&line.product_tags, ci) else {
                return None;
            };
            let mut bits = 0u64;
            for tag in tags {
                let index = match distinct.iter().position(|d| text_eq(ci, d, tag)) {
                    Some(index) => index,
                    None => {
                        distinct.push(tag);
                        distinct.len() - 1
                    }
                };
                bits |= 1u64.checked_shl(u32::try_from(index).ok()?)?;
            }
            tagged |= bits != 0;
            sets.push(bits);
        }
        Some(LineTagSets {
            distinct,
            lines: sets,
            tagged,
        })
    }

    /// The bits of the distinct tags equal to one of `values`, and whether every value is
    /// one of them. Equality is an equivalence, so a value equals at most one distinct tag
    /// and equals a line's tag exactly when it equals that tag's distinct one.
    fn bits_of(&self, values: &[String], ci: bool) -> (u64, bool) {
        let mut bits = 0;
        let mut every = true;
        for value in values {
            match self.distinct.iter().position(|d| text_eq(ci, value, d)) {
                Some(index) => bits |= 1u64.checked_shl(index as u32).unwrap_or(0),
                None => every = false,
            }
        }
        (bits, every)
    }

    /// `set_test` on a line with tags, as a mask; `None` for a test that is not a set test.
    fn mask(&self, test: &Test) -> Option<TagMask> {
        let (Test::AnyOf(values)
        | Test::AllOf(values)
        | Test::NoneOf(values)
        | Test::AllIn(values)) = test
        else {
            return None;
        };
        let (bits, every) = self.bits_of(values, Fact::ProductTags.case_insensitive());
        let (flip, mask, negate) = match test {
            // Some value among the line's tags: the masked bits are not all zero.
            Test::AnyOf(_) => (0, bits, true),
            // Every value among them: no value's bit is missing. A value no line has fails
            // every line.
            Test::AllOf(_) if every => (!0, bits, false),
            Test::AllOf(_) => (0, 0, true),
            // Every tag of the line among the values: no bit outside theirs.
            Test::AllIn(_) => (0, !bits, false),
            _ => (0, bits, false),
        };
        Some(TagMask { flip, mask, negate })
    }
}

#[inline]
fn quantify(quantifier: &Quantifier, results: impl Iterator<Item = Tri>) -> Tri {
    match quantifier {
        Quantifier::Any => any(results),
        Quantifier::None => any(results).not(),
        Quantifier::All => {
            let mut result = Tri::True;
            for r in results {
                match r {
                    Tri::False => return Tri::False,
                    Tri::Unknown => result = Tri::Unknown,
                    Tri::True => {}
                }
            }
            result
        }
        Quantifier::Count(test) => {
            let count = results.filter(|r| *r == Tri::True).count();
            apply(Fact::LineCount, test, &Value::Num(count as f64))
        }
    }
}

/// `glob(pattern, text)`, where `first` is the pattern's first byte when that is no wildcard:
/// a text that does not start with it fails without a call to the matcher (most texts fail
/// there).
fn glob_line(field: TextField, pattern: &str, first: Option<u8>, line: &LineFacts) -> Tri {
    field.of(line).map_or(Tri::Unknown, |t| {
        Tri::from_bool(first.is_none_or(|b| t.as_bytes().first() == Some(&b)) && glob(pattern, t))
    })
}

fn tags_line(test: &Test, untagged: Tri, line: &LineFacts) -> Tri {
    if line.product_tags.is_empty() {
        untagged
    } else {
        tags_test(
            test,
            &line.product_tags,
            Fact::ProductTags.case_insensitive(),
        )
    }
}

/// The conditions a line must meet, with what can be resolved once for every line resolved
/// up front: a policy tests each line against each line condition, the hot loop of evaluation.
pub enum LineCheck<'p> {
    /// A line number compared with a constant: one comparison per line.
    Number(NumberField, Compare, f64),
    /// A line text that may be missing, matched against a glob, and the glob's first byte
    /// unless it is a wildcard.
    Glob {
        field: TextField,
        pattern: &'p str,
        first: Option<u8>,
    },
    /// Product tags; the answer for a line without tags (in the Function, a line has only the
    /// tags the policy asks about, so most have none) is worked out once.
    ProductTags { test: &'p Test, untagged: Tri },
    /// A line text (sku, product type, vendor, selling plan) under any other test; the answer
    /// for a line without it (no selling plan reads as `none`) is worked out once: most
    /// lines have no selling plan, and a policy's rules about plans test every line.
    Text {
        fact: Fact,
        test: &'p Test,
        ci: bool,
        absent: Tri,
    },
    /// Any other single line-fact test, without the walk of the condition tree.
    Fact(Fact, &'p Test),
    /// Anything else, evaluated as written.
    Conditions(&'p [Condition]),
}

#[derive(Clone, Copy)]
pub enum NumberField {
    Quantity,
    InventoryAvailable,
}

#[derive(Clone, Copy)]
pub enum TextField {
    Sku,
    ProductType,
    Vendor,
}

impl TextField {
    fn of(self, line: &LineFacts) -> Option<&str> {
        match self {
            TextField::Sku => line.sku.as_deref(),
            TextField::ProductType => line.product_type.as_deref(),
            TextField::Vendor => line.vendor.as_deref(),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    fn of(test: &Test) -> Option<(Compare, f64)> {
        Some(match test {
            Test::Eq(n) => (Compare::Eq, *n),
            Test::Ne(n) => (Compare::Ne, *n),
            Test::Lt(n) => (Compare::Lt, *n),
            Test::Le(n) => (Compare::Le, *n),
            Test::Gt(n) => (Compare::Gt, *n),
            Test::Ge(n) => (Compare::Ge, *n),
            _ => return None,
        })
    }

    fn holds(self, v: f64, n: f64) -> bool {
        match self {
            Compare::Eq => v == n,
            Compare::Ne => v != n,
            Compare::Lt => v < n,
            Compare::Le => v <= n,
            Compare::Gt => v > n,
            Compare::Ge => v >= n,
        }
    }
}

impl<'p> LineCheck<'p> {
    pub fn new(conds: &'p [Condition]) -> Self {
        match conds {
            [Condition::Fact(Fact::ProductTags, test)] => LineCheck::ProductTags {
                test,
                untagged: set_test(test, &[], Fact::ProductTags.case_insensitive()),
            },
            [Condition::Fact(fact, Test::Matches(pattern))]
                if matches!(fact, Fact::Sku | Fact::ProductType | Fact::Vendor) =>
            {
                let field = match fact {
                    Fact::Sku => TextField::Sku,
                    Fact::ProductType => TextField::ProductType,
                    _ => TextField::Vendor,
                };
                let first = pattern.bytes().next().filter(|b| !matches!(b, b'*' | b'?'));
                LineCheck::Glob {
                    field,
                    pattern,
                    first,
                }
            }
            [
                Condition::Fact(
                    fact @ (Fact::Sku | Fact::ProductType | Fact::Vendor | Fact::SellingPlan),
                    test,
                ),
            ] => {
                let ci = fact.case_insensitive();
                let absent = match fact {
                    Fact::SellingPlan => text_test(test, NO_SELLING_PLAN, ci),
                    _ => Tri::Unknown,
                };
                LineCheck::Text {
                    fact: *fact,
                    test,
                    ci,
                    absent,
                }
            }
            [Condition::Fact(fact, test)] => {
                let field = match fact {
                    Fact::Quantity => Some(NumberField::Quantity),
                    Fact::InventoryAvailable => Some(NumberField::InventoryAvailable),
                    _ => None,
                };
                match (field, Compare::of(test)) {
                    (Some(field), Some((compare, bound))) => {
                        LineCheck::Number(field, compare, bound)
                    }
                    _ => LineCheck::Fact(*fact, test),
                }
            }
            _ => LineCheck::Conditions(conds),
        }
    }

    /// `eval_all(conds, ctx, Some(line)).0`.
    #[inline]
    pub fn test(&self, line: &LineFacts, ctx: &Context) -> Tri {
        match self {
            LineCheck::Number(field, compare, bound) => {
                let value = match field {
                    NumberField::Quantity => Some(line.quantity),
                    NumberField::InventoryAvailable => line.inventory_quantity,
                };
                value.map_or(Tri::Unknown, |v| {
                    Tri::from_bool(compare.holds(v as f64, *bound))
                })
            }
            LineCheck::Glob {
                field,
                pattern,
                first,
            } => glob_line(*field, pattern, *first, line),
            LineCheck::ProductTags { test, untagged } => tags_line(test, *untagged, line),
            LineCheck::Text {
                fact,
                test,
                ci,
                absent,
            } => line_text(*fact, line).map_or(*absent, |t| text_test(test, t, *ci)),
            LineCheck::Fact(fact, test) => test_fact(*fact, test, ctx, Some(line)),
            LineCheck::Conditions(conds) => eval_all(conds, ctx, Some(line)).0,
        }
    }
}

fn any(results: impl Iterator<Item = Tri>) -> Tri {
    let mut result = Tri::False;
    for r in results {
        match r {
            Tri::True => return Tri::True,
            Tri::Unknown => result = Tri::Unknown,
            Tri::False => {}
        }
    }
    result
}

/// The items in lower case, copied only when lower-casing changes one of them: an upper-case
/// letter, or a title-case one such as `ǅ` (not upper case, yet lower-cased to `ǆ`, as the
/// policy's tags are).
fn lower(items: &[String]) -> Cow<'_, [String]> {
    if items.iter().all(|t| is_lowercase(t)) {
        Cow::Borrowed(items)
    } else {
        Cow::Owned(items.iter().map(|t| to_lowercase(t)).collect())
    }
}

fn opt_text(text: &Option<String>) -> Value<'_> {
    text.as_deref()
        .map_or(Value::Missing, |t| Value::Text(Cow::Borrowed(t)))
}

/// Reads one fact.
pub fn value_of<'a>(fact: Fact, ctx: &'a Context, line: Option<&'a LineFacts>) -> Value<'a> {
    let order = &ctx.facts.order;
    let customer = order.customer.as_ref();
    match fact {
        Fact::MinutesSincePlaced => ctx
            .minutes_since_placed()
            .map_or(Value::Missing, |m| Value::Num(m as f64)),
        Fact::BusinessDaysSincePlaced => match (ctx.placed_local, ctx.now_local) {
            (Some(placed), Some(now)) => Value::Num(business_days_between(placed, now) as f64),
            _ => Value::Missing,
        },
        Fact::LocalTime => ctx.now_local.map_or(Value::Missing, |now| {
            Value::Time((now.hour() * 60 + now.minute()) as u16)
        }),
        Fact::LocalWeekday => ctx.now_local.map_or(Value::Missing, |now| {
            Value::Text(Cow::Borrowed(weekday_name(
                now.weekday().num_days_from_monday(),
            )))
        }),
        Fact::BeforeCutoff => match (ctx.placed_local, ctx.now_local) {
            (Some(placed), Some(now)) => Value::Moments { placed, now },
            _ => Value::Missing,
        },
        Fact::FulfillmentStatus => opt_text(&order.display_fulfillment_status),
        Fact::FulfillmentOrderStatus => fulfillment_statuses(order, |f| &f.status),
        Fact::FulfillmentRequestStatus => fulfillment_statuses(order, |f| &f.request_status),
        Fact::FinancialStatus => opt_text(&order.display_financial_status),
        Fact::TotalPrice => order
            .total_price
            .as_ref()
            .map_or(Value::Missing, |m| Value::Num(m.amount.as_f64())),
        Fact::Currency => order.total_price.as_ref().map_or(Value::Missing, |m| {
            Value::Text(Cow::Borrowed(&m.currency_code))
        }),
        Fact::SalesChannel => opt_text(&order.source_name),
        Fact::OrderTags => Value::Set(lower(&order.tags)),
        Fact::TestOrder => Value::Bool(order.test),
        Fact::B2b => Value::Bool(order.b2b),
        Fact::ShippingCountry => opt_text(&order.shipping_country),
        Fact::ShippingMethod => opt_text(&order.shipping_method),
        Fact::LocalPickup => Value::Bool(order.local_pickup),
        Fact::DiscountCodes => Value::Set(lower(&order.discount_codes)),
        Fact::LineCount => Value::Num(order.line_items.len() as f64),
        Fact::Cancelled => Value::Bool(order.cancelled),
        Fact::RiskLevel => Value::Text(Cow::Borrowed(order.risk.highest_level())),
        Fact::RiskRecommendation => Value::Text(Cow::Borrowed(
            order.risk.recommendation.as_deref().unwrap_or("NONE"),
        )),
        Fact::RiskThirdParty => Value::Bool(order.risk.assessments.iter().any(|a| a.third_party)),
        Fact::CustomerTags => Value::Set(customer.map(|c| lower(&c.tags)).unwrap_or_default()),
        Fact::CustomerOrders => {
            customer.map_or(Value::Missing, |c| Value::Num(c.number_of_orders as f64))
        }
        Fact::CustomerCancellations30d => cancellations_within(ctx, 30),
        Fact::CustomerCancellations90d => cancellations_within(ctx, 90),
        Fact::CustomerCancellations365d => cancellations_within(ctx, 365),
        Fact::RequestSource => Value::Text(Cow::Borrowed(ctx.request_source())),
        Fact::RequestReason => opt_text(&ctx.facts.request.reason),
        Fact::RequestLocale => opt_text(&ctx.facts.request.locale),
        Fact::ProductTags
        | Fact::ProductType
        | Fact::Vendor
        | Fact::Sku
        | Fact::Collections
        | Fact::GiftCard
        | Fact::RequiresShipping
        | Fact::SellingPlan
        | Fact::InventoryAvailable
        | Fact::Oversold
        | Fact::Quantity => line.map_or(Value::Missing, |l| line_value(fact, l)),
    }
}

/// One status of each fulfillment order: one loop for both statuses, smaller in the
/// Function's module than a copy for each.
#[inline(never)]
fn fulfillment_statuses(
    order: &OrderFacts,
    status: fn(&FulfillmentOrderFacts) -> &String,
) -> Value<'static> {
    Value::Set(Cow::Owned(
        order
            .fulfillment_orders
            .iter()
            .map(|f| status(f).clone())
            .collect(),
    ))
}

/// What a line without a selling plan has as its plan.
const NO_SELLING_PLAN: &str = "none";

/// A line's text `fact` (see [`LineCheck::Text`]), `None` when the line has none.
#[inline(always)]
fn line_text(fact: Fact, line: &LineFacts) -> Option<&str> {
    match fact {
        Fact::Sku => line.sku.as_deref(),
        Fact::ProductType => line.product_type.as_deref(),
        Fact::Vendor => line.vendor.as_deref(),
        _ => line.selling_plan.as_deref(),
    }
}

fn line_value(fact: Fact, line: &LineFacts) -> Value<'_> {
    match fact {
        Fact::ProductTags => Value::Set(lower(&line.product_tags)),
        Fact::ProductType => opt_text(&line.product_type),
        Fact::Vendor => opt_text(&line.vendor),
        Fact::Sku => opt_text(&line.sku),
        Fact::Collections => Value::Set(Cow::Borrowed(&line.collection_ids)),
        Fact::GiftCard => Value::Bool(line.gift_card),
        Fact::RequiresShipping => Value::Bool(line.requires_shipping),
        Fact::SellingPlan => Value::Text(Cow::Borrowed(
            line.selling_plan.as_deref().unwrap_or(NO_SELLING_PLAN),
        )),
        Fact::InventoryAvailable => line
            .inventory_quantity
            .map_or(Value::Missing, |q| Value::Num(q as f64)),
        Fact::Oversold => Value::Bool(line.oversold()),
        Fact::Quantity => Value::Num(line.quantity as f64),
        _ => Value::Missing,
    }
}

fn cancellations_within(ctx: &Context, days: i64) -> Value<'static> {
    let Some(customer) = ctx.facts.order.customer.as_ref() else {
        return Value::Num(0.0);
    };
    // Checked: chrono's `-` panics on overflow, and this far back nothing is earlier.
    let since = ctx.now.checked_sub_signed(Duration::days(days));
    let count = customer
        .cancelled_order_dates
        .iter()
        .filter(|at| since.is_none_or(|since| **at > since) && **at <= ctx.now)
        .count();
    Value::Num(count as f64)
}

pub fn weekday_name(index_from_monday: u32) -> &'static str {
    crate::catalog::WEEKDAYS
        .get(index_from_monday as usize)
        .copied()
        .unwrap_or("mon")
}

/// Weekdays (Monday to Friday) after the day of placement, up to and including today.
pub fn business_days_between(placed: NaiveDateTime, now: NaiveDateTime) -> i64 {
    let start = placed.date();
    let end = now.date();
    let days = (end - start).num_days();
    if days <= 0 {
        return 0;
    }
    let full_weeks = days / 7;
    let mut count = full_weeks * 5;
    let start_weekday = i64::from(start.weekday().num_days_from_monday());
    for offset in 1..=(days % 7) {
        if (start_weekday + offset) % 7 < 5 {
            count += 1;
        }
    }
    count
}

/// The first cut-off (a weekday in `days` at `at` minutes) strictly after `placed`.
pub fn next_cutoff(placed: NaiveDateTime, at: u16, days: u8) -> Option<NaiveDateTime> {
    if days & 0x7f == 0 {
        return None;
    }
    let cutoff_time = chrono::NaiveTime::from_hms_opt(u32::from(at / 60), u32::from(at % 60), 0)?;
    (0..8).find_map(|offset| {
        let date = placed.date().checked_add_signed(Duration::days(offset))?;
        let weekday = date.weekday().num_days_from_monday();
        let candidate = date.and_time(cutoff_time);
        (days & (1 << weekday) != 0 && candidate > placed).then_some(candidate)
    })
}

/// The position of `level` in `RISK_LEVEL`, by a `match` on the text rather than a search.
fn rank(level: &str) -> Option<usize> {
    match level {
        "NONE" => Some(0),
        "PENDING" => Some(1),
        "LOW" => Some(2),
        "MEDIUM" => Some(3),
        "HIGH" => Some(4),
        _ => None,
    }
}

/// `*` matches any run of characters, `?` exactly one. Walks both strings in place: this runs
/// once per line and rule, so it must not allocate. Works on bytes: a literal character
/// matches exactly when its UTF-8 bytes do, and `?` skips the whole character.
#[inline(never)]
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    // After the last `*`: where the pattern resumes and where in the text it was last tried.
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(b'?') => {
                p += 1;
                t += utf8_len(c);
            }
            Some(&wanted) if wanted == c => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((after_star, tried)) => {
                    let retry = tried + text.get(tried).map_or(1, |b| utf8_len(*b));
                    p = after_star;
                    t = retry;
                    backtrack = Some((after_star, retry));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|b| *b == b'*'))
}

/// The length of the UTF-8 character that starts with `lead`.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    }
}

/// Applies a test to a value; a missing value makes any test unknown.
pub fn apply(fact: Fact, test: &Test, value: &Value) -> Tri {
    let ci = fact.case_insensitive();
    match value {
        Value::Missing => Tri::Unknown,
        Value::Num(v) => number_test(test, *v),
        Value::Bool(b) => bool_test(test, *b),
        Value::Text(t) => text_test(test, t, ci),
        Value::Set(set) => set_test(test, set, ci),
        Value::Time(m) => time_test(test, *m),
        Value::Moments { placed, now } => match test {
            Test::Cutoff { at, days } => match next_cutoff(*placed, *at, *days) {
                Some(cutoff) => Tri::from_bool(now < &cutoff),
                None => Tri::False,
            },
            _ => Tri::Unknown,
        },
    }
}

/// `apply(fact, test, &value_of(fact, ctx, line))` without building the value where that is
/// cheap to avoid: line facts are tested once per line and rule, the hot loop of a policy.
fn test_fact(fact: Fact, test: &Test, ctx: &Context, line: Option<&LineFacts>) -> Tri {
    let ci = fact.case_insensitive();
    let text = |value: Option<&str>| value.map_or(Tri::Unknown, |t| text_test(test, t, ci));
    let order = &ctx.facts.order;
    match (fact, line) {
        (Fact::Quantity, Some(line)) => number_test(test, line.quantity as f64),
        (Fact::InventoryAvailable, Some(line)) => line
            .inventory_quantity
            .map_or(Tri::Unknown, |q| number_test(test, q as f64)),
        (Fact::Sku | Fact::ProductType | Fact::Vendor, Some(line)) => text(line_text(fact, line)),
        (Fact::SellingPlan, Some(line)) => {
            text(Some(line_text(fact, line).unwrap_or(NO_SELLING_PLAN)))
        }
        (Fact::ProductTags, Some(line)) => tags_test(test, &line.product_tags, ci),
        (Fact::Collections, Some(line)) => set_test(test, &line.collection_ids, ci),
        (Fact::GiftCard, Some(line)) => bool_test(test, line.gift_card),
        (Fact::RequiresShipping, Some(line)) => bool_test(test, line.requires_shipping),
        (Fact::Oversold, Some(line)) => bool_test(test, line.oversold()),
        (Fact::OrderTags, _) => tags_test(test, &order.tags, ci),
        (Fact::DiscountCodes, _) => tags_test(test, &order.discount_codes, ci),
        (Fact::FulfillmentStatus, _) => text(order.display_fulfillment_status.as_deref()),
        (Fact::FinancialStatus, _) => text(order.display_financial_status.as_deref()),
        (Fact::SalesChannel, _) => text(order.source_name.as_deref()),
        (Fact::ShippingCountry, _) => text(order.shipping_country.as_deref()),
        (Fact::RiskLevel, _) => text_test(test, order.risk.highest_level(), ci),
        (Fact::TotalPrice, _) => order
            .total_price
            .as_ref()
            .map_or(Tri::Unknown, |m| number_test(test, m.amount.as_f64())),
        (Fact::B2b, _) => bool_test(test, order.b2b),
        _ => apply(fact, test, &value_of(fact, ctx, line)),
    }
}

/// A set test on tags, which `value_of` lower-cases.
#[inline(never)]
fn tags_test(test: &Test, tags: &[String], ci: bool) -> Tri {
    set_test(test, &compared_tags(tags, ci), ci)
}

/// Tags as set tests compare them: lower-cased, except that ASCII tags need no copy, since a
/// case-insensitive comparison gives the same answer with or without it.
#[inline(never)]
fn compared_tags(tags: &[String], ci: bool) -> Cow<'_, [String]> {
    if ci && tags.iter().all(|t| t.is_ascii()) {
        Cow::Borrowed(tags)
    } else {
        lower(tags)
    }
}

fn text_eq(ci: bool, a: &str, b: &str) -> bool {
    if ci {
        eq_ignore_ascii_case(a.as_bytes(), b.as_bytes())
    } else {
        same_text(a.as_bytes(), b.as_bytes())
    }
}

/// `str::eq_ignore_ascii_case`, eight bytes at a time: tag tests compare every tag of every
/// line with the policy's (byte by byte, this was most of the evaluator's time on tagged
/// orders in the Function). Out of line: inlined at each of its callers, it cost more module
/// size than the call saves instructions.
#[inline(never)]
fn eq_ignore_ascii_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |chunk: &[u8]| {
        chunk
            .first_chunk::<8>()
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    for (x, y) in a_words.by_ref().zip(b_words.by_ref()) {
        let (x, y) = (word(x), word(y));
        if x != y && ascii_lowercase_word(x) != ascii_lowercase_word(y) {
            return false;
        }
    }
    a_words
        .remainder()
        .eq_ignore_ascii_case(b_words.remainder())
}

/// Each byte of `word` in `A..=Z` turned into its lower case; every other byte (non-ASCII
/// included) left as it is.
fn ascii_lowercase_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let low_seven = word & !HIGH;
    // Adding to a byte of at most 0x7f never carries into the next: the high bit tells.
    let at_least_a = low_seven + ONES * u64::from(0x80 - b'A');
    let above_z = low_seven + ONES * u64::from(0x80 - b'Z' - 1);
    let upper = at_least_a & !above_z & !word & HIGH;
    // 0x80 >> 2 is 0x20, the case bit.
    word | upper >> 2
}

fn number_test(test: &Test, v: f64) -> Tri {
    match Compare::of(test) {
        Some((compare, n)) => Tri::from_bool(compare.holds(v, n)),
        // A test that does not fit the value's type (only reachable with a hand-edited
        // compiled policy): unknown, never a match. The same below.
        None => Tri::Unknown,
    }
}

fn bool_test(test: &Test, b: bool) -> Tri {
    match test {
        Test::Is(expected) => Tri::from_bool(b == *expected),
        _ => Tri::Unknown,
    }
}

#[inline(never)]
fn text_test(test: &Test, t: &str, ci: bool) -> Tri {
    match test {
        Test::In(list) => Tri::from_bool(list.iter().any(|x| text_eq(ci, x, t))),
        Test::NotIn(list) => Tri::from_bool(!list.iter().any(|x| text_eq(ci, x, t))),
        Test::Prefix(list) => Tri::from_bool(list.iter().any(|p| t.starts_with(p.as_str()))),
        Test::Matches(pattern) => Tri::from_bool(glob(pattern, t)),
        Test::AtLeast(level) => match (rank(t), rank(level)) {
            (Some(a), Some(b)) => Tri::from_bool(a >= b),
            _ => Tri::Unknown,
        },
        Test::AtMost(level) => match (rank(t), rank(level)) {
            (Some(a), Some(b)) => Tri::from_bool(a <= b),
            _ => Tri::Unknown,
        },
        _ => Tri::Unknown,
    }
}

#[inline(never)]
fn set_test(test: &Test, set: &[String], ci: bool) -> Tri {
    let has = |x: &String| set.iter().any(|s| text_eq(ci, x, s));
    match test {
        Test::AnyOf(list) => Tri::from_bool(list.iter().any(has)),
        Test::AllOf(list) => Tri::from_bool(list.iter().all(has)),
        Test::NoneOf(list) => Tri::from_bool(!list.iter().any(has)),
        Test::AllIn(list) => {
            Tri::from_bool(set.iter().all(|s| list.iter().any(|x| text_eq(ci, x, s))))
        }
        _ => Tri::Unknown,
    }
}

fn time_test(test: &Test, m: u16) -> Tri {
    match test {
        Test::Before(limit) => Tri::from_bool(m < *limit),
        Test::After(limit) => Tri::from_bool(m >= *limit),
        _ => Tri::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn lower_copies_only_what_lower_casing_changes() {
        let already = vec!["gift".to_string(), "ǆ".to_string(), "été".to_string()];
        assert!(matches!(lower(&already), Cow::Borrowed(_)));
        // A title-case letter is not upper case, yet lower-cases to another letter: a line
        // tagged `ǅ` must match a policy's (lower-cased) `ǆ`.
        let titled = vec!["ǅ".to_string()];
        assert_eq!(lower(&titled).as_ref(), ["ǆ".to_string()]);
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn word_case_folding_is_str_eq_ignore_ascii_case() {
        let texts = [
            "",
            "a",
            "A",
            "bench-tag-45",
            "BENCH-TAG-45",
            "bench-tag-40",
            "Bench-Tag-45",
            "@[`{",
            "AZaz@[`{",
            "azAZ`{@[",
            "ÉTÉ-été",
            "été-ÉTÉ",
            "Straße",
            "STRASSE",
            "ǅungla",
            "ǆungla",
            "0123456789abcdefXYZ",
            "0123456789ABCDEFxyz",
            "\u{7f}\u{80}",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(
                    eq_ignore_ascii_case(a.as_bytes(), b.as_bytes()),
                    a.eq_ignore_ascii_case(b),
                    "{a:?} {b:?}"
                );
            }
        }
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([byte; 8]);
            let lowered = u64::from_le_bytes([byte.to_ascii_lowercase(); 8]);
            assert_eq!(ascii_lowercase_word(word), lowered, "{byte:#x}");
        }
    }

    #[test]
    fn glob_matches_stars_and_question_marks() {
        assert!(glob("PERS-*", "PERS-001"));
        assert!(glob("A?C", "ABC"));
        assert!(glob("*", ""));
        assert!(!glob("PERS-*", "STD-1"));
        assert!(glob("*-X*", "a-b-Xy"));
    }

    /// The character-by-character matcher `glob` replaced, as the reference.
    fn glob_by_chars(pattern: &str, text: &str) -> bool {
        let (mut p, mut t) = (pattern, text);
        let mut backtrack: Option<(&str, &str)> = None;
        loop {
            let mut text_chars = t.chars();
            let Some(c) = text_chars.next() else { break };
            let mut pattern_chars = p.chars();
            match pattern_chars.next() {
                Some('*') => {
                    p = pattern_chars.as_str();
                    backtrack = Some((p, t));
                }
                Some(wanted) if wanted == '?' || wanted == c => {
                    p = pattern_chars.as_str();
                    t = text_chars.as_str();
                }
                _ => match backtrack {
                    Some((after_star, tried)) => {
                        let mut retry = tried.chars();
                        retry.next();
                        p = after_star;
                        t = retry.as_str();
                        backtrack = Some((after_star, t));
                    }
                    None => return false,
                },
            }
        }
        p.chars().all(|c| c == '*')
    }

    #[test]
    fn glob_on_bytes_agrees_with_glob_on_characters() {
        let words = [
            "", "a", "é", "ß?", "*", "?", "*é*", "?é", "é?", "x*ü", "日本", "*本", "日?", "a*b?c",
            "**", "?*?",
        ];
        for pattern in words {
            for text in words {
                for text in [text.to_string(), format!("{text}é"), format!("a{text}日b")] {
                    assert_eq!(
                        glob(pattern, &text),
                        glob_by_chars(pattern, &text),
                        "{pattern} / {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn line_checks_agree_with_testing_the_value() {
        use crate::facts::{Facts, LineFacts};
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let line = |quantity, sku: Option<&str>, tags: &[&str]| LineFacts {
            quantity,
            sku: sku.map(str::to_string),
            product_type: Some("Mug".to_string()),
            product_tags: strings(tags),
            collection_ids: strings(&["gid://shopify/Collection/1"]),
            inventory_quantity: (quantity != 2).then_some(quantity - 3),
            inventory_policy: Some("CONTINUE".to_string()),
            selling_plan: (quantity == 3).then(|| "pre_order".to_string()),
            gift_card: quantity == 1,
            ..LineFacts::default()
        };
        let mut facts = Facts::default();
        facts.order.display_fulfillment_status = Some("Mug".to_string());
        facts.order.source_name = Some("SKU-1".to_string());
        facts.order.tags = strings(&["Sale", "été"]);
        facts.order.discount_codes = strings(&["ǅ"]);
        facts.order.risk.assessments = vec![crate::facts::RiskAssessmentFacts {
            risk_level: "MEDIUM".to_string(),
            third_party: false,
        }];
        facts.order.line_items = vec![
            line(1, Some("SKU-1"), &[]),
            line(2, None, &["Sale", "gift"]),
            line(3, Some("ÉTÉ-3"), &["Été", "sale"]),
            line(4, Some("sku-4"), &["ǅ", "Sale"]),
        ];
        let tests = [
            Test::Eq(2.0),
            Test::Ge(2.0),
            Test::Lt(2.0),
            Test::Ne(1.0),
            Test::Is(true),
            Test::In(strings(&["Mug", "SKU-1", "none"])),
            Test::NotIn(strings(&["pre_order"])),
            Test::Prefix(strings(&["SK", "É"])),
            Test::Matches("SKU-*".to_string()),
            Test::Matches("?T?-*".to_string()),
            Test::AnyOf(strings(&["sale", "été"])),
            Test::AllOf(strings(&["sale", "gift"])),
            Test::NoneOf(strings(&["ǆ", "gid://shopify/Collection/1"])),
            Test::AllIn(strings(&["sale", "gift", "ǅ"])),
            Test::AtLeast("LOW".to_string()),
        ];
        assert_line_checks_agree(&facts, &tests);
    }

    #[test]
    fn whole_order_line_tests_agree_with_testing_each_line() {
        use crate::facts::{Facts, LineFacts};
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let line = |quantity, sku: &str, tags: Vec<String>| LineFacts {
            quantity,
            sku: Some(sku.to_string()),
            product_tags: tags,
            ..LineFacts::default()
        };
        let order = |lines: Vec<LineFacts>| {
            let mut facts = Facts::default();
            facts.order.line_items = lines;
            facts
        };
        let many_tags: Vec<String> = (0..70).map(|i| format!("Tag-{i}")).collect();
        let orders = [
            order(vec![]),
            order(vec![line(1, "A", vec![]), line(5, "B", vec![])]),
            // Equal in any case, repeats, non-ASCII tags already in lower case.
            order(vec![
                line(-2, "SKU-1", strings(&["Sale", "SALE", "sale"])),
                line(0, "SKU-12", strings(&["k", "x"])),
                line(7, "ÉTÉ-3", strings(&["ǆ"])),
                line(7, "É", strings(&["ǆ", "été"])),
                line(3, "", vec![]),
                line(i64::MAX, "sku-1", strings(&["k", "K", "gift"])),
            ]),
            // Tags compared lower-cased: the Kelvin sign (lower case `k`), a title-case letter
            // beside an upper-case one.
            order(vec![
                line(1, "SKU-1", strings(&["sale"])),
                line(2, "SKU-2", strings(&["\u{212A}", "x"])),
                line(3, "SKU-3", strings(&["ǅ", "Été"])),
            ]),
            // More distinct tags than a line's bit set holds.
            order(vec![
                line(1, "SKU-1", many_tags[..40].to_vec()),
                line(2, "SKU-2", many_tags[30..].to_vec()),
                line(3, "SKU-3", vec![]),
            ]),
            // Lines without a SKU, beside an empty one and ones with.
            order(vec![
                LineFacts::default(),
                line(1, "", vec![]),
                line(2, "PRE-1", vec![]),
            ]),
            order(vec![LineFacts::default(), LineFacts::default()]),
            order(vec![LineFacts::default(), line(1, "", vec![])]),
        ];
        let tests = [
            Test::Gt(3.0),
            Test::Ge(7.0),
            Test::Le(0.0),
            Test::Lt(-1.0),
            Test::Eq(7.0),
            Test::Gt(f64::NAN),
            Test::Matches("SKU-1".to_string()),
            Test::Matches("SKU-1*".to_string()),
            Test::Matches("SKU-12345*".to_string()),
            Test::Matches("É*".to_string()),
            Test::Matches("*".to_string()),
            Test::Matches("S?U-*2".to_string()),
            // First bytes no SKU starts with, and one only some do.
            Test::Matches("NOPE-*".to_string()),
            Test::Matches("Z".to_string()),
            Test::Matches("\u{e9}*".to_string()),
            Test::Matches("PRE-*".to_string()),
            Test::Matches("?*".to_string()),
            // `3` shares its bit with the `s` of `sku-1`.
            Test::Matches("3*".to_string()),
            Test::AnyOf(strings(&["sale"])),
            Test::AnyOf(strings(&["k", "nothing"])),
            Test::AnyOf(strings(&["ǆ"])),
            Test::AnyOf(strings(&["été", "ǅ"])),
            Test::AnyOf(strings(&["ǅ", "tag-69"])),
            Test::AllOf(strings(&["SALE", "x"])),
            Test::AllOf(strings(&["k", "gift"])),
            Test::AllOf(strings(&["tag-1", "tag-35"])),
            Test::AllOf(vec![]),
            Test::NoneOf(strings(&["gift", "été"])),
            Test::NoneOf(strings(&["tag-0"])),
            Test::AllIn(strings(&["sale", "x", "k"])),
            Test::AllIn(many_tags[..40].to_vec()),
            Test::AllIn(vec![]),
            Test::Is(true),
        ];
        for facts in &orders {
            assert_line_checks_agree(facts, &tests);
            // Long enough for the tag sets.
            let mut long = facts.clone();
            long.order.line_items = [facts.order.line_items.as_slice(); 3].concat();
            assert_line_checks_agree(&long, &tests);
        }
        assert!(orders[2].order.line_items.len() * 3 >= TAG_SETS_MIN_LINES);
        let sets = |facts: &Facts| {
            LineTagSets::new(&facts.order.line_items).map(|sets| (sets.distinct.len(), sets.tagged))
        };
        assert_eq!(sets(&orders[1]), Some((0, false)));
        assert_eq!(sets(&orders[2]), Some((6, true)));
        assert_eq!(sets(&orders[3]), None);
        assert_eq!(sets(&orders[4]), None);
    }

    /// Every way the evaluator tests a line condition (the line checks, the condition walk,
    /// the quantified loops and what they read off all the lines at once) gives what
    /// testing each line's value gives.
    fn assert_line_checks_agree(facts: &crate::facts::Facts, tests: &[Test]) {
        use crate::compiled::Trigger;
        let ctx = Context::new(
            facts,
            chrono::DateTime::UNIX_EPOCH,
            Trigger::CustomerRequest,
        );
        let facts_tested = [
            Fact::Quantity,
            Fact::InventoryAvailable,
            Fact::Sku,
            Fact::ProductType,
            Fact::Vendor,
            Fact::SellingPlan,
            Fact::ProductTags,
            Fact::Collections,
            Fact::GiftCard,
            Fact::RequiresShipping,
            Fact::Oversold,
            Fact::TotalPrice,
            Fact::FulfillmentStatus,
            Fact::FinancialStatus,
            Fact::SalesChannel,
            Fact::ShippingCountry,
            Fact::RiskLevel,
            Fact::B2b,
            Fact::OrderTags,
            Fact::DiscountCodes,
        ];
        let quantifiers = [
            Quantifier::Any,
            Quantifier::All,
            Quantifier::None,
            Quantifier::Count(Test::Ge(2.0)),
        ];
        for fact in facts_tested {
            for test in tests {
                let conds = [Condition::Fact(fact, test.clone())];
                let check = LineCheck::new(&conds);
                assert_eq!(
                    eval(&conds[0], &ctx, None),
                    apply(fact, test, &value_of(fact, &ctx, None)),
                    "{fact:?} {test:?} without a line"
                );
                let expected: Vec<Tri> = facts
                    .order
                    .line_items
                    .iter()
                    .map(|l| apply(fact, test, &value_of(fact, &ctx, Some(l))))
                    .collect();
                for (l, want) in facts.order.line_items.iter().zip(&expected) {
                    assert_eq!(check.test(l, &ctx), *want, "{fact:?} {test:?}");
                    assert_eq!(eval(&conds[0], &ctx, Some(l)), *want, "{fact:?} {test:?}");
                }
                for quantifier in &quantifiers {
                    let want = match quantifier {
                        Quantifier::Count(count) => {
                            let n = expected.iter().filter(|r| **r == Tri::True).count();
                            apply(Fact::LineCount, count, &Value::Num(n as f64))
                        }
                        Quantifier::Any => any(expected.iter().copied()),
                        Quantifier::None => any(expected.iter().copied()).not(),
                        Quantifier::All => any(expected.iter().map(|r| r.not())).not(),
                    };
                    assert_eq!(
                        eval_lines(quantifier, &conds, &ctx),
                        want,
                        "{quantifier:?} {fact:?} {test:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn rank_follows_the_catalog_order() {
        for (index, level) in crate::catalog::RISK_LEVEL.iter().enumerate() {
            assert_eq!(rank(level), Some(index));
        }
        assert_eq!(rank("high"), None);
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2026-11-20 is a Friday.
        assert_eq!(
            business_days_between(at(2026, 11, 20, 9, 0), at(2026, 11, 23, 9, 0)),
            1
        );
        assert_eq!(
            business_days_between(at(2026, 11, 20, 9, 0), at(2026, 11, 20, 18, 0)),
            0
        );
        assert_eq!(
            business_days_between(at(2026, 11, 16, 9, 0), at(2026, 11, 30, 9, 0)),
            10
        );
    }

    #[test]
    fn next_cutoff_moves_past_weekends() {
        let weekdays = 0b0001_1111;
        // Friday 15:00 → Monday 14:00.
        assert_eq!(
            next_cutoff(at(2026, 11, 20, 15, 0), 14 * 60, weekdays),
            Some(at(2026, 11, 23, 14, 0))
        );
        // Tuesday 09:00 → same day.
        assert_eq!(
            next_cutoff(at(2026, 11, 24, 9, 0), 14 * 60, weekdays),
            Some(at(2026, 11, 24, 14, 0))
        );
        assert_eq!(next_cutoff(at(2026, 11, 24, 9, 0), 14 * 60, 0), None);
    }
}
