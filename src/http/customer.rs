//! Customer cancel requests, two doors:
//! - `POST /api/customer/orders/{id}/cancel` from a customer-account order action, with
//!   `Authorization: Bearer <session token>` (HS256, app secret; `aud`, `exp`/`nbf`, `dest`
//!   = the shop, `sub` = the customer).
//!   https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/session-token-api
//! - `GET|POST /proxy/orders/{id}/cancel` through the app proxy, with Shopify's `signature`.
//!   https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
//!
//! A customer acts only on their own order; requests are rate limited per customer and shop.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::post;
use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use cancel_policy_core::outcome::OutcomeKind;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::http::{ApiError, order_gid};
use crate::service::App;
use crate::shopify::signatures::{verify_app_proxy, verify_session_token};
use crate::workflow::decide::{DecideRequest, Decided, decide};
use crate::workflow::plan::Step;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/customer/orders/{order}/cancel", post(session_door))
        .route(
            "/proxy/orders/{order}/cancel",
            post(proxy_door).get(proxy_door),
        )
}

/// What the customer may send along.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CancelBody {
    pub reason: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelAnswer {
    pub order: String,
    pub order_name: String,
    pub decision_id: Option<i64>,
    /// `allow`, `deny`, `review`, `hold`, `cancel`, `cancel_lines`, or `already_cancelled`.
    pub outcome: String,
    pub rule: Option<String>,
    /// The "why" (or "why not") in the customer's language.
    pub message: Option<String>,
    pub locale: Option<String>,
    /// What happens next, in plain words.
    pub next: String,
    pub steps: Vec<String>,
}

/// How long an app proxy signature stays acceptable (replays of a captured URL are refused).
const PROXY_MAX_AGE_SECONDS: i64 = 600;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn body_of(bytes: &Bytes) -> Result<CancelBody, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(CancelBody::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))
}

