//! The store's guarantees, on SQLite (and on PostgreSQL when `TEST_DATABASE_URL` is set).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Duration as Span, Utc};

use super::*;

pub(crate) async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    (Store::connect(&url).await.unwrap(), dir)
}

fn job(key: &str) -> NewJob {
    NewJob {
        shop: "s.myshopify.com".into(),
        kind: "execute".into(),
        payload: "{}".into(),
        idempotency_key: key.into(),
        run_at: None,
    }
}

fn webhook<'a>(id: &'a str, body: &'a str) -> NewWebhook<'a> {
    NewWebhook {
        webhook_id: id,
        shop: "s.myshopify.com",
        topic: "orders/create",
        event_id: None,
        triggered_at: None,
        resource_id: Some("gid://shopify/Order/1".into()),
        customer_id: None,
        body,
    }
}

#[tokio::test]
async fn a_redelivered_webhook_stores_nothing_twice() {
    let (store, _dir) = sqlite().await;
    assert!(
        store
            .accept_webhook(&webhook("w1", "{}"), Some(&job("webhook:w1")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .accept_webhook(&webhook("w1", "{}"), Some(&job("webhook:w1")))
            .await
            .unwrap()
    );
    assert_eq!(store.webhook_count("s.myshopify.com").await.unwrap(), 1);
    assert_eq!(store.jobs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn each_job_is_claimed_by_exactly_one_of_many_workers() {
    let (store, _dir) = sqlite().await;
    for i in 0..60 {
        store.enqueue(&job(&format!("k{i}"))).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store
                .claim_job(&format!("w{w}"), Duration::from_secs(30))
                .await
                .unwrap()
            {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60);
    assert_eq!(unique.len(), 60);
}

#[tokio::test]
async fn an_expired_lease_moves_the_job_and_fences_the_old_worker() {
    let (store, _dir) = sqlite().await;
    store.enqueue(&job("k")).await.unwrap();
    let first = store
        .claim_job("old", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = store
        .claim_job("new", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.attempts, 2);
    let old = Lease {
        job_id: first.id,
        worker: "old".into(),
    };
    assert!(!store.heartbeat(&old, Duration::from_secs(1)).await.unwrap());
    assert!(!store.release_job(&old, "done", None, None).await.unwrap());
    let new = Lease {
        job_id: first.id,
        worker: "new".into(),
    };
    assert!(store.release_job(&new, "done", None, None).await.unwrap());
    assert!(
        store
            .claim_job("x", Duration::from_secs(1))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_decision_with_its_steps_and_job_is_stored_once() {
    let (store, _dir) = sqlite().await;
    let decision = NewDecision {
        shop: "s",
        order_id: "gid://shopify/Order/1",
        customer_id: None,
        trigger: "order_created",
        source: "webhook",
        dedupe_key: "order_created:s:1",
        policy_hash: "h",
        facts: "{}",
        rule: Some("r"),
        outcome: "cancel",
        cancel_reason: Some("FRAUD"),
        decision: "{}",
    };
    let steps = vec![NewStep {
        kind: "cancel_order".into(),
        request: "{}".into(),
    }];
    let jobs = vec![NewJob {
        idempotency_key: "execute:{decision}".into(),
        ..job("")
    }];
    let first = store
        .record_decision(&decision, &steps, &jobs)
        .await
        .unwrap();
    let again = store
        .record_decision(&decision, &steps, &jobs)
        .await
        .unwrap();
    assert!(matches!(first, Recorded::New(_)));
    assert_eq!(again, Recorded::Existing(first.id()));
    assert_eq!(store.steps(first.id()).await.unwrap().len(), 1);
    let jobs = store.jobs().await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].idempotency_key, format!("execute:{}", first.id()));
}

#[tokio::test]
async fn an_older_order_state_never_replaces_a_newer_one() {
    let (store, _dir) = sqlite().await;
    let now = Utc::now();
    let version = |at| OrderVersion {
        shop: "s",
        order_id: "o",
        updated_at: at,
        customer_id: None,
        cancelled_at: None,
        cancel_reason: None,
        fulfillment_status: None,
        variants: None,
    };
    assert!(store.advance_order_version(&version(now)).await.unwrap());
    assert!(
        !store
            .advance_order_version(&version(now - Span::seconds(5)))
            .await
            .unwrap()
    );
    assert!(!store.advance_order_version(&version(now)).await.unwrap());
    assert!(
        store
            .advance_order_version(&version(now + Span::seconds(5)))
            .await
            .unwrap()
    );
    let row = store.order_version("s", "o").await.unwrap().unwrap();
    assert_eq!(row.updated_at, ts(now + Span::seconds(5)));
}

#[tokio::test]
async fn reads_go_ahead_while_a_write_holds_the_writer() {
    let (store, _dir) = sqlite().await;
    store.enqueue(&job("before")).await.unwrap();
    let Store::Sqlite { pool, .. } = &store else {
        panic!("not SQLite");
    };
    // The writer's only connection, taken and mid-transaction.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO jobs (shop, kind, payload, idempotency_key, status, run_at, created_at, updated_at)
         VALUES ('s', 'execute', '{}', 'uncommitted', 'queued', '', '', '')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let jobs = tokio::time::timeout(Duration::from_secs(2), store.jobs())
        .await
        .expect("a read waited for the writer")
        .unwrap();
    let keys: Vec<_> = jobs.iter().map(|j| j.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["before"], "only what was committed");
    tx.commit().await.unwrap();
    assert_eq!(store.jobs().await.unwrap().len(), 2, "and then what was");
}

#[tokio::test]
async fn background_writes_take_the_writer_queue_one_at_a_time() {
    let turns = BackgroundTurns::new();
    assert!(turns.take().await.is_none(), "a request goes ahead");
    let first = in_background(async { turns.take().await }).await;
    assert!(first.is_some());
    let second = in_background(async {
        tokio::time::timeout(Duration::from_millis(50), turns.take()).await
    })
    .await;
    assert!(second.is_err(), "a second background write waits");
    assert!(turns.take().await.is_none(), "a request still goes ahead");
    drop(first);
    assert!(in_background(turns.take()).await.is_some());
}

#[tokio::test]
async fn open_orders_are_found_by_inventory_item_as_of_their_newest_version() {
    let (store, _dir) = sqlite().await;
    let now = Utc::now();
    let (mug, lamp) = (
        "gid://shopify/ProductVariant/1".to_string(),
        "gid://shopify/ProductVariant/2".to_string(),
    );
    let both = [mug.clone(), lamp.clone()];
    let only_lamp = [lamp.clone()];
    let only_mug = [mug.clone()];
    let version = |order, at, variants, cancelled_at, fulfillment_status| OrderVersion {
        shop: "s",
        order_id: order,
        updated_at: at,
        customer_id: None,
        cancelled_at,
        cancel_reason: None,
        fulfillment_status,
        variants,
    };
    macro_rules! advance {
        ($($arg:expr),*) => {
            store.advance_order_version(&version($($arg),*)).await.unwrap()
        };
    }
    // o1: mug and lamp, then edited down to the lamp; an older delivery brings the mug back
    // in vain.
    assert!(advance!("o1", now, Some(&both[..]), None, None));
    assert!(advance!(
        "o1",
        now + Span::seconds(2),
        Some(&only_lamp[..]),
        None,
        None
    ));
    assert!(!advance!(
        "o1",
        now + Span::seconds(1),
        Some(&both[..]),
        None,
        None
    ));
    // o2: a mug, open; o3: a mug, cancelled; o4: a mug, fulfilled; o5: a mug, and an update
    // without line items leaves its lines.
    assert!(advance!(
        "o2",
        now,
        Some(&only_mug[..]),
        None,
        Some("partial")
    ));
    assert!(advance!("o3", now, Some(&only_mug[..]), Some(now), None));
    assert!(advance!(
        "o4",
        now,
        Some(&only_mug[..]),
        None,
        Some("fulfilled")
    ));
    assert!(advance!("o5", now, Some(&only_mug[..]), None, None));
    assert!(advance!("o5", now + Span::seconds(1), None, None, None));

    // Only variants on open orders need their item looked up.
    assert_eq!(
        store.unmapped_open_variants("s").await.unwrap(),
        both.to_vec()
    );
    store
        .map_variant_item("s", &mug, "gid://shopify/InventoryItem/10")
        .await
        .unwrap();
    store
        .map_variant_item("s", &lamp, "gid://shopify/InventoryItem/20")
        .await
        .unwrap();
    assert!(store.unmapped_open_variants("s").await.unwrap().is_empty());
    assert!(
        store
            .unmapped_open_variants("other")
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store
            .open_orders_with_item("s", "gid://shopify/InventoryItem/10")
            .await
            .unwrap(),
        vec!["o2".to_string(), "o5".to_string()]
    );
    assert_eq!(
        store
            .open_orders_with_item("s", "gid://shopify/InventoryItem/20")
            .await
            .unwrap(),
        vec!["o1".to_string()]
    );
    assert!(
        store
            .open_orders_with_item("other", "gid://shopify/InventoryItem/10")
            .await
            .unwrap()
            .is_empty()
    );
    let o2 = store.order_version("s", "o2").await.unwrap().unwrap();
    assert_eq!(o2.fulfillment_status.as_deref(), Some("partial"));
}
