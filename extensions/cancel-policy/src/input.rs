//! Reads the Function input (the shape `order_cancellation_run.graphql` asks for) into order
//! facts, checking every value's type on the way so that a malformed input gives an error that
//! says what is wrong and where, never a trap.

use std::fmt;

use cancel_policy_core::Trigger;
use cancel_policy_core::facts::{
    Facts, FulfillmentOrderFacts, LineFacts, OrderFacts, RequestFacts, RiskAssessmentFacts,
    RiskFacts,
};
use cancel_policy_core::money::{Amount, Money};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use shopify_function::wasm_api::{InternedStringId, Value};

use crate::policy::{LineNeeds, Needs};

/// A place in the input, rendered only when an error needs it.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step,
}

#[derive(Clone, Copy)]
enum Step {
    Root,
    Field(&'static str),
    Index(usize),
}

impl<'a> Path<'a> {
    pub const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
    };

    fn field(&'a self, name: &'static str) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Field(name),
        }
    }

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
            Step::Field(name) => write!(f, ".{name}"),
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

type Read<T> = Result<T, InputError>;

fn error(path: &Path, problem: impl Into<String>) -> InputError {
    InputError {
        path: path.to_string(),
        problem: problem.into(),
    }
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

fn expected(value: &Value, path: &Path, what: &str) -> InputError {
    error(path, format!("expected {what}, found {}", describe(value)))
}

fn object(value: &Value, path: &Path) -> Read<()> {
    if value.is_obj() {
        Ok(())
    } else {
        Err(expected(value, path, "an object"))
    }
}

fn opt_object(value: &Value, path: &Path) -> Read<bool> {
    if value.is_null() {
        Ok(false)
    } else {
        object(value, path).map(|()| true)
    }
}

fn string(value: &Value, path: &Path) -> Read<String> {
    value
        .as_string()
        .ok_or_else(|| expected(value, path, "a string"))
}

fn opt_string(value: &Value, path: &Path) -> Read<Option<String>> {
    if value.is_null() {
        Ok(None)
    } else {
        string(value, path).map(Some)
    }
}

fn boolean(value: &Value, path: &Path) -> Read<bool> {
    value
        .as_bool()
        .ok_or_else(|| expected(value, path, "a boolean"))
}

fn integer(value: &Value, path: &Path) -> Read<i64> {
    match value.as_number() {
        Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
        _ => Err(expected(value, path, "an integer")),
    }
}

fn list(value: &Value, path: &Path) -> Read<usize> {
    if value.is_array() {
        value
            .array_len()
            .ok_or_else(|| expected(value, path, "a list"))
    } else {
        Err(expected(value, path, "a list"))
    }
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
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|(at, c)| text.get(*at) != Some(c)) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(text, 0, 4)?).ok()?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
    )?;
    let (hour, minute, second) = (
        digits(text, 11, 2)?,
        digits(text, 14, 2)?,
        digits(text, 17, 2)?,
    );
    let mut rest = text.get(19..)?;
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
    let utc = local.checked_sub_signed(TimeDelta::minutes(offset_minutes))?;
    Some(utc.and_utc())
}

/// What the Function reads before it knows the policy.
pub struct Head {
    pub trigger: Trigger,
    pub requested_at: DateTime<Utc>,
    /// The `request` object, for the fields read once the policy is known.
    pub request: Value,
    /// The customer's locale: it picks which of the policy's messages are read.
    pub locale: Option<String>,
    /// The compiled-policy metafield's value, when the owner has one.
    pub policy_json: Option<String>,
}

