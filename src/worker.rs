//! Workers: claim due jobs from the queue table, run them, record how they ended.
//!
//! Kinds: `webhook` (act on a stored delivery), `decide` (decide an order again, e.g. when a
//! hold window ends), `execute` (carry out a decision's steps), `flow_trigger` (announce a
//! decision to Shopify Flow). A failed run is retried with
//! exponential backoff; a job parked by a waiting step keeps its attempts.

use std::time::Duration;

use cancel_policy_core::Trigger;
use cancel_policy_core::facts::RequestFacts;
use chrono::Utc;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::service::App;
use crate::store::{JobRow, Lease, in_background};
use crate::workflow::JobError;
use crate::workflow::decide::{DecideError, DecideRequest, decide};
use crate::workflow::execute::{Executor, RunEnd};
use crate::workflow::flow_trigger;
use crate::workflow::inbox;

pub fn spawn(app: App, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let worker = format!("worker-{}", rand::random::<u64>());
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match in_background(run_next(&app, &worker)).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "claiming a job failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(app.settings.worker.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}

/// Claims and runs one due job; `false` when none was due.
pub async fn run_next(app: &App, worker: &str) -> Result<bool, crate::store::StoreError> {
    let Some(job) = app
        .store
        .claim_job(worker, app.settings.worker.lease)
        .await?
    else {
        return Ok(false);
    };
    let lease = Lease {
        job_id: job.id,
        worker: worker.to_string(),
    };
    let result = run_job(app, &job, &lease).await;
    match result {
        Ok(JobEnd::Done) => {
            app.store.release_job(&lease, "done", None, None).await?;
        }
        Ok(JobEnd::Wait(at)) => {
            app.store.park_job(&lease, at).await?;
        }
        Err(error) if error.lease_lost() => {
            tracing::info!(job = job.id, "lease lost; another worker carries on");
        }
        Err(error) => {
            let message = error.to_string();
            if error.is_transient() && job.attempts < app.settings.worker.max_attempts {
                let base = app.settings.worker.retry_base;
                let delay = base
                    .saturating_mul(1 << job.attempts.clamp(0, 8))
                    .min(Duration::from_secs(300));
                let at = Utc::now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1));
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed; retrying");
                app.store
                    .release_job(&lease, "queued", Some(&message), Some(at))
                    .await?;
            } else {
                tracing::error!(job = job.id, kind = %job.kind, error = %message, "job failed for good");
                app.store
                    .release_job(&lease, "failed", Some(&message), None)
                    .await?;
            }
        }
    }
    Ok(true)
}

enum JobEnd {
    Done,
    Wait(chrono::DateTime<Utc>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookJob {
    webhook_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecideJob {
    order_id: String,
    trigger: String,
    dedupe_key: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecuteJob {
    decision_id: i64,
}

fn payload<T: for<'de> Deserialize<'de>>(job: &JobRow) -> Result<T, JobError> {
    serde_json::from_str(&job.payload)
        .map_err(|e| JobError::BadPayload(format!("job {}: {e}", job.id)))
}

async fn run_job(app: &App, job: &JobRow, lease: &Lease) -> Result<JobEnd, JobError> {
    match job.kind.as_str() {
        "webhook" => {
            let WebhookJob { webhook_id } = payload(job)?;
            let Some(webhook) = app.store.webhook(&webhook_id).await? else {
                return Err(JobError::BadPayload(format!(
                    "webhook {webhook_id} is not stored"
                )));
            };
            let status = inbox::process(app, &webhook).await?;
            app.store.set_webhook_status(&webhook_id, status).await?;
            Ok(JobEnd::Done)
        }
        "decide" => {
            let DecideJob {
                order_id,
                trigger,
                dedupe_key,
                source,
            } = payload(job)?;
            let trigger: Trigger = trigger.parse().map_err(JobError::BadPayload)?;
            let result = decide(
                app,
                DecideRequest {
                    shop: &job.shop,
                    order_id: &order_id,
                    trigger,
                    request: RequestFacts::default(),
                    dedupe_key,
                    source: source.as_deref().unwrap_or(trigger.name()),
                    customer: None,
                    now: Utc::now(),
                    dry_run: false,
                },
            )
            .await;
            match result {
                Ok(_) | Err(DecideError::NoPolicy(_)) | Err(DecideError::OrderNotFound(_)) => {
                    Ok(JobEnd::Done)
                }
                Err(error) => Err(error.into()),
            }
        }
        "execute" => {
            let ExecuteJob { decision_id } = payload(job)?;
            let Some(decision) = app.store.decision(decision_id).await? else {
                return Err(JobError::BadPayload(format!(
                    "decision {decision_id} is not stored"
                )));
            };
            let session = app.session(&job.shop).await?;
            let executor = Executor {
                client: &app.client,
                store: &app.store,
                shop: &session,
                lease,
                timing: app.timing,
            };
            match executor.run(decision_id, &decision.order_id).await? {
                RunEnd::Finished { failed } => {
                    app.store
                        .set_decision_status(decision_id, if failed { "failed" } else { "done" })
                        .await?;
                    Ok(JobEnd::Done)
                }
                RunEnd::WaitUntil(at) => {
                    app.store
                        .set_decision_status(decision_id, "waiting")
                        .await?;
                    Ok(JobEnd::Wait(at))
                }
            }
        }
        flow_trigger::JOB_KIND => {
            let flow_trigger::FlowTriggerJob { decision_id } = payload(job)?;
            flow_trigger::send(app, &job.shop, decision_id).await?;
            Ok(JobEnd::Done)
        }
        "bulk_page" => {
            crate::workflow::bulk::run_page(app, job, lease).await?;
            Ok(JobEnd::Done)
        }
        other => Err(JobError::BadPayload(format!("unknown job kind `{other}`"))),
    }
}
