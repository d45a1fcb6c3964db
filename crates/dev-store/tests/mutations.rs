//! The rules behind the mutations the service uses beyond the captures: fulfillment-service
//! cancellation requests, payment states, B2B store credit, inventory, Flow triggers,
//! suggested refunds, and the service's own operations validating against the schema.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use cancel_policy_dev_store::{DevStoreConfig, NewLine, NewOrder, seed};
use serde_json::{Value, json};
use support::{Receiver, gql, start_with};

async fn demo() -> cancel_policy_dev_store::RunningDevStore {
    start_with(DevStoreConfig {
        seed_demo: true,
        ..DevStoreConfig::default()
    })
    .await
}

/// Seed order by number: #1001 paid and open, #1002 personalised, #1003 high risk,
/// #1004 oversold vases, #1005 fulfilled, #1006 at the fulfillment service, #1007 B2B.
fn order(store: &cancel_policy_dev_store::RunningDevStore, number: u32) -> Value {
    store.order(&format!("#{number}")).unwrap()
}

const CANCEL: &str = r#"mutation($orderId: ID!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, restock: $restock, refundMethod: $refundMethod) {
    job { id } orderCancelUserErrors { field message code }
  }
}"#;

const SUBMIT: &str = r#"mutation($id: ID!, $message: String) {
  fulfillmentOrderSubmitCancellationRequest(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus merchantRequests(first: 5) { nodes { kind message } } }
    userErrors { field message }
  }
}"#;

#[tokio::test]
async fn an_order_at_the_fulfillment_service_is_cancelled_after_it_accepts() {
    let store = demo().await;
    let receiver = Receiver::start(0).await;
    for topic in [
        "fulfillment_orders/cancellation_request_submitted",
        "fulfillment_orders/cancellation_request_accepted",
    ] {
        store.subscribe_webhook(topic, &receiver.url);
    }
    let o = order(&store, 1006);
    let id = o["id"].as_str().unwrap();
    let refused = gql(&store, CANCEL, json!({ "orderId": id, "restock": true })).await;
    assert_eq!(
        refused["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"],
        "INVALID"
    );

    let fo = o["fulfillmentOrders"][0]["id"].clone();
    let submitted = gql(
        &store,
        SUBMIT,
        json!({ "id": fo, "message": "customer cancelled" }),
    )
    .await;
    let fo_after =
        &submitted["data"]["fulfillmentOrderSubmitCancellationRequest"]["fulfillmentOrder"];
    assert_eq!(fo_after["status"], "CANCELLED");
    assert_eq!(fo_after["requestStatus"], "CANCELLATION_ACCEPTED");
    assert_eq!(
        fo_after["merchantRequests"]["nodes"][0],
        json!({ "kind": "CANCELLATION_REQUEST", "message": "customer cancelled" })
    );
    let topics = receiver
        .wait_for(2)
        .await
        .iter()
        .map(|r| r.header("X-Shopify-Topic"))
        .collect::<Vec<_>>();
    assert!(
        topics.contains(&"fulfillment_orders/cancellation_request_accepted".to_string()),
        "{topics:?}"
    );

    let cancelled = gql(&store, CANCEL, json!({ "orderId": id, "restock": true, "refundMethod": { "originalPaymentMethodsRefund": true } })).await;
    assert_eq!(
        cancelled["data"]["orderCancel"]["orderCancelUserErrors"],
        json!([])
    );
    let after = store.order(id).unwrap();
    assert_eq!(after["displayFinancialStatus"], "REFUNDED");
    // A second request on a cancelled fulfillment order is refused.
    let again = gql(&store, SUBMIT, json!({ "id": fo })).await;
    assert_eq!(
        again["data"]["fulfillmentOrderSubmitCancellationRequest"]["userErrors"][0]["field"],
        json!(["id"])
    );
}

#[tokio::test]
async fn a_rejecting_fulfillment_service_keeps_the_order_in_progress() {
    let store = demo().await;
    store.update_faults(|f| f.fulfillment_service_accepts_cancellation = false);
    let o = order(&store, 1006);
    let submitted = gql(
        &store,
        SUBMIT,
        json!({ "id": o["fulfillmentOrders"][0]["id"] }),
    )
    .await;
    let fo = &submitted["data"]["fulfillmentOrderSubmitCancellationRequest"]["fulfillmentOrder"];
    assert_eq!(fo["status"], "IN_PROGRESS");
    assert_eq!(fo["requestStatus"], "CANCELLATION_REJECTED");
    assert!(
        store
            .events()
            .iter()
            .any(|e| e.topic == "fulfillment_orders/cancellation_request_rejected")
    );
}