/// The request and the policy: read for every run.
pub fn read_head(root: &Value) -> Read<Head> {
    let path = Path::ROOT;
    object(root, &path)?;

    let request_path = path.field("request");
    let request = root.get_obj_prop("request");
    object(&request, &request_path)?;
    let trigger_path = request_path.field("trigger");
    let trigger_name = string(&request.get_obj_prop("trigger"), &trigger_path)?;
    let trigger = Trigger::by_name(&trigger_name.to_ascii_lowercase()).ok_or_else(|| {
        error(
            &trigger_path,
            format!("`{trigger_name}` is not a CancellationTrigger"),
        )
    })?;
    let requested_path = request_path.field("requestedAt");
    let requested_at = utc(&request.get_obj_prop("requestedAt"), &requested_path)?
        .ok_or_else(|| error(&requested_path, "required, found null"))?;
    let locale = opt_string(
        &request.get_obj_prop("locale"),
        &request_path.field("locale"),
    )?;

    let owner_path = path.field("cancellationPolicy");
    let owner = root.get_obj_prop("cancellationPolicy");
    object(&owner, &owner_path)?;
    let metafield_path = owner_path.field("metafield");
    let metafield = owner.get_obj_prop("metafield");
    let policy_json = if opt_object(&metafield, &metafield_path)? {
        Some(string(
            &metafield.get_obj_prop("value"),
            &metafield_path.field("value"),
        )?)
    } else {
        None
    };

    Ok(Head {
        trigger,
        requested_at,
        request,
        locale,
        policy_json,
    })
}

/// Per line: the `hasTags` answers, in the order of the `$productTags` variable; `None` when
/// the line's product no longer exists or the policy asks about no tag.
pub type Answers = Option<Vec<bool>>;

/// The order facts the policy can consult (`needs`); the rest keep their defaults, unread.
pub fn read_facts(root: &Value, head: Head, needs: &Needs) -> Read<(Facts, Vec<Answers>)> {
    let request = &head.request;
    let path = Path::ROOT;
    let request_path = path.field("request");
    let optional = |wanted: bool, field: &'static str| {
        if wanted {
            opt_string(&request.get_obj_prop(field), &request_path.field(field))
        } else {
            Ok(None)
        }
    };
    let request = RequestFacts {
        source: optional(needs.request_source, "source")?,
        reason: optional(needs.request_reason, "reason")?,
        locale: head.locale,
    };
    let now_local = if needs.now_local {
        let shop_path = path.field("shop");
        let shop = root.get_obj_prop("shop");
        object(&shop, &shop_path)?;
        let local_time_path = shop_path.field("localTime");
        let local_time = shop.get_obj_prop("localTime");
        object(&local_time, &local_time_path)?;
        let now_path = local_time_path.field("dateTime");
        Some(
            local(&local_time.get_obj_prop("dateTime"), &now_path)?
                .ok_or_else(|| error(&now_path, "required, found null"))?,
        )
    } else {
        None
    };

    let order_path = path.field("order");
    let order_value = root.get_obj_prop("order");
    object(&order_value, &order_path)?;
    let (order, tag_answers) = read_order(&order_value, &order_path, needs)?;
    Ok((
        Facts {
            order,
            request,
            now_local,
        },
        tag_answers,
    ))
}

