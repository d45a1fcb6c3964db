//! Fulfillment holds and cancellation requests to a fulfillment service.
//!
//! Hold rules: https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentOrderHold
//! (up to 10 holds per app per fulfillment order since 2025-01; a handle is unique per app and
//! fulfillment order; holding some line items splits the fulfillment order). Messages, codes
//! and the order of the checks are captured in `tests/captures/fulfillment-order-*.json`.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Outcome, arr, coded_errors, s, user_errors};
use crate::model::{
    FoLine, FoStatus, FulfillmentOrder, Hold, MerchantRequest, RequestStatus, State, parse_gid_of,
};
use crate::payloads;
use crate::store::Shared;
use crate::views;

/// Active holds one app may place on one fulfillment order.
pub const HOLD_LIMIT: usize = 10;
/// Longest hold handle.
pub const HANDLE_MAX: usize = 64;

fn fo_view(state: &State, order_id: u64, fo_id: u64) -> Value {
    state
        .orders
        .get(&order_id)
        .and_then(|o| o.fo(fo_id).map(|f| views::fulfillment_order(state, o, f)))
        .unwrap_or(Value::Null)
}

fn hold_errors(errors: &[(Value, String, &str)]) -> Outcome {
    Outcome::payload(json!({
        "fulfillmentHold": null,
        "fulfillmentOrder": null,
        "remainingFulfillmentOrder": null,
        "userErrors": coded_errors(errors),
    }))
}

