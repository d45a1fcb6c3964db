//! `inventory_levels/update`: the stored open orders holding the changed inventory item are
//! decided again with the `inventory_changed` trigger.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// Orders sold past zero are cancelled when a stock change finds them so; nothing happens
/// when orders come in.
const POLICY: &str = r#"
id = "oversold-after-stock-change"
name = "Cancel what a stock change leaves oversold"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Paris"
triggers = ["inventory_changed"]

[default]
deny = {}

[[rule]]
id = "all-oversold"
on = ["inventory_changed"]
when = { line_count = { ge = 1 }, lines.all = { oversold = true } }
then.cancel = { reason = "INVENTORY", refund = "original", restock = true, notify = true, message = "out_of_stock" }

[messages.en]
out_of_stock = "Sorry: the item sold out before we could reserve it. It has been refunded."
"#;

/// `inventoryAdjustQuantities` on the dev store, as staff writing off stock would: the store
/// emits a signed `inventory_levels/update` to its subscribers.
async fn adjust_available(app: &TestApp, sku: &str, delta: i64, key: &str) {
    let (item, location) = app.dev.with_state(|s| {
        (
            s.variants
                .values()
                .find(|v| v.sku == sku)
                .map(|v| v.inventory_item_id)
                .unwrap(),
            s.default_location().unwrap(),
        )
    });
    let query = "mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) { inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { userErrors { code message } } }";
    let input = json!({
        "reason": "damaged",
        "name": "available",
        "changes": [{
            "delta": delta,
            "changeFromQuantity": null,
            "inventoryItemId": format!("gid://shopify/InventoryItem/{item}"),
            "locationId": format!("gid://shopify/Location/{location}"),
        }],
    });
    let body: Value = app
        .http
        .post(app.dev.graphql_url())
        .header("X-Shopify-Access-Token", app.dev.access_token())
        .json(&json!({ "query": query, "variables": { "input": input, "key": key } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["inventoryAdjustQuantities"]["userErrors"],
        json!([]),
        "{body}"
    );
}

/// Decisions of the order taken on `trigger`, from the audit API.
/// The dev store's (first) `inventory_levels/update` delivery to the service.
fn stock_delivery(app: &TestApp) -> cancel_policy_dev_store::DeliveryRecord {
    app.dev
        .webhook_deliveries()
        .into_iter()
        .find(|d| d.topic == "inventory_levels/update")
        .unwrap()
}

async fn decisions_on(app: &TestApp, order: &str, trigger: &str) -> Vec<Value> {
    app.audit(order).await["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["trigger"] == trigger)
        .cloned()
        .collect()
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stock_change_cancels_the_open_orders_it_leaves_oversold_once() {
        let app = spawn_app(Options::default()).await;
        publish(app.store(), &app.shop, POLICY).await;
        app.dev
            .subscribe_webhook("inventory_levels/update", &app.url("/webhooks"));
        let mug = app.product("MUG", "30.00", 3, &[], Some("CONTINUE"));
        let lamp = app.product("LAMP", "80.00", 5, &[], Some("CONTINUE"));
        app.customer("ada@example.com", "en");
        app.customer("bob@example.com", "en");
        app.customer("cy@example.com", "en");
        // Two mugs, open; a lamp, open; one mug, shipped. The mugs are all sold, none oversold.
        let open = app.order("ada@example.com", &[(&mug, 2)], 5, |_| {});
        let other_item = app.order("bob@example.com", &[(&lamp, 1)], 5, |_| {});
        let shipped = app.order("cy@example.com", &[(&mug, 1)], 5, |_| {});
        app.dev.fulfill_order(&shipped).unwrap();
        assert_eq!(app.dev.available(&mug), Some(0));
        app.settle(Duration::from_secs(20)).await;
        assert!(app.dev.order_state(&open).unwrap().cancelled_at.is_none());

        // Staff write off a broken mug: stock goes to -1 and the open order is oversold.
        adjust_available(&app, &mug, -1, "write-off-1").await;
        app.settle(Duration::from_secs(20)).await;

        let state = app.dev.order_state(&open).unwrap();
        assert!(
            state.cancelled_at.is_some(),
            "order not cancelled: {:#}",
            app.audit(&open).await
        );
        assert_eq!(state.cancel_reason.as_deref(), Some("INVENTORY"));
        assert_eq!(state.refunds.len(), 1, "refunded once");
        assert_eq!(app.dev.available(&mug), Some(1), "the two mugs went back");
        let cancelled_events = app
            .dev
            .events()
            .iter()
            .filter(|e| e.topic == "orders/cancelled" && e.payload["admin_graphql_api_id"] == open.as_str())
            .count();
        assert_eq!(cancelled_events, 1, "cancelled once");

        // The write-off decided the order; the cancellation's restock is a stock change too,
        // and any decision it led to found the order cancelled and carried nothing out.
        let decided = decisions_on(&app, &open, "inventory_changed").await;
        let cancels: Vec<&Value> = decided
            .iter()
            .flat_map(|d| d["steps"].as_array().unwrap())
            .filter(|s| s["kind"] == "cancel_order")
            .collect();
        assert_eq!(cancels.len(), 1, "{decided:#?}");
        assert_eq!(cancels[0]["status"], "done");
        assert_eq!(decided[0]["rule"], "all-oversold");
        assert_eq!(decided[0]["outcome"], "cancel");
        assert_eq!(decided[0]["source"], "webhook");
        assert_eq!(decided[0]["status"], "done");
        assert_eq!(decided[0]["facts"]["order"]["lineItems"][0]["inventoryQuantity"], -1);
        // Neither the shipped order nor the order of another item was decided again.
        assert!(decisions_on(&app, &shipped, "inventory_changed").await.is_empty());
        assert!(decisions_on(&app, &other_item, "inventory_changed").await.is_empty());

        // A redelivery of the write-off (same webhook id) is answered and changes nothing.
        let delivery = stock_delivery(&app);
        let before = app.store().jobs().await.unwrap().len();
        assert_eq!(
            app.send_webhook("inventory_levels/update", &delivery.webhook_id, &delivery.payload, SECRET)
                .await,
            200
        );
        app.settle(Duration::from_secs(20)).await;
        assert_eq!(app.store().jobs().await.unwrap().len(), before);
        assert_eq!(decisions_on(&app, &open, "inventory_changed").await.len(), decided.len());
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stock_changes_decide_nothing_again_when_no_rule_asks_about_them() {
        // The suite's policy has no `inventory_changed` rule: its default would only be
        // repeated on every open order at every stock movement.
        let app = spawn_app(Options::default()).await;
        app.dev
            .subscribe_webhook("inventory_levels/update", &app.url("/webhooks"));
        let mug = app.product("MUG", "30.00", 3, &[], Some("CONTINUE"));
        app.customer("ada@example.com", "en");
        let open = app.order("ada@example.com", &[(&mug, 2)], 5, |_| {});
        app.settle(Duration::from_secs(20)).await;

        adjust_available(&app, &mug, -2, "write-off-1").await;
        app.settle(Duration::from_secs(20)).await;

        assert!(app.dev.order_state(&open).unwrap().cancelled_at.is_none());
        assert!(decisions_on(&app, &open, "inventory_changed").await.is_empty());
        let delivery = stock_delivery(&app);
        let stored = app.store().webhook(&delivery.webhook_id).await.unwrap().unwrap();
        assert_eq!(stored.status, "no inventory rule");
    }
}
