//! Group commit for the webhook door: many verified deliveries, each with its job, stored in
//! one transaction. With `synchronous = FULL` every commit is a disk flush; sharing one flush
//! among the deliveries that arrived meanwhile keeps each delivery durable before its 200
//! while the door's throughput is no longer one flush per delivery.

use chrono::{DateTime, Utc};

use super::{NewJob, Store, StoreError, ts};

/// A verified delivery, owned, waiting for the next group commit.
#[derive(Debug, Clone)]
pub struct PendingWebhook {
    pub webhook_id: String,
    pub shop: String,
    pub topic: String,
    pub event_id: Option<String>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub resource_id: Option<String>,
    pub customer_id: Option<String>,
    pub body: String,
    pub job: Option<NewJob>,
}

impl Store {
    /// Stores the deliveries and their jobs in one transaction. For each delivery, in order:
    /// `true` when stored, `false` when its webhook id was seen before (nothing stored).
    pub async fn accept_webhooks(
        &self,
        deliveries: &[PendingWebhook],
    ) -> Result<Vec<bool>, StoreError> {
        let now = Utc::now();
        let accepted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut accepted = Vec::with_capacity(deliveries.len());
            for webhook in deliveries {
                let inserted = sqlx::query(
                    "INSERT INTO webhooks (webhook_id, shop, topic, event_id, triggered_at, resource_id,
                       customer_id, status, received_at, body)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'accepted', $8, $9)
                     ON CONFLICT (webhook_id) DO NOTHING",
                )
                .bind(&webhook.webhook_id)
                .bind(&webhook.shop)
                .bind(&webhook.topic)
                .bind(webhook.event_id.as_deref())
                .bind(webhook.triggered_at.map(ts))
                .bind(webhook.resource_id.as_deref())
                .bind(webhook.customer_id.as_deref())
                .bind(ts(now))
                .bind(&webhook.body)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if inserted && let Some(job) = &webhook.job {
                    let _ = insert_job!(&mut *tx, job, now);
                }
                accepted.push(inserted);
            }
            tx.commit().await?;
            accepted
        });
        Ok(accepted)
    }
}