#[tokio::test]
async fn cancelling_an_authorized_order_voids_it_and_b2b_store_credit_is_refused() {
    let store = demo().await;
    let b2b = order(&store, 1007);
    assert_eq!(b2b["displayFinancialStatus"], "AUTHORIZED");
    let id = b2b["id"].as_str().unwrap();
    let credit = gql(
        &store,
        CANCEL,
        json!({ "orderId": id, "restock": true, "refundMethod": { "storeCreditRefund": {} } }),
    )
    .await;
    assert_eq!(
        credit["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"],
        "STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED"
    );
    let plain = gql(&store, CANCEL, json!({ "orderId": id, "restock": true })).await;
    assert_eq!(
        plain["data"]["orderCancel"]["orderCancelUserErrors"],
        json!([])
    );
    let after = store.order(id).unwrap();
    assert_eq!(after["displayFinancialStatus"], "VOIDED");
    assert_eq!(after["transactions"][1]["kind"], "VOID");
}

#[tokio::test]
async fn staff_notes_over_255_characters_and_pending_payments_are_refused() {
    let store = demo().await;
    let id = order(&store, 1001)["id"].as_str().unwrap().to_string();
    let long = "n".repeat(256);
    let body = gql(
        &store,
        "mutation($id: ID!, $note: String) { orderCancel(orderId: $id, reason: OTHER, restock: false, staffNote: $note) { orderCancelUserErrors { field message code } } }",
        json!({ "id": id, "note": long }),
    )
    .await;
    assert_eq!(
        body["data"]["orderCancel"]["orderCancelUserErrors"][0]["message"],
        "Staff note is too long. Maximum length is 255 characters."
    );
    let pending = store
        .create_order(&NewOrder {
            payment: seed::Payment::Pending,
            lines: vec![NewLine {
                sku: Some("CANDLE-S".into()),
                quantity: 1,
                ..NewLine::default()
            }],
            ..NewOrder::default()
        })
        .unwrap();
    let body = gql(
        &store,
        CANCEL,
        json!({ "orderId": pending, "restock": false }),
    )
    .await;
    assert_eq!(
        body["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"],
        "INVALID"
    );
    assert_eq!(store.order(&pending).unwrap()["cancelledAt"], Value::Null);
}

