//! `demo`: the story of the README, played on the embedded presets.
//!
//! Each scene decides one order with a shipped preset and prints the decision, the message in
//! the customer's language and what the service carries out.

use std::process::ExitCode;

use anyhow::{Context, anyhow};
use cancel_policy_core::compile::compile;
use cancel_policy_core::{EvalOptions, Trigger, evaluate_with};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::explain::render;
use super::order_input::OrderRecord;
use crate::presets;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

struct Scene {
    title: &'static str,
    preset: &'static str,
    trigger: Trigger,
    order: serde_json::Value,
}

fn scenes() -> Vec<Scene> {
    vec![
        Scene {
            title: "A customer cancels ten minutes after ordering",
            preset: "one-hour-grace",
            trigger: Trigger::CustomerRequest,
            order: json!({
                "at": "2026-03-02T10:10:00Z",
                "order": {
                    "id": "gid://shopify/Order/1001", "createdAt": "2026-03-02T10:00:00Z",
                    "displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "PAID",
                    "totalPrice": { "amount": "49.00", "currencyCode": "EUR" }
                },
                "request": { "reason": "changed_mind", "locale": "en" }
            }),
        },
        Scene {
            title: "A French customer asks to cancel a personalised mug",
            preset: "made-to-order",
            trigger: Trigger::CustomerRequest,
            order: json!({
                "at": "2026-03-02T10:05:00Z",
                "order": {
                    "id": "gid://shopify/Order/1002", "createdAt": "2026-03-02T10:00:00Z",
                    "displayFulfillmentStatus": "UNFULFILLED",
                    "lineItems": [{ "id": "gid://shopify/LineItem/1", "quantity": 1, "productTags": ["personalised"] }]
                },
                "request": { "reason": "changed_mind", "locale": "fr" }
            }),
        },
        Scene {
            title: "Shopify rates a new order HIGH risk",
            preset: "fraud-first",
            trigger: Trigger::RiskChanged,
            order: json!({
                "at": "2026-03-02T10:02:00Z",
                "order": {
                    "id": "gid://shopify/Order/1003", "createdAt": "2026-03-02T10:00:00Z",
                    "displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "AUTHORIZED",
                    "totalPrice": { "amount": "899.00", "currencyCode": "EUR" },
                    "risk": { "recommendation": "CANCEL", "assessments": [{ "riskLevel": "HIGH" }] }
                }
            }),
        },
        Scene {
            title: "One line of an order was sold past zero stock",
            preset: "oversell",
            trigger: Trigger::OrderCreated,
            order: json!({
                "at": "2026-03-02T10:01:00Z",
                "order": {
                    "id": "gid://shopify/Order/1004", "createdAt": "2026-03-02T10:00:00Z",
                    "displayFulfillmentStatus": "UNFULFILLED", "displayFinancialStatus": "PAID",
                    "lineItems": [
                        { "id": "gid://shopify/LineItem/41", "quantity": 2, "inventoryPolicy": "CONTINUE", "inventoryQuantity": -1,
                          "total": { "amount": "30.00", "currencyCode": "EUR" } },
                        { "id": "gid://shopify/LineItem/42", "quantity": 1, "inventoryPolicy": "DENY", "inventoryQuantity": 12,
                          "total": { "amount": "15.00", "currencyCode": "EUR" } }
                    ]
                }
            }),
        },
    ]
}

pub fn run(_args: &DemoArgs) -> anyhow::Result<ExitCode> {
    for (n, scene) in scenes().into_iter().enumerate() {
        let source =
            presets::source(scene.preset).ok_or_else(|| anyhow!("no preset `{}`", scene.preset))?;
        let output = compile(source, scene.preset);
        let policy = output
            .policy
            .ok_or_else(|| anyhow!("preset `{}` does not compile", scene.preset))?;
        let record: OrderRecord =
            serde_json::from_value(scene.order).with_context(|| format!("scene {}", n + 1))?;
        let at: DateTime<Utc> = record.at.unwrap_or_else(Utc::now);
        let facts = record.facts(&policy, at)?;
        let decision = evaluate_with(
            &policy,
            &facts,
            at,
            scene.trigger,
            &EvalOptions {
                trace: true,
                locale: None,
            },
        );
        println!("── {}. {} (preset `{}`)", n + 1, scene.title, scene.preset);
        println!("{}", render(&decision, scene.trigger, at));
    }
    println!("Try your own: cancel-policy explain presets/one-hour-grace.toml --order ORDER.json");
    Ok(ExitCode::SUCCESS)
}
