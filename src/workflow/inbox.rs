//! What each verified webhook topic does, run by a worker after the delivery was stored.
//! https://shopify.dev/docs/api/webhooks (payload shapes per topic)

use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::service::{AppState, ServiceError};
use crate::shopify::operations::{VariantInventoryItem, variant_inventory_item};
use crate::store::{NewJob, OrderVersion, WebhookRow, parse_ts};
use crate::workflow::JobError;
use crate::workflow::decide::{DecideError, DecideRequest, decide};

/// The order and fulfillment-order topics the service decides on. shopify.app.toml subscribes
/// them (with inventory and compliance topics); the demo and the e2e suite subscribe them on
/// the dev store.
pub const ORDER_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/risk_assessment_changed",
    "fulfillment_orders/cancellation_request_accepted",
    "fulfillment_orders/cancellation_request_rejected",
    "fulfillment_orders/placed_on_hold",
    "app/uninstalled",
];

/// The Admin GraphQL id in a payload: `admin_graphql_api_id` or one built from `id`.
/// Order ids exceed 2^53: read them as integers or strings, never as floats.
pub fn order_gid(body: &Value) -> Option<String> {
    if let Some(gid) = body
        .get("admin_graphql_api_order_id")
        .or_else(|| body.get("admin_graphql_api_id"))
        .and_then(Value::as_str)
        .filter(|g| g.starts_with("gid://shopify/Order/"))
    {
        return Some(gid.to_string());
    }
    let id = body.get("order_id").or_else(|| body.get("id"))?;
    numeric(id).map(|n| format!("gid://shopify/Order/{n}"))
}

fn numeric(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
            Some(s.clone())
        }
        Value::String(s) => s
            .rsplit('/')
            .next()
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string),
        _ => None,
    }
}

pub fn customer_gid(value: Option<&Value>) -> Option<String> {
    let value = value?;
    if let Some(gid) = value.get("admin_graphql_api_id").and_then(Value::as_str) {
        return Some(gid.to_string());
    }
    numeric(value.get("id")?).map(|n| format!("gid://shopify/Customer/{n}"))
}

/// The resource a delivery is about, kept with it for redaction and audit.
pub fn resource_of(topic: &str, body: &Value) -> (Option<String>, Option<String>) {
    match topic {
        t if t.starts_with("orders/") => (order_gid(body), customer_gid(body.get("customer"))),
        "customers/data_request" | "customers/redact" => (None, customer_gid(body.get("customer"))),
        t if t.starts_with("fulfillment_orders/") => (
            body.pointer("/fulfillment_order/id")
                .and_then(Value::as_str)
                .map(str::to_string),
            None,
        ),
        _ => (None, None),
    }
}

fn time_field(body: &Value, key: &str) -> Option<DateTime<Utc>> {
    body.get(key).and_then(Value::as_str).and_then(parse_ts)
}

pub async fn process(app: &AppState, webhook: &WebhookRow) -> Result<&'static str, JobError> {
    let body: Value = serde_json::from_str(&webhook.body)
        .map_err(|e| JobError::BadPayload(format!("webhook {}: {e}", webhook.webhook_id)))?;
    let shop = webhook.shop.as_str();
    let status = match webhook.topic.as_str() {
        "orders/create" | "orders/updated" | "orders/cancelled" => {
            let Some(order_id) = order_gid(&body) else {
                return Err(JobError::BadPayload(format!(
                    "{}: no order id",
                    webhook.topic
                )));
            };
            // `updated_at`, else the delivery's trigger time: an older state never wins.
            let updated_at = time_field(&body, "updated_at")
                .or_else(|| webhook.triggered_at.as_deref().and_then(parse_ts))
                .unwrap_or_else(Utc::now);
            let customer = customer_gid(body.get("customer"));
            let cancelled_at = time_field(&body, "cancelled_at");
            let reason = body
                .get("cancel_reason")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase);
            let variants = line_variants(&body);
            let newest = app
                .store
                .advance_order_version(&OrderVersion {
                    shop,
                    order_id: &order_id,
                    updated_at,
                    customer_id: customer.as_deref(),
                    cancelled_at,
                    cancel_reason: reason.as_deref(),
                    fulfillment_status: body.get("fulfillment_status").and_then(Value::as_str),
                    variants: variants.as_deref(),
                })
                .await?;
            if webhook.topic == "orders/create" {
                // Decided once per order, on live state, however late the delivery is.
                decide_on(
                    app,
                    shop,
                    &order_id,
                    Trigger::OrderCreated,
                    format!("order_created:{shop}:{order_id}"),
                )
                .await?
            } else if newest {
                "applied"
            } else {
                "stale"
            }
        }
        "orders/risk_assessment_changed" => {
            let Some(order_id) = order_gid(&body) else {
                return Err(JobError::BadPayload(
                    "risk assessment without order id".into(),
                ));
            };
            let event = webhook
                .event_id
                .clone()
                .unwrap_or_else(|| webhook.webhook_id.clone());
            decide_on(
                app,
                shop,
                &order_id,
                Trigger::RiskChanged,
                format!("risk_changed:{shop}:{order_id}:{event}"),
            )
            .await?
        }
        "fulfillment_orders/cancellation_request_accepted"
        | "fulfillment_orders/cancellation_request_rejected" => {
            let fo = body
                .pointer("/fulfillment_order/id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let woken = app.store.wake_waiting_steps(shop, fo).await?;
            if woken > 0 {
                "resumed"
            } else {
                "nothing waiting"
            }
        }
        "inventory_levels/update" => inventory_changed(app, webhook, &body).await?,
        "fulfillment_orders/placed_on_hold" => "recorded",
        "app/uninstalled" => {
            app.store.uninstall_shop(shop, Utc::now()).await?;
            "uninstalled"
        }
        "customers/data_request" => {
            let Some(customer) = customer_gid(body.get("customer")) else {
                return Err(JobError::BadPayload("data request without customer".into()));
            };
            app.store.export_customer(shop, &customer).await?;
            "exported"
        }
        "customers/redact" => {
            let Some(customer) = customer_gid(body.get("customer")) else {
                return Err(JobError::BadPayload("redact without customer".into()));
            };
            let orders: Vec<String> = body
                .get("orders_to_redact")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(numeric)
                        .map(|n| format!("gid://shopify/Order/{n}"))
                        .collect()
                })
                .unwrap_or_default();
            app.store.redact_customer(shop, &customer, &orders).await?;
            "redacted"
        }
        "shop/redact" => {
            app.store.redact_shop(shop).await?;
            "redacted"
        }
        _ => "ignored",
    };
    Ok(status)
}

