//! Staff bulk cancellation by policy: every order a search query matches is decided once and
//! cancelled once, progress is exact, a run survives killed workers, bad input is a 400.

use std::time::Duration;

use cancel_policy_dev_store::Faults;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::*;

/// `tagged` orders tagged `fraud-check` (the first `fulfilled` of them shipped, so the policy
/// denies them) and `others` orders without the tag.
fn orders(
    app: &TestApp,
    tagged: usize,
    fulfilled: usize,
    others: usize,
) -> (Vec<String>, Vec<String>) {
    let sku = app.product("BULK", "40.00", 10_000, &[], None);
    app.customer("bulk@example.com", "en");
    let matching: Vec<String> = (0..tagged)
        .map(|_| {
            app.order("bulk@example.com", &[(&sku, 1)], 30, |o| {
                o.tags = vec!["fraud-check".into()];
            })
        })
        .collect();
    for order in matching.iter().take(fulfilled) {
        app.dev.fulfill_order(order).unwrap();
    }
    let untouched = (0..others)
        .map(|_| app.order("bulk@example.com", &[(&sku, 1)], 30, |_| {}))
        .collect();
    (matching, untouched)
}

async fn start(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/api/bulk-cancellations"))
        .bearer_auth(app.admin_token())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn progress(app: &TestApp, id: &Value) -> Value {
    app.http
        .get(app.url(&format!("/api/bulk-cancellations/{id}")))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// How many times Shopify announced the order's cancellation.
fn cancellations(app: &TestApp, order: &str) -> usize {
    app.dev
        .events()
        .iter()
        .filter(|e| e.topic == "orders/cancelled" && e.payload["admin_graphql_api_id"] == order)
        .count()
}

async fn assert_cancelled_once(app: &TestApp, orders: &[String]) {
    for order in orders {
        let state = app.dev.order_state(order).unwrap();
        assert!(
            state.cancelled_at.is_some(),
            "{order} not cancelled: {:#}",
            app.audit(order).await
        );
        assert_eq!(cancellations(app, order), 1, "{order}");
        let shown = app.shopify_order(order);
        assert_eq!(shown["displayFinancialStatus"], "REFUNDED", "{order}");
        let decisions = app.audit(order).await["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["trigger"] == "staff_request")
            .count();
        assert_eq!(decisions, 1, "{order} decided {decisions} times by staff");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn bulk_cancellation_cancels_each_matching_order_once_and_reports_progress() {
        let app = spawn_app(Options::default()).await;
        let (matching, untouched) = orders(&app, 34, 4, 5);
        let (shipped, cancellable) = matching.split_at(4);

        let (status, answer) = start(
            &app,
            json!({ "query": "tag:fraud-check created_at:>2026-01-01", "pageSize": 10 }),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let id = answer["id"].clone();
        assert!(id.is_i64(), "{answer}");

        eventually("the run to finish", Duration::from_secs(30), || async {
            progress(&app, &id).await["status"] != "running"
        })
        .await;
        let report = progress(&app, &id).await;
        assert_eq!(report["status"], "done", "{report:#}");
        assert_eq!(report["ordersSeen"], 34, "{report:#}");
        assert_eq!(report["decided"], 34, "{report:#}");
        assert_eq!(
            report["byOutcome"],
            json!({ "cancel": 30, "deny": 4 }),
            "{report:#}"
        );
        assert_eq!(report["errorCount"], 0, "{report:#}");
        assert_eq!(report["pages"], 4, "{report:#}");
        assert_eq!(report["trigger"], "staff_request");
        assert!(report["cursor"].is_string(), "{report:#}");

        app.settle(Duration::from_secs(60)).await;
        assert_cancelled_once(&app, cancellable).await;
        for order in shipped.iter().chain(&untouched) {
            assert!(
                app.dev.order_state(order).unwrap().cancelled_at.is_none(),
                "{order} was cancelled"
            );
        }
        let audit = app.audit(&cancellable[0]).await;
        let staff = audit["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["trigger"] == "staff_request")
            .unwrap()
            .clone();
        assert_eq!(staff["source"], "staff");
        assert_eq!(staff["rule"], "staff-fraud-check");
        assert_eq!(staff["status"], "done");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_dry_run_counts_outcomes_and_changes_nothing() {
        let app = spawn_app(Options::default()).await;
        let (matching, _) = orders(&app, 6, 1, 2);
        let (status, answer) = start(
            &app,
            json!({ "query": "tag:fraud-check", "dry_run": true, "pageSize": 4 }),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let id = answer["id"].clone();
        eventually("the dry run to finish", Duration::from_secs(30), || async {
            progress(&app, &id).await["status"] == "done"
        })
        .await;
        let report = progress(&app, &id).await;
        assert_eq!(
            report["byOutcome"],
            json!({ "cancel": 5, "deny": 1 }),
            "{report:#}"
        );
        assert_eq!(report["dryRun"], true);
        app.settle(Duration::from_secs(30)).await;
        for order in &matching {
            assert!(app.dev.order_state(order).unwrap().cancelled_at.is_none());
            assert_eq!(cancellations(&app, order), 0);
        }
        // `shop/redact` forgets the run with its counts.
        let bulk_id = id.as_i64().unwrap();
        app.store().redact_shop(&app.shop).await.unwrap();
        assert!(app.store().bulk(bulk_id).await.unwrap().is_none());
        assert!(app.store().bulk_outcomes(bulk_id).await.unwrap().is_empty());
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn workers_killed_mid_run_still_cancel_each_order_once() {
        let seed: u64 = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("bulk crash test seed {seed} (rerun with CRASH_SEED={seed})");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut app = spawn_app(Options {
            start_workers: false,
            workers: 3,
            // Long enough that a job slowed by a busy machine is not taken over while it runs.
            lease: Duration::from_millis(500),
            faults: Faults {
                time_scale: 1000.0,
                // Slow Shopify down so that kills land mid-page: a page of 7 orders then takes
                // 160 ms or more, even on a fast machine.
                latency_ms: 20,
                ..Faults::default()
            },
            ..Options::default()
        })
        .await;
        let (matching, _) = orders(&app, 40, 0, 3);
        let (status, answer) = start(&app, json!({ "query": "tag:fraud-check", "pageSize": 7 })).await;
        assert_eq!(status, 202, "{answer}");
        let id = answer["id"].clone();

        // Kill windows both shorter and longer than a page (7 × 20 ms and more), until the run
        // has read its last page: some pages are cut short and resumed, some complete between
        // kills.
        let bulk_id = id.as_i64().unwrap();
        let mut kills = 0;
        for _ in 0..1000 {
            app.service.start_workers(3);
            tokio::time::sleep(Duration::from_millis(rng.random_range(20..400))).await;
            app.service.kill_workers();
            kills += 1;
            // The executions it enqueued are left to the crash suite and `settle` below.
            let run = app.store().bulk(bulk_id).await.unwrap().unwrap();
            if run.status != "running" {
                break;
            }
        }
        eprintln!("{kills} kills");
        assert!(kills >= 5, "the workers were killed only {kills} times");
        app.service.start_workers(3);
        app.settle(Duration::from_secs(60)).await;

        let report = progress(&app, &id).await;
        assert_eq!(report["status"], "done", "{report:#}");
        assert_eq!(report["ordersSeen"], 40, "{report:#}");
        assert_eq!(report["byOutcome"], json!({ "cancel": 40 }), "{report:#}");
        assert_eq!(report["pages"], 6, "{report:#}");
        assert_cancelled_once(&app, &matching).await;
        let jobs = app.store().jobs().await.unwrap();
        let not_done: Vec<_> = jobs.iter().filter(|j| j.status != "done").collect();
        assert!(not_done.is_empty(), "jobs not done: {not_done:#?}");
        let resumed_pages = jobs
            .iter()
            .filter(|j| j.kind == "bulk_page" && j.attempts > 1)
            .count();
        eprintln!("{resumed_pages} pages resumed after a kill");
        assert!(resumed_pages > 0, "no kill landed mid-page");
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_query_is_refused_with_a_clear_400() {
        let app = spawn_app(Options::default()).await;
        for (body, says) in [
            (json!({ "query": "tagg:fraud-check" }), "did you mean `tag`"),
            (json!({ "query": "  " }), "query is empty"),
            (json!({ "query": "tag:'fraud" }), "unbalanced quote"),
            (json!({ "query": "tag:>fraud" }), "cannot be compared"),
            (
                json!({ "query": "tag:fraud", "trigger": "sometimes" }),
                "unknown trigger",
            ),
            (
                json!({ "query": "tag:fraud", "trigger": "customer_request" }),
                "staff_request",
            ),
            (json!({ "query": "tag:fraud", "pageSize": 0 }), "pageSize"),
            (json!({ "filter": "tag:fraud" }), "query"),
        ] {
            let (status, answer) = start(&app, body.clone()).await;
            assert_eq!(status, 400, "{body} → {answer}");
            assert_eq!(answer["error"], "bad_request", "{answer}");
            let message = answer["message"].as_str().unwrap();
            assert!(
                message.contains(says),
                "{body}: `{message}` should say `{says}`"
            );
        }
        let unauthenticated = app
            .http
            .post(app.url("/api/bulk-cancellations"))
            .json(&json!({ "query": "tag:fraud" }))
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status().as_u16(), 401);
        let missing = app
            .http
            .get(app.url("/api/bulk-cancellations/999"))
            .bearer_auth(app.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status().as_u16(), 404);
        assert_eq!(app.store().job_counts().await.unwrap().queued, 0);
    }
}