#[tokio::test]
async fn refunding_the_oversold_line_cancels_only_that_line() {
    let store = demo().await;
    let o = order(&store, 1004);
    let vase = &o["lineItems"][0];
    assert_eq!(vase["variant"]["inventoryPolicy"], "CONTINUE");
    assert!(
        vase["variant"]["inventoryQuantity"].as_i64().unwrap() < 0,
        "sold past zero"
    );
    let suggested = gql(
        &store,
        "query($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) { suggestedRefund(refundLineItems: $lines) { amountSet { shopMoney { amount } } suggestedTransactions { gateway amountSet { shopMoney { amount } } parentTransaction { id } } refundLineItems { quantity lineItem { sku } } } } }",
        json!({ "id": o["id"], "lines": [{ "lineItemId": vase["id"], "quantity": 5, "restockType": "CANCEL" }] }),
    )
    .await;
    let s = &suggested["data"]["order"]["suggestedRefund"];
    assert_eq!(s["amountSet"]["shopMoney"]["amount"], "240.0");
    let tx = &s["suggestedTransactions"][0];
    let refund = gql(
        &store,
        "mutation($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: \"oversold-1\") { order { displayFinancialStatus displayFulfillmentStatus } userErrors { message } } }",
        json!({ "input": {
            "orderId": o["id"],
            "refundLineItems": [{ "lineItemId": vase["id"], "quantity": 5, "restockType": "CANCEL" }],
            "transactions": [{ "orderId": o["id"], "parentId": tx["parentTransaction"]["id"], "gateway": tx["gateway"], "kind": "REFUND", "amount": tx["amountSet"]["shopMoney"]["amount"] }],
        } }),
    )
    .await;
    assert_eq!(refund["data"]["refundCreate"]["userErrors"], json!([]));
    assert_eq!(
        refund["data"]["refundCreate"]["order"]["displayFinancialStatus"],
        "PARTIALLY_REFUNDED"
    );
    let after = store.order(o["id"].as_str().unwrap()).unwrap();
    assert_eq!(after["lineItems"][0]["currentQuantity"], 0);
    assert_eq!(after["lineItems"][1]["currentQuantity"], 1);
    assert_eq!(
        after["fulfillmentOrders"][0]["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["remainingQuantity"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );
    assert_eq!(store.available("VASE-01"), Some(3));
}

#[tokio::test]
async fn inventory_adjustments_are_idempotent_and_compare_quantities() {
    let store = demo().await;
    let item = store
        .with_state(|s| {
            s.variants
                .values()
                .find(|v| v.sku == "LAMP-FS")
                .map(|v| v.inventory_item_id)
        })
        .unwrap();
    let location = store.with_state(|s| s.default_location()).unwrap();
    let q = "mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) { inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { reason changes { delta quantityAfterChange } } userErrors { code message } } }";
    let change = |delta: i64, from: Option<i64>| json!({ "reason": "restock", "name": "available", "changes": [{ "delta": delta, "changeFromQuantity": from, "inventoryItemId": format!("gid://shopify/InventoryItem/{item}"), "locationId": format!("gid://shopify/Location/{location}") }] });
    let before = store.available("LAMP-FS").unwrap();
    let ok = gql(
        &store,
        q,
        json!({ "input": change(2, Some(before)), "key": "inv-1" }),
    )
    .await;
    assert_eq!(
        ok["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"],
        json!(before + 2)
    );
    gql(
        &store,
        q,
        json!({ "input": change(2, Some(before)), "key": "inv-1" }),
    )
    .await;
    assert_eq!(
        store.available("LAMP-FS"),
        Some(before + 2),
        "the replay adjusts nothing"
    );
    let stale = gql(
        &store,
        q,
        json!({ "input": change(1, Some(before)), "key": "inv-2" }),
    )
    .await;
    assert_eq!(
        stale["data"]["inventoryAdjustQuantities"]["userErrors"][0]["code"],
        "CHANGE_FROM_QUANTITY_STALE"
    );
    let no_key = gql(&store, "mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { userErrors { code } } }", json!({ "input": change(1, None) })).await;
    assert!(
        no_key["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("@idempotent")
    );
}

#[tokio::test]
async fn flow_triggers_check_the_handle_and_the_50000_byte_limit() {
    let store = demo().await;
    let q = "mutation($handle: String!, $payload: JSON!) { flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } } }";
    let ok = gql(&store, q, json!({ "handle": "cancel-policy-decision", "payload": { "order_id": 1, "outcome": "approved" } })).await;
    assert_eq!(ok["data"]["flowTriggerReceive"]["userErrors"], json!([]));
    assert_eq!(store.flow_triggers().len(), 1);
    let big = gql(
        &store,
        q,
        json!({ "handle": "cancel-policy-decision", "payload": { "blob": "x".repeat(50_001) } }),
    )
    .await;
    assert_eq!(
        big["data"]["flowTriggerReceive"]["userErrors"][0]["message"],
        "Properties size exceeds the limit of 50000 bytes."
    );
    let unknown = gql(&store, q, json!({ "handle": "nope", "payload": {} })).await;
    assert_eq!(
        unknown["data"]["flowTriggerReceive"]["userErrors"][0]["message"],
        "Invalid handle 'nope'"
    );
}

#[tokio::test]
async fn old_orders_need_read_all_orders() {
    let store = demo().await;
    let old = store
        .create_order(&NewOrder {
            created_at: Some(chrono::Utc::now() - chrono::TimeDelta::days(90)),
            lines: vec![NewLine {
                sku: Some("CANDLE-S".into()),
                quantity: 1,
                ..NewLine::default()
            }],
            ..NewOrder::default()
        })
        .unwrap();
    let q = "query($id: ID!) { order(id: $id) { id } }";
    assert_eq!(
        gql(&store, q, json!({ "id": old })).await["data"]["order"]["id"],
        json!(old)
    );
    let scopes: Vec<String> = store
        .scopes()
        .into_iter()
        .filter(|s| s != "read_all_orders")
        .collect();
    store.set_scopes(&scopes.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        gql(&store, q, json!({ "id": old })).await["data"]["order"],
        Value::Null
    );
}

/// The companion service's operations (`schema/operations/*.graphql`) validate against the
/// schema the dev store serves, so the service and the store agree on every field.
#[tokio::test]
async fn the_service_operations_validate_against_the_dev_store() {
    let store = demo().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/operations");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // the service's operations are not in this checkout
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let query = std::fs::read_to_string(&path).unwrap();
        let body = gql(&store, &query, json!({})).await;
        for error in body["errors"].as_array().cloned().unwrap_or_default() {
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("variable") || message.contains("Variable"),
                "{}: {message}",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 0);
}
