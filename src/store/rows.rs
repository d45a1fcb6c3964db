//! Rows read from and written to the store.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, sqlx::FromRow)]
pub struct ShopRow {
    pub domain: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub token_expires_at: Option<String>,
    pub admin_url: Option<String>,
    pub timezone: Option<String>,
    pub installed_at: String,
    pub uninstalled_at: Option<String>,
    /// When `access_token` expires (`None`: never, or unknown).
    pub access_token_expires_at: Option<String>,
    pub refresh_token_expires_at: Option<String>,
}

impl std::fmt::Debug for ShopRow {
    // The tokens are credentials: a logged row must not carry them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopRow")
            .field("domain", &self.domain)
            .field("access_token", &"[redacted]")
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .field("admin_url", &self.admin_url)
            .field("timezone", &self.timezone)
            .field("installed_at", &self.installed_at)
            .field("uninstalled_at", &self.uninstalled_at)
            .finish_non_exhaustive()
    }
}

/// A refreshed (or first) pair of expiring offline tokens, stored together.
pub struct ShopTokens<'a> {
    pub access_token: &'a str,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token: &'a str,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
}

pub struct NewShop<'a> {
    pub domain: &'a str,
    pub access_token: &'a str,
    pub admin_url: Option<&'a str>,
    pub timezone: Option<&'a str>,
}

pub struct NewWebhook<'a> {
    pub webhook_id: &'a str,
    pub shop: &'a str,
    pub topic: &'a str,
    pub event_id: Option<&'a str>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub resource_id: Option<String>,
    pub customer_id: Option<String>,
    pub body: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct WebhookRow {
    pub webhook_id: String,
    pub shop: String,
    pub topic: String,
    pub event_id: Option<String>,
    pub triggered_at: Option<String>,
    pub resource_id: Option<String>,
    pub customer_id: Option<String>,
    pub status: String,
    pub received_at: String,
    pub body: String,
}

pub struct OrderVersion<'a> {
    pub shop: &'a str,
    pub order_id: &'a str,
    pub updated_at: DateTime<Utc>,
    pub customer_id: Option<&'a str>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<&'a str>,
    /// The payload's `fulfillment_status`: `None` (unfulfilled), `partial` or `fulfilled`.
    pub fulfillment_status: Option<&'a str>,
    /// The variants on the order (GIDs), when the payload lists its line items.
    pub variants: Option<&'a [String]>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct OrderVersionRow {
    pub shop: String,
    pub order_id: String,
    pub updated_at: String,
    pub customer_id: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub fulfillment_status: Option<String>,
}

pub struct NewPolicy<'a> {
    pub shop: &'a str,
    pub policy_id: &'a str,
    pub version: &'a str,
    pub hash: &'a str,
    pub compiled: &'a str,
    pub source: Option<&'a str>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct PolicyRow {
    pub id: i64,
    pub shop: String,
    pub policy_id: String,
    pub version: String,
    pub hash: String,
    #[serde(skip)]
    pub compiled: String,
    #[serde(skip)]
    pub source: Option<String>,
    pub active: i64,
    pub created_at: String,
}

pub struct NewDecision<'a> {
    pub shop: &'a str,
    pub order_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub trigger: &'a str,
    pub source: &'a str,
    /// One decision per key: a redelivered trigger decides nothing new.
    pub dedupe_key: &'a str,
    pub policy_hash: &'a str,
    pub facts: &'a str,
    pub rule: Option<&'a str>,
    pub outcome: &'a str,
    pub cancel_reason: Option<&'a str>,
    pub decision: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(i64),
    Existing(i64),
}

impl Recorded {
    pub fn id(self) -> i64 {
        match self {
            Recorded::New(id) | Recorded::Existing(id) => id,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub shop: String,
    pub order_id: String,
    pub customer_id: Option<String>,
    pub trigger_name: String,
    pub source: String,
    pub dedupe_key: String,
    pub policy_hash: String,
    pub facts: String,
    pub rule: Option<String>,
    pub outcome: String,
    pub cancel_reason: Option<String>,
    pub decision: String,
    pub status: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewStep {
    pub kind: String,
    /// The step's full input as JSON, fixed at planning time.
    pub request: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StepRow {
    pub id: i64,
    pub decision_id: i64,
    pub seq: i64,
    pub kind: String,
    pub request: String,
    pub status: String,
    pub progress: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
}

pub struct StepEnd<'a> {
    pub status: &'a str,
    pub result: Option<&'a str>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
}

/// A job to enqueue. `{decision}` in the key and payload is replaced by the decision id when
/// the job is written together with a new decision.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub shop: String,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub run_at: Option<DateTime<Utc>>,
}

impl NewJob {
    pub fn for_decision(&self, id: i64) -> NewJob {
        let id = id.to_string();
        NewJob {
            shop: self.shop.clone(),
            kind: self.kind.clone(),
            payload: self.payload.replace("{decision}", &id),
            idempotency_key: self.idempotency_key.replace("{decision}", &id),
            run_at: self.run_at,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub shop: String,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub status: String,
    pub attempts: i64,
    pub run_at: String,
    pub locked_by: Option<String>,
    pub locked_until: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerExport {
    pub shop: String,
    pub customer_id: String,
    pub decisions: Vec<DecisionRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub cancellations_per_day: BTreeMap<String, i64>,
    pub cancellations_per_rule: BTreeMap<String, i64>,
    pub cancellations_per_reason: BTreeMap<String, i64>,
    pub orders_seen: i64,
    pub cancelled_orders: i64,
    /// Cancelled orders over orders seen.
    pub cancellation_rate: f64,
}

impl Stats {
    pub fn new(
        by_day: Vec<(String, i64)>,
        by_rule: Vec<(String, i64)>,
        by_reason: Vec<(String, i64)>,
        orders_seen: i64,
        cancelled_orders: i64,
    ) -> Stats {
        let rate = if orders_seen > 0 {
            cancelled_orders as f64 / orders_seen as f64
        } else {
            0.0
        };
        Stats {
            cancellations_per_day: by_day.into_iter().collect(),
            cancellations_per_rule: by_rule.into_iter().collect(),
            cancellations_per_reason: by_reason.into_iter().collect(),
            orders_seen,
            cancelled_orders,
            cancellation_rate: rate,
        }
    }
}
