//! `inventoryAdjustQuantities` for the `available` quantity.
//! https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventoryAdjustQuantities

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Outcome, arr, coded_errors, s};
use crate::model::{AdjustmentGroup, InventoryChangeRecord, gid, iso, parse_gid_of};
use crate::payloads;
use crate::store::Shared;

/// Reasons Shopify accepts for inventory changes.
/// https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps/manage-quantities-states
const REASONS: &[&str] = &[
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

pub fn adjust_quantities(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let reason = s(&input, "reason").unwrap_or_default().to_string();
    let name = s(&input, "name").unwrap_or_default().to_string();
    let fail = |field: Value, message: String, code: &str| {
        Outcome::payload(json!({
            "inventoryAdjustmentGroup": null,
            "userErrors": coded_errors(&[(field, message, code)]),
        }))
    };
    if !REASONS.contains(&reason.as_str()) {
        return fail(
            json!(["input", "reason"]),
            "The specified reason is invalid.".into(),
            "INVALID_REASON",
        );
    }
    if name != "available" {
        return fail(
            json!(["input", "name"]),
            "The dev store adjusts only the `available` quantity name.".into(),
            "INVALID_QUANTITY_NAME",
        );
    }
    let mut state = shared.state();
    let changes = arr(&input, "changes");
    let mut planned = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let field = |f: &str| json!(["input", "changes", i.to_string(), f]);
        let item = s(c, "inventoryItemId").and_then(|g| parse_gid_of(g, "InventoryItem"));
        let Some(variant) = item.and_then(|id| state.variant_by_item(id)) else {
            return fail(
                field("inventoryItemId"),
                "The specified inventory item could not be found.".into(),
                "INVALID_INVENTORY_ITEM",
            );
        };
        let location = s(c, "locationId").and_then(|g| parse_gid_of(g, "Location"));
        let Some(location) = location.filter(|l| state.location(*l).is_some()) else {
            return fail(
                field("locationId"),
                "The specified location could not be found.".into(),
                "INVALID_LOCATION",
            );
        };
        let current = variant.available.get(&location).copied().unwrap_or(0);
        if let Some(from) = c.get("changeFromQuantity").and_then(Value::as_i64)
            && from != current
        {
            return fail(
                field("changeFromQuantity"),
                "The specified compare quantity does not match the current quantity.".into(),
                "CHANGE_FROM_QUANTITY_STALE",
            );
        }
        let delta = c.get("delta").and_then(Value::as_i64).unwrap_or(0);
        planned.push((
            variant.id,
            location,
            delta,
            s(c, "ledgerDocumentUri").map(str::to_string),
        ));
    }
    let now = Utc::now();
    let mut records = Vec::new();
    let mut events = Vec::new();
    for (variant_id, location, delta, ledger) in planned {
        if let Some(v) = state.variants.get_mut(&variant_id) {
            let q = v.available.entry(location).or_insert(0);
            *q += delta;
            records.push(InventoryChangeRecord {
                name: name.clone(),
                delta,
                quantity_after: *q,
                inventory_item_id: v.inventory_item_id,
                location_id: location,
                ledger_document_uri: ledger,
            });
            events.push((
                "inventory_levels/update".to_string(),
                payloads::inventory_level(v, location),
            ));
        }
    }
    let id = state.next_id();
    let group = AdjustmentGroup {
        id,
        created_at: now,
        reason: reason.clone(),
        reference_document_uri: s(&input, "referenceDocumentUri").map(str::to_string),
        changes: records,
    };
    let view = json!({
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", id),
        "createdAt": iso(now),
        "reason": reason,
        "referenceDocumentUri": group.reference_document_uri,
        "changes": group.changes.iter().map(|c| json!({
            "name": c.name,
            "delta": c.delta,
            "quantityAfterChange": c.quantity_after,
            "ledgerDocumentUri": c.ledger_document_uri,
            "item": state.variant_by_item(c.inventory_item_id).map_or(Value::Null, |v| crate::views::inventory_item(&state, v.id)),
            "location": crate::views::location(&state, c.location_id),
        })).collect::<Vec<_>>(),
    });
    state.adjustment_groups.insert(id, group);
    Outcome {
        payload: json!({ "inventoryAdjustmentGroup": view, "userErrors": [] }),
        events,
    }
}