pub fn hold(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let input = args.get("fulfillmentHold").cloned().unwrap_or(Value::Null);
    let fo_id = s(args, "id").and_then(|g| parse_gid_of(g, "FulfillmentOrder"));
    let mut state = shared.state();
    let Some((order_id, fo)) = fo_id.and_then(|id| {
        let oid = state.order_of_fo(id)?;
        Some((oid, state.orders.get(&oid)?.fo(id)?.clone()))
    }) else {
        return hold_errors(&[(
            json!(["id"]),
            "The fulfillment order could not be found.".into(),
            "FULFILLMENT_ORDER_NOT_FOUND",
        )]);
    };
    let handle = s(&input, "handle").unwrap_or_default().to_string();
    let items = arr(&input, "fulfillmentOrderLineItems");
    let mut seen = HashSet::new();
    let mut requested: Vec<(u64, i64)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = s(item, "id")
            .and_then(|g| parse_gid_of(g, "FulfillmentOrderLineItem"))
            .unwrap_or_default();
        if !seen.insert(id) {
            return hold_errors(&[(
                json!(["fulfillmentHold", "fulfillmentOrderLineItems"]),
                "must contain unique line item ids".into(),
                "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS",
            )]);
        }
        let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
        if quantity <= 0 {
            return hold_errors(&[(
                json!([
                    "fulfillmentHold",
                    "fulfillmentOrderLineItems",
                    i.to_string(),
                    "quantity"
                ]),
                "You must select at least one item to place on partial hold.".into(),
                "GREATER_THAN_ZERO",
            )]);
        }
        let remaining = fo.lines.iter().find(|l| l.id == id).map(|l| l.remaining);
        if remaining.is_none_or(|r| quantity > r) {
            return hold_errors(&[(
                json!([
                    "fulfillmentHold",
                    "fulfillmentOrderLineItems",
                    i.to_string(),
                    "quantity"
                ]),
                "The line item quantity is invalid.".into(),
                "INVALID_LINE_ITEM_QUANTITY",
            )]);
        }
        requested.push((id, quantity));
    }
    let partial = !requested.is_empty()
        && fo.lines.iter().any(|l| {
            l.remaining > 0
                && requested
                    .iter()
                    .find(|(id, _)| *id == l.id)
                    .is_none_or(|(_, q)| *q < l.remaining)
        });
    if partial && fo.status != FoStatus::Open {
        return hold_errors(&[(
            json!(["fulfillmentHold", "fulfillmentOrderLineItems"]),
            "The fulfillment order is not in a splittable state.".into(),
            "FULFILLMENT_ORDER_NOT_SPLITTABLE",
        )]);
    }
    if !matches!(
        fo.status,
        FoStatus::Open | FoStatus::OnHold | FoStatus::Scheduled
    ) {
        return hold_errors(&[(
            json!(["id"]),
            "The fulfillment order cannot be placed on hold in its current state.".into(),
            "FULFILLMENT_ORDER_NOT_FOUND",
        )]);
    }
    if handle.chars().count() > HANDLE_MAX {
        return hold_errors(&[(
            json!(["fulfillmentHold", "handle"]),
            format!("Handle is too long (maximum is {HANDLE_MAX} characters)"),
            "TAKEN",
        )]);
    }
    let mine: Vec<&Hold> = fo.holds.iter().filter(|h| h.by_this_app).collect();
    if mine.iter().any(|h| h.handle == handle) {
        return hold_errors(&[(
            json!(["fulfillmentHold", "handle"]),
            "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.".into(),
            "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
        )]);
    }
    if mine.len() >= HOLD_LIMIT {
        return hold_errors(&[(
            json!(["id"]),
            "The maximum number of fulfillment holds for this fulfillment order has been reached for this app. An app can only have up to 10 holds on a single fulfillment order at any one time.".into(),
            "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
        )]);
    }

    let now = Utc::now();
    let hold = Hold {
        id: state.next_id(),
        by_this_app: true,
        handle,
        reason: s(&input, "reason").unwrap_or("OTHER").to_string(),
        reason_notes: s(&input, "reasonNotes").map(str::to_string),
        external_id: s(&input, "externalId").map(str::to_string),
    };
    let mut remaining_fo: Option<FulfillmentOrder> = None;
    if partial {
        // The held units stay on this fulfillment order; the rest move to a new open one.
        let mut new_lines = Vec::new();
        for l in &fo.lines {
            let held = requested
                .iter()
                .find(|(id, _)| *id == l.id)
                .map_or(0, |(_, q)| *q);
            let rest = l.remaining - held;
            if rest > 0 {
                new_lines.push(FoLine {
                    id: state.next_id(),
                    line_item_id: l.line_item_id,
                    total: rest,
                    remaining: rest,
                });
            }
        }
        remaining_fo = Some(FulfillmentOrder {
            id: state.next_id(),
            status: FoStatus::Open,
            request_status: RequestStatus::Unsubmitted,
            location_id: fo.location_id,
            fulfillment_service: fo.fulfillment_service,
            created_at: now,
            updated_at: now,
            fulfill_at: fo.fulfill_at,
            holds: Vec::new(),
            lines: new_lines,
            merchant_requests: Vec::new(),
        });
    }
    let first_hold = fo.holds.is_empty();
    let Some(order) = state.orders.get_mut(&order_id) else {
        return hold_errors(&[]);
    };
    if let Some(f) = order.fo_mut(fo.id) {
        if partial {
            f.lines
                .retain(|l| requested.iter().any(|(id, _)| *id == l.id));
            for l in &mut f.lines {
                let held = requested
                    .iter()
                    .find(|(id, _)| *id == l.id)
                    .map_or(0, |(_, q)| *q);
                l.total = held;
                l.remaining = held;
            }
        }
        f.status = FoStatus::OnHold;
        f.holds.push(hold.clone());
        f.updated_at = now;
    }
    let remaining_id = remaining_fo.as_ref().map(|f| f.id);
    if let Some(r) = remaining_fo {
        order.fulfillment_orders.push(r);
    }
    order.updated_at = now;
    let mut events = Vec::new();
    if let Some(f) = order.fo(fo.id) {
        let mut placed = json!({
            "fulfillment_order": payloads::fulfillment_order(f),
            "fulfillment_hold": payloads::hold(&hold),
            "remaining_fulfillment_order": null,
        });
        if let Some(r) = remaining_id.and_then(|id| order.fo(id))
            && let Some(obj) = placed.as_object_mut()
        {
            obj.insert(
                "remaining_fulfillment_order".into(),
                payloads::fulfillment_order(r),
            );
        }
        // `placed_on_hold` fires once, for the first hold; `fulfillment_holds/added` for each.
        if first_hold {
            events.push((
                "fulfillment_orders/placed_on_hold".to_string(),
                placed.clone(),
            ));
        }
        events.push(("fulfillment_holds/added".to_string(), placed));
    }
    Outcome {
        payload: json!({
            "fulfillmentHold": views::hold(&hold),
            "fulfillmentOrder": fo_view(&state, order_id, fo.id),
            "remainingFulfillmentOrder": remaining_id.map_or(Value::Null, |id| fo_view(&state, order_id, id)),
            "userErrors": [],
        }),
        events,
    }
}

