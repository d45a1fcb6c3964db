//! `shopify.app.toml` agrees with the service: every topic it subscribes is one the webhook
//! door verifies and stores, the compliance topics Shopify requires are there, and the
//! webhook and app-proxy URLs point at routes the service serves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use cancel_policy::config::{AppSecrets, RateLimits, Secret, Settings, WorkerSettings};
use cancel_policy::service::{self, Tuning};
use cancel_policy::shopify::API_VERSION;
use cancel_policy::shopify::signatures::sign_webhook;
use cancel_policy::workflow::inbox::ORDER_TOPICS;
use toml::Value;

fn app_config() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/shopify.app.toml");
    let text = std::fs::read_to_string(path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest.find('/').map_or("/".into(), |i| rest[i..].to_string())
}

#[test]
fn compliance_topics_and_api_version_are_configured() {
    let config = app_config();
    assert_eq!(
        config["webhooks"]["api_version"].as_str(),
        Some(API_VERSION)
    );
    let subscriptions = config["webhooks"]["subscriptions"].as_array().unwrap();
    let compliance: Vec<String> = subscriptions
        .iter()
        .filter_map(|s| s.get("compliance_topics"))
        .flat_map(strings)
        .collect();
    for topic in ["customers/data_request", "customers/redact", "shop/redact"] {
        assert!(compliance.contains(&topic.to_string()), "{topic} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscribed_topic_reaches_the_webhook_route_and_the_proxy_route_exists() {
    const SECRET: &str = "app-config-secret";
    let config = app_config();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_key: "app-config-key".into(),
        secrets: AppSecrets::new(Secret::new(SECRET)),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("s.sqlite").display()
        ),
        admin_url: None,
        bootstrap_shop: None,
        log_filter: "warn".into(),
        worker: WorkerSettings {
            concurrency: 1,
            lease: Duration::from_secs(5),
            poll_interval: Duration::from_millis(10),
            retry_base: Duration::from_millis(20),
            max_attempts: 3,
        },
        limits: RateLimits::default(),
    };
    let running = service::start(
        settings,
        Tuning {
            no_workers: true,
            ..Tuning::default()
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut n = 0;
    for subscription in config["webhooks"]["subscriptions"].as_array().unwrap() {
        let uri = subscription["uri"].as_str().unwrap();
        let topics = subscription
            .get("topics")
            .or_else(|| subscription.get("compliance_topics"))
            .map(strings)
            .unwrap();
        for topic in topics {
            n += 1;
            let body = format!(
                r#"{{"id":{n},"admin_graphql_api_id":"gid://shopify/Order/{n}","updated_at":"2026-03-02T10:00:00Z"}}"#
            );
            let answer = http
                .post(format!("{}{}", running.url(), path_of(uri)))
                .header("X-Shopify-Topic", &topic)
                .header(
                    "X-Shopify-Hmac-Sha256",
                    sign_webhook(SECRET, body.as_bytes()),
                )
                .header("X-Shopify-Shop-Domain", "config-check.myshopify.com")
                .header("X-Shopify-API-Version", API_VERSION)
                .header("X-Shopify-Webhook-Id", format!("config-{n}"))
                .header("X-Shopify-Triggered-At", "2026-03-02T10:00:00Z")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{topic} at {uri}");
            assert!(
                running
                    .app
                    .store
                    .webhook(&format!("config-{n}"))
                    .await
                    .unwrap()
                    .is_some(),
                "{topic} was not stored"
            );
        }
    }
    assert!(n >= 12, "only {n} topics subscribed");
    let subscribed: Vec<String> = config["webhooks"]["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("topics"))
        .flat_map(strings)
        .collect();
    for topic in ORDER_TOPICS {
        assert!(
            subscribed.contains(&topic.to_string()),
            "{topic} is decided on but not subscribed"
        );
    }
    // An unsigned proxy call reaches the proxy route and is refused there (not a 404).
    let proxy = config["app_proxy"]["url"].as_str().unwrap();
    let answer = http
        .get(format!(
            "{}{}/orders/1/cancel",
            running.url(),
            path_of(proxy)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    running.stop().await;
}
