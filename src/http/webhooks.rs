//! `POST /webhooks`: verify the HMAC over the raw body before anything else, dedupe on the
//! webhook id, store the delivery and its job in one transaction, answer at once.
//! Deliveries arriving together share that transaction (`webhook_writer`): one disk flush for
//! many, each still durable before its 200.
//! https://shopify.dev/docs/apps/build/webhooks/subscribe/https

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Extension, Router};
use serde_json::json;

use crate::http::ApiError;
use crate::http::webhook_writer::WebhookWriter;
use crate::service::App;
use crate::shopify::signatures::verify_webhook;
use crate::store::{NewJob, PendingWebhook, parse_ts};
use crate::workflow::inbox::resource_of;

pub fn router(app: &App) -> Router<App> {
    let writer = WebhookWriter::spawn(app.store.clone());
    Router::new()
        .route("/webhooks", post(receive))
        .layer(Extension(writer))
}

/// A Shopify header, with or without the `X-` prefix (Events deliveries drop it).
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(format!("x-shopify-{name}"))
        .or_else(|| headers.get(format!("shopify-{name}")))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn receive(
    State(app): State<App>,
    Extension(writer): Extension<WebhookWriter>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Some(signature) = header(&headers, "hmac-sha256") else {
        return Err(ApiError::Unauthorized(
            "missing X-Shopify-Hmac-Sha256".into(),
        ));
    };
    if !verify_webhook(&app.settings.secrets, &body, signature) {
        return Err(ApiError::Unauthorized(
            "webhook signature does not match".into(),
        ));
    }
    let (Some(topic), Some(shop), Some(webhook_id)) = (
        header(&headers, "topic"),
        header(&headers, "shop-domain"),
        header(&headers, "webhook-id"),
    ) else {
        return Err(ApiError::BadRequest(
            "missing X-Shopify-Topic, -Shop-Domain or -Webhook-Id".into(),
        ));
    };
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    let parsed: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    let (resource_id, customer_id) = resource_of(topic, &parsed);
    let job = NewJob {
        shop: shop.to_string(),
        kind: "webhook".to_string(),
        payload: json!({ "webhookId": webhook_id }).to_string(),
        idempotency_key: format!("webhook:{webhook_id}"),
        run_at: None,
    };
    let accepted = writer
        .accept(PendingWebhook {
            webhook_id: webhook_id.to_string(),
            shop: shop.to_string(),
            topic: topic.to_string(),
            event_id: header(&headers, "event-id").map(str::to_string),
            triggered_at: header(&headers, "triggered-at").and_then(parse_ts),
            resource_id,
            customer_id,
            body: text.to_string(),
            job: Some(job),
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !accepted {
        tracing::debug!(webhook_id, topic, "duplicate delivery ignored");
    }
    // 200 for a duplicate too: Shopify stops redelivering.
    Ok(StatusCode::OK)
}
