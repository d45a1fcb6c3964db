//! The Admin GraphQL API through HTTP: reads, mutations, jobs, idempotency, webhooks.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use cancel_policy_dev_store::{DevStoreConfig, Faults, verify};
use serde_json::{Value, json};
use support::{Receiver, gql, gql_raw, start, start_with};

const ORDER_READ: &str = r#"
query Order($id: ID!) {
  order(id: $id) {
    id name cancelledAt closed cancelReason displayFinancialStatus displayFulfillmentStatus tags
    cancellation { staffNote }
    totalRefundedSet { shopMoney { amount currencyCode } }
    customer { id tags numberOfOrders }
    lineItems(first: 10) { nodes { id sku quantity currentQuantity fulfillableQuantity product { tags } variant { inventoryQuantity inventoryPolicy } } }
    fulfillmentOrders(first: 5) { nodes { id status requestStatus fulfillmentHolds { handle reason } } }
    risk { recommendation assessments { riskLevel } }
    transactions { kind status amountSet { shopMoney { amount } } }
  }
}"#;

const CANCEL: &str = r#"
mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput, $staffNote: String, $notifyCustomer: Boolean) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod, staffNote: $staffNote, notifyCustomer: $notifyCustomer) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"#;

/// The first seed order (#1001): paid, unfulfilled, two candle lines and shipping.
fn first_order(store: &cancel_policy_dev_store::RunningDevStore) -> String {
    store.order("#1001").expect("seeded orders")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn reads_a_seeded_order_with_extensions_cost() {
    let store = start().await;
    store.seed_demo().unwrap();
    let id = first_order(&store);
    let body = gql(&store, ORDER_READ, json!({ "id": id })).await;
    let order = &body["data"]["order"];
    assert_eq!(order["id"], json!(id));
    assert_eq!(order["displayFinancialStatus"], "PAID");
    assert_eq!(order["displayFulfillmentStatus"], "UNFULFILLED");
    assert_eq!(order["lineItems"]["nodes"][0]["sku"], "CANDLE-S");
    assert_eq!(
        order["lineItems"]["nodes"][0]["product"]["tags"],
        json!(["candle", "bestseller"])
    );
    assert_eq!(order["customer"]["tags"], json!(["vip"]));
    assert_eq!(order["customer"]["numberOfOrders"], "9");
    let cost = &body["extensions"]["cost"];
    assert!(cost["requestedQueryCost"].as_u64().unwrap() > 1);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], json!(2000));
    assert_eq!(cost["throttleStatus"]["restoreRate"], json!(100));
}