fn read_order(order: &Value, path: &Path, needs: &Needs) -> Read<(OrderFacts, Vec<Answers>)> {
    // The id is always read: it is required, so an empty order is refused.
    let mut facts = OrderFacts {
        id: string(&order.get_obj_prop("id"), &path.field("id"))?,
        ..OrderFacts::default()
    };
    if needs.placed {
        facts.created_at = utc(&order.get_obj_prop("createdAt"), &path.field("createdAt"))?;
        facts.created_at_local = local(
            &order.get_obj_prop("createdAtLocal"),
            &path.field("createdAtLocal"),
        )?;
    }
    if needs.cancelled {
        facts.cancelled = opt_object(
            &order.get_obj_prop("cancellation"),
            &path.field("cancellation"),
        )?;
    }
    if needs.fulfillment_status {
        facts.display_fulfillment_status = opt_string(
            &order.get_obj_prop("displayFulfillmentStatus"),
            &path.field("displayFulfillmentStatus"),
        )?;
    }
    if needs.financial_status {
        facts.display_financial_status = opt_string(
            &order.get_obj_prop("displayFinancialStatus"),
            &path.field("displayFinancialStatus"),
        )?;
    }
    if needs.fulfillment_orders {
        let fo_path = path.field("fulfillmentOrders");
        let fulfillment_orders = order.get_obj_prop("fulfillmentOrders");
        for index in 0..list(&fulfillment_orders, &fo_path)? {
            let item_path = fo_path.index(index);
            let item = fulfillment_orders.get_at_index(index);
            object(&item, &item_path)?;
            facts.fulfillment_orders.push(FulfillmentOrderFacts {
                status: string(&item.get_obj_prop("status"), &item_path.field("status"))?,
                request_status: string(
                    &item.get_obj_prop("requestStatus"),
                    &item_path.field("requestStatus"),
                )?,
                ..FulfillmentOrderFacts::default()
            });
        }
    }
    if needs.total_price {
        let total_path = path.field("totalPriceSet");
        let total = order.get_obj_prop("totalPriceSet");
        if opt_object(&total, &total_path)? {
            let money_path = total_path.field("presentmentMoney");
            facts.total_price = Some(money(&total.get_obj_prop("presentmentMoney"), &money_path)?);
        }
    }
    if needs.b2b {
        let entity_path = path.field("purchasingEntity");
        let entity = order.get_obj_prop("purchasingEntity");
        if opt_object(&entity, &entity_path)? {
            let typename = string(
                &entity.get_obj_prop("__typename"),
                &entity_path.field("__typename"),
            )?;
            facts.b2b = typename == "PurchasingCompany";
        }
    }
    if needs.risk {
        facts.risk = read_risk(&order.get_obj_prop("risk"), &path.field("risk"))?;
    }

    let mut tag_answers = Vec::new();
    if let Some(line_needs) = &needs.lines {
        let lines_path = path.field("lineItems");
        let lines = order.get_obj_prop("lineItems");
        let count = list(&lines, &lines_path)?;
        facts.line_items.reserve(count);
        let any_field = line_needs.id
            || line_needs.quantity
            || line_needs.sku
            || line_needs.selling_plan
            || line_needs.inventory
            || line_needs.tags;
        let keys = any_field.then(|| LineKeys::new(&lines, count >= INTERN_FROM_LINES));
        for index in 0..count {
            let Some(keys) = &keys else {
                // Only the number of lines is consulted.
                facts.line_items.push(LineFacts::default());
                continue;
            };
            let line_path = lines_path.index(index);
            let (line, tags) = read_line(&lines.get_at_index(index), &line_path, line_needs, keys)?;
            facts.line_items.push(line);
            tag_answers.push(tags);
        }
    }
    Ok((facts, tag_answers))
}

fn money(value: &Value, path: &Path) -> Read<Money> {
    object(value, path)?;
    let amount_path = path.field("amount");
    let text = string(&value.get_obj_prop("amount"), &amount_path)?;
    let amount = Amount::parse(&text).map_err(|e| error(&amount_path, e.to_string()))?;
    Ok(Money {
        amount,
        currency_code: string(
            &value.get_obj_prop("currencyCode"),
            &path.field("currencyCode"),
        )?,
    })
}

fn read_risk(risk: &Value, path: &Path) -> Read<RiskFacts> {
    object(risk, path)?;
    let assessments_path = path.field("assessments");
    let assessments = risk.get_obj_prop("assessments");
    let mut facts = RiskFacts {
        recommendation: Some(string(
            &risk.get_obj_prop("recommendation"),
            &path.field("recommendation"),
        )?),
        ..RiskFacts::default()
    };
    for index in 0..list(&assessments, &assessments_path)? {
        let item_path = assessments_path.index(index);
        let item = assessments.get_at_index(index);
        object(&item, &item_path)?;
        facts.assessments.push(RiskAssessmentFacts {
            risk_level: string(
                &item.get_obj_prop("riskLevel"),
                &item_path.field("riskLevel"),
            )?,
            third_party: opt_object(&item.get_obj_prop("provider"), &item_path.field("provider"))?,
        });
    }
    Ok(facts)
}

/// A key read on every line. On a long order it is interned once, so that the provider
/// neither allocates nor copies it for each line; interning costs a provider call per key,
/// which pays back from about this many lines (measured with the function-bench command).
const INTERN_FROM_LINES: usize = 8;

