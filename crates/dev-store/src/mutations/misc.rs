//! `tagsAdd`, `orderRiskAssessmentCreate` and `flowTriggerReceive`.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Outcome, arr, coded_errors, s, user_errors};
use crate::model::{RiskAssessment, parse_gid};
use crate::payloads;
use crate::store::Shared;
use crate::views;

/// Flow trigger payloads are limited to 50,000 bytes (captured message).
/// https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive
pub const FLOW_PAYLOAD_MAX_BYTES: usize = 50_000;
/// Risk fact descriptions are truncated at 256 characters.
const RISK_FACT_MAX: usize = 256;

/// `tagsAdd`: tags come as a list, each item may itself be comma-separated.
/// https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd
pub fn tags_add(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let id = s(args, "id").unwrap_or_default().to_string();
    let tags: Vec<String> = arr(args, "tags")
        .iter()
        .filter_map(Value::as_str)
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let mut state = shared.state();
    let now = Utc::now();
    let add = |existing: &mut Vec<String>| {
        for t in &tags {
            if !existing.iter().any(|e| e.eq_ignore_ascii_case(t)) {
                existing.push(t.clone());
            }
        }
    };
    let mut events = Vec::new();
    let found = match parse_gid(&id) {
        Some(("Order", n)) => match state.orders.get_mut(&n) {
            Some(o) => {
                add(&mut o.tags);
                o.updated_at = now;
                true
            }
            None => false,
        },
        Some(("Customer", n)) => state
            .customers
            .get_mut(&n)
            .map(|c| add(&mut c.tags))
            .is_some(),
        Some(("Product", n)) => state
            .products
            .get_mut(&n)
            .map(|p| add(&mut p.tags))
            .is_some(),
        _ => false,
    };
    if !found {
        return Outcome::payload(json!({
            "node": null,
            "userErrors": user_errors(&[(json!(["id"]), "Resource does not exist".into())]),
        }));
    }
    if let Some(("Order", n)) = parse_gid(&id)
        && let Some(o) = state.orders.get(&n)
    {
        events.push(("orders/updated".to_string(), payloads::order(&state, o)));
    }
    Outcome {
        payload: json!({ "node": views::node(&state, &id), "userErrors": [] }),
        events,
    }
}

/// `orderRiskAssessmentCreate`: the app adds its own assessment; the recommendation follows.
/// https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderRiskAssessmentCreate
pub fn risk_assessment_create(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let input = args
        .get("orderRiskAssessmentInput")
        .cloned()
        .unwrap_or(Value::Null);
    let level = s(&input, "riskLevel").unwrap_or("NONE").to_string();
    let facts: Vec<(String, String)> = arr(&input, "facts")
        .iter()
        .map(|f| {
            (
                s(f, "description")
                    .unwrap_or_default()
                    .chars()
                    .take(RISK_FACT_MAX)
                    .collect(),
                s(f, "sentiment").unwrap_or("NEUTRAL").to_string(),
            )
        })
        .collect();
    let mut state = shared.state();
    let app = state.app_title.clone();
    let order_id = s(&input, "orderId").and_then(|g| crate::model::parse_gid_of(g, "Order"));
    let Some(order) = order_id.and_then(|id| state.orders.get_mut(&id)) else {
        return Outcome::payload(json!({
            "orderRiskAssessment": null,
            "userErrors": coded_errors(&[(json!(["orderRiskAssessmentInput", "orderId"]), "Order does not exist".into(), "NOT_FOUND")]),
        }));
    };
    if order.fulfillment_status() == "FULFILLED" {
        return Outcome::payload(json!({
            "orderRiskAssessment": null,
            "userErrors": coded_errors(&[(json!(["orderRiskAssessmentInput", "orderId"]), "Risk assessments cannot be added to a fulfilled order".into(), "ORDER_ALREADY_FULFILLED")]),
        }));
    }
    order.risk.push(RiskAssessment {
        level: level.clone(),
        facts: facts.clone(),
        provider: Some(app.clone()),
    });
    order.updated_at = Utc::now();
    let event = payloads::risk_assessment(order, &level, Some(&app));
    Outcome {
        payload: json!({
            "orderRiskAssessment": {
                "riskLevel": level,
                "facts": facts.iter().map(|(d, s)| json!({ "description": d, "sentiment": s })).collect::<Vec<_>>(),
                "provider": { "__typename": "App", "id": crate::model::gid("App", 1), "title": app, "handle": "cancel-policy" },
            },
            "userErrors": [],
        }),
        events: vec![("orders/risk_assessment_changed".to_string(), event)],
    }
}

/// `flowTriggerReceive`: records the trigger for tests; checks the handle and the size.
pub fn flow_trigger_receive(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let handle = s(args, "handle").unwrap_or_default().to_string();
    let payload = args
        .get("payload")
        .cloned()
        .or_else(|| s(args, "body").and_then(|b| serde_json::from_str::<Value>(b).ok()))
        .unwrap_or(Value::Null);
    let size = serde_json::to_vec(&payload).map_or(0, |v| v.len());
    let mut state = shared.state();
    if size > FLOW_PAYLOAD_MAX_BYTES {
        return Outcome::payload(json!({
            "userErrors": user_errors(&[(json!(["payload"]), format!("Properties size exceeds the limit of {FLOW_PAYLOAD_MAX_BYTES} bytes."))]),
        }));
    }
    if !state.flow_trigger_handles.contains(&handle) {
        return Outcome::payload(json!({
            "userErrors": user_errors(&[(json!(["handle"]), format!("Invalid handle '{handle}'"))]),
        }));
    }
    state.flow_triggers.push(crate::model::FlowTrigger {
        handle,
        payload,
        at: Utc::now(),
    });
    Outcome::payload(json!({ "userErrors": [] }))
}
