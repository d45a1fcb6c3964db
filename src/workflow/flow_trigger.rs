//! The Flow trigger "Order decided by policy": every new decision is announced to Shopify Flow
//! with `flowTriggerReceive`, so merchants can build workflows on it (tag, notify, escalate).
//!
//! The announcement is a job of kind [`JOB_KIND`], written in the same transaction as the
//! decision, so a stored decision is always announced and never twice (the job's idempotency
//! key is per decision). The payload is built when the job runs, from the stored decision.
//!
//! Payload keys match the fields of `extensions/flow-order-decided/shopify.extension.toml`:
//! `order_id` is the `order_reference` field, the others are its custom fields.
//! https://shopify.dev/docs/apps/build/flow/triggers/reference
//! https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive

use serde_json::{Map, Value, json};

use crate::service::AppState;
use crate::shopify::operations::{FlowTriggerReceive, flow_trigger_receive};
use crate::store::{DecisionRow, NewJob};

/// The trigger extension's handle (it cannot change once deployed).
pub const FLOW_TRIGGER_HANDLE: &str = "cancel-policy-decision";

/// Shopify refuses larger trigger payloads: "Properties size exceeds the limit of 50000 bytes."
pub const FLOW_PAYLOAD_MAX_BYTES: usize = 50_000;

/// The job kind the worker dispatches to [`send`].
pub const JOB_KIND: &str = "flow_trigger";

/// Payload keys, one per field of the trigger extension.
pub mod keys {
    /// The `order_reference` field: Flow expects the order's numeric id under `order_id`.
    pub const ORDER: &str = "order_id";
    pub const OUTCOME: &str = "outcome";
    pub const RULE: &str = "rule";
    pub const CANCEL_REASON: &str = "cancel reason";
    pub const SOURCE: &str = "source";
    pub const MESSAGE: &str = "message";
    pub const REQUEST_REASON: &str = "request reason";
    /// Every custom (non-reference) field key the service sends.
    pub const CUSTOM: &[&str] = &[
        OUTCOME,
        RULE,
        CANCEL_REASON,
        SOURCE,
        MESSAGE,
        REQUEST_REASON,
    ];
}

/// Marks text shortened to fit the payload limit.
const TRIMMED_MARK: &str = "…";

#[derive(Debug, thiserror::Error)]
pub enum FlowTriggerError {
    #[error("decision {0} is not stored")]
    UnknownDecision(i64),
    #[error("decision {0} names no numeric order id")]
    NoOrderId(i64),
    #[error(
        "the trigger payload stays above {FLOW_PAYLOAD_MAX_BYTES} bytes even without optional fields"
    )]
    TooLarge,
    #[error("flowTriggerReceive refused the trigger: {}", .0.join("; "))]
    Refused(Vec<String>),
}

/// The job's payload.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowTriggerJob {
    pub decision_id: i64,
}

/// The announcement job for a decision about to be recorded (`{decision}` becomes its id).
pub fn job(shop: &str) -> NewJob {
    NewJob {
        shop: shop.to_string(),
        kind: JOB_KIND.to_string(),
        payload: r#"{"decisionId":{decision}}"#.to_string(),
        idempotency_key: format!("{JOB_KIND}:{{decision}}"),
        run_at: None,
    }
}

/// What the trigger tells Flow about one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub order_number: u64,
    pub outcome: String,
    /// Empty when the policy's default decided.
    pub rule: String,
    /// Shopify's `OrderCancelReason` when the decision cancels, else empty.
    pub cancel_reason: String,
    pub source: String,
    /// The localized "why" shown to the customer; optional, shortened first to fit.
    pub message: String,
    /// The customer's own words; optional, shortened before the message.
    pub request_reason: String,
}

