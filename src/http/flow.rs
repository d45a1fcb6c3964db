//! `POST /flow/actions/cancel-by-policy`: the Flow action "Cancel order by policy"
//! (`extensions/flow-cancel-by-policy`). Flow posts the action's payload, signed like a webhook;
//! the shop's published policy decides the order and the durable queue carries it out.
//!
//! Flow's contract (https://shopify.dev/docs/apps/build/flow/actions/endpoints):
//! - the body is JSON: `shop_id`, `shopify_domain`, `action_run_id`, `handle`,
//!   `action_definition_id` and `properties` (the action's fields by key; the
//!   `order_reference` field arrives as `properties.order_id`);
//! - `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app secret, raw body));
//! - `action_run_id` identifies one run: a resend reuses it, so it is the dedupe key;
//! - 200 means processed; 202 means accepted but not processed, and Flow resends later with
//!   the same `action_run_id`; any other 4xx fails the step (no resend); 5xx is resent.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::http::{ApiError, order_gid};
use crate::service::App;
use crate::shopify::signatures::verify_webhook;
use crate::store::DecisionRow;
use crate::workflow::decide::{DecideRequest, Decided, decide};

/// The action's `runtime_url` path.
pub const ACTION_PATH: &str = "/flow/actions/cancel-by-policy";

/// The action extension's handle, as Flow sends it in `handle`.
pub const ACTION_HANDLE: &str = "cancel-order-by-policy";

/// Decisions made for a Flow run are keyed by its `action_run_id`.
const DEDUPE_PREFIX: &str = "flow:";

pub fn router() -> Router<App> {
    Router::new().route(ACTION_PATH, post(run_action))
}

/// Flow's action request. `shop_id` and the order id come as strings in Shopify's examples;
/// numbers are accepted too.
#[derive(Debug, Deserialize)]
pub struct ActionRequest {
    #[serde(default)]
    pub shop_id: Option<Value>,
    pub shopify_domain: String,
    pub action_run_id: String,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub action_definition_id: Option<String>,
    pub properties: ActionProperties,
}

/// The action's fields (see the extension's `[[settings.fields]]`).
#[derive(Debug, Deserialize)]
pub struct ActionProperties {
    /// The `order_reference` field: the order's numeric id (or its GID).
    pub order_id: Value,
    /// The optional "Reason" text field, offered to the policy as `request_reason`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the endpoint answers with 200 (Flow ignores the body; it helps when reading logs).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionAnswer {
    pub action_run_id: String,
    pub order: String,
    pub decision_id: Option<i64>,
    pub outcome: String,
    pub rule: Option<String>,
    pub message: Option<String>,
    /// False when this run was decided before (a resend): nothing new happened.
    pub new: bool,
}

