//! Staff bulk cancellations: the run, its cursor and its counts.
//!
//! A run advances one page at a time. Committing a page is a compare-and-set on the number of
//! pages committed, fenced by the page job's lease, and writes the counts, the next cursor and
//! the next page's job in one transaction: a page re-run after a crash counts nothing twice
//! and enqueues its successor once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Lease, NewJob, Store, StoreError, ts};

pub struct NewBulk<'a> {
    pub shop: &'a str,
    pub query: &'a str,
    pub trigger: &'a str,
    pub dry_run: bool,
    pub page_size: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BulkRow {
    pub id: i64,
    pub shop: String,
    pub query: String,
    pub trigger_name: String,
    pub dry_run: i64,
    pub page_size: i64,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Where the next page starts; `None` before the first page.
    pub cursor: Option<String>,
    pub pages: i64,
    pub orders_seen: i64,
    pub decided: i64,
    pub errors: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct BulkOrderError {
    pub order_id: String,
    pub message: String,
    pub at: String,
}

/// What one page did.
#[derive(Debug, Clone, Default)]
pub struct PageResult {
    pub orders_seen: i64,
    /// Orders decided, per outcome.
    pub outcomes: BTreeMap<String, i64>,
    /// Orders that could not be decided: (order id, why).
    pub errors: Vec<(String, String)>,
    /// The cursor after this page's last order (`pageInfo.endCursor`).
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

impl PageResult {
    pub fn decided(&self) -> i64 {
        self.outcomes.values().sum()
    }
}

impl Store {
    /// Stores a new run and its first page's job; returns the run's id.
    pub async fn create_bulk(&self, bulk: &NewBulk<'_>) -> Result<i64, StoreError> {
        let now = Utc::now();
        let id = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bulk_cancellations (shop, query, trigger_name, dry_run, page_size,
                   status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'running', $6, $6)
                 RETURNING id",
            )
            .bind(bulk.shop)
            .bind(bulk.query)
            .bind(bulk.trigger)
            .bind(i64::from(bulk.dry_run))
            .bind(bulk.page_size)
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?;
            let _ = insert_job!(&mut *tx, &page_job(bulk.shop, id, 0), now);
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub async fn bulk(&self, id: i64) -> Result<Option<BulkRow>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, BulkRow>("SELECT * FROM bulk_cancellations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn bulk_outcomes(&self, id: i64) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = on_read_pool!(self, pool => {
            sqlx::query_as("SELECT outcome, orders FROM bulk_cancellation_outcomes WHERE bulk_id = $1")
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The first `limit` orders that could not be decided, oldest first.
    pub async fn bulk_errors(
        &self,
        id: i64,
        limit: i64,
    ) -> Result<Vec<BulkOrderError>, StoreError> {
        let rows = on_read_pool!(self, pool => {
            sqlx::query_as::<_, BulkOrderError>(
                "SELECT order_id, message, at FROM bulk_cancellation_errors
                 WHERE bulk_id = $1 ORDER BY at, order_id LIMIT $2",
            )
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The id of the decision stored under this dedupe key, if any.
    pub async fn decision_by_dedupe_key(
        &self,
        dedupe_key: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let row = on_read_pool!(self, pool => {
            sqlx::query_as::<_, (i64, String)>(
                "SELECT id, outcome FROM decisions WHERE dedupe_key = $1",
            )
            .bind(dedupe_key)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Commits page number `page` of a run: counts, next cursor, status, and the next page's
    /// job. `false` (nothing written) when the page was committed before or the lease is lost.
    pub async fn commit_bulk_page(
        &self,
        bulk_id: i64,
        page: i64,
        result: &PageResult,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        // A next page without a cursor cannot be asked for: the run ends here.
        let finished = !result.has_next_page || result.end_cursor.is_none();
        let status = if finished { "done" } else { "running" };
        let error_count = i64::try_from(result.errors.len()).unwrap_or(i64::MAX);
        let committed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let shop: Option<String> = sqlx::query_scalar(
                "UPDATE bulk_cancellations SET pages = pages + 1, cursor = COALESCE($3, cursor),
                   orders_seen = orders_seen + $4, decided = decided + $5, errors = errors + $6,
                   status = $7, updated_at = $8, finished_at = $9
                 WHERE id = $1 AND pages = $2 AND status = 'running'
                   AND EXISTS (SELECT 1 FROM jobs WHERE id = $10 AND locked_by = $11)
                 RETURNING shop",
            )
            .bind(bulk_id)
            .bind(page)
            .bind(result.end_cursor.as_deref())
            .bind(result.orders_seen)
            .bind(result.decided())
            .bind(error_count)
            .bind(status)
            .bind(ts(now))
            .bind(finished.then(|| ts(now)))
            .bind(lease.job_id)
            .bind(&lease.worker)
            .fetch_optional(&mut *tx)
            .await?;
            match shop {
                Some(shop) => {
                    for (outcome, orders) in &result.outcomes {
                        sqlx::query(
                            "INSERT INTO bulk_cancellation_outcomes (bulk_id, outcome, orders)
                             VALUES ($1, $2, $3)
                             ON CONFLICT (bulk_id, outcome)
                             DO UPDATE SET orders = bulk_cancellation_outcomes.orders + excluded.orders",
                        )
                        .bind(bulk_id)
                        .bind(outcome)
                        .bind(orders)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for (order_id, message) in &result.errors {
                        sqlx::query(
                            "INSERT INTO bulk_cancellation_errors (bulk_id, order_id, message, at)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (bulk_id, order_id) DO UPDATE SET message = excluded.message",
                        )
                        .bind(bulk_id)
                        .bind(order_id)
                        .bind(message)
                        .bind(ts(now))
                        .execute(&mut *tx)
                        .await?;
                    }
                    if !finished {
                        let _ = insert_job!(&mut *tx, &page_job(&shop, bulk_id, page + 1), now);
                    }
                    tx.commit().await?;
                    true
                }
                None => {
                    tx.rollback().await?;
                    false
                }
            }
        });
        Ok(committed)
    }

    /// Ends a run that cannot go on (its query was refused, the shop has no policy).
    pub async fn fail_bulk(&self, bulk_id: i64, error: &str) -> Result<(), StoreError> {
        let now = ts(Utc::now());
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE bulk_cancellations SET status = 'failed', last_error = $2, updated_at = $3,
                   finished_at = $3
                 WHERE id = $1 AND status = 'running'",
            )
            .bind(bulk_id)
            .bind(error)
            .bind(&now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

/// The job that reads and decides page `page` (0-based) of run `bulk_id`.
fn page_job(shop: &str, bulk_id: i64, page: i64) -> NewJob {
    NewJob {
        shop: shop.to_string(),
        kind: "bulk_page".to_string(),
        payload: format!(r#"{{"bulkId":{bulk_id},"page":{page}}}"#),
        idempotency_key: format!("bulk:{bulk_id}:page:{page}"),
        run_at: None,
    }
}
