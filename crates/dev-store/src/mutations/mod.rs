//! `Mutation` fields. Each mutation validates against the state, applies its effects under the
//! state lock, and returns its payload view plus the webhook events it caused; the events are
//! emitted after the lock is released.

pub mod holds;
pub mod inventory;
pub mod metafields;
pub mod misc;
pub mod order_cancel;
pub mod order_create;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dynamic::ResolverContext;
use serde_json::{Map, Value, json};

use crate::graphql::RequestData;
use crate::model::IdempotencyRecord;
use crate::refunds;
use crate::resolve::shopify_error;
use crate::store::Shared;
use crate::webhooks;

/// A mutation's payload and the webhook events it caused.
pub struct Outcome {
    pub payload: Value,
    pub events: Vec<(String, Value)>,
}

impl Outcome {
    pub fn payload(payload: Value) -> Outcome {
        Outcome {
            payload,
            events: Vec::new(),
        }
    }
}

/// A failure that is not a user error: answered as a top-level GraphQL error.
pub struct Internal(pub async_graphql::Error);

/// `[{field, message}]` user errors (the `UserError` shape).
pub fn user_errors(errors: &[(Value, String)]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|(field, message)| json!({ "field": field, "message": message }))
            .collect(),
    )
}

/// `[{field, message, code}]` user errors (the typed `*UserError` shapes).
pub fn coded_errors(errors: &[(Value, String, &str)]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|(field, message, code)| json!({ "field": field, "message": message, "code": code }))
            .collect(),
    )
}

fn args_json(ctx: &ResolverContext<'_>) -> Value {
    let mut map = Map::new();
    for (name, value) in ctx.args.iter() {
        let json = value.as_value().clone().into_json().unwrap_or(Value::Null);
        map.insert(name.to_string(), json);
    }
    Value::Object(map)
}

/// Mutations that require `@idempotent(key:)` from 2026-04.
/// https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations
fn requires_idempotency(field: &str) -> bool {
    matches!(field, "refundCreate" | "inventoryAdjustQuantities")
}

pub async fn dispatch(
    shared: &Arc<Shared>,
    ctx: &ResolverContext<'_>,
    field: &str,
) -> async_graphql::Result<Value> {
    let args = args_json(ctx);
    if !requires_idempotency(field) {
        let outcome = run(shared, field, &args).map_err(|e| e.0)?;
        return Ok(finish(shared, outcome));
    }
    let response_key = ctx.ctx.item.node.response_key().node.to_string();
    let key = ctx
        .data_opt::<RequestData>()
        .and_then(|d| d.idempotency_keys.get(&response_key).cloned());
    let Some(key) = key else {
        return Err(shopify_error(
            format!(
                "The @idempotent directive is required for `{field}` from API version 2026-04."
            ),
            "BAD_REQUEST",
        ));
    };
    let fingerprint = format!("{field}:{args}");
    let slot = (field.to_string(), key.clone());
    {
        let mut state = shared.state();
        match state.idempotency.get(&slot) {
            Some(IdempotencyRecord::Done {
                fingerprint: f,
                result,
            }) => {
                if *f == fingerprint {
                    return Ok(result.clone());
                }
                return Err(shopify_error(
                    "The same idempotency key cannot be used with different operation parameters.",
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                ));
            }
            Some(IdempotencyRecord::InFlight { .. }) => {
                return Err(shopify_error(
                    "This request is currently in progress, please try again.",
                    "IDEMPOTENCY_CONCURRENT_REQUEST",
                ));
            }
            Some(IdempotencyRecord::Failed { .. }) => {
                return Err(shopify_error(
                    "A previous request with this idempotency key failed. Retry with a new idempotency key.",
                    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                ));
            }
            None => {}
        }
        state.idempotency.insert(
            slot.clone(),
            IdempotencyRecord::InFlight {
                fingerprint: fingerprint.clone(),
            },
        );
    }
    // The latency knob applies while the key is in flight, so a concurrent retry sees it.
    let latency = shared.faults().latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match run(shared, field, &args) {
        Ok(outcome) => {
            let payload = finish(shared, outcome);
            shared.state().idempotency.insert(
                slot,
                IdempotencyRecord::Done {
                    fingerprint,
                    result: payload.clone(),
                },
            );
            Ok(payload)
        }
        Err(Internal(error)) => {
            shared
                .state()
                .idempotency
                .insert(slot, IdempotencyRecord::Failed { fingerprint });
            Err(error)
        }
    }
}

fn finish(shared: &Arc<Shared>, outcome: Outcome) -> Value {
    for (topic, payload) in outcome.events {
        webhooks::emit(shared, &topic, payload);
    }
    outcome.payload
}

fn run(shared: &Arc<Shared>, field: &str, args: &Value) -> Result<Outcome, Internal> {
    match field {
        "orderCancel" => Ok(order_cancel::order_cancel(shared, args)),
        "refundCreate" => refunds::refund_create(shared, args),
        "fulfillmentOrderHold" => Ok(holds::hold(shared, args)),
        "fulfillmentOrderReleaseHold" => Ok(holds::release(shared, args)),
        "fulfillmentOrderSubmitCancellationRequest" => {
            Ok(holds::submit_cancellation_request(shared, args))
        }
        "tagsAdd" => Ok(misc::tags_add(shared, args)),
        "metafieldsSet" => Ok(metafields::metafields_set(shared, args)),
        "orderRiskAssessmentCreate" => Ok(misc::risk_assessment_create(shared, args)),
        "inventoryAdjustQuantities" => Ok(inventory::adjust_quantities(shared, args)),
        "flowTriggerReceive" => Ok(misc::flow_trigger_receive(shared, args)),
        "orderCreate" => Ok(order_create::order_create(shared, args)),
        other => Err(Internal(shopify_error(
            format!("Field '{other}' is not implemented by the dev store"),
            "INTERNAL_SERVER_ERROR",
        ))),
    }
}

/// A string argument or input field.
pub fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub fn b(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

pub fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}
