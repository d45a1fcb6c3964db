//! Workers killed at random points, and injected Shopify faults: every order still ends
//! cancelled once and refunded once, and every job completes.

use std::time::Duration;

use cancel_policy_dev_store::Faults;
use cancel_policy_dev_store::seed::NewRisk;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::support::*;

/// Orders of two kinds: a customer's late cancel with a 10% fee (orderCancel without refund,
/// then refundCreate with @idempotent) and a HIGH-risk order (orderCancel with refund).
async fn orders(app: &TestApp, n: usize) -> (Vec<String>, Vec<String>) {
    let sku = app.product("CRASH", "40.00", 10_000, &[], None);
    app.customer("crash@example.com", "en");
    let mut fee_orders = Vec::new();
    let mut fraud_orders = Vec::new();
    for i in 0..n {
        if i % 2 == 0 {
            fee_orders.push(app.order("crash@example.com", &[(&sku, 1)], 300, |_| {}));
        } else {
            fraud_orders.push(app.order("crash@example.com", &[(&sku, 1)], 2, |o| {
                o.risk = vec![NewRisk {
                    level: "HIGH".into(),
                    provider: None,
                    facts: vec![],
                }];
            }));
        }
    }
    for order in &fee_orders {
        let customer = app.customer_of(order);
        let (status, answer) = app
            .customer_cancel(order, &customer, json!({ "reason": "late" }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rule"], "late-with-fee");
    }
    (fee_orders, fraud_orders)
}

/// Every order cancelled once; fee orders refunded once for 90% of 45.00; nothing failed.
async fn assert_exactly_once(app: &TestApp, fee_orders: &[String], fraud_orders: &[String]) {
    let events = app.dev.events();
    for order in fee_orders.iter().chain(fraud_orders) {
        let state = app.dev.order_state(order).unwrap();
        assert!(
            state.cancelled_at.is_some(),
            "{order} not cancelled: {:#}",
            app.audit(order).await
        );
        let cancels = events
            .iter()
            .filter(|e| {
                e.topic == "orders/cancelled" && e.payload["admin_graphql_api_id"] == order.as_str()
            })
            .count();
        assert_eq!(cancels, 1, "{order} cancelled {cancels} times");
        let money_refunds = state
            .refunds
            .iter()
            .filter(|r| !r.transaction_ids.is_empty())
            .count();
        let shown = app.shopify_order(order);
        if fee_orders.contains(order) {
            assert_eq!(money_refunds, 1, "{order}: {:?}", state.refunds);
            assert_eq!(
                shown["totalRefundedSet"]["shopMoney"]["amount"], "40.5",
                "{order}"
            );
        } else {
            assert_eq!(shown["displayFinancialStatus"], "REFUNDED", "{order}");
            assert_eq!(
                shown["totalRefundedSet"]["shopMoney"]["amount"], "45.0",
                "{order}"
            );
        }
    }
    let jobs = app.store().jobs().await.unwrap();
    let not_done: Vec<_> = jobs.iter().filter(|j| j.status != "done").collect();
    assert!(not_done.is_empty(), "jobs not done: {not_done:#?}");
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn workers_killed_at_random_points_leave_every_order_cancelled_and_refunded_once() {
        let seed: u64 = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("crash test seed {seed} (rerun with CRASH_SEED={seed})");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut app = spawn_app(Options {
            start_workers: false,
            workers: 3,
            lease: Duration::from_millis(150),
            faults: Faults {
                time_scale: 1000.0,
                job_delay_ms: 5_000,
                ..Faults::default()
            },
            limits: cancel_policy::config::RateLimits {
                per_customer_per_minute: 10_000,
                per_shop_per_minute: 10_000,
            },
            ..Options::default()
        })
        .await;
        let (fee_orders, fraud_orders) = orders(&app, 200).await;
        assert_eq!(fee_orders.len() + fraud_orders.len(), 200);

        let mut kills = 0;
        for _ in 0..400 {
            app.service.start_workers(3);
            tokio::time::sleep(Duration::from_millis(rng.random_range(1..25))).await;
            app.service.kill_workers();
            kills += 1;
            let counts = app.store().job_counts().await.unwrap();
            if counts.queued == 0 && counts.running == 0 {
                break;
            }
        }
        eprintln!("{kills} kills");
        assert!(kills >= 20, "the workers were killed only {kills} times");
        app.service.start_workers(3);
        // Generous: ~1,200 jobs on 3 workers of a loaded 2-core machine; a hang still fails.
        app.settle(Duration::from_secs(240)).await;
        assert_exactly_once(&app, &fee_orders, &fraud_orders).await;
    }
}

on_both_databases! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn with_a_fifth_of_shopify_calls_failing_every_job_still_completes() {
        let app = spawn_app(Options {
            workers: 4,
            faults: Faults {
                time_scale: 1000.0,
                error_rate: 0.2,
                throttle_pressure: 0.5,
                job_delay_ms: 2_000,
                ..Faults::default()
            },
            limits: cancel_policy::config::RateLimits {
                per_customer_per_minute: 10_000,
                per_shop_per_minute: 10_000,
            },
            ..Options::default()
        })
        .await;
        // The customer door answers 503 when Shopify fails it; the customer tries again.
        let (fee_orders, fraud_orders) = {
            let sku = app.product("FAULT", "40.00", 1000, &[], None);
            app.customer("crash@example.com", "en");
            let mut fee = Vec::new();
            let mut fraud = Vec::new();
            for i in 0..40 {
                if i % 2 == 0 {
                    let order = app.order("crash@example.com", &[(&sku, 1)], 300, |_| {});
                    let customer = app.customer_of(&order);
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        let (status, answer) = app
                            .customer_cancel(&order, &customer, json!({ "reason": "late" }))
                            .await;
                        if status == 200 {
                            break;
                        }
                        assert_eq!(status, 503, "{answer}");
                        assert!(tries < 20);
                    }
                    fee.push(order);
                } else {
                    fraud.push(app.order("crash@example.com", &[(&sku, 1)], 2, |o| {
                        o.risk = vec![NewRisk {
                            level: "HIGH".into(),
                            provider: None,
                            facts: vec![],
                        }];
                    }));
                }
            }
            (fee, fraud)
        };
        app.settle(Duration::from_secs(240)).await;
        assert_exactly_once(&app, &fee_orders, &fraud_orders).await;
        let counters = &app.service.app.client.counters;
        let retries = counters.retries.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            retries > 0,
            "faults were injected, so some calls were retried"
        );
    }
}

