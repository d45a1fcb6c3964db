//! The merchant API (JSON), authenticated with an admin session token (HS256, app secret,
//! `aud` = our client id, `dest` = the shop's admin).
//! https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use cancel_policy_core::compiled::METAFIELD_LIMIT_BYTES;
use cancel_policy_core::facts::RequestFacts;
use cancel_policy_core::{CompiledPolicy, Trigger};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{ApiError, order_gid};
use crate::service::{App, AppState, ServiceError, policy_hash};
use crate::shopify::AdminError;
use crate::shopify::operations::metafields_set::{self, MetafieldsSetInput};
use crate::shopify::operations::{MetafieldsSet, PolicyMetafields, policy_metafields};
use crate::shopify::signatures::verify_session_token;
use crate::store::{NewPolicy, PolicyRow, StepRow, StoreError};
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
    /// Optional optimistic concurrency for editors: the digests the client last saw (from an
    /// earlier publish's answer); without it the service reads the current ones itself.
    #[serde(default)]
    compare_digests: Option<CompareDigests>,
}

fn compile(body: &PolicyBody) -> (Option<CompiledPolicy>, Value) {
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

// ---- publishing to Shopify ------------------------------------------------------------------
//
// A Function reads its configuration from metafields on its *owner* (the discount, validation,
// cart transform… it is attached to), and its input variables from a JSON metafield on that
// same owner:
// https://shopify.dev/docs/apps/build/functions/input-queries/metafields-for-input-queries
// https://shopify.dev/docs/apps/build/functions/input-queries/use-variables-input-queries
// Shopify has no order-cancellation Function API, hence no owner type to create (see
// extensions/cancel-policy/shopify.extension.toml). The Shop stands in for the owner: every
// installation has exactly one, it needs no extra object or scope, and the app-owned `$app:`
// namespace keeps the values private to this app. Real Shopify Functions would not take input
// variables from a Shop metafield; our Function runner and the service read them from there.

/// The app-owned namespace of the policy metafields (`[extensions.input.variables]` in
/// extensions/cancel-policy/shopify.extension.toml; the unit tests keep them in step).
pub const POLICY_NAMESPACE: &str = "$app:cancel-policy";
/// The compiled policy, as `CompiledPolicy::to_json()` writes it; the Function's input query
/// reads this key.
pub const COMPILED_POLICY_KEY: &str = "compiled-policy";
/// `CompiledPolicy::input_variables()`, the values of the input query's variables.
pub const INPUT_VARIABLES_KEY: &str = "input-variables";
/// Input variables must come from a `json` metafield; the compiled policy is JSON too.
const METAFIELD_TYPE: &str = "json";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "the policy metafields on Shopify ({keys}) changed since they were read: someone else published in between. Nothing was written and the active version is unchanged; reload and publish again"
    )]
    Conflict { keys: String },
    #[error(
        "the {what} is {size} bytes; a metafield read by a Function holds at most {METAFIELD_LIMIT_BYTES} (https://shopify.dev/docs/api/functions/latest#limitations)"
    )]
    TooLarge { what: &'static str, size: usize },
    #[error("this version cannot be published again: {0}; publish its source instead")]
    Unreadable(String),
    #[error("Shopify refused the policy metafields: {0}")]
    Refused(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::Conflict { .. } | PublishError::Unreadable(_) => {
                ApiError::Conflict(error.to_string())
            }
            PublishError::TooLarge { .. } => ApiError::BadRequest(error.to_string()),
            PublishError::Service(e) => e.into(),
            PublishError::Admin(e) if e.is_transient() => ApiError::Unavailable(e.to_string()),
            PublishError::Store(e) => e.into(),
            PublishError::Refused(_) | PublishError::Admin(_) => {
                ApiError::Internal(error.to_string())
            }
        }
    }
}

/// The `compareDigest` each policy metafield must still have for a write to go through;
/// `None` means "must not exist yet" (sent as an explicit `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareDigests {
    #[serde(default)]
    pub compiled_policy: Option<String>,
    #[serde(default)]
    pub input_variables: Option<String>,
}

/// One policy metafield as Shopify holds it after a publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedMetafield {
    pub id: String,
    pub compare_digest: String,
}

/// Where a publish wrote, and the digests to compare against next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedMetafields {
    /// The Shop's GID (the stand-in Function owner).
    pub owner: String,
    pub compiled_policy: PublishedMetafield,
    pub input_variables: PublishedMetafield,
}