async fn session_door(
    State(app): State<App>,
    Path(order): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<CancelAnswer>, ApiError> {
    let token = bearer(&headers)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer session token".into()))?;
    let claims = verify_session_token(
        &app.settings.secrets,
        &app.settings.api_key,
        token,
        Utc::now(),
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let customer = claims
        .sub
        .clone()
        .filter(|s| s.starts_with("gid://shopify/Customer/"))
        .ok_or_else(|| {
            ApiError::Unauthorized("the session token names no signed-in customer".into())
        })?;
    let body = body_of(&bytes)?;
    let answer = cancel_request(&app, claims.shop_domain(), &customer, &order, body).await?;
    Ok(Json(answer))
}

async fn proxy_door(
    State(app): State<App>,
    Path(order): Path<String>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> Result<Json<CancelAnswer>, ApiError> {
    let pairs: Vec<(String, String)> = query.as_deref().map(url_pairs).unwrap_or_default();
    if !verify_app_proxy(&app.settings.secrets, &pairs) {
        return Err(ApiError::Unauthorized(
            "app proxy signature does not match".into(),
        ));
    }
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let timestamp: i64 = get("timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    if (Utc::now().timestamp() - timestamp).abs() > PROXY_MAX_AGE_SECONDS {
        return Err(ApiError::Unauthorized(
            "app proxy request is too old".into(),
        ));
    }
    let shop = get("shop").ok_or_else(|| ApiError::BadRequest("missing shop".into()))?;
    let customer = get("logged_in_customer_id")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::Unauthorized("sign in to cancel an order".into()))?;
    let customer = format!("gid://shopify/Customer/{customer}");
    let body = body_of(&bytes)?;
    let answer = cancel_request(&app, shop, &customer, &order, body).await?;
    Ok(Json(answer))
}

/// Splits and percent-decodes a query string (`+` as space, a malformed escape kept as
/// it is, invalid UTF-8 replaced), keeping repeated keys in their order.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// Decides a customer's request, stores it with its plan, and says what happens next.
pub async fn cancel_request(
    app: &App,
    shop: &str,
    customer: &str,
    order: &str,
    body: CancelBody,
) -> Result<CancelAnswer, ApiError> {
    let order_id = order_gid(order)?;
    app.limiter
        .check(shop, customer)
        .map_err(|retry_after_seconds| ApiError::TooManyRequests {
            retry_after_seconds,
        })?;
    // A cancellation already decided for this order is the answer; never a second one.
    for previous in app.store.decisions_for_order(shop, &order_id).await? {
        let cancels = OutcomeKind::by_name(&previous.outcome).is_some_and(OutcomeKind::cancels);
        if cancels
            && previous.status != "failed"
            && previous.customer_id.as_deref() == Some(customer)
        {
            let decision: cancel_policy_core::Decision =
                serde_json::from_str(&previous.decision)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            return Ok(CancelAnswer {
                order: order_id,
                order_name: String::new(),
                decision_id: Some(previous.id),
                outcome: decision.outcome.name().to_string(),
                rule: decision.rule.clone(),
                message: decision.message.as_ref().map(|m| m.text.clone()),
                locale: decision.message.as_ref().map(|m| m.locale.clone()),
                next: "Your cancellation is already under way.".to_string(),
                steps: app
                    .store
                    .steps(previous.id)
                    .await?
                    .into_iter()
                    .map(|s| s.kind)
                    .collect(),
            });
        }
    }
    let request_id = format!("{:016x}", rand::random::<u64>());
    let decided = decide(
        app,
        DecideRequest {
            shop,
            order_id: &order_id,
            trigger: Trigger::CustomerRequest,
            request: RequestFacts {
                source: Some("customer".to_string()),
                reason: body.reason,
                locale: body.locale,
            },
            dedupe_key: format!("customer:{shop}:{order_id}:{request_id}"),
            source: "customer",
            customer: Some(customer),
            now: Utc::now(),
            dry_run: false,
        },
    )
    .await?;
    Ok(answer(order_id, decided))
}

fn answer(order_id: String, decided: Decided) -> CancelAnswer {
    let already = decided.facts.order.cancelled;
    let next = if already {
        "This order is already cancelled.".to_string()
    } else {
        next_words(&decided)
    };
    CancelAnswer {
        order: order_id,
        order_name: decided.order_name,
        decision_id: decided.decision_id,
        outcome: if already {
            "already_cancelled".to_string()
        } else {
            decided.decision.outcome.name().to_string()
        },
        rule: decided.decision.rule.clone(),
        message: decided.decision.message.as_ref().map(|m| m.text.clone()),
        locale: decided.decision.message.as_ref().map(|m| m.locale.clone()),
        next,
        steps: decided.steps.iter().map(|s| s.kind().to_string()).collect(),
    }
}

fn next_words(decided: &Decided) -> String {
    let mut words = Vec::new();
    for step in &decided.steps {
        match step {
            Step::CancelOrder {
                refund,
                restock,
                notify_customer,
                ..
            } => {
                words.push("Your order is being cancelled.".to_string());
                words.push(match refund {
                    cancel_policy_core::outcome::RefundMethod::Original => {
                        "The payment goes back to your original payment method.".to_string()
                    }
                    cancel_policy_core::outcome::RefundMethod::StoreCredit => {
                        "The amount is refunded as store credit.".to_string()
                    }
                    cancel_policy_core::outcome::RefundMethod::None => {
                        "Any authorized payment is released.".to_string()
                    }
                });
                if *restock {
                    words.push("The items go back to stock.".to_string());
                }
                if *notify_customer {
                    words.push("You will get a confirmation email.".to_string());
                }
            }
            Step::Refund { fee, .. } => words.push(format!(
                "A cancellation fee of {} {} is kept; the rest is refunded.",
                crate::workflow::execute::money_text(fee.amount, &fee.currency_code),
                fee.currency_code
            )),
            Step::CancelLines { lines, .. } => words.push(format!(
                "{} item line(s) are cancelled and refunded.",
                lines.len()
            )),
            Step::RequestFulfillmentCancellation { .. } => {
                words.push("The warehouse is asked to stop the shipment first.".to_string())
            }
            Step::Review => {
                words.push("A member of our team will review your request.".to_string())
            }
            Step::Hold { .. } => words
                .push("Your order is held and will not ship until this is settled.".to_string()),
            _ => {}
        }
    }
    if words.is_empty() {
        "Nothing changes: your order goes ahead.".to_string()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode_and_keep_repeats() {
        let pairs = url_pairs("extra=1&extra=2&path_prefix=%2Fapps%2Fx&shop=a.myshopify.com&q=a+b");
        assert_eq!(pairs[0], ("extra".to_string(), "1".to_string()));
        assert_eq!(pairs[1], ("extra".to_string(), "2".to_string()));
        assert_eq!(pairs[2].1, "/apps/x");
        assert_eq!(pairs[4].1, "a b");
        // A malformed escape is kept as it is, as before.
        let pairs = url_pairs("a=100%&b=%zz&flag");
        assert_eq!(pairs[0].1, "100%");
        assert_eq!(pairs[1].1, "%zz");
        assert_eq!(pairs[2], ("flag".to_string(), String::new()));
    }
}
