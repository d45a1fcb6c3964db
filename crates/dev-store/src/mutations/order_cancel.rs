//! `orderCancel`: validated at once, carried out by a job.
//!
//! Rules from https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderCancel: the
//! order must not be cancelled already, have no pending payments, no active returns and no
//! fulfillment that cannot be cancelled; authorized payments are voided whatever the refund
//! method; a paid order at a deactivated location cannot be restocked. Messages for the
//! already-cancelled, refund-conflict and staff-note cases are captured
//! (`tests/captures/orderCancel-error-messages.json`); the others are ours.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Outcome, b, coded_errors, s};
use crate::model::{
    CancelRequest, FoStatus, Job, Notification, Refund, RefundLine, RequestStatus, State,
    Transaction, TxKind, parse_gid_of,
};
use crate::payloads;
use crate::store::Shared;
use crate::webhooks;

/// Staff notes are limited to 255 characters (captured).
pub const STAFF_NOTE_MAX: usize = 255;

fn payload(job: Value, errors: &[(Value, String, &str)]) -> Value {
    let plain: Vec<Value> = errors
        .iter()
        .map(|(f, m, _)| json!({ "field": f, "message": m }))
        .collect();
    json!({
        "job": job,
        "orderCancelUserErrors": coded_errors(errors),
        "userErrors": plain,
    })
}

pub fn order_cancel(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let mut errors: Vec<(Value, String, &str)> = Vec::new();
    let staff_note = s(args, "staffNote").map(str::to_string);
    if staff_note
        .as_deref()
        .is_some_and(|n| n.chars().count() > STAFF_NOTE_MAX)
    {
        errors.push((
            json!(["staffNote"]),
            "Staff note is too long. Maximum length is 255 characters.".into(),
            "INVALID",
        ));
    }
    let refund_flag = b(args, "refund");
    let refund_method = args.get("refundMethod").filter(|v| !v.is_null());
    if refund_flag.is_some() && refund_method.is_some() {
        errors.push((
            json!(["refund"]),
            "Only one of the arguments `refund` or `refund_method` is allowed.".into(),
            "INVALID",
        ));
    }
    if !errors.is_empty() {
        return Outcome::payload(payload(Value::Null, &errors));
    }
    let store_credit = refund_method
        .and_then(|m| m.get("storeCreditRefund"))
        .filter(|v| !v.is_null());
    let refund_original = refund_flag == Some(true)
        || refund_method
            .and_then(|m| m.get("originalPaymentMethodsRefund"))
            .and_then(Value::as_bool)
            == Some(true);
    let restock = b(args, "restock").unwrap_or(false);
    let order_gid = s(args, "orderId").unwrap_or_default();

    let job_id = {
        let mut state = shared.state();
        let order = parse_gid_of(order_gid, "Order").and_then(|id| state.orders.get(&id));
        let Some(order) = order else {
            return Outcome::payload(payload(
                Value::Null,
                &[(
                    json!(["orderId"]),
                    "Order does not exist".into(),
                    "NOT_FOUND",
                )],
            ));
        };
        let order_id = order.id;
        if order.cancelled_at.is_some() {
            errors.push((
                json!(["orderId"]),
                "Cannot cancel an order that has already been canceled".into(),
                "INVALID",
            ));
        } else if order.transactions.iter().any(|t| t.status == "PENDING") {
            errors.push((
                json!(["orderId"]),
                "Cannot cancel an order that has pending payments".into(),
                "INVALID",
            ));
        } else if matches!(
            order.return_status.as_str(),
            "IN_PROGRESS" | "RETURN_REQUESTED" | "INSPECTION_COMPLETE"
        ) {
            errors.push((
                json!(["orderId"]),
                "Cannot cancel an order that has active returns".into(),
                "INVALID",
            ));
        } else if order.fulfillment_orders.iter().any(|f| {
            f.fulfillment_service
                && f.status == FoStatus::InProgress
                && f.request_status != RequestStatus::CancellationAccepted
        }) {
            errors.push((
                json!(["orderId"]),
                "Cannot cancel an order with fulfillments in progress at a fulfillment service. Request a cancellation first".into(),
                "INVALID",
            ));
        } else if restock
            && order.received_cents() > 0
            && order.fulfillment_orders.iter().any(|f| {
                state.location(f.location_id).is_some_and(|l| !l.active)
                    && !matches!(f.status, FoStatus::Closed | FoStatus::Cancelled)
            })
        {
            errors.push((
                json!(["restock"]),
                "Cannot restock items at a deactivated location".into(),
                "INVALID",
            ));
        }
        if let Some(credit) = store_credit {
            if order.company.is_some() {
                errors.push((
                    json!(["refundMethod", "storeCreditRefund"]),
                    "Store credit refunds are not supported for B2B orders".into(),
                    "STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED",
                ));
            } else if order.customer_id.is_none() {
                errors.push((
                    json!(["refundMethod", "storeCreditRefund"]),
                    "A customer is required to refund to store credit".into(),
                    "STORE_CREDIT_REFUND_MISSING_CUSTOMER",
                ));
            } else if s(credit, "expiresAt")
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.with_timezone(&Utc) <= Utc::now())
            {
                errors.push((
                    json!(["refundMethod", "storeCreditRefund", "expiresAt"]),
                    "Store credit expiration date must be in the future".into(),
                    "STORE_CREDIT_REFUND_EXPIRATION_IN_PAST",
                ));
            }
        }
        if !errors.is_empty() {
            return Outcome::payload(payload(Value::Null, &errors));
        }
        let job_id = format!("gid://shopify/Job/{}", shared.rng().uuid());
        state.jobs.insert(
            job_id.clone(),
            Job {
                id: job_id.clone(),
                done: false,
                cancel: Some(CancelRequest {
                    order_id,
                    reason: s(args, "reason").unwrap_or("OTHER").to_string(),
                    restock,
                    refund_original,
                    store_credit: store_credit.is_some(),
                    notify_customer: b(args, "notifyCustomer").unwrap_or(false),
                    staff_note,
                }),
            },
        );
        job_id
    };

    // Shopify answers `done: false` and runs the job in the background (captured); with no
    // job delay the job runs before the response is sent, as the captured reads show.
    let job = json!({ "__typename": "Job", "id": job_id, "done": false });
    let delay = shared.faults().job_delay_ms;
    if delay == 0 {
        let events = run_job(shared, &job_id);
        return Outcome {
            payload: payload(job, &[]),
            events,
        };
    }
    let weak = Arc::downgrade(shared);
    let wait = shared.faults().scaled(Duration::from_millis(delay));
    let id = job_id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(wait).await;
        if let Some(shared) = weak.upgrade() {
            for (topic, payload) in run_job(&shared, &id) {
                webhooks::emit(&shared, &topic, payload);
            }
        }
    });
    Outcome::payload(payload(job, &[]))
}

