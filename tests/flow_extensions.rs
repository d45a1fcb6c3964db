//! The Flow extension folders agree with the service: the trigger's handle and fields are what
//! `flowTriggerReceive` sends, the action's handle and `runtime_url` path are what the route
//! serves. A rename on one side without the other breaks every deployed workflow silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cancel_policy::http::flow::{ACTION_HANDLE, ACTION_PATH};
use cancel_policy::workflow::flow_trigger::{FLOW_TRIGGER_HANDLE, keys};
use toml::Value;

fn extension(folder: &str) -> Value {
    let path = format!(
        "{}/extensions/{folder}/shopify.extension.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fields(config: &Value) -> Vec<&toml::Table> {
    config["settings"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_table().unwrap())
        .collect()
}

/// Shopify's handle rules: at most 30 characters, alphanumeric and hyphens.
fn assert_valid_handle(handle: &str) {
    assert!(handle.len() <= 30, "{handle}");
    assert!(
        handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "{handle}"
    );
}

#[test]
fn flow_trigger_extension_matches_what_the_service_sends() {
    let config = extension("flow-order-decided");
    let extension = &config["extensions"][0];
    assert_eq!(extension["type"].as_str(), Some("flow_trigger"));
    assert_eq!(extension["handle"].as_str(), Some(FLOW_TRIGGER_HANDLE));
    assert_valid_handle(FLOW_TRIGGER_HANDLE);
    assert!(extension["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(extension["description"].as_str().is_some());

    let fields = fields(&config);
    let references: Vec<&str> = fields
        .iter()
        .filter(|f| !f.contains_key("key"))
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    // `order_reference` is what makes Flow read the payload's `order_id`.
    assert_eq!(references, ["order_reference"]);
    assert_eq!(keys::ORDER, "order_id");
    let declared: Vec<&str> = fields
        .iter()
        .filter_map(|f| f.get("key").and_then(|k| k.as_str()))
        .collect();
    assert_eq!(declared, keys::CUSTOM);
}

#[test]
fn flow_action_extension_points_at_the_route() {
    let config = extension("flow-cancel-by-policy");
    let extension = &config["extensions"][0];
    assert_eq!(extension["type"].as_str(), Some("flow_action"));
    assert_eq!(extension["handle"].as_str(), Some(ACTION_HANDLE));
    assert_valid_handle(ACTION_HANDLE);
    assert!(extension["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(extension["description"].as_str().is_some());

    let runtime_url = extension["runtime_url"].as_str().unwrap();
    let after_scheme = runtime_url
        .strip_prefix("https://")
        .expect("Flow requires an HTTPS runtime_url");
    let path = &after_scheme[after_scheme.find('/').unwrap()..];
    assert_eq!(path, ACTION_PATH);

    let fields = fields(&config);
    let order = fields
        .iter()
        .find(|f| f["type"].as_str() == Some("order_reference"))
        .expect("an order_reference field: the service reads properties.order_id");
    assert_eq!(order.get("required").and_then(|r| r.as_bool()), Some(true));
    // Each custom field arrives under its key in `properties`; the service reads `reason`.
    let keys: Vec<&str> = fields
        .iter()
        .filter_map(|f| f.get("key").and_then(|k| k.as_str()))
        .collect();
    assert_eq!(keys, ["reason"]);
}
