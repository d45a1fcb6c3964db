//! Shopify Flow: the action "Cancel order by policy" (signed POST, deduplicated on
//! `action_run_id`) and the trigger "Order decided by policy" (`flowTriggerReceive`).

use std::time::Duration;

use cancel_policy::http::flow::{ACTION_HANDLE, ACTION_PATH};
use cancel_policy::shopify::signatures::sign_webhook;
use cancel_policy::workflow::flow_trigger::{FLOW_PAYLOAD_MAX_BYTES, FLOW_TRIGGER_HANDLE};
use cancel_policy_dev_store::model::FlowTrigger;
use serde_json::{Value, json};

use crate::support::*;

/// How the request is signed.
enum Signature<'a> {
    With(&'a str),
    /// Signed over another body than the one sent.
    OverOtherBody,
    Missing,
}

async fn flow_app() -> TestApp {
    let app = spawn_app(Options::default()).await;
    publish(app.store(), &app.shop, include_str!("policies/flow.toml")).await;
    app
}

fn action_body(app: &TestApp, run_id: &str, order: &str) -> Value {
    // Shaped as https://shopify.dev/docs/apps/build/flow/actions/endpoints shows it.
    json!({
        "shop_id": "1",
        "shopify_domain": app.shop,
        "action_run_id": run_id,
        "action_definition_id": "Cancel order by policy",
        "handle": ACTION_HANDLE,
        "properties": { "order_id": numeric(order), "step_reference": "e2e-step" },
    })
}

