//! Customer cancel requests through both doors.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_customer_cancels_inside_the_window_and_is_refunded_and_restocked() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("CANDLE", "20.00", 10, &[], None);
        app.customer("alice@example.com", "en");
        let order = app.order("alice@example.com", &[(&sku, 3)], 10, |_| {});
        let alice = app.customer_of(&order);
        app.settle(Duration::from_secs(10)).await;

        let (status, answer) = app
            .customer_cancel(&order, &alice, json!({ "reason": "changed_mind" }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "allow");
        assert_eq!(answer["rule"], "within-hour");
        assert!(
            answer["next"]
                .as_str()
                .unwrap()
                .contains("original payment method"),
            "{answer}"
        );

        app.settle(Duration::from_secs(20)).await;
        let state = app.dev.order_state(&order).unwrap();
        assert!(state.cancelled_at.is_some());
        assert_eq!(state.cancel_reason.as_deref(), Some("CUSTOMER"));
        assert_eq!(
            app.shopify_order(&order)["displayFinancialStatus"],
            "REFUNDED"
        );
        assert_eq!(app.dev.available(&sku), Some(10));
        assert!(state.tags.contains(&"cancelled-by-customer".to_string()));

        // Asking again answers with the cancellation under way, not a second one.
        let (status, again) = app.customer_cancel(&order, &alice, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(again["decisionId"], answer["decisionId"]);
        let decisions = app
            .store()
            .decisions_for_order(&app.shop, &order)
            .await
            .unwrap();
        assert_eq!(
            decisions
                .iter()
                .filter(|d| d.trigger_name == "customer_request")
                .count(),
            1
        );
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fee_is_kept_with_one_idempotent_partial_refund() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("RUG", "95.00", 4, &[], None);
        app.customer("dana@example.de", "de");
        let order = app.order("dana@example.de", &[(&sku, 1)], 200, |_| {});
        let dana = app.customer_of(&order);
        let (status, answer) = app
            .customer_cancel(&order, &dana, json!({ "reason": "late" }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rule"], "late-with-fee");
        assert_eq!(
            answer["steps"],
            json!(["cancel_order", "refund", "add_tags"])
        );
        app.settle(Duration::from_secs(20)).await;

        let state = app.dev.order_state(&order).unwrap();
        assert!(state.cancelled_at.is_some());
        // orderCancel's restock is a refund without money; the fee refund is the only money back.
        let money_refunds: Vec<_> = state
            .refunds
            .iter()
            .filter(|r| !r.transaction_ids.is_empty())
            .collect();
        assert_eq!(money_refunds.len(), 1, "{:?}", state.refunds);
        assert!(
            money_refunds[0]
                .note
                .as_deref()
                .unwrap()
                .contains("cancel-policy-")
        );
        // 95.00 + 5.00 shipping = 100.00; 10% kept.
        let shown = app.shopify_order(&order);
        assert_eq!(shown["displayFinancialStatus"], "PARTIALLY_REFUNDED");
        assert_eq!(shown["totalRefundedSet"]["shopMoney"]["amount"], "90.0");
        assert_eq!(app.dev.available(&sku), Some(4));
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_customer_cannot_touch_another_customers_order_and_forged_tokens_fail() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("MUG", "12.00", 10, &[], None);
        app.customer("alice@example.com", "en");
        app.customer("mallory@example.com", "en");
        let alices = app.order("alice@example.com", &[(&sku, 1)], 5, |_| {});
        let mallorys = app.order("mallory@example.com", &[(&sku, 1)], 5, |_| {});
        let mallory = app.customer_of(&mallorys);

        let (status, answer) = app.customer_cancel(&alices, &mallory, json!({})).await;
        assert_eq!(status, 404, "{answer}");

        let forged = cancel_policy::shopify::signatures::sign_session_token(
            "guessed-secret",
            &json!({ "dest": format!("https://{}", app.shop), "aud": API_KEY, "sub": app.customer_of(&alices), "exp": chrono::Utc::now().timestamp() + 60 }),
        );
        let response = app
            .http
            .post(app.url(&format!("/api/customer/orders/{}/cancel", numeric(&alices))))
            .bearer_auth(forged)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let unsigned = app
            .http
            .post(app.url(&format!("/api/customer/orders/{}/cancel", numeric(&alices))))
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status().as_u16(), 401);

        let (status, _) = app
            .proxy_cancel(&alices, numeric(&mallory), SECRET, json!({}))
            .await;
        assert_eq!(status, 404);
        let (status, _) = app
            .proxy_cancel(
                &alices,
                numeric(&app.customer_of(&alices)),
                "wrong",
                json!({}),
            )
            .await;
        assert_eq!(status, 401);

        app.settle(Duration::from_secs(10)).await;
        assert!(app.dev.order_state(&alices).unwrap().cancelled_at.is_none());
        assert!(
            app.store()
                .decisions_for_order(&app.shop, &alices)
                .await
                .unwrap()
                .iter()
                .all(|d| d.trigger_name != "customer_request")
        );
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_personalised_item_is_refused_in_the_customers_language_through_the_app_proxy() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("TRAY-ENG", "45.00", 5, &["personalised"], None);
        app.customer("bruno@example.fr", "fr");
        let order = app.order("bruno@example.fr", &[(&sku, 1)], 5, |o| {
            o.locale = Some("fr".into())
        });
        let bruno = app.customer_of(&order);
        let (status, answer) = app
            .proxy_cancel(&order, numeric(&bruno), SECRET, json!({ "locale": "fr" }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "deny");
        assert_eq!(answer["rule"], "personalised");
        assert_eq!(answer["locale"], "fr");
        assert_eq!(
            answer["message"],
            "Cet article est fabriqué pour vous : il ne peut pas être annulé."
        );
        assert_eq!(answer["next"], "Nothing changes: your order goes ahead.");
        app.settle(Duration::from_secs(10)).await;
        assert!(app.dev.order_state(&order).unwrap().cancelled_at.is_none());
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_over_the_customer_limit_are_refused() {
        let app = spawn_app(Options::default()).await;
        let sku = app.product("PEN", "3.00", 50, &[], None);
        app.customer("spam@example.com", "en");
        let order = app.order("spam@example.com", &[(&sku, 1)], 120, |_| {});
        let spam = app.customer_of(&order);
        let mut limited = 0;
        for _ in 0..15 {
            let (status, _) = app.customer_cancel(&order, &spam, json!({})).await;
            if status == 429 {
                limited += 1;
            } else {
                assert_eq!(status, 200);
            }
        }
        assert_eq!(limited, 5, "10 per minute per customer");
    }
}
