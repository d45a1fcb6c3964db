//! The service's database: SQLite (default) or PostgreSQL, one schema, one set of queries.
//!
//! Queries use `$N` placeholders and text timestamps, which both databases accept, so each is
//! written once and run on either pool through [`on_pool!`]. Where the dialects differ (claiming
//! a job) the SQL is chosen per backend. Everything that must happen together (a webhook and its
//! job; a decision, its steps and their job) is written in one transaction.

mod rows;
mod time;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{Semaphore, SemaphorePermit};

pub use rows::*;
pub use time::{parse_ts, ts};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Read-only SQLite connections: one per core of a small machine is plenty, reads are short.
const READERS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON in {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("`{0}` is not a database URL this service supports (sqlite:… or postgres://…)")]
    UnsupportedUrl(String),
}

#[derive(Debug, Clone)]
pub enum Store {
    Sqlite {
        /// The one connection that writes (see [`Store::connect`]).
        pool: SqlitePool,
        /// Turns on it for background work (see [`in_background`]).
        background: BackgroundTurns,
        /// Read-only connections beside it: in WAL mode a reader sees every committed write
        /// and never waits for the writer, so a query that only reads does not queue behind
        /// the workers' transactions and their disk flushes.
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `work` (a queue worker's job) as background work: on SQLite, where all writes share
/// one connection, its writes let those of requests someone waits for (a customer's cancel,
/// Shopify's webhook delivery with its 5-second timeout) go first. Each write still waits for
/// the one holding the connection; background writes enter the connection's queue one at a
/// time, so a request's write waits behind at most one of them instead of one per worker.
pub async fn in_background<F: Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

/// The single place in the writer's queue that background writes take in turn.
#[derive(Debug, Clone)]
pub struct BackgroundTurns(Arc<Semaphore>);

impl BackgroundTurns {
    fn new() -> BackgroundTurns {
        BackgroundTurns(Arc::new(Semaphore::new(1)))
    }

    /// A turn when the current task does background work; `None` (go ahead) otherwise.
    async fn take(&self) -> Option<SemaphorePermit<'_>> {
        if BACKGROUND.try_with(|_| ()).is_err() {
            return None;
        }
        // The semaphore is never closed, so this waits for a permit and never fails.
        self.0.acquire().await.ok()
    }
}

/// Runs the same body against whichever pool the store holds (on SQLite, the writer, in
/// turn for background work).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite {
                pool: $pool,
                background,
                ..
            } => {
                let _turn = background.take().await;
                $body
            }
            Store::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_pool!`] for a body that only reads: on SQLite it runs on a read-only connection.
/// Each statement there starts a fresh read transaction, so it sees what was committed before.
macro_rules! on_read_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite { reader: $pool, .. } => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Inserts a job unless its idempotency key exists; evaluates to whether it was inserted.
macro_rules! insert_job {
    ($conn:expr, $job:expr, $now:expr) => {{
        let job: &NewJob = $job;
        let now: DateTime<Utc> = $now;
        sqlx::query(
            "INSERT INTO jobs (shop, kind, payload, idempotency_key, status, run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(job.shop.as_str())
        .bind(job.kind.as_str())
        .bind(job.payload.as_str())
        .bind(job.idempotency_key.as_str())
        .bind(ts(job.run_at.unwrap_or(now)))
        .bind(ts(now))
        .execute($conn)
        .await?
        .rows_affected()
            == 1
    }};
}

/// Whether a job run may still write: it holds the job's lock.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job_id: i64,
    pub worker: String,
}

impl Store {
    /// Opens the database and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed webhook or step result survives power loss.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // One connection: SQLite has one writer at a time, and writers that race for the
            // lock on separate connections wait in SQLite's busy handler, which sleeps 1 to
            // 100 ms per try. Queued on the pool instead, each waits only for the commit ahead.
            // A connection to a local file cannot go stale: no ping before each use.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            // An in-memory database exists only on its own connection: reads stay on it.
            let reader = if url.contains(":memory:") || url.contains("mode=memory") {
                pool.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(READERS)
                    .test_before_acquire(false)
                    .connect_with(options.read_only(true).create_if_missing(false))
                    .await?
            };
            Store::Sqlite {
                pool,
                reader,
                background: BackgroundTurns::new(),
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Store::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite { pool, reader, .. } => {
                reader.close().await;
                pool.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }

    // ---- shops -------------------------------------------------------------------------

    pub async fn upsert_shop(&self, shop: &NewShop<'_>) -> Result<(), StoreError> {
        let now = ts(Utc::now());
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO shops (domain, access_token, admin_url, timezone, installed_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (domain) DO UPDATE SET access_token = excluded.access_token,
                   admin_url = excluded.admin_url, timezone = excluded.timezone,
                   installed_at = excluded.installed_at, uninstalled_at = NULL",
            )
            .bind(shop.domain)
            .bind(shop.access_token)
            .bind(shop.admin_url)
            .bind(shop.timezone)
            .bind(&now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Stores an access token and its refresh token with their expiries in ONE statement, so a
    /// reader never pairs a new access token with an old refresh token (or the reverse).
    /// https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
    pub async fn set_shop_tokens(
        &self,
        domain: &str,
        tokens: &ShopTokens<'_>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE shops SET access_token = $2, access_token_expires_at = $3,
                   refresh_token = $4, refresh_token_expires_at = $5
                 WHERE domain = $1",
            )
            .bind(domain)
            .bind(tokens.access_token)
            .bind(tokens.access_token_expires_at.map(ts))
            .bind(tokens.refresh_token)
            .bind(tokens.refresh_token_expires_at.map(ts))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn shop(&self, domain: &str) -> Result<Option<ShopRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, ShopRow>("SELECT * FROM shops WHERE domain = $1")
                .bind(domain)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn set_shop_timezone(&self, domain: &str, zone: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE shops SET timezone = $2 WHERE domain = $1")
                .bind(domain)
                .bind(zone)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// `app/uninstalled`: the token is revoked by Shopify; forget it.
    pub async fn uninstall_shop(&self, domain: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE shops SET uninstalled_at = $2, access_token = '' WHERE domain = $1")
                .bind(domain)
                .bind(ts(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    // ---- webhooks ----------------------------------------------------------------------

    /// Stores a verified delivery and its job in one transaction. A delivery whose id was seen
    /// before stores nothing and returns `false`.
    pub async fn accept_webhook(
        &self,
        webhook: &NewWebhook<'_>,
        job: Option<&NewJob>,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let accepted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO webhooks (webhook_id, shop, topic, event_id, triggered_at, resource_id,
                   customer_id, status, received_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'accepted', $8, $9)
                 ON CONFLICT (webhook_id) DO NOTHING",
            )
            .bind(webhook.webhook_id)
            .bind(webhook.shop)
            .bind(webhook.topic)
            .bind(webhook.event_id)
            .bind(webhook.triggered_at.map(ts))
            .bind(webhook.resource_id.as_deref())
            .bind(webhook.customer_id.as_deref())
            .bind(ts(now))
            .bind(webhook.body)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                if let Some(job) = job {
                    let _ = insert_job!(&mut *tx, job, now);
                }
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(accepted)
    }

    pub async fn webhook(&self, webhook_id: &str) -> Result<Option<WebhookRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRow>("SELECT * FROM webhooks WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn webhook_count(&self, shop: &str) -> Result<i64, StoreError> {
        let n = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM webhooks WHERE shop = $1")
                .bind(shop)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    pub async fn set_webhook_status(
        &self,
        webhook_id: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE webhooks SET status = $2 WHERE webhook_id = $1")
                .bind(webhook_id)
                .bind(status)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records the order's state as of `updated_at` unless a newer one is already stored, with
    /// its variants when given. Returns whether this version is the newest seen (a stale
    /// delivery returns `false` and changes nothing).
    pub async fn advance_order_version(
        &self,
        version: &OrderVersion<'_>,
    ) -> Result<bool, StoreError> {
        const ADVANCE: &str = "INSERT INTO order_versions (shop, order_id, updated_at, customer_id,
               cancelled_at, cancel_reason, fulfillment_status)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (shop, order_id) DO UPDATE SET updated_at = excluded.updated_at,
               customer_id = COALESCE(excluded.customer_id, order_versions.customer_id),
               cancelled_at = excluded.cancelled_at, cancel_reason = excluded.cancel_reason,
               fulfillment_status = excluded.fulfillment_status
             WHERE excluded.updated_at > order_versions.updated_at";
        macro_rules! advance {
            ($conn:expr) => {
                sqlx::query(ADVANCE)
                    .bind(version.shop)
                    .bind(version.order_id)
                    .bind(ts(version.updated_at))
                    .bind(version.customer_id)
                    .bind(version.cancelled_at.map(ts))
                    .bind(version.cancel_reason)
                    .bind(version.fulfillment_status)
                    .execute($conn)
                    .await?
                    .rows_affected()
                    == 1
            };
        }
        let advanced = on_pool!(self, pool => {
            match version.variants {
                // No line items in the payload: one statement, the lines stay as they are.
                None => advance!(pool),
                // The lines follow the version: an order edit's newer payload replaces them,
                // an older delivery leaves them.
                Some(variants) => {
                    let mut tx = pool.begin().await?;
                    let advanced = advance!(&mut *tx);
                    if advanced {
                        sqlx::query("DELETE FROM order_lines WHERE shop = $1 AND order_id = $2")
                            .bind(version.shop)
                            .bind(version.order_id)
                            .execute(&mut *tx)
                            .await?;
                        for variant in variants {
                            sqlx::query(
                                "INSERT INTO order_lines (shop, order_id, variant_id) VALUES ($1, $2, $3)
                                 ON CONFLICT (shop, order_id, variant_id) DO NOTHING",
                            )
                            .bind(version.shop)
                            .bind(version.order_id)
                            .bind(variant)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    tx.commit().await?;
                    advanced
                }
            }
        });
        Ok(advanced)
    }

    /// Variants on the shop's open orders (not cancelled, not fulfilled) whose inventory item
    /// is not known yet.
    pub async fn unmapped_open_variants(&self, shop: &str) -> Result<Vec<String>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT l.variant_id FROM order_lines l
                 JOIN order_versions v ON v.shop = l.shop AND v.order_id = l.order_id
                 WHERE l.shop = $1 AND v.cancelled_at IS NULL
                   AND COALESCE(v.fulfillment_status, '') <> 'fulfilled'
                   AND NOT EXISTS (SELECT 1 FROM variant_items i
                                   WHERE i.shop = l.shop AND i.variant_id = l.variant_id)
                 ORDER BY l.variant_id",
            )
            .bind(shop)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Remembers a variant's inventory item (empty when the variant is gone).
    pub async fn map_variant_item(
        &self,
        shop: &str,
        variant_id: &str,
        inventory_item_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO variant_items (shop, variant_id, inventory_item_id) VALUES ($1, $2, $3)
                 ON CONFLICT (shop, variant_id) DO UPDATE SET inventory_item_id = excluded.inventory_item_id",
            )
            .bind(shop)
            .bind(variant_id)
            .bind(inventory_item_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The shop's open orders (not cancelled, not fulfilled) with a line of this inventory
    /// item, as the newest order versions seen describe them.
    pub async fn open_orders_with_item(
        &self,
        shop: &str,
        inventory_item_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT l.order_id FROM variant_items i
                 JOIN order_lines l ON l.shop = i.shop AND l.variant_id = i.variant_id
                 JOIN order_versions v ON v.shop = l.shop AND v.order_id = l.order_id
                 WHERE i.shop = $1 AND i.inventory_item_id = $2 AND v.cancelled_at IS NULL
                   AND COALESCE(v.fulfillment_status, '') <> 'fulfilled'
                 ORDER BY l.order_id",
            )
            .bind(shop)
            .bind(inventory_item_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Queues jobs together: all or none. Returns how many were new (the others' idempotency
    /// keys existed).
    pub async fn enqueue_all(&self, jobs: &[NewJob]) -> Result<usize, StoreError> {
        let now = Utc::now();
        let inserted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for job in jobs {
                if insert_job!(&mut *tx, job, now) {
                    inserted += 1;
                }
            }
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    /// When this customer's orders were cancelled (for `customer.cancelledOrderDates`).
    pub async fn customer_cancellations(
        &self,
        shop: &str,
        customer_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT cancelled_at FROM order_versions
                 WHERE shop = $1 AND customer_id = $2 AND cancelled_at IS NOT NULL ORDER BY cancelled_at",
            )
            .bind(shop)
            .bind(customer_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    pub async fn order_version(
        &self,
        shop: &str,
        order_id: &str,
    ) -> Result<Option<OrderVersionRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, OrderVersionRow>(
                "SELECT * FROM order_versions WHERE shop = $1 AND order_id = $2",
            )
            .bind(shop)
            .bind(order_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    // ---- policies ----------------------------------------------------------------------

    /// Stores a compiled policy version and makes it the shop's active one.
    pub async fn publish_policy(&self, policy: &NewPolicy<'_>) -> Result<PolicyRow, StoreError> {
        let now = ts(Utc::now());
        let row = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE policies SET active = 0 WHERE shop = $1")
                .bind(policy.shop)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO policies (shop, policy_id, version, hash, compiled, source, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
                 ON CONFLICT (shop, hash) DO UPDATE SET active = 1",
            )
            .bind(policy.shop)
            .bind(policy.policy_id)
            .bind(policy.version)
            .bind(policy.hash)
            .bind(policy.compiled)
            .bind(policy.source)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query_as::<_, PolicyRow>("SELECT * FROM policies WHERE shop = $1 AND hash = $2")
                .bind(policy.shop)
                .bind(policy.hash)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        Ok(row)
    }

    pub async fn active_policy(&self, shop: &str) -> Result<Option<PolicyRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, PolicyRow>("SELECT * FROM policies WHERE shop = $1 AND active = 1")
                .bind(shop)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// The hash of the shop's active version: one small indexed read that tells whether a
    /// compiled copy kept in memory is still the active one.
    pub async fn active_policy_hash(&self, shop: &str) -> Result<Option<String>, StoreError> {
        let hash = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT hash FROM policies WHERE shop = $1 AND active = 1")
                .bind(shop)
                .fetch_optional(pool)
                .await?
        });
        Ok(hash)
    }

    pub async fn policies(&self, shop: &str) -> Result<Vec<PolicyRow>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, PolicyRow>("SELECT * FROM policies WHERE shop = $1 ORDER BY id DESC")
                .bind(shop)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Makes an earlier version active again; `false` when the shop has no such version.
    pub async fn activate_policy(&self, shop: &str, hash: &str) -> Result<bool, StoreError> {
        let found = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let exists = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM policies WHERE shop = $1 AND hash = $2")
                .bind(shop)
                .bind(hash)
                .fetch_one(&mut *tx)
                .await?;
            if exists == 1 {
                sqlx::query("UPDATE policies SET active = CASE WHEN hash = $2 THEN 1 ELSE 0 END WHERE shop = $1")
                    .bind(shop)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                true
            } else {
                false
            }
        });
        Ok(found)
    }

    // ---- decisions and steps -----------------------------------------------------------

    /// Stores a decision, its planned steps and the jobs that carry them out, atomically.
    /// A decision whose dedupe key exists stores nothing and returns the existing id.
    pub async fn record_decision(
        &self,
        decision: &NewDecision<'_>,
        steps: &[NewStep],
        jobs: &[NewJob],
    ) -> Result<Recorded, StoreError> {
        let now = Utc::now();
        let recorded = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO decisions (shop, order_id, customer_id, trigger_name, source, dedupe_key,
                   policy_hash, facts, rule, outcome, cancel_reason, decision, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (dedupe_key) DO NOTHING
                 RETURNING id",
            )
            .bind(decision.shop)
            .bind(decision.order_id)
            .bind(decision.customer_id)
            .bind(decision.trigger)
            .bind(decision.source)
            .bind(decision.dedupe_key)
            .bind(decision.policy_hash)
            .bind(decision.facts)
            .bind(decision.rule)
            .bind(decision.outcome)
            .bind(decision.cancel_reason)
            .bind(decision.decision)
            .bind(if steps.is_empty() { "done" } else { "planned" })
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                Some(id) => {
                    for (seq, step) in steps.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO steps (decision_id, seq, kind, request, status)
                             VALUES ($1, $2, $3, $4, 'pending')",
                        )
                        .bind(id)
                        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                        .bind(&step.kind)
                        .bind(&step.request)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for job in jobs {
                        let job = job.for_decision(id);
                        let _ = insert_job!(&mut *tx, &job, now);
                    }
                    tx.commit().await?;
                    Recorded::New(id)
                }
                None => {
                    tx.rollback().await?;
                    let id = sqlx::query_scalar::<_, i64>("SELECT id FROM decisions WHERE dedupe_key = $1")
                        .bind(decision.dedupe_key)
                        .fetch_one(pool)
                        .await?;
                    Recorded::Existing(id)
                }
            }
        });
        Ok(recorded)
    }

    pub async fn decision(&self, id: i64) -> Result<Option<DecisionRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, DecisionRow>("SELECT * FROM decisions WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn decisions_for_order(
        &self,
        shop: &str,
        order_id: &str,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, DecisionRow>(
                "SELECT * FROM decisions WHERE shop = $1 AND order_id = $2 ORDER BY id",
            )
            .bind(shop)
            .bind(order_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Decisions of one order in any shop (the command line's `audit ORDER_ID`).
    pub async fn decisions_for_order_any_shop(
        &self,
        order_id: &str,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, DecisionRow>("SELECT * FROM decisions WHERE order_id = $1 ORDER BY id")
                .bind(order_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    pub async fn set_decision_status(&self, id: i64, status: &str) -> Result<(), StoreError> {
        let finished = matches!(status, "done" | "failed" | "stopped").then(|| ts(Utc::now()));
        on_pool!(self, pool => {
            sqlx::query("UPDATE decisions SET status = $2, finished_at = $3 WHERE id = $1")
                .bind(id)
                .bind(status)
                .bind(finished)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn steps(&self, decision_id: i64) -> Result<Vec<StepRow>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, StepRow>("SELECT * FROM steps WHERE decision_id = $1 ORDER BY seq")
                .bind(decision_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Marks a step as being attempted. Fenced by the job lease: a worker that lost its lease
    /// writes nothing and gets `false`.
    pub async fn start_step(&self, step_id: i64, lease: &Lease) -> Result<bool, StoreError> {
        let now = ts(Utc::now());
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE steps SET status = 'running', attempts = attempts + 1,
                   started_at = COALESCE(started_at, $2)
                 WHERE id = $1 AND EXISTS (SELECT 1 FROM jobs WHERE id = $3 AND locked_by = $4)",
            )
            .bind(step_id)
            .bind(&now)
            .bind(lease.job_id)
            .bind(&lease.worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Saves what a step learned mid-way (e.g. the job id `orderCancel` returned), fenced.
    pub async fn step_progress(
        &self,
        step_id: i64,
        progress: &str,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE steps SET progress = $2
                 WHERE id = $1 AND EXISTS (SELECT 1 FROM jobs WHERE id = $3 AND locked_by = $4)",
            )
            .bind(step_id)
            .bind(progress)
            .bind(lease.job_id)
            .bind(&lease.worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records a step's end: `done`, `failed`, `waiting` or `skipped`, fenced.
    pub async fn finish_step(
        &self,
        step_id: i64,
        end: &StepEnd<'_>,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE steps SET status = $2, result = $3, error = $4, finished_at = $5, duration_ms = $6
                 WHERE id = $1 AND EXISTS (SELECT 1 FROM jobs WHERE id = $7 AND locked_by = $8)",
            )
            .bind(step_id)
            .bind(end.status)
            .bind(end.result)
            .bind(end.error)
            .bind(ts(now))
            .bind(end.duration_ms)
            .bind(lease.job_id)
            .bind(&lease.worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    // ---- jobs --------------------------------------------------------------------------

    pub async fn enqueue(&self, job: &NewJob) -> Result<bool, StoreError> {
        let now = Utc::now();
        let inserted = on_pool!(self, pool => {
            insert_job!(pool, job, now)
        });
        Ok(inserted)
    }

    /// Claims the next due job (or one whose lease expired) for `worker`.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<JobRow>, StoreError> {
        let now = Utc::now();
        let until =
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        let (now, until) = (ts(now), ts(until));
        let row = match self {
            // SQLite has one writer at a time: the single UPDATE … RETURNING is the claim.
            Store::Sqlite {
                pool, background, ..
            } => {
                let _turn = background.take().await;
                sqlx::query_as::<_, JobRow>(
                    "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2,
                   attempts = attempts + 1, updated_at = $3
                 WHERE id = (SELECT id FROM jobs
                             WHERE (status = 'queued' AND run_at <= $3)
                                OR (status = 'running' AND locked_until < $3)
                             ORDER BY run_at, id LIMIT 1)
                 RETURNING *",
                )
                .bind(worker)
                .bind(&until)
                .bind(&now)
                .fetch_optional(pool)
                .await?
            }
            // Replicas on one PostgreSQL skip rows another is claiming.
            Store::Postgres(pool) => {
                sqlx::query_as::<_, JobRow>(
                    "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2,
                   attempts = attempts + 1, updated_at = $3
                 WHERE id = (SELECT id FROM jobs
                             WHERE (status = 'queued' AND run_at <= $3)
                                OR (status = 'running' AND locked_until < $3)
                             ORDER BY run_at, id LIMIT 1
                             FOR UPDATE SKIP LOCKED)
                 RETURNING *",
                )
                .bind(worker)
                .bind(&until)
                .bind(&now)
                .fetch_optional(pool)
                .await?
            }
        };
        Ok(row)
    }

    /// Extends the lease; `false` when another worker took the job over.
    pub async fn heartbeat(&self, lease: &Lease, duration: Duration) -> Result<bool, StoreError> {
        let until = Utc::now()
            + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::seconds(30));
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
                .bind(lease.job_id)
                .bind(&lease.worker)
                .bind(ts(until))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Ends a run: `done`, `failed`, or back to `queued` at `retry_at`.
    pub async fn release_job(
        &self,
        lease: &Lease,
        status: &str,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET status = $3, last_error = COALESCE($4, last_error),
                   run_at = COALESCE($5, run_at), locked_by = NULL, locked_until = NULL, updated_at = $6
                 WHERE id = $1 AND locked_by = $2",
            )
            .bind(lease.job_id)
            .bind(&lease.worker)
            .bind(status)
            .bind(error)
            .bind(retry_at.map(ts))
            .bind(ts(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Makes a waiting job due now (e.g. a fulfillment service answered).
    pub async fn wake_job(&self, idempotency_key: &str) -> Result<bool, StoreError> {
        let now = ts(Utc::now());
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE jobs SET run_at = $2, status = 'queued' WHERE idempotency_key = $1 AND status = 'queued'")
                .bind(idempotency_key)
                .bind(&now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Makes due the execution of every decision with a step waiting on this fulfillment order.
    pub async fn wake_waiting_steps(
        &self,
        shop: &str,
        fulfillment_order_id: &str,
    ) -> Result<u64, StoreError> {
        if fulfillment_order_id.is_empty() {
            return Ok(0);
        }
        let pattern = format!("%\"{fulfillment_order_id}\"%");
        let now = ts(Utc::now());
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET run_at = $3 WHERE status = 'queued' AND shop = $1 AND kind = 'execute'
                   AND idempotency_key IN (
                     SELECT 'execute:' || CAST(s.decision_id AS TEXT) FROM steps s
                     WHERE s.status = 'waiting' AND s.request LIKE $2)",
            )
            .bind(shop)
            .bind(&pattern)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// Parks a job that waits for someone else until `at`, without using up its attempts.
    pub async fn park_job(&self, lease: &Lease, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET status = 'queued', run_at = $3, attempts = 0, locked_by = NULL,
                   locked_until = NULL, updated_at = $4
                 WHERE id = $1 AND locked_by = $2",
            )
            .bind(lease.job_id)
            .bind(&lease.worker)
            .bind(ts(at))
            .bind(ts(Utc::now()))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        let rows: Vec<(String, i64)> = on_read_pool!(self, pool => {
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status")
                .fetch_all(pool)
                .await?
        });
        let mut counts = JobCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "queued" => counts.queued = n,
                "running" => counts.running = n,
                "done" => counts.done = n,
                "failed" => counts.failed = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    pub async fn jobs(&self) -> Result<Vec<JobRow>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, JobRow>("SELECT * FROM jobs ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    // ---- Flow ------------------------------------------------------------------------

    /// Remembers a Flow action run; `false` when the run id was seen (a resend).
    pub async fn accept_flow_run(
        &self,
        run_id: &str,
        shop: &str,
        order_id: &str,
    ) -> Result<bool, StoreError> {
        let now = ts(Utc::now());
        let n = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO flow_runs (action_run_id, shop, order_id, received_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (action_run_id) DO NOTHING",
            )
            .bind(run_id)
            .bind(shop)
            .bind(order_id)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Links a Flow action run to the decision that answered it (the audit's way from Flow's
    /// run id to the decision). The first link stays: a run has one decision.
    pub async fn link_flow_run(&self, run_id: &str, decision_id: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE flow_runs SET decision_id = $2 WHERE action_run_id = $1 AND decision_id IS NULL",
            )
            .bind(run_id)
            .bind(decision_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// The decision a Flow action run was answered with, once linked.
    pub async fn flow_run_decision(&self, run_id: &str) -> Result<Option<i64>, StoreError> {
        let id = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT decision_id FROM flow_runs WHERE action_run_id = $1",
            )
            .bind(run_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(id.flatten())
    }

    // ---- compliance ------------------------------------------------------------------

    /// `customers/data_request`: everything stored about the customer, kept for the merchant.
    pub async fn export_customer(
        &self,
        shop: &str,
        customer_id: &str,
    ) -> Result<CustomerExport, StoreError> {
        let decisions = on_pool!(self, pool => {
            sqlx::query_as::<_, DecisionRow>(
                "SELECT * FROM decisions WHERE shop = $1 AND customer_id = $2 ORDER BY id",
            )
            .bind(shop)
            .bind(customer_id)
            .fetch_all(pool)
            .await?
        });
        let export = CustomerExport {
            shop: shop.to_string(),
            customer_id: customer_id.to_string(),
            decisions,
        };
        let text = serde_json::to_string(&export).map_err(|source| StoreError::Json {
            what: "customer export",
            source,
        })?;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO compliance_exports (shop, customer_id, requested_at, export) VALUES ($1, $2, $3, $4)",
            )
            .bind(shop)
            .bind(customer_id)
            .bind(ts(Utc::now()))
            .bind(&text)
            .execute(pool)
            .await?;
        });
        Ok(export)
    }

    pub async fn compliance_exports(&self, shop: &str) -> Result<Vec<String>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT export FROM compliance_exports WHERE shop = $1 ORDER BY id")
                .bind(shop)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// `customers/redact`: deletes the customer's decisions, steps and webhook bodies.
    pub async fn redact_customer(
        &self,
        shop: &str,
        customer_id: &str,
        order_ids: &[String],
    ) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut deleted = sqlx::query("DELETE FROM decisions WHERE shop = $1 AND customer_id = $2")
                .bind(shop)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for order in order_ids {
                deleted += sqlx::query("DELETE FROM decisions WHERE shop = $1 AND order_id = $2")
                    .bind(shop)
                    .bind(order)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM order_versions WHERE shop = $1 AND order_id = $2")
                    .bind(shop)
                    .bind(order)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM order_lines WHERE shop = $1 AND order_id = $2")
                    .bind(shop)
                    .bind(order)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE webhooks SET body = '{}', status = 'redacted' WHERE shop = $1 AND resource_id = $2")
                    .bind(shop)
                    .bind(order)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE webhooks SET body = '{}', status = 'redacted' WHERE shop = $1 AND customer_id = $2")
                .bind(shop)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM compliance_exports WHERE shop = $1 AND customer_id = $2")
                .bind(shop)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            deleted
        });
        Ok(deleted)
    }

    /// `shop/redact`: deletes everything stored for the shop.
    pub async fn redact_shop(&self, shop: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for sql in [
                "DELETE FROM decisions WHERE shop = $1",
                "DELETE FROM order_versions WHERE shop = $1",
                "DELETE FROM order_lines WHERE shop = $1",
                "DELETE FROM variant_items WHERE shop = $1",
                "DELETE FROM policies WHERE shop = $1",
                "DELETE FROM flow_runs WHERE shop = $1",
                "DELETE FROM compliance_exports WHERE shop = $1",
                // Its outcomes and errors go with it (ON DELETE CASCADE).
                "DELETE FROM bulk_cancellations WHERE shop = $1",
                "DELETE FROM jobs WHERE shop = $1 AND status <> 'running'",
                "UPDATE webhooks SET body = '{}', status = 'redacted' WHERE shop = $1",
                "DELETE FROM shops WHERE domain = $1",
            ] {
                sqlx::query(sql).bind(shop).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- analytics -------------------------------------------------------------------

    /// Cancelling decisions carried out, per day, rule and reason, and the orders seen.
    pub async fn stats(&self, shop: &str) -> Result<Stats, StoreError> {
        let (by_day, by_rule, by_reason, orders_seen, decided_orders) = on_read_pool!(self, pool => {
            let by_day: Vec<(String, i64)> = sqlx::query_as(
                "SELECT SUBSTR(created_at, 1, 10) AS day, COUNT(*) FROM decisions
                 WHERE shop = $1 AND status = 'done' AND outcome IN ('cancel', 'allow', 'cancel_lines')
                 GROUP BY SUBSTR(created_at, 1, 10) ORDER BY day",
            )
            .bind(shop)
            .fetch_all(pool)
            .await?;
            let by_rule: Vec<(String, i64)> = sqlx::query_as(
                "SELECT COALESCE(rule, 'default') AS r, COUNT(*) FROM decisions
                 WHERE shop = $1 AND status = 'done' AND outcome IN ('cancel', 'allow', 'cancel_lines')
                 GROUP BY COALESCE(rule, 'default') ORDER BY r",
            )
            .bind(shop)
            .fetch_all(pool)
            .await?;
            let by_reason: Vec<(String, i64)> = sqlx::query_as(
                "SELECT COALESCE(cancel_reason, 'NONE') AS r, COUNT(*) FROM decisions
                 WHERE shop = $1 AND status = 'done' AND outcome IN ('cancel', 'allow', 'cancel_lines')
                 GROUP BY COALESCE(cancel_reason, 'NONE') ORDER BY r",
            )
            .bind(shop)
            .fetch_all(pool)
            .await?;
            let orders_seen: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT order_id FROM order_versions WHERE shop = $1
                  UNION SELECT order_id FROM decisions WHERE shop = $1) AS seen",
            )
            .bind(shop)
            .fetch_one(pool)
            .await?;
            let decided: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT order_id) FROM decisions
                 WHERE shop = $1 AND status = 'done' AND outcome IN ('cancel', 'allow', 'cancel_lines')",
            )
            .bind(shop)
            .fetch_one(pool)
            .await?;
            (by_day, by_rule, by_reason, orders_seen, decided)
        });
        Ok(Stats::new(
            by_day,
            by_rule,
            by_reason,
            orders_seen,
            decided_orders,
        ))
    }
}

// After the macros above, which it uses.
mod bulk;
pub use bulk::{BulkOrderError, BulkRow, NewBulk, PageResult};
mod webhook_batch;
pub use webhook_batch::PendingWebhook;

#[cfg(test)]
mod tests;
