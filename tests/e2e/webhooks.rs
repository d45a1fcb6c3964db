//! Webhooks in: verification, dedupe, ordering, and the decisions they lead to.

use std::time::Duration;

use cancel_policy_dev_store::seed::NewRisk;
use serde_json::json;

use crate::support::*;

fn high_risk(order: &mut cancel_policy_dev_store::NewOrder) {
    order.risk = vec![NewRisk {
        level: "HIGH".into(),
        provider: None,
        facts: vec!["card mismatch".into()],
    }];
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_high_risk_order_is_cancelled_refunded_restocked_and_tagged() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("LAMP", "80.00", 10, &[], None);
        app.customer("eve@example.com", "en");
        let order = app.order("eve@example.com", &[(&sku, 2)], 5, high_risk);
        assert_eq!(app.dev.available(&sku), Some(8));

        app.settle(Duration::from_secs(20)).await;

        let state = app.dev.order_state(&order).unwrap();
        assert!(
            state.cancelled_at.is_some(),
            "order not cancelled: {:#}",
            app.audit(&order).await
        );
        assert_eq!(state.cancel_reason.as_deref(), Some("FRAUD"));
        assert!(
            state.tags.contains(&"fraud-cancelled".to_string()),
            "{:?}",
            state.tags
        );
        let shown = app.shopify_order(&order);
        assert_eq!(shown["displayFinancialStatus"], "REFUNDED");
        assert_eq!(app.dev.available(&sku), Some(10), "restocked");

        let audit = app.audit(&order).await;
        let decisions = audit["decisions"].as_array().unwrap();
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0]["rule"], "high-risk");
        assert_eq!(decisions[0]["outcome"], "cancel");
        assert_eq!(decisions[0]["status"], "done");
        let steps: Vec<_> = decisions[0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["kind"].as_str().unwrap(), s["status"].as_str().unwrap()))
            .collect();
        assert_eq!(steps, [("cancel_order", "done"), ("add_tags", "done")]);
        assert_eq!(
            decisions[0]["facts"]["order"]["risk"]["assessments"][0]["riskLevel"],
            "HIGH"
        );
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forged_and_unsigned_webhooks_are_rejected_with_nothing_stored() {
        let app = spawn_app(Options::default()).await;
        let body = json!({ "id": 820982911946154508u64, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508" });
        assert_eq!(
            app.send_webhook("orders/create", "forged-1", &body, "not-the-secret")
                .await,
            401
        );
        let unsigned = app
            .http
            .post(app.url("/webhooks"))
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Shop-Domain", &app.shop)
            .header("X-Shopify-Webhook-Id", "unsigned-1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status().as_u16(), 401);
        // Signed over other bytes than those sent.
        let tampered = app
            .http
            .post(app.url("/webhooks"))
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Shop-Domain", &app.shop)
            .header("X-Shopify-Webhook-Id", "tampered-1")
            .header(
                "X-Shopify-Hmac-Sha256",
                cancel_policy::shopify::signatures::sign_webhook(SECRET, b"{}"),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(tampered.status().as_u16(), 401);
        assert_eq!(app.store().webhook_count(&app.shop).await.unwrap(), 0);
        assert!(app.store().jobs().await.unwrap().is_empty());
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicated_and_reordered_deliveries_change_nothing_twice() {
        let app = spawn_app(Options {
            faults: cancel_policy_dev_store::Faults {
                time_scale: 1000.0,
                webhook_duplicate_rate: 1.0,
                webhook_reorder: true,
                ..Default::default()
            },
            ..Options::default()
        })
        .await;
        let sku = app.product("VASE", "30.00", 50, &[], None);
        app.customer("eve@example.com", "en");
        let orders: Vec<String> = (0..6)
            .map(|_| app.order("eve@example.com", &[(&sku, 1)], 3, high_risk))
            .collect();
        app.settle(Duration::from_secs(30)).await;

        let deliveries = app.dev.webhook_deliveries();
        let creates = deliveries
            .iter()
            .filter(|d| d.topic == "orders/create")
            .count();
        assert!(
            creates >= 12,
            "each orders/create delivered twice, got {creates}"
        );
        for order in &orders {
            let state = app.dev.order_state(order).unwrap();
            assert!(state.cancelled_at.is_some());
            let cancels = app
                .dev
                .events()
                .iter()
                .filter(|e| {
                    e.topic == "orders/cancelled" && e.payload["admin_graphql_api_id"] == order.as_str()
                })
                .count();
            assert_eq!(cancels, 1, "{order} cancelled {cancels} times");
            assert_eq!(
                app.store()
                    .decisions_for_order(&app.shop, order)
                    .await
                    .unwrap()
                    .len(),
                1
            );
        }
        assert_eq!(app.dev.available(&sku), Some(50));

        // A replay of a stored delivery is acknowledged and ignored.
        let stored = app.store().webhook_count(&app.shop).await.unwrap();
        let first = deliveries.first().unwrap();
        assert_eq!(
            app.send_webhook(&first.topic, &first.webhook_id, &first.payload, SECRET)
                .await,
            200
        );
        assert_eq!(app.store().webhook_count(&app.shop).await.unwrap(), stored);
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_order_update_never_overwrites_a_newer_one() {
        let app = spawn_app(Options::default()).await;
        let order = "gid://shopify/Order/9007199254740993";
        let newer = json!({ "id": 9007199254740993u64, "admin_graphql_api_id": order, "updated_at": "2026-03-02T10:05:00Z", "cancelled_at": "2026-03-02T10:05:00Z", "cancel_reason": "customer" });
        let older = json!({ "id": 9007199254740993u64, "admin_graphql_api_id": order, "updated_at": "2026-03-02T10:01:00Z", "cancelled_at": null });
        assert_eq!(
            app.send_webhook("orders/updated", "u-new", &newer, SECRET)
                .await,
            200
        );
        app.settle(Duration::from_secs(10)).await;
        assert_eq!(
            app.send_webhook("orders/updated", "u-old", &older, SECRET)
                .await,
            200
        );
        app.settle(Duration::from_secs(10)).await;
        let version = app
            .store()
            .order_version(&app.shop, order)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(version.updated_at, "2026-03-02T10:05:00.000000Z");
        assert_eq!(version.cancel_reason.as_deref(), Some("CUSTOMER"));
        assert_eq!(
            app.store().webhook("u-old").await.unwrap().unwrap().status,
            "stale"
        );
        assert_eq!(
            app.store().webhook("u-new").await.unwrap().unwrap().status,
            "applied"
        );
    }
}
