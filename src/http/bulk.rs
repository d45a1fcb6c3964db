//! Staff bulk cancellation (merchant API, admin session token):
//! `POST /api/bulk-cancellations` starts a run over the orders a Shopify search query matches;
//! `GET /api/bulk-cancellations/{id}` reports its progress. The run itself is durable jobs
//! (`crate::workflow::bulk`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use cancel_policy_core::Trigger;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::ApiError;
use crate::http::merchant::merchant_shop;
use crate::service::App;
use crate::store::NewBulk;
use crate::workflow::bulk::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, validate_query};

/// How many undecidable orders the progress report lists (the count covers them all).
const ERRORS_LISTED: i64 = 50;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/bulk-cancellations", post(start))
        .route("/api/bulk-cancellations/{id}", get(progress))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartBody {
    /// A Shopify orders search query, e.g. `tag:fraud-check created_at:>2026-01-01`.
    query: String,
    #[serde(default)]
    trigger: Option<String>,
    /// Decide and count only: nothing is stored per order or carried out.
    #[serde(default, alias = "dry_run")]
    dry_run: bool,
    /// Orders per page (1 to 250).
    #[serde(default, alias = "page_size")]
    page_size: Option<i64>,
}

async fn start(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<StartBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let query = body.query.trim();
    validate_query(query).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let trigger: Trigger = body
        .trigger
        .as_deref()
        .unwrap_or("staff_request")
        .parse()
        .map_err(ApiError::BadRequest)?;
    if trigger == Trigger::CustomerRequest {
        return Err(ApiError::BadRequest(
            "a bulk cancellation is not a customer's request: use staff_request".into(),
        ));
    }
    let page_size = body.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::BadRequest(format!(
            "pageSize must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    if app.store.active_policy(&shop).await?.is_none() {
        return Err(ApiError::Conflict(format!(
            "shop `{shop}` has no published policy"
        )));
    }
    let id = app
        .store
        .create_bulk(&NewBulk {
            shop: &shop,
            query,
            trigger: trigger.name(),
            dry_run: body.dry_run,
            page_size,
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": id,
            "status": "running",
            "progress": format!("/api/bulk-cancellations/{id}"),
        })),
    ))
}

async fn progress(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let not_found = || ApiError::NotFound(format!("bulk cancellation `{id}`"));
    let bulk_id: i64 = id.parse().map_err(|_| not_found())?;
    // Another shop's run is reported as missing, never confirmed.
    let bulk = app
        .store
        .bulk(bulk_id)
        .await?
        .filter(|b| b.shop == shop)
        .ok_or_else(not_found)?;
    let outcomes = app.store.bulk_outcomes(bulk_id).await?;
    let errors = app.store.bulk_errors(bulk_id, ERRORS_LISTED).await?;
    Ok(Json(json!({
        "id": bulk.id,
        "query": bulk.query,
        "trigger": bulk.trigger_name,
        "dryRun": bulk.dry_run != 0,
        "pageSize": bulk.page_size,
        "status": bulk.status,
        "ordersSeen": bulk.orders_seen,
        "decided": bulk.decided,
        "byOutcome": outcomes,
        "errorCount": bulk.errors,
        "errors": errors,
        "lastError": bulk.last_error,
        "pages": bulk.pages,
        "cursor": bulk.cursor,
        "createdAt": bulk.created_at,
        "updatedAt": bulk.updated_at,
        "finishedAt": bulk.finished_at,
    })))
}