pub fn release(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let fo_id = s(args, "id").and_then(|g| parse_gid_of(g, "FulfillmentOrder"));
    let hold_ids: Option<Vec<u64>> = args.get("holdIds").and_then(Value::as_array).map(|ids| {
        ids.iter()
            .filter_map(|g| g.as_str().and_then(|g| parse_gid_of(g, "FulfillmentHold")))
            .collect()
    });
    let mut state = shared.state();
    let Some(order_id) = fo_id.and_then(|id| state.order_of_fo(id)) else {
        return Outcome::payload(json!({
            "fulfillmentOrder": null,
            "userErrors": coded_errors(&[(json!(["id"]), "The fulfillment order could not be found.".into(), "FULFILLMENT_ORDER_NOT_FOUND")]),
        }));
    };
    let fo_id = fo_id.unwrap_or_default();
    let now = Utc::now();
    let Some(order) = state.orders.get_mut(&order_id) else {
        return Outcome::payload(Value::Null);
    };
    let Some(fo) = order.fo_mut(fo_id) else {
        return Outcome::payload(Value::Null);
    };
    if let Some(ids) = &hold_ids
        && let Some(foreign) = ids
            .iter()
            .find(|id| !fo.holds.iter().any(|h| h.id == **id && h.by_this_app))
    {
        let _ = foreign;
        return Outcome::payload(json!({
            "fulfillmentOrder": null,
            "userErrors": coded_errors(&[(json!(["holdIds"]), "The app does not have access to release one or more of the given holds.".into(), "INVALID_ACCESS")]),
        }));
    }
    let released: Vec<Hold> = fo
        .holds
        .iter()
        .filter(|h| h.by_this_app && hold_ids.as_ref().is_none_or(|ids| ids.contains(&h.id)))
        .cloned()
        .collect();
    fo.holds.retain(|h| !released.iter().any(|r| r.id == h.id));
    let was_on_hold = fo.status == FoStatus::OnHold;
    if fo.holds.is_empty() && was_on_hold {
        fo.status = FoStatus::Open;
    }
    if !released.is_empty() {
        fo.updated_at = now;
    }
    let fo_payload = payloads::fulfillment_order(fo);
    let now_open = fo.status == FoStatus::Open && was_on_hold;
    let mut events: Vec<(String, Value)> = released
        .iter()
        .map(|h| {
            (
                "fulfillment_holds/released".to_string(),
                json!({ "fulfillment_order": fo_payload, "fulfillment_hold": payloads::hold(h) }),
            )
        })
        .collect();
    // `hold_released` fires once, when the last hold goes.
    if now_open {
        events.push((
            "fulfillment_orders/hold_released".to_string(),
            json!({ "fulfillment_order": fo_payload }),
        ));
    }
    Outcome {
        payload: json!({
            "fulfillmentOrder": fo_view(&state, order_id, fo_id),
            "userErrors": [],
        }),
        events,
    }
}