impl Announcement {
    /// Reads what to announce from a stored decision.
    pub fn from_row(row: &DecisionRow) -> Result<Announcement, FlowTriggerError> {
        let order_number = row
            .order_id
            .rsplit('/')
            .next()
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or(FlowTriggerError::NoOrderId(row.id))?;
        let decision: Value = serde_json::from_str(&row.decision).unwrap_or(Value::Null);
        let facts: Value = serde_json::from_str(&row.facts).unwrap_or(Value::Null);
        let text = |value: Option<&Value>| {
            value
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(Announcement {
            order_number,
            outcome: row.outcome.clone(),
            rule: row.rule.clone().unwrap_or_default(),
            cancel_reason: row.cancel_reason.clone().unwrap_or_default(),
            source: row.source.clone(),
            message: text(decision.get("message").and_then(|m| m.get("text"))),
            request_reason: text(facts.get("request").and_then(|r| r.get("reason"))),
        })
    }

    /// The `flowTriggerReceive` payload, at most `limit` bytes as compact JSON: the message
    /// and the request reason are shortened (reason first) when the whole does not fit.
    pub fn payload(&self, limit: usize) -> Result<Value, FlowTriggerError> {
        let mut payload = Map::new();
        payload.insert(keys::ORDER.to_string(), json!(self.order_number));
        payload.insert(keys::OUTCOME.to_string(), json!(self.outcome));
        payload.insert(keys::RULE.to_string(), json!(self.rule));
        payload.insert(keys::CANCEL_REASON.to_string(), json!(self.cancel_reason));
        payload.insert(keys::SOURCE.to_string(), json!(self.source));
        payload.insert(keys::MESSAGE.to_string(), json!(self.message));
        payload.insert(keys::REQUEST_REASON.to_string(), json!(self.request_reason));
        if size(&payload) <= limit {
            return Ok(Value::Object(payload));
        }
        // Make room from nothing, then give it to the message before the customer's words:
        // the message explains the decision, the request reason only repeats the input.
        payload.insert(keys::MESSAGE.to_string(), json!(""));
        payload.insert(keys::REQUEST_REASON.to_string(), json!(""));
        if size(&payload) > limit {
            return Err(FlowTriggerError::TooLarge);
        }
        fit(&mut payload, keys::MESSAGE, &self.message, limit);
        fit(
            &mut payload,
            keys::REQUEST_REASON,
            &self.request_reason,
            limit,
        );
        Ok(Value::Object(payload))
    }
}

/// Compact JSON size, as sent.
fn size(payload: &Map<String, Value>) -> usize {
    serde_json::to_vec(payload).map_or(usize::MAX, |bytes| bytes.len())
}

/// Puts the longest prefix of `text` (marked as shortened) under `key` that keeps the payload
/// within `limit`; the field stays empty when not even the mark fits.
fn fit(payload: &mut Map<String, Value>, key: &str, text: &str, limit: usize) {
    let with = |payload: &mut Map<String, Value>, kept: &str| {
        let value = if kept.len() == text.len() {
            kept.to_string()
        } else {
            format!("{kept}{TRIMMED_MARK}")
        };
        payload.insert(key.to_string(), Value::String(value));
        size(payload) <= limit
    };
    if with(payload, text) {
        return;
    }
    // Byte offsets of char boundaries: a prefix never splits a character.
    let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    let prefix = |chars: usize| {
        let end = boundaries.get(chars).copied().unwrap_or(text.len());
        text.get(..end).unwrap_or_default()
    };
    // Binary search for the most characters that fit (fewer than all: the whole did not).
    let (mut fits, mut too_many) = (0usize, boundaries.len());
    while fits + 1 < too_many {
        let middle = fits + (too_many - fits) / 2;
        if with(payload, prefix(middle)) {
            fits = middle;
        } else {
            too_many = middle;
        }
    }
    if !with(payload, prefix(fits)) {
        payload.insert(key.to_string(), json!(""));
    }
}

/// Announces a stored decision to Flow (the `flow_trigger` job).
pub async fn send(app: &AppState, shop: &str, decision_id: i64) -> Result<(), SendError> {
    let row = app
        .store
        .decision(decision_id)
        .await?
        .ok_or(FlowTriggerError::UnknownDecision(decision_id))?;
    let payload = Announcement::from_row(&row)?.payload(FLOW_PAYLOAD_MAX_BYTES)?;
    let session = app.session(shop).await?;
    let data = app
        .client
        .run::<FlowTriggerReceive>(
            &session,
            flow_trigger_receive::Variables {
                handle: FLOW_TRIGGER_HANDLE.to_string(),
                payload,
            },
        )
        .await
        .map_err(crate::service::ServiceError::from)?;
    let refusals: Vec<String> = data
        .flow_trigger_receive
        .map(|answer| {
            answer
                .user_errors
                .into_iter()
                .map(|error| error.message)
                .collect()
        })
        .unwrap_or_default();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(FlowTriggerError::Refused(refusals).into())
    }
}