async fn run_action(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Nothing is read, stored or asked of Shopify before the signature holds.
    let signature = headers
        .get("x-shopify-hmac-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("missing X-Shopify-Hmac-Sha256".into()))?;
    if !verify_webhook(&app.settings.secrets, &body, signature) {
        return Err(ApiError::Unauthorized(
            "Flow action signature does not match".into(),
        ));
    }
    let request: ActionRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Flow action payload: {e}")))?;
    if let Some(handle) = request.handle.as_deref()
        && handle != ACTION_HANDLE
    {
        return Err(ApiError::BadRequest(format!(
            "this endpoint runs `{ACTION_HANDLE}`, not `{handle}`"
        )));
    }
    let run_id = request.action_run_id.trim();
    if run_id.is_empty() {
        return Err(ApiError::BadRequest("`action_run_id` is empty".into()));
    }
    let shop = request.shopify_domain.trim();
    if shop.is_empty() {
        return Err(ApiError::BadRequest("`shopify_domain` is empty".into()));
    }
    let order_id =
        order_gid(&id_text(&request.properties.order_id).ok_or_else(|| {
            ApiError::BadRequest("`properties.order_id` is not an order id".into())
        })?)?;
    tracing::debug!(
        run_id,
        shop,
        shop_id = ?request.shop_id,
        action = ?request.action_definition_id,
        "Flow action received"
    );

    let dedupe_key = format!("{DEDUPE_PREFIX}{run_id}");
    let first_delivery = app.store.accept_flow_run(run_id, shop, &order_id).await?;
    if !first_delivery
        && let Some(previous) = earlier_decision(&app, run_id, shop, &order_id, &dedupe_key).await?
    {
        // A resend: answer with the earlier decision without asking Shopify anything.
        let decision: cancel_policy_core::Decision = serde_json::from_str(&previous.decision)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(answer(ActionAnswer {
            action_run_id: run_id.to_string(),
            order: order_id,
            decision_id: Some(previous.id),
            outcome: decision.outcome.name().to_string(),
            rule: decision.rule,
            message: decision.message.map(|m| m.text),
            new: false,
        }));
    }
    // First delivery, or a resend of a run that was not decided (e.g. Shopify was down):
    // the decision's dedupe key still allows one decision per run.
    let decided = decide(
        &app,
        DecideRequest {
            shop,
            order_id: &order_id,
            trigger: Trigger::FlowAction,
            request: RequestFacts {
                source: Some("flow".to_string()),
                reason: request
                    .properties
                    .reason
                    .filter(|reason| !reason.trim().is_empty()),
                locale: None,
            },
            dedupe_key,
            source: "flow",
            customer: None,
            now: Utc::now(),
            dry_run: false,
        },
    )
    .await;
    if let Ok(Decided {
        decision_id: Some(decision_id),
        ..
    }) = &decided
        && let Err(error) = app.store.link_flow_run(run_id, *decision_id).await
    {
        // The decision stands and a resend still finds it by its dedupe key.
        tracing::warn!(run_id, decision_id, %error, "could not link the Flow run to its decision");
    }
    match decided {
        Ok(decided) => Ok(answer(ActionAnswer {
            action_run_id: run_id.to_string(),
            order: order_id,
            decision_id: decided.decision_id,
            outcome: decided.decision.outcome.name().to_string(),
            rule: decided.decision.rule,
            message: decided.decision.message.map(|m| m.text),
            new: decided.new,
        })),
        Err(error) => match ApiError::from(error) {
            ApiError::Unavailable(why) => {
                // Flow resends a 202 later with the same `action_run_id`.
                tracing::warn!(run_id, error = %why, "Shopify unavailable; Flow will resend");
                Ok(StatusCode::ACCEPTED.into_response())
            }
            other => Err(other),
        },
    }
}

/// The decision an earlier delivery of this run got: the linked one, else (a run decided but
/// not linked) the order's decision with the run's dedupe key.
async fn earlier_decision(
    app: &App,
    run_id: &str,
    shop: &str,
    order_id: &str,
    dedupe_key: &str,
) -> Result<Option<DecisionRow>, ApiError> {
    if let Some(id) = app.store.flow_run_decision(run_id).await?
        && let Some(row) = app.store.decision(id).await?
        && row.shop == shop
        && row.order_id == order_id
    {
        return Ok(Some(row));
    }
    Ok(app
        .store
        .decisions_for_order(shop, order_id)
        .await?
        .into_iter()
        .find(|row| row.dedupe_key == dedupe_key))
}

fn answer(answer: ActionAnswer) -> Response {
    (StatusCode::OK, Json(answer)).into_response()
}

/// `"123"`, `123` or `"gid://shopify/Order/123"` as text.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_string()),
        Value::Number(number) => number.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shopify_documented_payload_shape_parses() {
        // The shape on https://shopify.dev/docs/apps/build/flow/actions/endpoints, with this
        // action's `order_reference` field.
        let body = json!({
            "shop_id": "1",
            "shopify_domain": "shop.myshopify.com",
            "action_run_id": "xxxx-xxxx-xxxx-xxxx",
            "action_definition_id": "Cancel order by policy",
            "handle": ACTION_HANDLE,
            "properties": { "order_id": "820982911946154508", "step_reference": "320d4f8a" }
        });
        let request: ActionRequest = serde_json::from_value(body).unwrap();
        assert_eq!(request.action_run_id, "xxxx-xxxx-xxxx-xxxx");
        assert_eq!(
            order_gid(&id_text(&request.properties.order_id).unwrap()).unwrap(),
            "gid://shopify/Order/820982911946154508"
        );
        assert_eq!(request.properties.reason, None);
    }

    #[test]
    fn order_ids_come_as_text_numbers_or_gids() {
        assert_eq!(id_text(&json!(42)).as_deref(), Some("42"));
        assert_eq!(id_text(&json!(" 42 ")).as_deref(), Some("42"));
        assert_eq!(
            id_text(&json!("gid://shopify/Order/42")).as_deref(),
            Some("gid://shopify/Order/42")
        );
        assert_eq!(id_text(&json!(-1)), None);
        assert_eq!(id_text(&json!(null)), None);
    }
}
