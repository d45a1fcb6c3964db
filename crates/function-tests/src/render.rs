//! Order facts → the Function input the input query would return for the same order: the
//! reverse of the Function's adapter, for the parity tests, fixtures and the benchmark.

use cancel_policy_core::compiled::{CompiledPolicy, InputVariables, Trigger};
use cancel_policy_core::facts::{Facts, LineFacts};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// The `CancellationTrigger` enum value for a trigger.
pub fn trigger_enum(trigger: Trigger) -> String {
    trigger.name().to_ascii_uppercase()
}

fn utc(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn local(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

/// The compiled-policy metafield for `policy`, as the owner would carry it.
pub fn metafield(policy: Option<&str>) -> Value {
    policy.map_or(Value::Null, |json| json!({ "value": json }))
}

/// The Function input for `facts` at `now`. `policy` supplies the input variables: the
/// `$productTags` that `hasTags` answers about and which line fields are included;
/// `policy_json` is the metafield value (`None`: no metafield). `facts.now_local` must be set:
/// the input always carries the shop's local time.
pub fn function_input(
    facts: &Facts,
    now: DateTime<Utc>,
    trigger: Trigger,
    policy: Option<&CompiledPolicy>,
    policy_json: Option<&str>,
) -> Value {
    let variables = policy
        .map(CompiledPolicy::input_variables)
        .unwrap_or_default();
    let now_local = facts.now_local.map(|t| local(&t));
    let mut input = json!({
        "request": {
            "trigger": trigger_enum(trigger),
            "requestedAt": utc(&now),
            "reason": facts.request.reason,
            "locale": facts.request.locale,
        },
        "shop": { "localTime": { "dateTime": now_local } },
        "cancellationPolicy": { "metafield": metafield(policy_json) },
        "order": order_input(facts, &variables),
    });
    if variables.lines.with_tag_answers
        && let Some(order) = input.get_mut("order").and_then(Value::as_object_mut)
    {
        let line_tags = order_line_tags(&facts.order.line_items, &variables.product_tags);
        order.insert("lineTags".into(), line_tags);
    }
    input
}

/// The order as the query returns it: the fields whose `@include(if:)` variable is false are
/// left out, as GraphQL leaves them out (`lineTags` is added by the caller).
fn order_input(facts: &Facts, variables: &InputVariables) -> Value {
    let order = &facts.order;
    let included = &variables.order;
    let mut fields = Map::new();
    if included.with_created_at {
        fields.insert(
            "createdAt".into(),
            json!(order.created_at.as_ref().map(utc)),
        );
    }
    if included.with_cancellation {
        let cancellation = if order.cancelled {
            json!({ "__typename": "OrderCancellation" })
        } else {
            Value::Null
        };
        fields.insert("cancellation".into(), cancellation);
    }
    if included.with_fulfillment_status {
        let status = json!(order.display_fulfillment_status);
        fields.insert("displayFulfillmentStatus".into(), status);
    }
    if included.with_financial_status {
        let status = json!(order.display_financial_status);
        fields.insert("displayFinancialStatus".into(), status);
    }
    if included.with_fulfillment_orders {
        let fulfillment_orders = order.fulfillment_orders.iter();
        let fulfillment_orders = fulfillment_orders
            .map(|fo| json!({ "status": fo.status, "requestStatus": fo.request_status }));
        fields.insert(
            "fulfillmentOrders".into(),
            Value::Array(fulfillment_orders.collect()),
        );
    }
    if included.with_total_price {
        let total = order.total_price.as_ref().map(|money| {
            json!({
                "presentmentMoney": {
                    "amount": money.amount.to_string(),
                    "currencyCode": money.currency_code,
                }
            })
        });
        fields.insert("totalPriceSet".into(), json!(total));
    }
    if included.with_purchasing_entity {
        let entity = if order.b2b {
            json!({ "__typename": "PurchasingCompany" })
        } else if order.customer.is_some() {
            json!({ "__typename": "Customer" })
        } else {
            Value::Null
        };
        fields.insert("purchasingEntity".into(), entity);
    }
    if included.with_risk {
        let assessments = order.risk.assessments.iter().map(|a| {
            json!({
                "riskLevel": a.risk_level,
                "provider": if a.third_party { json!({ "__typename": "App" }) } else { Value::Null },
            })
        });
        let risk = json!({
            // Shopify reports NONE when it has no recommendation; the core reads a missing one so.
            "recommendation": order.risk.recommendation.as_deref().unwrap_or("NONE"),
            "assessments": assessments.collect::<Vec<_>>(),
        });
        fields.insert("risk".into(), risk);
    }
    let lines = order.line_items.iter();
    let lines = lines.map(|line| line_input(line, variables));
    fields.insert("lineItems".into(), Value::Array(lines.collect()));
    Value::Object(fields)
}

/// `lineTags: lineItems { product { hasTags } }`: each line's answers, in `tags`' order.
fn order_line_tags(lines: &[LineFacts], tags: &[String]) -> Value {
    let lines = lines.iter().map(|line| {
        let answers = tag_answers(line, tags).into_iter();
        let each: Vec<Value> = answers.map(|has| json!({ "hasTag": has })).collect();
        json!({ "product": { "hasTags": each } })
    });
    Value::Array(lines.collect())
}

fn tag_answers(line: &LineFacts, tags: &[String]) -> Vec<bool> {
    // Shopify compares tags without regard to case.
    tags.iter()
        .map(|tag| {
            line.product_tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(tag))
        })
        .collect()
}

/// A line as the query returns it: the fields whose `@include(if:)` variable is false are left
/// out, as GraphQL leaves them out.
fn line_input(line: &LineFacts, variables: &InputVariables) -> Value {
    let included = &variables.lines;
    let answers = tag_answers(line, &variables.product_tags);
    let mut fields = Map::new();
    if included.with_line_id {
        fields.insert("id".into(), json!(line.id));
    }
    if included.with_quantity {
        fields.insert("quantity".into(), json!(line.quantity));
    }
    if included.with_sku {
        fields.insert("sku".into(), json!(line.sku));
    }
    if included.with_selling_plan {
        let plan = line.selling_plan.as_ref();
        let plan = plan.map(|plan| json!({ "category": plan.to_ascii_uppercase() }));
        fields.insert("sellingPlan".into(), json!(plan));
    }
    if included.with_variant {
        let variant = json!({
            "inventoryQuantity": line.inventory_quantity,
            "inventoryPolicy": line.inventory_policy,
        });
        fields.insert("variant".into(), variant);
    }
    if included.with_product {
        let product = json!({ "hasAnyTag": answers.contains(&true) });
        fields.insert("product".into(), product);
    }
    Value::Object(fields)
}

/// `facts` as far as the Function's input carries them: the input query leaves out the order
/// id, the placement's shop-local time and the request's source (see its comment), so the
/// core decides without them, as the Function must.
pub fn as_input_carries(facts: &Facts) -> Facts {
    let mut carried = facts.clone();
    carried.order.id = String::new();
    carried.order.created_at_local = None;
    carried.request.source = None;
    carried
}