/// A worker that died after recording that it was about to send `orderCancel`, and before
/// it did, leaves the next attempt a settle wait (300 ms in these tests) longer than the lease
/// (100 ms here): the wait renews the lease, so the job completes instead of another worker
/// claiming it mid-wait, over and over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_settle_longer_than_the_lease_still_cancels() {
    let mut app = spawn_app(Options {
        start_workers: false,
        workers: 3,
        lease: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    let sku = app.product("SETTLE", "40.00", 100, &[], None);
    app.customer("settle@example.com", "en");
    let order = app.order("settle@example.com", &[(&sku, 1)], 300, |_| {});
    let customer = app.customer_of(&order);
    let (status, answer) = app
        .customer_cancel(&order, &customer, json!({ "reason": "late" }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rule"], "late-with-fee");

    // Claim jobs as a worker would until the decision's `execute` job is ours, then leave its
    // `cancel_order` step as the dead worker did: `sent_at` saved, nothing sent.
    let mut leases = Vec::new();
    let mut execute = None;
    while execute.is_none() {
        let job = app
            .store()
            .claim_job("dead-worker", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("the customer's request queued an execute job");
        let lease = cancel_policy::store::Lease {
            job_id: job.id,
            worker: "dead-worker".to_string(),
        };
        if job.kind == "execute" {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
            execute = payload["decisionId"].as_i64();
        }
        leases.push(lease);
    }
    let decision_id = execute.unwrap();
    let steps = app.store().steps(decision_id).await.unwrap();
    let cancel = steps
        .iter()
        .find(|s| s.kind == "cancel_order")
        .expect("a cancel_order step");
    let execute_lease = leases.last().unwrap();
    let progress = json!({ "sent_at": chrono::Utc::now() }).to_string();
    assert!(
        app.store()
            .step_progress(cancel.id, &progress, execute_lease)
            .await
            .unwrap()
    );
    for lease in &leases {
        app.store()
            .release_job(lease, "queued", None, Some(chrono::Utc::now()))
            .await
            .unwrap();
    }

    // Several workers: one of them claims the job as soon as its lease has run out.
    app.service.start_workers(3);
    app.settle(Duration::from_secs(30)).await;
    let state = app.dev.order_state(&order).unwrap();
    assert!(
        state.cancelled_at.is_some(),
        "{order} not cancelled: {:#}",
        app.audit(&order).await
    );
    let steps = app.store().steps(decision_id).await.unwrap();
    assert!(steps.iter().all(|s| s.status == "done"), "{steps:#?}");
}