/// `fulfillmentOrderSubmitCancellationRequest`: asks the fulfillment service (3PL) holding an
/// accepted fulfillment order to cancel it. The simulated service answers at once, accepting
/// or rejecting as the `fulfillment_service_accepts_cancellation` knob says.
/// https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentOrderSubmitCancellationRequest
pub fn submit_cancellation_request(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let fo_id = s(args, "id").and_then(|g| parse_gid_of(g, "FulfillmentOrder"));
    let message = s(args, "message").map(str::to_string);
    let accepts = shared.faults().fulfillment_service_accepts_cancellation;
    let mut state = shared.state();
    let Some(order_id) = fo_id.and_then(|id| state.order_of_fo(id)) else {
        return Outcome::payload(json!({
            "fulfillmentOrder": null,
            "userErrors": user_errors(&[(json!(["id"]), "Fulfillment order does not exist.".into())]),
        }));
    };
    let fo_id = fo_id.unwrap_or_default();
    let request_id = state.next_id();
    let replacement_id = state.next_id();
    let line_ids: Vec<u64> = (0..8).map(|_| state.next_id()).collect();
    let now = Utc::now();
    let Some(order) = state.orders.get_mut(&order_id) else {
        return Outcome::payload(Value::Null);
    };
    let Some(fo) = order.fo_mut(fo_id) else {
        return Outcome::payload(Value::Null);
    };
    if !(fo.fulfillment_service
        && fo.status == FoStatus::InProgress
        && fo.request_status == RequestStatus::Accepted)
    {
        return Outcome::payload(json!({
            "fulfillmentOrder": null,
            "userErrors": user_errors(&[(json!(["id"]), "Cannot request cancellation for a fulfillment order that has not been accepted by a fulfillment service.".into())]),
        }));
    }
    fo.request_status = RequestStatus::CancellationRequested;
    fo.updated_at = now;
    fo.merchant_requests.push(MerchantRequest {
        id: request_id,
        kind: "CANCELLATION_REQUEST".into(),
        message: message.clone(),
        sent_at: now,
    });
    let mut events = vec![(
        "fulfillment_orders/cancellation_request_submitted".to_string(),
        json!({
            "fulfillment_order": payloads::fulfillment_order(fo),
            "fulfillment_order_merchant_request": { "id": crate::model::gid("FulfillmentOrderMerchantRequest", request_id), "message": message },
        }),
    )];
    let payload_fo;
    if accepts {
        fo.request_status = RequestStatus::CancellationAccepted;
        fo.status = FoStatus::Cancelled;
        let lines: Vec<FoLine> = fo
            .lines
            .iter()
            .filter(|l| l.remaining > 0)
            .zip(line_ids)
            .map(|(l, id)| FoLine {
                id,
                line_item_id: l.line_item_id,
                total: l.remaining,
                remaining: l.remaining,
            })
            .collect();
        payload_fo = payloads::fulfillment_order(fo);
        // Shopify replaces a cancelled fulfillment order with a new open one for the same units.
        let replacement = FulfillmentOrder {
            id: replacement_id,
            status: FoStatus::Open,
            request_status: RequestStatus::Unsubmitted,
            location_id: fo.location_id,
            fulfillment_service: true,
            created_at: now,
            updated_at: now,
            fulfill_at: fo.fulfill_at,
            holds: Vec::new(),
            lines,
            merchant_requests: Vec::new(),
        };
        order.fulfillment_orders.push(replacement);
        events.push((
            "fulfillment_orders/cancellation_request_accepted".to_string(),
            json!({ "fulfillment_order": payload_fo, "message": "Cancellation accepted by the fulfillment service" }),
        ));
    } else {
        fo.request_status = RequestStatus::CancellationRejected;
        payload_fo = payloads::fulfillment_order(fo);
        events.push((
            "fulfillment_orders/cancellation_request_rejected".to_string(),
            json!({ "fulfillment_order": payload_fo, "message": "Already packed: the fulfillment service rejected the cancellation" }),
        ));
    }
    order.updated_at = now;
    Outcome {
        payload: json!({
            "fulfillmentOrder": fo_view(&state, order_id, fo_id),
            "userErrors": [],
        }),
        events,
    }
}