/// Why announcing a decision failed: Shopify or the database (worth retrying) or the
/// announcement itself (not).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Trigger(#[from] FlowTriggerError),
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Trigger(_) => false,
            SendError::Service(crate::service::ServiceError::Admin(e)) => e.is_transient(),
            SendError::Service(crate::service::ServiceError::UnknownShop(_)) => false,
            SendError::Service(_) | SendError::Store(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(message: &str, request_reason: &str) -> Announcement {
        Announcement {
            order_number: 820982911946154508,
            outcome: "allow".into(),
            rule: "within-hour".into(),
            cancel_reason: "CUSTOMER".into(),
            source: "customer".into(),
            message: message.into(),
            request_reason: request_reason.into(),
        }
    }

    fn bytes(payload: &Value) -> usize {
        serde_json::to_vec(payload).unwrap().len()
    }

    #[test]
    fn small_payload_is_sent_whole() {
        let payload = announcement("Cancelled.", "late")
            .payload(FLOW_PAYLOAD_MAX_BYTES)
            .unwrap();
        assert_eq!(payload["order_id"], json!(820982911946154508u64));
        assert_eq!(payload["outcome"], "allow");
        assert_eq!(payload["rule"], "within-hour");
        assert_eq!(payload["cancel reason"], "CUSTOMER");
        assert_eq!(payload["message"], "Cancelled.");
        assert_eq!(payload["request reason"], "late");
        let sent: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| *k != keys::ORDER)
            .collect();
        assert_eq!(sent, keys::CUSTOM);
    }

    #[test]
    fn oversized_request_reason_is_shortened_before_the_message() {
        let message = "Orders can be cancelled within one hour of purchase.";
        let reason = "é\"\n".repeat(40_000);
        let payload = announcement(message, &reason)
            .payload(FLOW_PAYLOAD_MAX_BYTES)
            .unwrap();
        let size = bytes(&payload);
        assert!(size <= FLOW_PAYLOAD_MAX_BYTES, "{size}");
        // Escapes make a character cost up to 2 bytes: the search still fills the space.
        assert!(size > FLOW_PAYLOAD_MAX_BYTES - 8, "{size}");
        assert_eq!(payload["message"], message);
        let kept = payload["request reason"].as_str().unwrap();
        assert!(kept.ends_with(TRIMMED_MARK));
        assert!(reason.starts_with(kept.trim_end_matches(TRIMMED_MARK)));
    }

    #[test]
    fn oversized_message_is_shortened_and_the_reason_dropped() {
        let message = "m".repeat(60_000);
        let payload = announcement(&message, "late")
            .payload(FLOW_PAYLOAD_MAX_BYTES)
            .unwrap();
        assert!(bytes(&payload) <= FLOW_PAYLOAD_MAX_BYTES);
        assert!(payload["message"].as_str().unwrap().ends_with(TRIMMED_MARK));
        assert_eq!(payload["request reason"], "");
    }

    #[test]
    fn payload_that_cannot_fit_is_never_built() {
        let mut huge = announcement("", "");
        huge.rule = "r".repeat(FLOW_PAYLOAD_MAX_BYTES);
        assert!(matches!(
            huge.payload(FLOW_PAYLOAD_MAX_BYTES),
            Err(FlowTriggerError::TooLarge)
        ));
    }

    #[test]
    fn tiny_limits_keep_the_required_fields() {
        let whole = announcement("", "").payload(usize::MAX).unwrap();
        let limit = bytes(&whole) + 3;
        let payload = announcement("a long message", "a long reason")
            .payload(limit)
            .unwrap();
        assert!(bytes(&payload) <= limit);
        assert_eq!(payload["outcome"], "allow");
    }

    #[test]
    fn job_is_keyed_per_decision() {
        let job = job("a.myshopify.com").for_decision(7);
        assert_eq!(job.kind, JOB_KIND);
        assert_eq!(job.payload, r#"{"decisionId":7}"#);
        assert_eq!(job.idempotency_key, "flow_trigger:7");
    }
}