/// The two metafield values of one policy version, checked against the metafield limit.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMetafieldValues {
    compiled: String,
    variables: String,
}

impl PolicyMetafieldValues {
    /// `compiled` is the exact JSON whose hash names the version (`CompiledPolicy::to_json()`
    /// when it was published); the variables are derived from `policy`.
    pub fn new(compiled: String, policy: &CompiledPolicy) -> Result<Self, PublishError> {
        let variables = serde_json::to_string(&policy.input_variables())
            .map_err(|e| PublishError::Unreadable(e.to_string()))?;
        // The compiler already refuses a policy over the limit, but a stored version may come
        // from an older compiler, and nothing bounds the variables' size (long tags): a value
        // over the limit would silently never reach the Function.
        for (what, value) in [
            ("compiled policy", &compiled),
            ("input variables", &variables),
        ] {
            if value.len() > METAFIELD_LIMIT_BYTES {
                return Err(PublishError::TooLarge {
                    what,
                    size: value.len(),
                });
            }
        }
        Ok(PolicyMetafieldValues {
            compiled,
            variables,
        })
    }

    /// True when `live` already holds these exact values.
    fn written_in(&self, live: &LivePolicy) -> bool {
        let same = |text: &str, held: Option<&LiveMetafield>| {
            serde_json::from_str::<Value>(text)
                .ok()
                .zip(held)
                .is_some_and(|(ours, held)| ours == held.json_value)
        };
        same(&self.compiled, live.compiled.as_ref())
            && same(&self.variables, live.variables.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveMetafield {
    pub id: String,
    pub compare_digest: String,
    pub json_value: Value,
}

/// The policy metafields as Shopify holds them now.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePolicy {
    /// The Shop's GID.
    pub owner: String,
    pub compiled: Option<LiveMetafield>,
    pub variables: Option<LiveMetafield>,
}

impl LivePolicy {
    /// The digests to write against, so that a change made after this read is refused.
    pub fn digests(&self) -> CompareDigests {
        CompareDigests {
            compiled_policy: self.compiled.as_ref().map(|m| m.compare_digest.clone()),
            input_variables: self.variables.as_ref().map(|m| m.compare_digest.clone()),
        }
    }

    fn published(&self) -> Option<PublishedMetafields> {
        let entry = |m: &LiveMetafield| PublishedMetafield {
            id: m.id.clone(),
            compare_digest: m.compare_digest.clone(),
        };
        Some(PublishedMetafields {
            owner: self.owner.clone(),
            compiled_policy: entry(self.compiled.as_ref()?),
            input_variables: entry(self.variables.as_ref()?),
        })
    }
}

/// One Admin API read: the Shop's GID and both policy metafields with their digests.
pub async fn read_live_policy(app: &AppState, shop: &str) -> Result<LivePolicy, PublishError> {
    let session = app.session(shop).await?;
    let data = app
        .client
        .run::<PolicyMetafields>(&session, policy_metafields::Variables {})
        .await?;
    let shop = data.shop;
    Ok(LivePolicy {
        owner: shop.id,
        compiled: shop.compiled.map(|m| LiveMetafield {
            id: m.id,
            compare_digest: m.compare_digest,
            json_value: m.json_value,
        }),
        variables: shop.variables.map(|m| LiveMetafield {
            id: m.id,
            compare_digest: m.compare_digest,
            json_value: m.json_value,
        }),
    })
}

/// One atomic `metafieldsSet` of both policy metafields on `owner`, each with its
/// `compareDigest`: Shopify writes nothing unless both still have the expected digest (an
/// absent metafield is expected with `null`; leaving `compareDigest` out would skip the check).
/// https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/metafieldsSet
pub async fn write_policy_metafields(
    app: &AppState,
    shop: &str,
    owner: &str,
    expected: &CompareDigests,
    values: &PolicyMetafieldValues,
) -> Result<PublishedMetafields, PublishError> {
    let session = app.session(shop).await?;
    let input = |key: &str, value: &str, digest: &Option<String>| MetafieldsSetInput {
        owner_id: owner.to_string(),
        namespace: Some(POLICY_NAMESPACE.to_string()),
        key: key.to_string(),
        value: value.to_string(),
        compare_digest: digest.clone(),
        type_: Some(METAFIELD_TYPE.to_string()),
    };
    let data = app
        .client
        .run::<MetafieldsSet>(
            &session,
            metafields_set::Variables {
                metafields: vec![
                    input(
                        COMPILED_POLICY_KEY,
                        &values.compiled,
                        &expected.compiled_policy,
                    ),
                    input(
                        INPUT_VARIABLES_KEY,
                        &values.variables,
                        &expected.input_variables,
                    ),
                ],
            },
        )
        .await?;
    let payload = data
        .metafields_set
        .ok_or_else(|| PublishError::Refused("metafieldsSet answered null".into()))?;
    // STALE_OBJECT: "The metafield has been modified since it was loaded"; a malformed digest
    // (INVALID_COMPARE_DIGEST) can only come from a client's stale copy, so it is a conflict too.
    // https://shopify.dev/docs/api/admin-graphql/2026-04/enums/MetafieldsSetUserErrorCode
    let stale = payload.user_errors.iter().any(|e| {
        matches!(
            e.code,
            Some(
                metafields_set::MetafieldsSetUserErrorCode::STALE_OBJECT
                    | metafields_set::MetafieldsSetUserErrorCode::INVALID_COMPARE_DIGEST
            )
        )
    });
    if stale {
        // The client retries a call whose answer was lost; if the first attempt landed, the
        // retry is refused as stale against our own write. The values tell the two apart.
        let live = read_live_policy(app, shop).await?;
        if values.written_in(&live)
            && let Some(published) = live.published()
        {
            return Ok(published);
        }
        let now = live.digests();
        let mut keys = Vec::new();
        if now.compiled_policy != expected.compiled_policy {
            keys.push(COMPILED_POLICY_KEY);
        }
        if now.input_variables != expected.input_variables {
            keys.push(INPUT_VARIABLES_KEY);
        }
        return Err(PublishError::Conflict {
            keys: if keys.is_empty() {
                format!("{COMPILED_POLICY_KEY}, {INPUT_VARIABLES_KEY}")
            } else {
                keys.join(", ")
            },
        });
    }
    if !payload.user_errors.is_empty() {
        let errors: Vec<String> = payload
            .user_errors
            .iter()
            .map(|e| match &e.code {
                Some(code) => format!("{code:?}: {}", e.message),
                None => e.message.clone(),
            })
            .collect();
        return Err(PublishError::Refused(errors.join("; ")));
    }
    let written = payload.metafields.unwrap_or_default();
    let entry = |key: &str| {
        written
            .iter()
            .find(|m| m.key == key)
            .map(|m| PublishedMetafield {
                id: m.id.clone(),
                compare_digest: m.compare_digest.clone(),
            })
            .ok_or_else(|| PublishError::Refused(format!("metafieldsSet did not return `{key}`")))
    };
    Ok(PublishedMetafields {
        owner: owner.to_string(),
        compiled_policy: entry(COMPILED_POLICY_KEY)?,
        input_variables: entry(INPUT_VARIABLES_KEY)?,
    })
}

/// Reads the current digests (unless the client brought its own) and writes both metafields
/// against them.
pub async fn publish_to_shop(
    app: &AppState,
    shop: &str,
    values: &PolicyMetafieldValues,
    expected: Option<&CompareDigests>,
) -> Result<PublishedMetafields, PublishError> {
    let live = read_live_policy(app, shop).await?;
    let expected = expected.cloned().unwrap_or_else(|| live.digests());
    write_policy_metafields(app, shop, &live.owner, &expected, values).await
}

/// Compiles, writes the metafields the Function reads and makes the policy the shop's active
/// version.
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
    let (row, metafields) = publish_compiled(
        &app,
        &shop,
        &policy,
        Some(&body.source),
        body.compare_digests.as_ref(),
    )
    .await?;
    Ok(Json(json!({
        "published": policy_json(&row),
        "metafields": metafields,
        "diagnostics": diagnostics,
    })))
}

/// Writes a compiled policy to the shop's metafields, then stores it as the shop's active
/// version. On a conflict nothing is stored: the active version stays what Shopify last got
/// from us.
pub async fn publish_compiled(
    app: &AppState,
    shop: &str,
    policy: &CompiledPolicy,
    source: Option<&str>,
    expected: Option<&CompareDigests>,
) -> Result<(PolicyRow, PublishedMetafields), PublishError> {
    let compiled = policy.to_json();
    let hash = policy_hash(&compiled);
    let values = PolicyMetafieldValues::new(compiled.clone(), policy)?;
    let metafields = publish_to_shop(app, shop, &values, expected).await?;
    let row = app
        .store
        .publish_policy(&NewPolicy {
            shop,
            policy_id: &policy.id,
            version: &policy.version,
            hash: &hash,
            compiled: &compiled,
            source,
        })
        .await?;
    Ok((row, metafields))
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ActivateBody {
    compare_digests: Option<CompareDigests>,
}

/// Rolls back (or forward) to a stored version: its metafields are written the same way as a
/// publish, then it becomes the active version.
async fn activate(
    State(app): State<App>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Option<Json<ActivateBody>>,
) -> Result<Json<Value>, ApiError> {
    let shop = merchant_shop(&app, &headers)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let Some(row) = app
        .store
        .policies(&shop)
        .await?
        .into_iter()
        .find(|row| row.hash == hash)
    else {
        return Err(ApiError::NotFound(format!("policy version `{hash}`")));
    };
    let policy =
        CompiledPolicy::load(&row.compiled).map_err(|e| PublishError::Unreadable(e.to_string()))?;
    // The stored JSON, not a re-serialization: it is what the version's hash names.
    let values = PolicyMetafieldValues::new(row.compiled.clone(), &policy)?;
    let metafields = publish_to_shop(&app, &shop, &values, body.compare_digests.as_ref()).await?;
    if !app.store.activate_policy(&shop, &hash).await? {
        return Err(ApiError::NotFound(format!("policy version `{hash}`")));
    }
    Ok(Json(json!({ "active": hash, "metafields": metafields })))
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use graphql_client::GraphQLQuery;

    use super::*;

    fn read(path: &str) -> String {
        let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn reads(query: &str, key: &str) -> bool {
        query.contains(&format!(
            "metafield(namespace: \"{POLICY_NAMESPACE}\", key: \"{key}\")"
        ))
    }

    #[test]
    fn the_keys_are_the_ones_the_function_reads() {
        let extension: toml::Value =
            toml::from_str(&read("extensions/cancel-policy/shopify.extension.toml")).unwrap();
        let variables = &extension["extensions"][0]["input"]["variables"];
        assert_eq!(variables["namespace"].as_str(), Some(POLICY_NAMESPACE));
        assert_eq!(variables["key"].as_str(), Some(INPUT_VARIABLES_KEY));
        let run = read("extensions/cancel-policy/src/order_cancellation_run.graphql");
        assert!(reads(&run, COMPILED_POLICY_KEY));
        assert!(reads(policy_metafields::QUERY, COMPILED_POLICY_KEY));
        assert!(reads(policy_metafields::QUERY, INPUT_VARIABLES_KEY));
    }

    #[test]
    fn an_absent_metafield_is_expected_with_an_explicit_null_digest() {
        let input = |digest: Option<&str>| MetafieldsSetInput {
            owner_id: "gid://shopify/Shop/1".into(),
            namespace: Some(POLICY_NAMESPACE.into()),
            key: COMPILED_POLICY_KEY.into(),
            value: "{}".into(),
            compare_digest: digest.map(str::to_string),
            type_: Some(METAFIELD_TYPE.into()),
        };
        let body = serde_json::to_value(MetafieldsSet::build_query(metafields_set::Variables {
            metafields: vec![input(None), input(Some("abc"))],
        }))
        .unwrap();
        let sent = &body["variables"]["metafields"];
        assert!(sent[0].as_object().unwrap().contains_key("compareDigest"));
        assert_eq!(sent[0]["compareDigest"], Value::Null);
        assert_eq!(sent[1]["compareDigest"], "abc");
        assert_eq!(sent[0]["type"], "json");
    }

    #[test]
    fn values_over_the_metafield_limit_are_refused() {
        let output = cancel_policy_core::compile::compile(
            &read("presets/one-hour-grace.toml"),
            "one-hour-grace.toml",
        );
        let policy = output.policy.unwrap();
        let values = PolicyMetafieldValues::new(policy.to_json(), &policy).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&values.variables).unwrap(),
            serde_json::to_value(policy.input_variables()).unwrap()
        );
        let padded = format!("{{\"pad\":\"{}\"}}", "x".repeat(METAFIELD_LIMIT_BYTES));
        assert!(matches!(
            PolicyMetafieldValues::new(padded, &policy),
            Err(PublishError::TooLarge {
                what: "compiled policy",
                ..
            })
        ));
    }
}
