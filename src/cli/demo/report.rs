//! What the demo prints: the stage, each decision, and the order as Shopify shows it after.

use std::time::Duration;

use anyhow::anyhow;
use cancel_policy_dev_store::RunningDevStore;
use serde_json::Value;

use super::doors::{Published, numeric_id};
use super::stage::{PRINTED_TOKEN_LIFETIME, Stage};
use crate::http::customer::CancelAnswer;
use crate::http::merchant::AuditEntry;

pub fn stage(stage: &Stage) {
    println!("cancel-policy demo");
    println!(
        "  dev store  {} (shop {})",
        stage.dev.base_url(),
        stage.shop
    );
    println!(
        "  service    {} (database {})",
        stage.service.url(),
        stage.database_url
    );
}

pub fn published(policy: &Published) {
    println!(
        "  policy     `{}` {} published through POST /api/policies (hash {})",
        policy.policy_id, policy.version, policy.hash
    );
}

pub fn scene(number: usize, title: &str, door: &str) {
    println!();
    println!("── {number}. {title}");
    println!("   via        {door}");
}

/// What the customer sees at once, before the worker has done anything.
pub fn door_answer(answer: &CancelAnswer) {
    println!("   answered   {} — {}", answer.outcome, answer.next);
}

pub fn decision(entry: &AuditEntry) {
    println!(
        "   decision   {} by rule `{}` ({}, from {})",
        entry.outcome,
        entry.rule.as_deref().unwrap_or("default"),
        entry.trigger,
        entry.source
    );
    let message = entry.decision.get("message").filter(|m| !m.is_null());
    match message {
        Some(message) => println!(
            "   message    [{}] {}",
            text(message, "locale"),
            text(message, "text")
        ),
        None => println!("   message    (none: the customer is not told)"),
    }
    let steps: Vec<String> = entry
        .steps
        .iter()
        .map(|step| format!("{} {}", step.kind, step.status))
        .collect();
    println!(
        "   steps      {} (decision {})",
        if steps.is_empty() {
            "nothing to carry out".to_string()
        } else {
            steps.join(", ")
        },
        entry.status
    );
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("?")
}

/// Units available of each SKU of the order, right after it was placed.
pub fn stock_of(dev: &RunningDevStore, order: &str) -> Vec<(String, i64)> {
    let Some(state) = dev.order_state(order) else {
        return Vec::new();
    };
    state
        .line_items
        .iter()
        .filter_map(|line| line.sku.clone())
        .filter_map(|sku| dev.available(&sku).map(|units| (sku, units)))
        .collect()
}

/// The order as the Admin API shows it now, with the stock moves since it was placed.
pub fn order(
    dev: &RunningDevStore,
    order: &str,
    placed_stock: &[(String, i64)],
) -> anyhow::Result<()> {
    let (Some(shown), Some(state)) = (dev.order(order), dev.order_state(order)) else {
        return Err(anyhow!("the dev store has no order {order}"));
    };
    let status = match &state.cancel_reason {
        Some(reason) if state.cancelled_at.is_some() => format!("CANCELLED (reason {reason})"),
        _ if state.cancelled_at.is_some() => "CANCELLED".to_string(),
        _ => "open".to_string(),
    };
    let refunded = shown
        .pointer("/totalRefundedSet/shopMoney")
        .map(money)
        .unwrap_or_default();
    println!(
        "   order      {} {status} · financial {} · fulfillment {} · refunded {refunded}",
        state.name(),
        text(&shown, "displayFinancialStatus"),
        text(&shown, "displayFulfillmentStatus"),
    );
    for line in &state.line_items {
        println!(
            "   line       {} × {} ({}): {} left",
            line.quantity,
            line.title,
            line.sku.as_deref().unwrap_or("no SKU"),
            line.current_quantity()
        );
    }
    let money_refunds = state
        .refunds
        .iter()
        .filter(|refund| !refund.transaction_ids.is_empty())
        .count();
    println!(
        "   refunds    {} ({money_refunds} with money back)",
        state.refunds.len()
    );
    for (sku, placed) in placed_stock {
        let restocked: i64 = state
            .refunds
            .iter()
            .flat_map(|refund| &refund.lines)
            .filter(|refund_line| refund_line.restocked)
            .filter(|refund_line| {
                state.line_items.iter().any(|line| {
                    line.id == refund_line.line_item_id && line.sku.as_ref() == Some(sku)
                })
            })
            .map(|refund_line| refund_line.quantity)
            .sum();
        let now = dev.available(sku).unwrap_or(*placed);
        println!(
            "   stock      {sku}: {placed} after the order → {now} now (restocked {restocked})"
        );
    }
    let tags = if state.tags.is_empty() {
        "none".to_string()
    } else {
        state.tags.join(", ")
    };
    println!("   tags       {tags}");
    Ok(())
}

/// `{ amount: "90.0", currencyCode: "EUR" }` → `90.00 EUR`.
fn money(value: &Value) -> String {
    let amount = text(value, "amount");
    let amount = amount
        .parse::<f64>()
        .map(|a| format!("{a:.2}"))
        .unwrap_or_else(|_| amount.to_string());
    format!("{amount} {}", text(value, "currencyCode"))
}

/// Where to look and what to try once the story is over.
pub fn urls(stage: &Stage, audited_order: &str) {
    let token = stage.admin_token(PRINTED_TOKEN_LIFETIME);
    let hours = PRINTED_TOKEN_LIFETIME.as_secs() / Duration::from_secs(3600).as_secs();
    println!();
    println!("Try more (the admin session token below is valid for {hours} hours):");
    println!("  TOKEN={token}");
    println!("  service        {}/health", stage.service.url());
    println!(
        "  audit          curl -H \"Authorization: Bearer $TOKEN\" {}",
        stage.url(&format!("/api/orders/{}/audit", numeric_id(audited_order)))
    );
    println!(
        "  stats          curl -H \"Authorization: Bearer $TOKEN\" {}",
        stage.url("/api/stats")
    );
    println!(
        "  Admin GraphQL  POST {} (X-Shopify-Access-Token: {})",
        stage.dev.graphql_url(),
        stage.dev.access_token()
    );
    println!(
        "  dev store      {}/_dev/orders (also /_dev/seed, /_dev/webhooks, /_dev/events)",
        stage.dev.base_url()
    );
}
