//! Throughput of the dev store's Admin API over HTTP on this machine, printed as figures:
//! `cargo bench -p cancel-policy-dev-store`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use cancel_policy_dev_store::{DevStore, DevStoreConfig, Faults, Mix, Plan};
use serde_json::{Value, json};

const ORDER_FACTS: &str = r#"query($id: ID!) { order(id: $id) { id createdAt displayFinancialStatus displayFulfillmentStatus tags
  customer { id tags numberOfOrders }
  lineItems(first: 30) { nodes { id quantity sku variant { inventoryQuantity inventoryPolicy } product { tags productType vendor collections(first: 5) { nodes { id } } } } }
  fulfillmentOrders(first: 10) { nodes { id status requestStatus } }
  risk { recommendation assessments { riskLevel } } } }"#;

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let res = client
        .post(url)
        .header("X-Shopify-Access-Token", token)
        .body(json!({ "query": query, "variables": variables }).to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

fn report(name: &str, n: usize, elapsed: Duration) {
    println!(
        "{name:<40} {n:>6} requests in {:>8.1} ms  {:>8.0} req/s  {:>7.2} ms/req",
        elapsed.as_secs_f64() * 1000.0,
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / n as f64
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Enterprise bucket and a fast clock so throttling never gets in the way of the figures.
    let store = DevStore::start(DevStoreConfig {
        plan: Plan::Enterprise,
        faults: Faults {
            time_scale: 1000.0,
            ..Faults::default()
        },
        ..DevStoreConfig::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    let ids = store.generate_orders(2000, &Mix::default(), 1).unwrap();
    report("generate orders (Rust API)", ids.len(), started.elapsed());

    let client = reqwest::Client::new();
    let url = store.graphql_url();
    let token = store.access_token().to_string();

    let n = 500;
    let started = Instant::now();
    for id in ids.iter().take(n) {
        let body = post(&client, &url, &token, ORDER_FACTS, json!({ "id": id })).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    report("order facts read (sequential)", n, started.elapsed());

    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in ids.iter().take(n) {
        let (client, url, token, id) = (client.clone(), url.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            post(&client, &url, &token, ORDER_FACTS, json!({ "id": id })).await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    report("order facts read (500 concurrent)", n, started.elapsed());

    let started = Instant::now();
    let mut pages = 0;
    let mut after = Value::Null;
    loop {
        let body = post(&client, &url, &token, "query($after: String) { orders(first: 50, after: $after, query: \"status:open\") { nodes { id } pageInfo { hasNextPage endCursor } } }", json!({ "after": after })).await;
        pages += 1;
        let info = &body["data"]["orders"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    report(
        "orders(first: 50) pages over 2000 orders",
        pages,
        started.elapsed(),
    );

    let cancel = "mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refundMethod: { originalPaymentMethodsRefund: true }) { job { id } orderCancelUserErrors { message } } }";
    let started = Instant::now();
    let mut cancelled = 0;
    for id in ids.iter().skip(n).take(n) {
        let body = post(&client, &url, &token, cancel, json!({ "id": id })).await;
        cancelled += usize::from(body["data"]["orderCancel"]["orderCancelUserErrors"] == json!([]));
    }
    report("orderCancel with refund and restock", n, started.elapsed());
    println!("({cancelled} of {n} cancelled; the rest were refused by Shopify's preconditions)");
    store.shutdown().await;
}