async fn post_action(app: &TestApp, body: &Value, signature: Signature<'_>) -> (u16, Value) {
    let raw = body.to_string();
    let mut request = app.http.post(app.url(ACTION_PATH)).body(raw.clone());
    match signature {
        Signature::With(secret) => {
            request = request.header(
                "X-Shopify-Hmac-Sha256",
                sign_webhook(secret, raw.as_bytes()),
            )
        }
        Signature::OverOtherBody => {
            request = request.header("X-Shopify-Hmac-Sha256", sign_webhook(SECRET, b"{}"))
        }
        Signature::Missing => {}
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Triggers the dev store accepted for `order` from decisions of `source`.
fn triggers_for(app: &TestApp, order: &str, source: &str) -> Vec<FlowTrigger> {
    let number: u64 = numeric(order).parse().unwrap();
    app.dev
        .flow_triggers()
        .into_iter()
        .filter(|t| t.payload["order_id"] == json!(number) && t.payload["source"] == source)
        .collect()
}

fn cancellations(app: &TestApp, order: &str) -> usize {
    app.dev
        .events()
        .iter()
        .filter(|e| e.topic == "orders/cancelled" && e.payload["admin_graphql_api_id"] == order)
        .count()
}

async fn flow_decisions(app: &TestApp, order: &str) -> usize {
    app.store()
        .decisions_for_order(&app.shop, order)
        .await
        .unwrap()
        .iter()
        .filter(|d| d.source == "flow")
        .count()
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_signed_flow_action_cancels_the_order_and_flow_hears_the_decision() {
        let app = flow_app().await;
        let sku = app.product("VASE", "30.00", 5, &[], None);
        app.customer("flo@example.com", "en");
        let order = app.order("flo@example.com", &[(&sku, 1)], 5, |_| {});
        app.settle(Duration::from_secs(10)).await;

        let (status, answer) = post_action(
            &app,
            &action_body(&app, "run-cancels-1", &order),
            Signature::With(SECRET),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "cancel");
        assert_eq!(answer["rule"], "flow-cancel");
        assert_eq!(answer["new"], true);
        assert_eq!(answer["order"], order.as_str());
        // The run is linked to its decision, for the audit.
        let linked = app.store().flow_run_decision("run-cancels-1").await.unwrap();
        assert_eq!(linked, answer["decisionId"].as_i64());
        assert!(linked.is_some());

        app.settle(Duration::from_secs(20)).await;
        let state = app.dev.order_state(&order).unwrap();
        assert!(
            state.cancelled_at.is_some(),
            "{:#}",
            app.audit(&order).await
        );
        assert_eq!(state.cancel_reason.as_deref(), Some("OTHER"));
        assert_eq!(app.dev.available(&sku), Some(5), "restocked");

        // "Order decided by policy" reached Flow once, with the decision.
        let triggers = triggers_for(&app, &order, "flow");
        assert_eq!(triggers.len(), 1, "{triggers:#?}");
        let trigger = &triggers[0];
        assert_eq!(trigger.handle, FLOW_TRIGGER_HANDLE);
        assert_eq!(trigger.payload["outcome"], "cancel");
        assert_eq!(trigger.payload["rule"], "flow-cancel");
        assert_eq!(trigger.payload["cancel reason"], "OTHER");
        assert_eq!(trigger.payload["message"], "");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_new_decision_is_announced_to_flow_with_its_message() {
        let app = flow_app().await;
        let sku = app.product("LAMP", "40.00", 5, &[], None);
        app.customer("cleo@example.com", "en");
        let order = app.order("cleo@example.com", &[(&sku, 1)], 5, |_| {});
        let cleo = app.customer_of(&order);
        app.settle(Duration::from_secs(10)).await;

        let (status, answer) = app
            .customer_cancel(&order, &cleo, json!({ "reason": "changed_mind" }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rule"], "customer-window");
        app.settle(Duration::from_secs(20)).await;

        let triggers = triggers_for(&app, &order, "customer");
        assert_eq!(triggers.len(), 1, "{triggers:#?}");
        let payload = &triggers[0].payload;
        assert_eq!(payload["outcome"], "allow");
        assert_eq!(payload["rule"], "customer-window");
        assert_eq!(payload["cancel reason"], "CUSTOMER");
        assert_eq!(payload["message"], "Your order is cancelled and refunded.");
        assert_eq!(payload["request reason"], "changed_mind");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oversized_trigger_payload_is_trimmed_under_fifty_thousand_bytes() {
        let app = flow_app().await;
        let sku = app.product("RUG", "50.00", 5, &[], None);
        app.customer("dora@example.com", "en");
        let order = app.order("dora@example.com", &[(&sku, 1)], 5, |_| {});
        let dora = app.customer_of(&order);
        app.settle(Duration::from_secs(10)).await;

        // 120,000 bytes of the customer's own words, with characters JSON must escape.
        let reason = "too \"late\"\n é ".repeat(8_000);
        let (status, answer) = app
            .customer_cancel(&order, &dora, json!({ "reason": reason }))
            .await;
        assert_eq!(status, 200, "{answer}");
        app.settle(Duration::from_secs(20)).await;

        // The dev store refuses payloads over the limit, so a recorded trigger is one that fit.
        let triggers = triggers_for(&app, &order, "customer");
        assert_eq!(triggers.len(), 1, "{triggers:#?}");
        let payload = &triggers[0].payload;
        let size = serde_json::to_vec(payload).unwrap().len();
        assert!(size <= FLOW_PAYLOAD_MAX_BYTES, "{size} bytes");
        assert_eq!(payload["message"], "Your order is cancelled and refunded.");
        let kept = payload["request reason"].as_str().unwrap();
        assert!(kept.ends_with('…'), "the shortened reason is marked");
        assert!(reason.starts_with(kept.trim_end_matches('…')));
        assert!(kept.len() > 40_000, "the room left is used: {}", kept.len());
        let failed: Vec<_> = app
            .store()
            .jobs()
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.status != "done")
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forged_or_unsigned_flow_actions_are_refused_and_store_nothing() {
        let app = flow_app().await;
        let sku = app.product("BOWL", "15.00", 5, &[], None);
        app.customer("eve@example.com", "en");
        let order = app.order("eve@example.com", &[(&sku, 1)], 5, |_| {});
        app.settle(Duration::from_secs(10)).await;

        let body = action_body(&app, "run-forged", &order);
        for signature in [
            Signature::Missing,
            Signature::With("not-the-app-secret"),
            Signature::OverOtherBody,
        ] {
            let (status, answer) = post_action(&app, &body, signature).await;
            assert_eq!(status, 401, "{answer}");
            assert_eq!(answer["error"], "unauthorized");
        }
        app.settle(Duration::from_secs(10)).await;

        assert_eq!(flow_decisions(&app, &order).await, 0);
        assert!(app.dev.order_state(&order).unwrap().cancelled_at.is_none());
        assert!(
            app.store()
                .accept_flow_run("run-forged", &app.shop, &order)
                .await
                .unwrap(),
            "the forged run was never recorded"
        );
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_action_run_twice_decides_once_and_cancels_once() {
        let app = flow_app().await;
        let sku = app.product("JUG", "25.00", 5, &[], None);
        app.customer("fay@example.com", "en");
        let order = app.order("fay@example.com", &[(&sku, 1)], 5, |_| {});
        app.settle(Duration::from_secs(10)).await;

        let body = action_body(&app, "run-twice", &order);
        // Two deliveries at once, then a late resend after the work is done.
        let (first, second) = tokio::join!(
            post_action(&app, &body, Signature::With(SECRET)),
            post_action(&app, &body, Signature::With(SECRET)),
        );
        assert_eq!(first.0, 200, "{}", first.1);
        assert_eq!(second.0, 200, "{}", second.1);
        assert_eq!(first.1["decisionId"], second.1["decisionId"]);
        app.settle(Duration::from_secs(20)).await;
        let (status, resend) = post_action(&app, &body, Signature::With(SECRET)).await;
        assert_eq!(status, 200, "{resend}");
        assert_eq!(resend["new"], false);
        assert_eq!(resend["decisionId"], first.1["decisionId"]);
        assert_eq!(
            app.store().flow_run_decision("run-twice").await.unwrap(),
            first.1["decisionId"].as_i64()
        );
        assert_eq!(resend["outcome"], "cancel");
        app.settle(Duration::from_secs(10)).await;

        assert_eq!(flow_decisions(&app, &order).await, 1);
        assert_eq!(cancellations(&app, &order), 1);
        assert_eq!(triggers_for(&app, &order, "flow").len(), 1);
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_shopify_is_down_flow_is_told_to_resend_and_the_resend_decides() {
        let app = flow_app().await;
        let sku = app.product("CUP", "10.00", 5, &[], None);
        app.customer("gus@example.com", "en");
        let order = app.order("gus@example.com", &[(&sku, 1)], 5, |_| {});
        app.settle(Duration::from_secs(10)).await;

        let body = action_body(&app, "run-during-outage", &order);
        app.dev.update_faults(|f| f.error_rate = 1.0);
        let (status, _) = post_action(&app, &body, Signature::With(SECRET)).await;
        assert_eq!(status, 202, "202 makes Flow resend later");
        assert_eq!(flow_decisions(&app, &order).await, 0);

        app.dev.update_faults(|f| f.error_rate = 0.0);
        let (status, answer) = post_action(&app, &body, Signature::With(SECRET)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "cancel");
        assert_eq!(
            app.store().flow_run_decision("run-during-outage").await.unwrap(),
            answer["decisionId"].as_i64()
        );
        app.settle(Duration::from_secs(20)).await;
        assert_eq!(cancellations(&app, &order), 1);
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn malformed_flow_actions_get_a_clear_client_error() {
        let app = flow_app().await;
        let sku = app.product("PLATE", "12.00", 5, &[], None);
        app.customer("hal@example.com", "en");
        let order = app.order("hal@example.com", &[(&sku, 1)], 5, |_| {});

        let mut no_order = action_body(&app, "run-bad-1", &order);
        no_order["properties"] = json!({});
        let mut not_an_order = action_body(&app, "run-bad-2", &order);
        not_an_order["properties"]["order_id"] = json!("gid://shopify/Customer/1");
        let mut other_action = action_body(&app, "run-bad-3", &order);
        other_action["handle"] = json!("some-other-action");
        for body in [no_order, not_an_order, other_action] {
            let (status, answer) = post_action(&app, &body, Signature::With(SECRET)).await;
            assert_eq!(status, 400, "{body}: {answer}");
            assert_eq!(answer["error"], "bad_request");
        }
        let missing = json!(12345678);
        let mut unknown_order = action_body(&app, "run-bad-4", &order);
        unknown_order["properties"]["order_id"] = missing;
        let (status, answer) = post_action(&app, &unknown_order, Signature::With(SECRET)).await;
        assert_eq!(status, 404, "{answer}");
    }
}
