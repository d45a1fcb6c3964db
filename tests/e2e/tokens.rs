//! Expiring offline access tokens: the service refreshes the shop's token before it expires
//! and on a 401, stores the new pair, and reports a refused refresh token instead of looping.
//! https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens

use std::time::Duration;

use cancel_policy::store::{NewJob, ShopTokens};
use serde_json::json;

use crate::support::*;

const LIFETIME: Duration = Duration::from_secs(2);

async fn token_app() -> TestApp {
    spawn_app(Options {
        token_lifetime: Some(LIFETIME),
        ..Options::default()
    })
    .await
}

/// Cancels `order` for its customer and checks Shopify shows it cancelled.
async fn cancel(app: &TestApp, order: &str) {
    let customer = app.customer_of(order);
    let (status, answer) = app
        .customer_cancel(order, &customer, json!({ "reason": "changed_mind" }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "allow", "{answer}");
    app.settle(Duration::from_secs(20)).await;
    assert!(app.dev.order_state(order).unwrap().cancelled_at.is_some());
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_expired_token_is_refreshed_and_the_new_pair_stored() {
        let app = token_app().await;
        let first_token = app.dev.access_token().to_string();
        let sku = app.product("CANDLE", "20.00", 10, &[], None);
        app.customer("alice@example.com", "en");
        let first = app.order("alice@example.com", &[(&sku, 1)], 10, |_| {});
        let second = app.order("alice@example.com", &[(&sku, 1)], 10, |_| {});
        app.settle(Duration::from_secs(10)).await;

        // Past the first token's life: every Admin call needs a refreshed token.
        tokio::time::sleep(LIFETIME + Duration::from_millis(500)).await;
        cancel(&app, &first).await;
        assert!(app.dev.token_refreshes() >= 1);
        let row = app.store().shop(&app.shop).await.unwrap().unwrap();
        assert_ne!(row.access_token, first_token);
        assert_eq!(row.refresh_token, app.dev.refresh_token());
        assert!(row.access_token_expires_at.is_some());
        assert!(row.refresh_token_expires_at.is_some());

        // A stored expiry that is wrong (the token was revoked or expired early): the 401 is
        // answered with one refresh and one retry.
        tokio::time::sleep(LIFETIME + Duration::from_millis(500)).await;
        let refresh_token = row.refresh_token.clone().unwrap();
        app.store()
            .set_shop_tokens(
                &app.shop,
                &ShopTokens {
                    access_token: &row.access_token,
                    access_token_expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
                    refresh_token: &refresh_token,
                    refresh_token_expires_at: Some(chrono::Utc::now() + chrono::Duration::days(90)),
                },
            )
            .await
            .unwrap();
        let before = app.dev.token_refreshes();
        cancel(&app, &second).await;
        assert!(app.dev.token_refreshes() > before);
        let row = app.store().shop(&app.shop).await.unwrap().unwrap();
        assert_eq!(row.refresh_token, app.dev.refresh_token());
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_refresh_token_fails_the_job_with_a_clear_error() {
        let app = token_app().await;
        let sku = app.product("LAMP", "40.00", 5, &[], None);
        app.customer("bob@example.com", "en");
        let order = app.order("bob@example.com", &[(&sku, 1)], 10, |_| {});
        app.settle(Duration::from_secs(10)).await;

        let row = app.store().shop(&app.shop).await.unwrap().unwrap();
        let refreshes = app.dev.token_refreshes();
        app.store()
            .set_shop_tokens(
                &app.shop,
                &ShopTokens {
                    access_token: &row.access_token,
                    access_token_expires_at: Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
                    refresh_token: "shprt_not_issued_by_the_store",
                    refresh_token_expires_at: Some(chrono::Utc::now() + chrono::Duration::days(90)),
                },
            )
            .await
            .unwrap();
        let job = NewJob {
            shop: app.shop.clone(),
            kind: "decide".to_string(),
            payload: json!({
                "orderId": order,
                "trigger": "scheduled",
                "dedupeKey": "e2e-refused-refresh",
            })
            .to_string(),
            idempotency_key: "decide:e2e-refused-refresh".to_string(),
            run_at: None,
        };
        app.store().enqueue(&job).await.unwrap();
        app.settle(Duration::from_secs(10)).await;

        let jobs = app.store().jobs().await.unwrap();
        let job = jobs
            .iter()
            .find(|j| j.idempotency_key == "decide:e2e-refused-refresh")
            .unwrap();
        // Failed for good at once: a refused refresh token does not heal on retry.
        assert_eq!(job.status, "failed", "{job:?}");
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("refused the refresh token"), "{error}");
        assert!(!error.contains("shprt_not_issued"), "the token leaked: {error}");
        assert_eq!(app.dev.token_refreshes(), refreshes);
        assert!(app.dev.order_state(&order).unwrap().cancelled_at.is_none());
    }
}
