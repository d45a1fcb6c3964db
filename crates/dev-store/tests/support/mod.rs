//! Helpers for driving the dev store over HTTP, as the companion service does.

#![allow(dead_code)]

pub mod matcher;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cancel_policy_dev_store::{DevStore, DevStoreConfig, RunningDevStore};
use serde_json::{Value, json};

pub async fn start() -> RunningDevStore {
    start_with(DevStoreConfig::default()).await
}

pub async fn start_with(config: DevStoreConfig) -> RunningDevStore {
    DevStore::start(config).await.expect("dev store starts")
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// POSTs a GraphQL request; returns (HTTP status, body).
pub async fn gql_raw(store: &RunningDevStore, query: &str, variables: Value) -> (u16, Value) {
    let res = client()
        .post(store.graphql_url())
        .header("X-Shopify-Access-Token", store.access_token())
        .header("Content-Type", "application/json")
        .body(json!({ "query": query, "variables": variables }).to_string())
        .send()
        .await
        .expect("request sent");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn gql(store: &RunningDevStore, query: &str, variables: Value) -> Value {
    let (status, body) = gql_raw(store, query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// One webhook as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// A webhook receiver on 127.0.0.1:0 that answers 500 to the first `failures` calls.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(Mutex::new(0usize));
        let r = received.clone();
        let app = axum::Router::new().route(
            "/webhooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let r = r.clone();
                let calls = calls.clone();
                async move {
                    let n = {
                        let mut c = calls.lock().unwrap();
                        *c += 1;
                        *c
                    };
                    r.lock().unwrap().push(Received { headers, body });
                    if n <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/webhooks"),
            received,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn topics(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|r| r.header("X-Shopify-Topic"))
            .collect()
    }

    /// Waits until `n` webhooks arrived (or fails after 5 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            if self.all().len() >= n {
                return self.all();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} webhooks, got {:?}", self.topics());
    }
}