#[tokio::test]
async fn rejects_a_wrong_token_and_an_unknown_field() {
    let store = start().await;
    let res = support::client()
        .post(store.graphql_url())
        .header("X-Shopify-Access-Token", "wrong")
        .body(r#"{"query":"{ shop { name } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let body = gql(&store, "{ shop { name nope } }", json!({})).await;
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "Field 'nope' doesn't exist on type 'Shop'"
    );
    assert_eq!(error["extensions"]["code"], "undefinedField");
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn order_cancel_runs_as_a_job_refunds_restocks_and_signs_webhooks() {
    let store = start().await;
    let receiver = Receiver::start(0).await;
    for topic in ["orders/cancelled", "refunds/create", "orders/create"] {
        store.subscribe_webhook(topic, &receiver.url);
    }
    store.set_faults(Faults {
        job_delay_ms: 200,
        ..Faults::default()
    });
    store.seed_demo().unwrap();
    let created = receiver.wait_for(7).await;
    assert!(
        created
            .iter()
            .all(|r| r.header("X-Shopify-Topic") == "orders/create")
    );

    let id = first_order(&store);
    let stock_before = store.available("CANDLE-S").unwrap();
    let body = gql(
        &store,
        CANCEL,
        json!({
            "orderId": id, "reason": "CUSTOMER", "restock": true,
            "refundMethod": { "originalPaymentMethodsRefund": true },
            "staffNote": "customer asked within the window", "notifyCustomer": true,
        }),
    )
    .await;
    let payload = &body["data"]["orderCancel"];
    assert_eq!(payload["orderCancelUserErrors"], json!([]));
    assert_eq!(payload["job"]["done"], false);
    let job_id = payload["job"]["id"].as_str().unwrap().to_string();
    assert!(job_id.starts_with("gid://shopify/Job/"));
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 10);

    // Until the job runs the order is unchanged.
    let before = gql(&store, ORDER_READ, json!({ "id": id })).await;
    assert_eq!(before["data"]["order"]["cancelledAt"], Value::Null);

    let job_query =
        "query($id: ID!) { job(id: $id) { id done query { order(id: \"X\") { id } } } }";
    let mut done = false;
    for _ in 0..100 {
        let job = gql(&store, job_query, json!({ "id": job_id })).await;
        if job["data"]["job"]["done"] == true {
            done = true;
            break;
        }
        assert_eq!(job["data"]["job"]["query"], Value::Null);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(done, "the job finishes");

    let after = gql(&store, ORDER_READ, json!({ "id": id })).await;
    let order = &after["data"]["order"];
    assert_eq!(order["cancelReason"], "CUSTOMER");
    assert_eq!(order["closed"], true);
    assert_eq!(order["displayFinancialStatus"], "REFUNDED");
    assert_eq!(
        order["cancellation"]["staffNote"],
        "customer asked within the window"
    );
    assert_eq!(order["totalRefundedSet"]["shopMoney"]["amount"], "73.0");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["status"], "CLOSED");
    assert_eq!(store.available("CANDLE-S").unwrap(), stock_before + 2);
    assert_eq!(store.notifications().len(), 1);

    let hooks = receiver.wait_for(9).await;
    let cancelled = hooks
        .iter()
        .find(|r| r.header("X-Shopify-Topic") == "orders/cancelled")
        .expect("orders/cancelled delivered");
    assert!(verify(
        store.api_secret(),
        &cancelled.body,
        &cancelled.header("X-Shopify-Hmac-Sha256")
    ));
    assert_eq!(
        cancelled.header("X-Shopify-Shop-Domain"),
        store.shop_domain()
    );
    assert_eq!(cancelled.header("X-Shopify-API-Version"), "2026-04");
    assert!(!cancelled.header("X-Shopify-Webhook-Id").is_empty());
    assert!(!cancelled.header("X-Shopify-Event-Id").is_empty());
    assert!(!cancelled.header("X-Shopify-Triggered-At").is_empty());
    let payload = cancelled.json();
    assert_eq!(payload["admin_graphql_api_id"], json!(id));
    assert_eq!(payload["cancel_reason"], "customer");
    assert_eq!(payload["financial_status"], "refunded");

    // Cancelling again is refused with Shopify's message.
    let again = gql(
        &store,
        CANCEL,
        json!({ "orderId": id, "reason": "OTHER", "restock": false }),
    )
    .await;
    assert_eq!(
        again["data"]["orderCancel"]["orderCancelUserErrors"],
        json!([{ "field": ["orderId"], "message": "Cannot cancel an order that has already been canceled", "code": "INVALID" }])
    );
}

const REFUND: &str = r#"
mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id totalRefundedSet { shopMoney { amount } } refundLineItems(first: 5) { nodes { quantity restockType restocked } } }
    order { id displayFinancialStatus }
    userErrors { field message }
  }
}"#;

