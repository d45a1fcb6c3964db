//! The merchant API (JSON), authenticated with an admin session token (HS256, app secret,
//! `aud` = our client id, `dest` = the shop's admin).
//! https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{ApiError, order_gid};
use crate::service::{App, policy_hash};
use crate::shopify::signatures::verify_session_token;
use crate::store::{NewPolicy, PolicyRow, StepRow};
use crate::workflow::decide::{DecideRequest, decide};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/orders/{order}/audit", get(audit))
        .route("/api/orders/{order}/dry-run", post(dry_run))
        .route("/api/stats", get(stats))
        .route("/api/policies", get(list_policies).post(publish))
        .route("/api/policies/validate", post(validate))
        .route("/api/policies/{hash}/activate", post(activate))
}

/// The shop the admin session token was issued for.
pub(crate) fn merchant_shop(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("missing bearer session token".into()))?;
    let claims = verify_session_token(
        &app.settings.secrets,
        &app.settings.api_key,
        token.trim(),
        Utc::now(),
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    Ok(claims.shop_domain().to_string())
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub decision_id: i64,
    pub trigger: String,
    pub source: String,
    pub policy_hash: String,
    pub rule: Option<String>,
    pub outcome: String,
    pub status: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub decision: Value,
    pub facts: Value,
    pub steps: Vec<AuditStep>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditStep {
    pub seq: i64,
    pub kind: String,
    pub status: String,
    pub request: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub attempts: i64,
    pub duration_ms: Option<i64>,
    pub finished_at: Option<String>,
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

impl From<StepRow> for AuditStep {
    fn from(s: StepRow) -> Self {
        AuditStep {
            seq: s.seq,
            kind: s.kind,
            status: s.status,
            request: parse(&s.request),
            result: s.result.as_deref().map(parse),
            error: s.error,
            attempts: s.attempts,
            duration_ms: s.duration_ms,
            finished_at: s.finished_at,
        }
    }
}

/// Every decision about the order with every step, oldest first.
pub async fn audit_entries(
    store: &crate::store::Store,
    rows: Vec<crate::store::DecisionRow>,
) -> Result<Vec<AuditEntry>, ApiError> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let steps = store
            .steps(row.id)
            .await?
            .into_iter()
            .map(AuditStep::from)
            .collect();
        entries.push(AuditEntry {
            decision_id: row.id,
            trigger: row.trigger_name,
            source: row.source,
            policy_hash: row.policy_hash,
            rule: row.rule,
            outcome: row.outcome,
            status: row.status,
            created_at: row.created_at,
            finished_at: row.finished_at,
            decision: parse(&row.decision),
            facts: parse(&row.facts),
            steps,
        });
    }
    Ok(entries)
}

async fn audit(
    State(app): State<App>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let order_id = order_gid(&order)?;
    let rows = app.store.decisions_for_order(&shop, &order_id).await?;
    let entries = audit_entries(&app.store, rows).await?;
    Ok(Json(json!({ "order": order_id, "decisions": entries })))
}

async fn stats(State(app): State<App>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let stats = app.store.stats(&shop).await?;
    Ok(Json(json!(stats)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyBody {
    /// The policy's TOML source.
    source: String,
    #[serde(default)]
    file: Option<String>,
}

fn compile(body: &PolicyBody) -> (Option<cancel_policy_core::CompiledPolicy>, Value) {
    let file = body.file.as_deref().unwrap_or("policy.toml");
    let output = cancel_policy_core::compile::compile(&body.source, file);
    (output.policy, json!(output.diagnostics))
}

async fn validate(
    State(app): State<App>,
    headers: HeaderMap,
    Json(body): Json<PolicyBody>,
) -> Result<Json<Value>, ApiError> {
    merchant_shop(&app, &headers)?;
    let (policy, diagnostics) = compile(&body);
    Ok(Json(json!({
        "valid": policy.is_some(),
        "diagnostics": diagnostics,
        "compiled": policy.map(|p| serde_json::from_str::<Value>(&p.to_json()).unwrap_or(Value::Null)),
    })))
}

fn policy_json(row: &PolicyRow) -> Value {
    json!({ "hash": row.hash, "policyId": row.policy_id, "version": row.version, "active": row.active == 1, "createdAt": row.created_at })
}

/// Compiles and makes the policy the shop's active version.
async fn publish(
    State(app): State<App>,
    headers: HeaderMap,
    Json(body): Json<PolicyBody>,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let (policy, diagnostics) = compile(&body);
    let Some(policy) = policy else {
        return Err(ApiError::BadRequest(format!(
            "the policy does not compile: {diagnostics}"
        )));
    };
    let row = publish_compiled(&app, &shop, &policy, Some(&body.source)).await?;
    Ok(Json(
        json!({ "published": policy_json(&row), "diagnostics": diagnostics }),
    ))
}

/// Stores a compiled policy as the shop's active version.
pub async fn publish_compiled(
    app: &App,
    shop: &str,
    policy: &cancel_policy_core::CompiledPolicy,
    source: Option<&str>,
) -> Result<PolicyRow, ApiError> {
    let compiled = policy.to_json();
    let hash = policy_hash(&compiled);
    Ok(app
        .store
        .publish_policy(&NewPolicy {
            shop,
            policy_id: &policy.id,
            version: &policy.version,
            hash: &hash,
            compiled: &compiled,
            source,
        })
        .await?)
}

async fn list_policies(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let rows = app.store.policies(&shop).await?;
    Ok(Json(
        json!({ "versions": rows.iter().map(policy_json).collect::<Vec<_>>() }),
    ))
}

async fn activate(
    State(app): State<App>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    if !app.store.activate_policy(&shop, &hash).await? {
        return Err(ApiError::NotFound(format!("policy version `{hash}`")));
    }
    Ok(Json(json!({ "active": hash })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct DryRunBody {
    trigger: Option<String>,
    request: Option<RequestFacts>,
}

/// Decides a live order with the active policy; stores and changes nothing.
async fn dry_run(
    State(app): State<App>,
    Path(order): Path<String>,
    headers: HeaderMap,
    body: Option<Json<DryRunBody>>,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let order_id = order_gid(&order)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let trigger: Trigger = body
        .trigger
        .as_deref()
        .unwrap_or("staff_request")
        .parse()
        .map_err(ApiError::BadRequest)?;
    let decided = decide(
        &app,
        DecideRequest {
            shop: &shop,
            order_id: &order_id,
            trigger,
            request: body.request.unwrap_or_default(),
            dedupe_key: String::new(),
            source: "dry_run",
            customer: None,
            now: Utc::now(),
            dry_run: true,
        },
    )
    .await?;
    Ok(Json(json!({
        "order": order_id,
        "policyHash": decided.policy_hash,
        "decision": decided.decision,
        "steps": decided.steps,
        "facts": decided.facts,
    })))
}
