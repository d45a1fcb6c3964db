//! `POST /webhooks`: verify the HMAC over the raw body before anything else, dedupe on the
//! webhook id, store the delivery and its job in one transaction, answer at once.
//! https://shopify.dev/docs/apps/build/webhooks/subscribe/https

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;

use crate::http::ApiError;
use crate::service::App;
use crate::shopify::signatures::verify_webhook;
use crate::store::{NewJob, NewWebhook, parse_ts};
use crate::workflow::inbox::resource_of;

pub fn router() -> Router<App> {
    Router::new().route("/webhooks", post(receive))
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
    let accepted = app
        .store
        .accept_webhook(
            &NewWebhook {
                webhook_id,
                shop,
                topic,
                event_id: header(&headers, "event-id"),
                triggered_at: header(&headers, "triggered-at").and_then(parse_ts),
                resource_id,
                customer_id,
                body: text,
            },
            Some(&job),
        )
        .await?;
    if !accepted {
        tracing::debug!(webhook_id, topic, "duplicate delivery ignored");
    }
    // 200 for a duplicate too: Shopify stops redelivering.
    Ok(StatusCode::OK)
}