#[tokio::test]
async fn refund_create_requires_and_honours_idempotency_keys() {
    let store = start().await;
    store.seed_demo().unwrap();
    let id = first_order(&store);
    let order = store.order(&id).unwrap();
    let line = order["lineItems"][1]["id"].as_str().unwrap().to_string();
    let sale = order["transactions"][0]["id"].as_str().unwrap().to_string();
    let input = json!({
        "orderId": id,
        "refundLineItems": [{ "lineItemId": line, "quantity": 1, "restockType": "CANCEL" }],
        "transactions": [{ "orderId": id, "parentId": sale, "kind": "REFUND", "gateway": "shopify_payments", "amount": "32.00" }],
    });

    let without =
        "mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }";
    let body = gql(&store, without, json!({ "input": input })).await;
    assert_eq!(body["data"]["refundCreate"], Value::Null);
    assert_eq!(body["errors"][0]["path"], json!(["refundCreate"]));

    let first = gql(&store, REFUND, json!({ "input": input, "key": "k-1" })).await;
    let refund = &first["data"]["refundCreate"];
    assert_eq!(refund["userErrors"], json!([]));
    assert_eq!(
        refund["order"]["displayFinancialStatus"],
        "PARTIALLY_REFUNDED"
    );
    assert_eq!(
        refund["refund"]["totalRefundedSet"]["shopMoney"]["amount"],
        "32.0"
    );
    assert_eq!(
        refund["refund"]["refundLineItems"]["nodes"][0]["restocked"],
        true
    );

    // The same key and input replays the first result without refunding twice.
    let replay = gql(&store, REFUND, json!({ "input": input, "key": "k-1" })).await;
    assert_eq!(
        replay["data"]["refundCreate"]["refund"]["id"],
        refund["refund"]["id"]
    );
    assert_eq!(store.order_state(&id).unwrap().refunds.len(), 1);

    // The same key with other parameters is refused.
    let mut other = input.clone();
    other["transactions"][0]["amount"] = json!("1.00");
    let mismatch = gql(&store, REFUND, json!({ "input": other, "key": "k-1" })).await;
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"],
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    );

    // A gateway failure spends the key.
    store.update_faults(|f| f.refund_gateway_failures = 1);
    other.as_object_mut().unwrap().remove("refundLineItems");
    let failed = gql(&store, REFUND, json!({ "input": other, "key": "k-2" })).await;
    assert_eq!(
        failed["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    let retry = gql(&store, REFUND, json!({ "input": other, "key": "k-2" })).await;
    assert_eq!(
        retry["errors"][0]["extensions"]["code"],
        "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
    );
}

#[tokio::test]
async fn tags_holds_metafields_and_risk() {
    let store = start().await;
    store.seed_demo().unwrap();
    let id = first_order(&store);
    let fo = store.order(&id).unwrap()["fulfillmentOrders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let tags = gql(
        &store,
        "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags } } userErrors { message } } }",
        json!({ "id": id, "tags": ["cancel-requested", "policy:eu, window"] }),
    )
    .await;
    assert_eq!(
        tags["data"]["tagsAdd"]["node"]["tags"],
        json!(["cancel-requested", "policy:eu", "window"])
    );

    let hold = gql(
        &store,
        "mutation($id: ID!, $h: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $h) { fulfillmentHold { id handle displayReason } fulfillmentOrder { status } userErrors { code message } } }",
        json!({ "id": fo, "h": { "reason": "OTHER", "handle": "cancel-window", "reasonNotes": "policy window" } }),
    )
    .await;
    let payload = &hold["data"]["fulfillmentOrderHold"];
    assert_eq!(payload["fulfillmentOrder"]["status"], "ON_HOLD");
    assert_eq!(payload["fulfillmentHold"]["handle"], "cancel-window");
    let hold_id = payload["fulfillmentHold"]["id"].clone();
    let order = store.order(&id).unwrap();
    assert_eq!(order["displayFulfillmentStatus"], "ON_HOLD");

    let release = gql(
        &store,
        "mutation($id: ID!, $holds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holds) { fulfillmentOrder { status fulfillmentHolds { id } } userErrors { code } } }",
        json!({ "id": fo, "holds": [hold_id] }),
    )
    .await;
    assert_eq!(
        release["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]["status"],
        "OPEN"
    );

    let set = "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { namespace key compareDigest jsonValue } userErrors { code field message elementIndex } } }";
    let first = gql(
        &store,
        set,
        json!({ "m": [{ "ownerId": "gid://shopify/Shop/1", "namespace": "$app:cancel-policy", "key": "policy", "type": "json", "value": "{\"v\":1}" }] }),
    )
    .await;
    // The shop id is random per store: an unknown shop is refused with elementIndex.
    let errors = &first["data"]["metafieldsSet"]["userErrors"];
    let shop_gid = store.with_state(|s| format!("gid://shopify/Shop/{}", s.shop.id));
    let owner = if errors.as_array().unwrap().is_empty() {
        "gid://shopify/Shop/1".to_string()
    } else {
        assert_eq!(errors[0]["elementIndex"], 0);
        shop_gid
    };
    let ok = gql(&store, set, json!({ "m": [{ "ownerId": owner, "namespace": "$app:cancel-policy", "key": "policy", "type": "json", "value": "{\"v\":1}" }] })).await;
    let mf = &ok["data"]["metafieldsSet"]["metafields"][0];
    assert_eq!(mf["jsonValue"], json!({ "v": 1 }));
    assert_eq!(mf["namespace"], "app--1--cancel-policy");
    let digest = mf["compareDigest"].as_str().unwrap().to_string();
    let stale = gql(&store, set, json!({ "m": [{ "ownerId": owner, "namespace": "$app:cancel-policy", "key": "policy", "type": "json", "value": "{\"v\":2}", "compareDigest": "stale" }] })).await;
    assert_eq!(
        stale["data"]["metafieldsSet"]["userErrors"][0]["code"],
        "STALE_OBJECT"
    );
    let fresh = gql(&store, set, json!({ "m": [{ "ownerId": owner, "namespace": "$app:cancel-policy", "key": "policy", "type": "json", "value": "{\"v\":2}", "compareDigest": digest }] })).await;
    assert_eq!(fresh["data"]["metafieldsSet"]["userErrors"], json!([]));
    let read = gql(
        &store,
        "{ shop { metafield(namespace: \"$app:cancel-policy\", key: \"policy\") { jsonValue } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        read["data"]["shop"]["metafield"]["jsonValue"],
        json!({ "v": 2 })
    );

    let risk = gql(
        &store,
        "mutation($i: OrderRiskAssessmentCreateInput!) { orderRiskAssessmentCreate(orderRiskAssessmentInput: $i) { orderRiskAssessment { riskLevel } userErrors { message } } }",
        json!({ "i": { "orderId": id, "riskLevel": "HIGH", "facts": [{ "description": "velocity", "sentiment": "NEGATIVE" }] } }),
    )
    .await;
    assert_eq!(
        risk["data"]["orderRiskAssessmentCreate"]["orderRiskAssessment"]["riskLevel"],
        "HIGH"
    );
    assert_eq!(
        store.order(&id).unwrap()["risk"]["recommendation"],
        "CANCEL"
    );
}

#[tokio::test]
async fn orders_query_filters_with_search_syntax() {
    let store = start_with(DevStoreConfig {
        seed_demo: true,
        ..DevStoreConfig::default()
    })
    .await;
    let q = "query($q: String) { orders(first: 50, query: $q) { nodes { name } pageInfo { hasNextPage } } }";
    let all = gql(&store, q, json!({ "q": null })).await;
    assert_eq!(all["data"]["orders"]["nodes"].as_array().unwrap().len(), 7);
    let high = gql(&store, q, json!({ "q": "risk_level:high" })).await;
    assert_eq!(high["data"]["orders"]["nodes"].as_array().unwrap().len(), 1);
    let open_unshipped = gql(
        &store,
        q,
        json!({ "q": "status:open fulfillment_status:unshipped -tag:review" }),
    )
    .await;
    assert_eq!(
        open_unshipped["data"]["orders"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let (status, missing_first) = gql_raw(&store, "{ orders { nodes { id } } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        missing_first["errors"][0]["message"],
        "you must provide one of first or last"
    );
}

#[tokio::test]
async fn orders_paginate_with_cursors() {
    let store = start_with(DevStoreConfig {
        seed_demo: true,
        ..DevStoreConfig::default()
    })
    .await;
    let q = "query($after: String) { orders(first: 3, after: $after, sortKey: ORDER_NUMBER) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let mut after = Value::Null;
    let mut names = Vec::new();
    loop {
        let page = gql(&store, q, json!({ "after": after })).await;
        let orders = &page["data"]["orders"];
        for edge in orders["edges"].as_array().unwrap() {
            names.push(edge["node"]["name"].as_str().unwrap().to_string());
        }
        if orders["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = orders["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        names,
        (1001..=1007).map(|n| format!("#{n}")).collect::<Vec<_>>()
    );
    let last = gql(&store, "{ orders(last: 2, sortKey: ORDER_NUMBER, reverse: true) { nodes { name } pageInfo { hasPreviousPage } } }", json!({})).await;
    assert_eq!(
        last["data"]["orders"]["nodes"],
        json!([{ "name": "#1002" }, { "name": "#1001" }])
    );
    assert_eq!(last["data"]["orders"]["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_concurrent_request() {
    let store = start().await;
    store.seed_demo().unwrap();
    let id = first_order(&store);
    let order = store.order(&id).unwrap();
    let input = json!({
        "orderId": id,
        "transactions": [{ "orderId": id, "parentId": order["transactions"][0]["id"], "kind": "REFUND", "gateway": "shopify_payments", "amount": "5.00" }],
    });
    store.update_faults(|f| f.latency_ms = 300);
    let vars = json!({ "input": input, "key": "same" });
    let (a, b) = tokio::join!(gql(&store, REFUND, vars.clone()), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        gql(&store, REFUND, vars.clone()).await
    });
    assert_eq!(a["data"]["refundCreate"]["userErrors"], json!([]));
    assert_eq!(
        b["errors"][0]["extensions"]["code"],
        "IDEMPOTENCY_CONCURRENT_REQUEST"
    );
    assert_eq!(
        b["errors"][0]["message"],
        "This request is currently in progress, please try again."
    );
    assert_eq!(store.order_state(&id).unwrap().refunds.len(), 1);
}
