//! Throttling, the fault knobs, and webhook delivery (retries, drop, duplicate, reorder),
//! through HTTP and the `/_dev` endpoints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use cancel_policy_dev_store::{DeliveryState, DevStoreConfig, Faults, Plan};
use serde_json::{Value, json};
use support::{Receiver, client, gql, gql_raw, start, start_with};

const READ: &str = "query($id: ID!) { order(id: $id) { id lineItems(first: 10) { nodes { id product { id } } } } }";

async fn demo() -> cancel_policy_dev_store::RunningDevStore {
    start_with(DevStoreConfig {
        seed_demo: true,
        ..DevStoreConfig::default()
    })
    .await
}

fn first(store: &cancel_policy_dev_store::RunningDevStore) -> String {
    store.order("#1001").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_empty_bucket_throttles_until_points_are_restored() {
    let store = demo().await;
    let id = first(&store);
    let ok = gql(&store, READ, json!({ "id": id })).await;
    let requested = ok["extensions"]["cost"]["requestedQueryCost"]
        .as_u64()
        .unwrap();
    assert_eq!(
        requested,
        1 + 2 + 4 * 2,
        "order 1 + lineItems(first: 10) = 2 + ceil(√10) × (node 1 + product 1)"
    );
    // Only what was actually returned is charged: two lines, not ten.
    assert_eq!(
        ok["extensions"]["cost"]["actualQueryCost"],
        json!(1 + 2 + 2 * 2)
    );

    // No restore while we look (real time would bring back 100 points per second).
    store.update_faults(|f| f.throttle_pressure = 1.0);
    store.set_throttle_available(5.0);
    let throttled = gql(&store, READ, json!({ "id": id })).await;
    assert_eq!(throttled["errors"][0]["message"], "Throttled");
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(throttled.get("data").is_none());
    assert_eq!(
        throttled["extensions"]["cost"]["actualQueryCost"],
        Value::Null
    );
    assert_eq!(
        throttled["extensions"]["cost"]["requestedQueryCost"],
        json!(requested)
    );

    // 100 points per second: 20 ms of Shopify time at ×1000 restores far more than 11.
    store.update_faults(|f| {
        f.throttle_pressure = 0.0;
        f.time_scale = 1000.0;
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = gql(&store, READ, json!({ "id": id })).await;
    assert!(again.get("errors").is_none(), "{again}");

    // Pressure eats the whole restore rate: the bucket stays empty.
    store.update_faults(|f| f.throttle_pressure = 1.0);
    store.set_throttle_available(0.0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pressed = gql(&store, READ, json!({ "id": id })).await;
    assert_eq!(pressed["errors"][0]["extensions"]["code"], "THROTTLED");
}

#[tokio::test]
async fn plan_presets_set_the_bucket_and_the_restore_rate() {
    for (plan, maximum, rate) in [
        (Plan::Standard, 2000, 100),
        (Plan::Advanced, 4000, 200),
        (Plan::Plus, 20000, 1000),
        (Plan::Enterprise, 40000, 2000),
    ] {
        let store = start_with(DevStoreConfig {
            plan,
            ..DevStoreConfig::default()
        })
        .await;
        let body = gql(&store, "{ shop { name } }", json!({})).await;
        let status = &body["extensions"]["cost"]["throttleStatus"];
        assert_eq!(status["maximumAvailable"], json!(maximum), "{plan:?}");
        assert_eq!(status["restoreRate"], json!(rate), "{plan:?}");
    }
}

#[tokio::test]
async fn a_query_above_the_single_query_limit_is_refused_before_running() {
    let store = start().await;
    let q = "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { product { collections(first: 250) { nodes { id } } } } } } } }";
    let body = gql(&store, q, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Query cost is ")
    );
    assert!(body.get("data").is_none());
    assert_eq!(store.throttle_status().currently_available, 2000.0);
}

#[tokio::test]
async fn error_rate_and_latency_knobs_over_http() {
    let store = start().await;
    let http = client();
    let faults_url = format!("{}/_dev/faults", store.base_url());
    let set = http
        .patch(&faults_url)
        .body(r#"{"error_rate": 1.0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200);
    let (status, _) = gql_raw(&store, "{ shop { name } }", json!({})).await;
    assert_eq!(status, 503);

    http.patch(&faults_url)
        .body(r#"{"error_rate": 0.0, "latency_ms": 150}"#)
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let (status, _) = gql_raw(&store, "{ shop { name } }", json!({})).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let bad = http
        .patch(&faults_url)
        .body(r#"{"nope": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let current: Faults = serde_json::from_str(
        &http
            .get(&faults_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(current.latency_ms, 150);
}

async fn tag(store: &cancel_policy_dev_store::RunningDevStore, id: &str, tag: &str) {
    let body = gql(
        store,
        "mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { userErrors { message } } }",
        json!({ "id": id, "t": [tag] }),
    )
    .await;
    assert_eq!(body["data"]["tagsAdd"]["userErrors"], json!([]));
}

async fn wait_until(check: impl Fn() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 5 s");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_webhook_id() {
    let store = demo().await;
    store.update_faults(|f| f.time_scale = 1_000_000.0);
    let receiver = Receiver::start(3).await;
    store.subscribe_webhook("orders/updated", &receiver.url);
    tag(&store, &first(&store), "retry-me").await;
    let got = receiver.wait_for(4).await;
    let ids: Vec<String> = got
        .iter()
        .map(|r| r.header("X-Shopify-Webhook-Id"))
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(
        got[0].body, got[3].body,
        "retries carry the original payload"
    );
    wait_until(|| store.webhook_deliveries()[0].state == DeliveryState::Delivered).await;
    let d = &store.webhook_deliveries()[0];
    assert_eq!((d.attempts, d.last_status), (4, Some(200)));
}

#[tokio::test]
async fn a_delivery_gives_up_after_eight_retries() {
    let store = demo().await;
    store.update_faults(|f| f.time_scale = 1_000_000.0);
    let receiver = Receiver::start(usize::MAX).await;
    store.subscribe_webhook("orders/updated", &receiver.url);
    tag(&store, &first(&store), "never").await;
    wait_until(|| {
        store
            .webhook_deliveries()
            .first()
            .is_some_and(|d| d.state == DeliveryState::Failed)
    })
    .await;
    assert_eq!(store.webhook_deliveries()[0].attempts, 9);
    assert_eq!(receiver.all().len(), 9);
}

#[tokio::test]
async fn drop_duplicate_and_reorder_knobs() {
    let store = demo().await;
    let id = first(&store);
    let receiver = Receiver::start(0).await;
    let http = client();
    let sub: Value = serde_json::from_str(
        &http
            .post(format!("{}/_dev/webhooks", store.base_url()))
            .body(json!({ "topic": "orders/updated", "uri": receiver.url }).to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sub["topic"], "orders/updated");

    store.update_faults(|f| f.webhook_drop_rate = 1.0);
    tag(&store, &id, "dropped").await;
    assert_eq!(store.webhook_deliveries()[0].state, DeliveryState::Dropped);

    store.update_faults(|f| {
        f.webhook_drop_rate = 0.0;
        f.webhook_duplicate_rate = 1.0;
    });
    tag(&store, &id, "twice").await;
    let got = receiver.wait_for(2).await;
    assert_eq!(
        got[0].header("X-Shopify-Webhook-Id"),
        got[1].header("X-Shopify-Webhook-Id")
    );
    assert_eq!(got[0].body, got[1].body);

    store.update_faults(|f| {
        f.webhook_duplicate_rate = 0.0;
        f.webhook_reorder = true;
    });
    tag(&store, &id, "first").await;
    tag(&store, &id, "second").await;
    let got = receiver.wait_for(4).await;
    let tags: Vec<String> = got[2..]
        .iter()
        .map(|r| r.json()["tags"].as_str().unwrap().to_string())
        .collect();
    assert!(
        tags[0].contains("second") && !tags[1].contains("second"),
        "arrived swapped: {tags:?}"
    );

    // A lone held-back webhook goes out when flushed.
    tag(&store, &id, "held").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.all().len(), 4);
    http.post(format!("{}/_dev/webhooks/flush", store.base_url()))
        .send()
        .await
        .unwrap();
    receiver.wait_for(5).await;
}

#[tokio::test]
async fn dev_endpoints_seed_read_and_fulfill_orders() {
    let store = start().await;
    let http = client();
    let base = store.base_url();
    let info: Value = serde_json::from_str(
        &http
            .get(format!("{base}/_dev"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["graphqlUrl"], json!(store.graphql_url()));
    assert_eq!(info["apiSecret"], json!(store.api_secret()));

    let seeded = http
        .post(format!("{base}/_dev/seed"))
        .body(
            json!({
                "products": [{ "title": "Mug", "tags": ["personalised"], "variants": [{ "sku": "MUG", "price": "12.50", "quantity": 4 }] }],
                "orders": [{ "customer": "zoe@example.com", "locale": "fr", "lines": [{ "sku": "MUG", "quantity": 2 }], "inventory": "DECREMENT_IGNORING_POLICY" }],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status().as_u16(), 200);
    let seeded: Value = serde_json::from_str(&seeded.text().await.unwrap()).unwrap();
    let id = seeded["orders"][0].as_str().unwrap().to_string();
    assert_eq!(store.available("MUG"), Some(2));

    let bad = http
        .post(format!("{base}/_dev/seed"))
        .body(r#"{"orders":[{"lines":[{"sku":"NOPE","quantity":1}]}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("no variant with SKU `NOPE`")
    );

    let numeric = id.rsplit('/').next().unwrap();
    let order: Value = serde_json::from_str(
        &http
            .get(format!("{base}/_dev/orders/{numeric}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(order["customerLocale"], "fr");
    assert_eq!(order["totalPriceSet"]["shopMoney"]["amount"], "25.0");
    let fulfilled: Value = serde_json::from_str(
        &http
            .post(format!("{base}/_dev/orders/{numeric}/fulfill"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(fulfilled["displayFulfillmentStatus"], "FULFILLED");
    let missing = http
        .get(format!("{base}/_dev/orders/42"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