#[derive(Clone, Copy)]
struct Key {
    name: &'static str,
    id: Option<InternedStringId>,
}

impl Key {
    fn of(self, value: &Value) -> Value {
        match self.id {
            Some(id) => value.get_interned_obj_prop(id),
            None => value.get_obj_prop(self.name),
        }
    }
}

/// The keys of a line that `LineNeeds` asks for.
struct LineKeys {
    id: Key,
    quantity: Key,
    selling_plan: Key,
    category: Key,
    variant: Key,
    sku: Key,
    inventory_quantity: Key,
    inventory_policy: Key,
    product: Key,
    has_tags: Key,
    has_tag: Key,
}

impl LineKeys {
    fn new(scope: &Value, intern: bool) -> LineKeys {
        let key = |name| Key {
            name,
            id: intern.then(|| scope.intern_utf8_str(name)),
        };
        LineKeys {
            id: key("id"),
            quantity: key("quantity"),
            selling_plan: key("sellingPlan"),
            category: key("category"),
            variant: key("variant"),
            sku: key("sku"),
            inventory_quantity: key("inventoryQuantity"),
            inventory_policy: key("inventoryPolicy"),
            product: key("product"),
            has_tags: key("hasTags"),
            has_tag: key("hasTag"),
        }
    }
}

fn read_line(
    line: &Value,
    path: &Path,
    needs: &LineNeeds,
    keys: &LineKeys,
) -> Read<(LineFacts, Answers)> {
    object(line, path)?;
    let mut facts = LineFacts::default();
    if needs.id {
        facts.id = string(&keys.id.of(line), &path.field(keys.id.name))?;
    }
    if needs.quantity {
        facts.quantity = integer(&keys.quantity.of(line), &path.field(keys.quantity.name))?;
    }
    if needs.selling_plan {
        let plan_path = path.field(keys.selling_plan.name);
        let plan = keys.selling_plan.of(line);
        if opt_object(&plan, &plan_path)? {
            // `SellingPlanCategory` (SUBSCRIPTION, PRE_ORDER) is the fact's value in upper case.
            facts.selling_plan = opt_string(
                &keys.category.of(&plan),
                &plan_path.field(keys.category.name),
            )?
            .map(|category| category.to_ascii_lowercase());
        }
    }
    if needs.sku || needs.inventory {
        let variant_path = path.field(keys.variant.name);
        let variant = keys.variant.of(line);
        if opt_object(&variant, &variant_path)? {
            if needs.sku {
                facts.sku = opt_string(&keys.sku.of(&variant), &variant_path.field(keys.sku.name))?;
            }
            if needs.inventory {
                let quantity = keys.inventory_quantity.of(&variant);
                if !quantity.is_null() {
                    facts.inventory_quantity = Some(integer(
                        &quantity,
                        &variant_path.field(keys.inventory_quantity.name),
                    )?);
                }
                facts.inventory_policy = opt_string(
                    &keys.inventory_policy.of(&variant),
                    &variant_path.field(keys.inventory_policy.name),
                )?;
            }
        }
    }
    let mut tags = None;
    if needs.tags {
        let product_path = path.field(keys.product.name);
        let product = keys.product.of(line);
        if opt_object(&product, &product_path)? {
            tags = Some(answers(
                &product,
                &product_path,
                keys.has_tags,
                keys.has_tag,
            )?);
        }
    }
    Ok((facts, tags))
}

/// The booleans of a `hasTags` answer list.
fn answers(parent: &Value, parent_path: &Path, field: Key, flag: Key) -> Read<Vec<bool>> {
    let path = parent_path.field(field.name);
    let items = field.of(parent);
    let count = list(&items, &path)?;
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let item_path = path.index(index);
        let item = items.get_at_index(index);
        object(&item, &item_path)?;
        // The query selects only `hasTag`, so an answer with one field is read by position:
        // the provider then has no key to copy and compare (10% of a long order's reading).
        let answer = if item.obj_len() == Some(1) {
            item.get_at_index(0)
        } else {
            flag.of(&item)
        };
        out.push(boolean(&answer, &item_path.field(flag.name))?);
    }
    Ok(out)
}