/// Runs a queued job; returns the webhook events to emit.
pub fn run_job(shared: &Shared, job_id: &str) -> Vec<(String, Value)> {
    let mut state = shared.state();
    let Some(job) = state.jobs.get_mut(job_id) else {
        return Vec::new();
    };
    if job.done {
        return Vec::new();
    }
    job.done = true;
    let Some(request) = job.cancel.clone() else {
        return Vec::new();
    };
    apply_cancel(&mut state, &request)
}

/// Cancels an order: voids authorizations, refunds if asked, restocks if asked, closes the
/// fulfillment orders and the order.
pub fn apply_cancel(state: &mut State, req: &CancelRequest) -> Vec<(String, Value)> {
    let now = Utc::now();
    let mut events = Vec::new();
    let Some(snapshot) = state.orders.get(&req.order_id).cloned() else {
        return events;
    };
    if snapshot.cancelled_at.is_some() {
        return events;
    }
    let mut new_ids: Vec<u64> =
        (0..(snapshot.transactions.len() * 2 + snapshot.line_items.len() + 4))
            .map(|_| state.next_id())
            .collect();
    let mut next = move || new_ids.pop().unwrap_or_default();

    // Restock unfulfilled units at their fulfillment order's location.
    let mut restocked: Vec<(u64, u64)> = Vec::new();
    let mut refund_lines = Vec::new();
    for line in &snapshot.line_items {
        let units = line.unfulfilled();
        if units == 0 {
            continue;
        }
        let location = snapshot
            .fulfillment_orders
            .iter()
            .find(|f| f.lines.iter().any(|l| l.line_item_id == line.id))
            .map(|f| f.location_id)
            .or_else(|| state.default_location());
        let can_restock =
            req.restock && location.is_some_and(|l| state.location(l).is_some_and(|x| x.active));
        if can_restock
            && let (Some(variant_id), Some(location)) = (line.variant_id, location)
            && let Some(v) = state.variants.get_mut(&variant_id)
        {
            *v.available.entry(location).or_insert(0) += units;
            restocked.push((variant_id, location));
        }
        refund_lines.push(RefundLine {
            id: next(),
            line_item_id: line.id,
            quantity: units,
            restock_type: if can_restock { "CANCEL" } else { "NO_RESTOCK" }.to_string(),
            restocked: can_restock,
            location_id: location,
            unit_price_cents: line.price_cents,
        });
    }

    let Some(order) = state.orders.get_mut(&req.order_id) else {
        return events;
    };
    // Authorized payments are voided regardless of the refund method.
    for auth in snapshot.open_authorizations() {
        order.transactions.push(Transaction {
            id: next(),
            kind: TxKind::Void,
            status: "SUCCESS".into(),
            gateway: auth.gateway.clone(),
            amount_cents: auth.amount_cents,
            parent_id: Some(auth.id),
            created_at: now,
        });
    }
    let mut refund_tx_ids = Vec::new();
    let mut store_credit_cents = 0;
    if req.refund_original {
        for parent in snapshot
            .transactions
            .iter()
            .filter(|t| t.status == "SUCCESS" && matches!(t.kind, TxKind::Sale | TxKind::Capture))
        {
            let already: i64 = snapshot
                .transactions
                .iter()
                .filter(|t| {
                    t.kind == TxKind::Refund
                        && t.status == "SUCCESS"
                        && t.parent_id == Some(parent.id)
                })
                .map(|t| t.amount_cents)
                .sum();
            let amount = parent.amount_cents - already;
            if amount > 0 {
                let id = next();
                refund_tx_ids.push(id);
                order.transactions.push(Transaction {
                    id,
                    kind: TxKind::Refund,
                    status: "SUCCESS".into(),
                    gateway: parent.gateway.clone(),
                    amount_cents: amount,
                    parent_id: Some(parent.id),
                    created_at: now,
                });
            }
        }
    } else if req.store_credit {
        store_credit_cents = snapshot.net_payment_cents().max(0);
    }
    let shipping_left = (snapshot.shipping_cents() - snapshot.shipping_refunded_cents).max(0);
    let money_moved = !refund_tx_ids.is_empty() || store_credit_cents > 0;
    if money_moved || refund_lines.iter().any(|l| l.restocked) {
        let refund = Refund {
            id: next(),
            note: None,
            created_at: now,
            lines: refund_lines,
            transaction_ids: refund_tx_ids,
            shipping_cents: if money_moved { shipping_left } else { 0 },
            store_credit_cents,
        };
        if money_moved {
            order.shipping_refunded_cents += shipping_left;
        }
        order.refunds.push(refund);
    }
    for line in &mut order.line_items {
        line.removed += line.unfulfilled();
    }
    for fo in &mut order.fulfillment_orders {
        if matches!(fo.status, FoStatus::Closed | FoStatus::Cancelled) {
            continue;
        }
        // Captured: the cancelled order's fulfillment order is CLOSED with its quantities at 0.
        fo.status = FoStatus::Closed;
        fo.holds.clear();
        fo.updated_at = now;
        for l in &mut fo.lines {
            l.total -= l.remaining;
            l.remaining = 0;
        }
    }
    order.cancelled_at = Some(now);
    order.closed_at = Some(now);
    order.updated_at = now;
    order.cancel_reason = Some(req.reason.clone());
    order.staff_note = req.staff_note.clone();
    if req.notify_customer {
        let email = order.email.clone();
        state.notifications.push(Notification {
            order_id: req.order_id,
            email,
            kind: "order_cancelled".into(),
            at: now,
        });
    }
    let Some(order) = state.orders.get(&req.order_id) else {
        return events;
    };
    let order_payload = payloads::order(state, order);
    events.push(("orders/cancelled".to_string(), order_payload.clone()));
    events.push(("orders/updated".to_string(), order_payload));
    if let Some(refund) = order.refunds.last().filter(|r| r.created_at == now) {
        events.push((
            "refunds/create".to_string(),
            payloads::refund(order, refund),
        ));
    }
    for (variant_id, location) in restocked {
        if let Some(v) = state.variants.get(&variant_id) {
            events.push((
                "inventory_levels/update".to_string(),
                payloads::inventory_level(v, location),
            ));
        }
    }
    events
}
