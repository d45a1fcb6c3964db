//! The HTTP surface: one router per door, one error type.

pub mod bulk;
pub mod customer;
pub mod flow;
pub mod limits;
pub mod merchant;
pub mod webhook_writer;
pub mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::service::{App, ServiceError};
use crate::store::StoreError;
use crate::workflow::decide::DecideError;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(webhooks::router(&app))
        .merge(customer::router())
        .merge(flow::router())
        .merge(merchant::router())
        .merge(bulk::router())
        .with_state(app)
}

/// What a handler can answer besides success. Internal causes are logged, never returned.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::UnknownShop(shop) => {
                ApiError::NotFound(format!("shop `{shop}` is not installed"))
            }
            ServiceError::Admin(e) if e.is_transient() => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<DecideError> for ApiError {
    fn from(error: DecideError) -> Self {
        match error {
            DecideError::OrderNotFound(id) | DecideError::NotYourOrder(id) => {
                ApiError::NotFound(format!("order `{id}` was not found"))
            }
            DecideError::NoPolicy(shop) => {
                ApiError::Conflict(format!("shop `{shop}` has no published policy"))
            }
            DecideError::Service(e) => e.into(),
            DecideError::Admin(e) if e.is_transient() => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m.clone()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; try again shortly".to_string(),
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            ApiError::Unavailable(m) => {
                tracing::warn!(error = %m, "upstream unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Shopify is not answering; try again shortly".to_string(),
                )
            }
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_string(),
                )
            }
        };
        let mut response = (
            status,
            axum::Json(json!({ "error": code, "message": message })),
        )
            .into_response();
        if let ApiError::TooManyRequests {
            retry_after_seconds,
        } = self
            && let Ok(value) = retry_after_seconds.to_string().parse()
        {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }
}

/// `123` or `gid://shopify/Order/123` → the Order GID.
pub fn order_gid(id: &str) -> Result<String, ApiError> {
    let digits = id.strip_prefix("gid://shopify/Order/").unwrap_or(id);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::BadRequest(format!("`{id}` is not an order id")));
    }
    Ok(format!("gid://shopify/Order/{digits}"))
}
