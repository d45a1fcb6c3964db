//! `metafieldsSet`: atomic, at most 25 per call, with `compareDigest` compare-and-set.
//! https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Outcome, arr, coded_errors, s};
use crate::model::{Metafield, State, parse_gid};
use crate::store::Shared;
use crate::views;

pub const MAX_PER_CALL: usize = 25;
/// The app's own reserved namespace: `$app` resolves to `app--<app id>`.
/// https://shopify.dev/docs/apps/build/custom-data/reserved-prefixes
pub const APP_NAMESPACE: &str = "app--1";

/// Resolves `$app` / `$app:suffix` (and an omitted namespace) to the stored namespace.
pub fn canonical_namespace(namespace: Option<&str>) -> String {
    match namespace {
        None | Some("$app") => APP_NAMESPACE.to_string(),
        Some(n) => match n.strip_prefix("$app:") {
            Some(rest) => format!("{APP_NAMESPACE}--{rest}"),
            None => n.to_string(),
        },
    }
}

fn owner_exists(state: &State, owner: &str) -> bool {
    match parse_gid(owner) {
        Some(("Shop", id)) => id == state.shop.id,
        Some(("Order", id)) => state.orders.contains_key(&id),
        Some(("Product", id)) => state.products.contains_key(&id),
        Some(("ProductVariant", id)) => state.variants.contains_key(&id),
        Some(("Customer", id)) => state.customers.contains_key(&id),
        // Function owners (validations, cart transforms, discounts) and app installations
        // are not modelled: any well-formed id stands for one.
        Some(_) => true,
        None => false,
    }
}

pub fn metafields_set(shared: &Arc<Shared>, args: &Value) -> Outcome {
    let inputs = arr(args, "metafields");
    if inputs.len() > MAX_PER_CALL {
        return Outcome::payload(json!({
            "metafields": null,
            "userErrors": coded_errors(&[(json!(["metafields"]), format!("Exceeded the maximum metafields input limit of {MAX_PER_CALL}."), "LESS_THAN_OR_EQUAL_TO")]),
        }));
    }
    let mut state = shared.state();
    let mut errors: Vec<(Value, String, &str)> = Vec::new();
    let mut element_of_error = Vec::new();
    for (i, m) in inputs.iter().enumerate() {
        let field = |name: &str| json!(["metafields", i.to_string(), name]);
        let owner = s(m, "ownerId").unwrap_or_default();
        let namespace = canonical_namespace(s(m, "namespace"));
        let key = s(m, "key").unwrap_or_default();
        let value = s(m, "value").unwrap_or_default();
        let existing = state.metafield(owner, &namespace, key);
        let before = errors.len();
        if !owner_exists(&state, owner) {
            errors.push((field("ownerId"), "Owner does not exist.".into(), "INVALID"));
        }
        if !(3..=255).contains(&namespace.chars().count()) {
            errors.push((
                field("namespace"),
                "Namespace must be between 3 and 255 characters.".into(),
                "INVALID",
            ));
        }
        let key_len = key.chars().count();
        if key_len < 2 {
            errors.push((
                field("key"),
                "Key is too short (minimum is 2 characters)".into(),
                "TOO_SHORT",
            ));
        } else if key_len > 64 {
            errors.push((
                field("key"),
                "Key is too long (maximum is 64 characters)".into(),
                "TOO_LONG",
            ));
        }
        let kind = s(m, "type")
            .map(str::to_string)
            .or_else(|| existing.map(|e| e.kind.clone()));
        match kind.as_deref() {
            None => errors.push((field("type"), "Type can't be blank".into(), "BLANK")),
            Some("json") => {
                if let Err(e) = serde_json::from_str::<Value>(value) {
                    errors.push((
                        field("value"),
                        format!("Value is invalid JSON: {e}."),
                        "INVALID_VALUE",
                    ));
                }
            }
            Some("number_integer") if value.parse::<i64>().is_err() => {
                errors.push((
                    field("value"),
                    "Value must be an integer.".into(),
                    "INVALID_VALUE",
                ));
            }
            Some("boolean") if value != "true" && value != "false" => {
                errors.push((
                    field("value"),
                    "Value must be true or false.".into(),
                    "INVALID_VALUE",
                ));
            }
            Some(_) => {}
        }
        if let Some(expected) = m.get("compareDigest") {
            let stale = match (expected.as_str(), existing) {
                (None, None) => false,
                (Some(d), Some(e)) => e.digest() != d,
                _ => true,
            };
            if stale {
                errors.push((
                    field("compareDigest"),
                    "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.".into(),
                    "STALE_OBJECT",
                ));
            }
        }
        element_of_error.extend(std::iter::repeat_n(i, errors.len() - before));
    }
    if !errors.is_empty() {
        let with_index: Vec<Value> = errors
            .iter()
            .zip(&element_of_error)
            .map(|((f, m, c), i)| json!({ "field": f, "message": m, "code": c, "elementIndex": i }))
            .collect();
        return Outcome::payload(json!({ "metafields": null, "userErrors": with_index }));
    }
    let now = Utc::now();
    let mut saved = Vec::new();
    for m in inputs {
        let owner = s(m, "ownerId").unwrap_or_default().to_string();
        let namespace = canonical_namespace(s(m, "namespace"));
        let key = s(m, "key").unwrap_or_default().to_string();
        let value = s(m, "value").unwrap_or_default().to_string();
        let pos = state
            .metafields
            .iter()
            .position(|x| x.owner == owner && x.namespace == namespace && x.key == key);
        let view = match pos.and_then(|p| state.metafields.get_mut(p)) {
            Some(existing) => {
                existing.value = value;
                if let Some(t) = s(m, "type") {
                    existing.kind = t.to_string();
                }
                existing.updated_at = now;
                views::metafield(existing)
            }
            None => {
                let id = state.next_id();
                let created = Metafield {
                    id,
                    owner,
                    namespace,
                    key,
                    value,
                    kind: s(m, "type").unwrap_or("single_line_text_field").to_string(),
                    created_at: now,
                    updated_at: now,
                };
                let view = views::metafield(&created);
                state.metafields.push(created);
                view
            }
        };
        saved.push(view);
    }
    Outcome::payload(json!({ "metafields": saved, "userErrors": [] }))
}