/// The variants on an order payload's line items (custom items have none); `None` when the
/// payload lists no line items at all, so that the stored lines are left as they are.
fn line_variants(body: &Value) -> Option<Vec<String>> {
    let lines = body.get("line_items")?.as_array()?;
    let mut variants: Vec<String> = lines
        .iter()
        .filter_map(|line| numeric(line.get("variant_id")?))
        .map(|n| format!("gid://shopify/ProductVariant/{n}"))
        .collect();
    variants.sort();
    variants.dedup();
    Some(variants)
}

/// `inventory_levels/update`: every stored open order with a line of the changed inventory item
/// is decided again with the `inventory_changed` trigger, each in a `decide` job of its own
/// (queued together, once per delivered event), so one order's failure retries only that one.
/// https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-inventory_levels/update
/// (payload: `inventory_item_id`, `location_id`, `available`, `updated_at`).
async fn inventory_changed(
    app: &AppState,
    webhook: &WebhookRow,
    body: &Value,
) -> Result<&'static str, JobError> {
    let shop = webhook.shop.as_str();
    let Some(item) = body.get("inventory_item_id").and_then(numeric) else {
        return Err(JobError::BadPayload(
            "inventory level without inventory_item_id".into(),
        ));
    };
    let item = format!("gid://shopify/InventoryItem/{item}");
    // Only when a rule asks about inventory changes: otherwise every stock movement would
    // decide each open order again only to repeat the policy's default on it.
    let bit = Trigger::InventoryChanged.bit();
    match app.policies.get(&app.store, shop).await {
        Ok(active) if active.policy.rules.iter().any(|r| r.triggers & bit != 0) => {}
        Ok(_) => return Ok("no inventory rule"),
        Err(DecideError::NoPolicy(_)) => return Ok("no policy"),
        Err(error) => return Err(error.into()),
    }
    // Order webhooks name variants, this one an inventory item: learn the item of each variant
    // on an open order first (once per variant), so that a change to an item no open order
    // holds is answered from the database alone.
    let unmapped = app.store.unmapped_open_variants(shop).await?;
    if !unmapped.is_empty() {
        let session = app.session(shop).await?;
        for variant in unmapped {
            let data = app
                .client
                .run::<VariantInventoryItem>(
                    &session,
                    variant_inventory_item::Variables {
                        id: variant.clone(),
                    },
                )
                .await
                .map_err(ServiceError::from)?;
            let item_of_variant = data
                .product_variant
                .map(|v| v.inventory_item.id)
                .unwrap_or_default();
            app.store
                .map_variant_item(shop, &variant, &item_of_variant)
                .await?;
        }
    }
    let orders = app.store.open_orders_with_item(shop, &item).await?;
    if orders.is_empty() {
        return Ok("no open orders");
    }
    // One decision per order and inventory event: a redelivery of this event (same event id,
    // new webhook id) queues nothing new.
    let event = webhook
        .event_id
        .clone()
        .unwrap_or_else(|| webhook.webhook_id.clone());
    let jobs: Vec<NewJob> = orders
        .iter()
        .map(|order_id| {
            let dedupe_key = format!("inventory_changed:{shop}:{order_id}:{event}");
            NewJob {
                shop: shop.to_string(),
                kind: "decide".to_string(),
                payload: json!({
                    "orderId": order_id,
                    "trigger": Trigger::InventoryChanged.name(),
                    "dedupeKey": dedupe_key,
                    "source": "webhook",
                })
                .to_string(),
                idempotency_key: format!("decide:{dedupe_key}"),
                run_at: None,
            }
        })
        .collect();
    app.store.enqueue_all(&jobs).await?;
    Ok("re-deciding open orders")
}

async fn decide_on(
    app: &AppState,
    shop: &str,
    order_id: &str,
    trigger: Trigger,
    dedupe_key: String,
) -> Result<&'static str, JobError> {
    let result = decide(
        app,
        DecideRequest {
            shop,
            order_id,
            trigger,
            request: RequestFacts::default(),
            dedupe_key,
            source: "webhook",
            customer: None,
            now: Utc::now(),
            dry_run: false,
        },
    )
    .await;
    match result {
        Ok(_) => Ok("decided"),
        Err(DecideError::NoPolicy(_)) => Ok("no policy"),
        Err(DecideError::OrderNotFound(_)) => Ok("order not found"),
        Err(error) => Err(error.into()),
    }
}
