//! The executor: runs a decision's planned steps in order, each at most once in effect.
//!
//! Every step first reads Shopify's state (already cancelled? our refund already there? our
//! hold already placed?) and acts only when needed; what it learns mid-way (the `orderCancel`
//! job id, the refund's idempotency key and input) is saved before it matters, so a worker
//! killed at any point resumes without doing anything twice. Writes are fenced by the job
//! lease: a worker that lost its lease stops.

use std::time::{Duration, Instant};

use cancel_policy_core::decision::LineSelection;
use cancel_policy_core::money::{Amount, Money, currency_decimals};
use cancel_policy_core::outcome::{CancelReason, RefundMethod};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::shopify::facts::enum_name;
use crate::shopify::operations::{
    FulfillmentOrderHold, FulfillmentOrderReleaseHold, FulfillmentOrderSubmitCancellationRequest,
    JobStatus, OrderCancel, OrderState, RefundCreate, SuggestedRefund, TagsAdd,
    fulfillment_order_hold, fulfillment_order_release_hold,
    fulfillment_order_submit_cancellation_request, job_status, order_cancel, order_state,
    refund_create, suggested_refund, tags_add,
};
use crate::shopify::{AdminClient, AdminError, ShopSession};
use crate::store::{Lease, NewJob, StepEnd, StepRow, Store, StoreError};
use crate::workflow::plan::{HOLD_HANDLE, Step};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("another worker took this job over")]
    LeaseLost,
    #[error("{0}")]
    Transient(String),
}

/// How a run of a decision's steps ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// Every step is done (or the plan stopped at a failed step).
    Finished { failed: bool },
    /// A step waits for someone else (a fulfillment service); run again at this time.
    WaitUntil(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy)]
pub struct ExecTiming {
    /// Between `job(id){done}` polls.
    pub job_poll: Duration,
    /// Give up polling a cancel job after this long (the step is retried later).
    pub job_timeout: Duration,
    /// When a previous attempt may have sent `orderCancel` without recording it, watch the
    /// order this long before sending again.
    pub cancel_settle: Duration,
    /// Re-check a fulfillment service's answer this often while waiting.
    pub wait_recheck: Duration,
    pub lease: Duration,
}

impl Default for ExecTiming {
    fn default() -> Self {
        ExecTiming {
            job_poll: Duration::from_millis(100),
            job_timeout: Duration::from_secs(30),
            cancel_settle: Duration::from_secs(2),
            wait_recheck: Duration::from_secs(30),
            lease: Duration::from_secs(30),
        }
    }
}

pub struct Executor<'a> {
    pub client: &'a AdminClient,
    pub store: &'a Store,
    pub shop: &'a ShopSession,
    pub lease: &'a Lease,
    pub timing: ExecTiming,
}

enum StepOutcome {
    Done(serde_json::Value),
    Waiting(serde_json::Value),
    Failed(String),
}

/// Progress of `orderCancel`, saved before and after the call.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CancelProgress {
    #[serde(default)]
    sent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    job_id: Option<String>,
}

/// Progress of a `refundCreate`: the key and the exact input, fixed before the first send so
/// a retry is the same request (Shopify rejects a key reused with other parameters).
#[derive(Debug, Default, Serialize, Deserialize)]
struct RefundProgress {
    key: String,
    generation: u32,
    input: serde_json::Value,
}

fn gql_enum<T: DeserializeOwned>(name: &str) -> Result<T, ExecError> {
    serde_json::from_value(json!(name))
        .map_err(|e| ExecError::Transient(format!("enum `{name}`: {e}")))
}

fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ExecError> {
    serde_json::from_value(value).map_err(|e| ExecError::Transient(format!("input: {e}")))
}

/// Money as the Admin API takes it: a decimal string with the currency's minor unit.
pub fn money_text(amount: Amount, currency: &str) -> String {
    let decimals = usize::from(currency_decimals(currency));
    format!("{:.*}", decimals, amount.as_f64())
}

impl Executor<'_> {
    /// Runs the decision's remaining steps.
    pub async fn run(&self, decision_id: i64, order_id: &str) -> Result<RunEnd, ExecError> {
        let steps = self.store.steps(decision_id).await?;
        let mut failed = false;
        // Someone else cancelled the order first: their cancellation settled the money, so
        // this plan's refunds would pay twice.
        let mut cancelled_elsewhere = false;
        for step in &steps {
            if step.kind == "cancel_order" && step.status == "done" {
                cancelled_elsewhere = step
                    .result
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                    .and_then(|r| r.get("byThisStep").and_then(|b| b.as_bool()))
                    == Some(false);
            }
            if cancelled_elsewhere
                && matches!(step.kind.as_str(), "refund" | "cancel_lines")
                && matches!(step.status.as_str(), "pending" | "running")
            {
                self.finish(
                    step,
                    "skipped",
                    None,
                    Some("the order was cancelled by someone else"),
                    Instant::now(),
                )
                .await?;
                continue;
            }
            if failed {
                if matches!(step.status.as_str(), "pending" | "running" | "waiting") {
                    self.finish(
                        step,
                        "skipped",
                        None,
                        Some("an earlier step failed"),
                        Instant::now(),
                    )
                    .await?;
                }
                continue;
            }
            match step.status.as_str() {
                "done" | "skipped" => continue,
                "failed" => {
                    failed = true;
                    continue;
                }
                _ => {}
            }
            self.keep_lease().await?;
            if !self.store.start_step(step.id, self.lease).await? {
                return Err(ExecError::LeaseLost);
            }
            let started = Instant::now();
            let plan: Step =
                serde_json::from_str(&step.request).map_err(|source| StoreError::Json {
                    what: "step request",
                    source,
                })?;
            let outcome = self.run_step(decision_id, step, &plan, order_id).await;
            match outcome {
                Ok(StepOutcome::Done(result)) => {
                    if step.kind == "cancel_order" {
                        cancelled_elsewhere =
                            result.get("byThisStep").and_then(|b| b.as_bool()) == Some(false);
                    }
                    self.finish(step, "done", Some(&result), None, started)
                        .await?;
                }
                Ok(StepOutcome::Waiting(result)) => {
                    self.finish(step, "waiting", Some(&result), None, started)
                        .await?;
                    let at = Utc::now()
                        + chrono::Duration::from_std(self.timing.wait_recheck)
                            .unwrap_or(chrono::Duration::seconds(30));
                    return Ok(RunEnd::WaitUntil(at));
                }
                Ok(StepOutcome::Failed(error)) => {
                    self.finish(step, "failed", None, Some(&error), started)
                        .await?;
                    failed = true;
                }
                Err(ExecError::Admin(error)) if !error.is_transient() => {
                    self.finish(step, "failed", None, Some(&error.to_string()), started)
                        .await?;
                    failed = true;
                }
                Err(error) => {
                    // Transient: leave the step to be tried again when the job is retried.
                    return Err(error);
                }
            }
        }
        Ok(RunEnd::Finished { failed })
    }

    async fn finish(
        &self,
        step: &StepRow,
        status: &str,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        started: Instant,
    ) -> Result<(), ExecError> {
        let result = result.map(|r| r.to_string());
        let end = StepEnd {
            status,
            result: result.as_deref(),
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        if self.store.finish_step(step.id, &end, self.lease).await? {
            Ok(())
        } else {
            Err(ExecError::LeaseLost)
        }
    }

    /// Renews the job's lease, before each step and on each round of a wait that may outlast
    /// the lease (the cancel settle, a cancel job's polling): a wait longer than the lease
    /// would otherwise lose it every time, and the job would be claimed, run and lost forever.
    async fn keep_lease(&self) -> Result<(), ExecError> {
        if self.store.heartbeat(self.lease, self.timing.lease).await? {
            Ok(())
        } else {
            Err(ExecError::LeaseLost)
        }
    }

    async fn save_progress(
        &self,
        step: &StepRow,
        progress: &impl Serialize,
    ) -> Result<(), ExecError> {
        let text = serde_json::to_string(progress).map_err(|source| StoreError::Json {
            what: "step progress",
            source,
        })?;
        if self.store.step_progress(step.id, &text, self.lease).await? {
            Ok(())
        } else {
            Err(ExecError::LeaseLost)
        }
    }

    async fn order_state(&self, order_id: &str) -> Result<order_state::OrderStateOrder, ExecError> {
        let data = self
            .client
            .run::<OrderState>(
                self.shop,
                order_state::Variables {
                    id: order_id.to_string(),
                },
            )
            .await?;
        data.order.ok_or_else(|| {
            ExecError::Admin(AdminError::GraphQl(vec![format!(
                "order {order_id} not found"
            )]))
        })
    }

    async fn run_step(
        &self,
        decision_id: i64,
        row: &StepRow,
        step: &Step,
        order_id: &str,
    ) -> Result<StepOutcome, ExecError> {
        match step {
            Step::CancelOrder {
                reason,
                refund,
                restock,
                notify_customer,
                staff_note,
            } => {
                self.cancel_order(
                    row,
                    order_id,
                    *reason,
                    *refund,
                    *restock,
                    *notify_customer,
                    staff_note.as_deref(),
                )
                .await
            }
            Step::Refund {
                amount,
                fee,
                method,
            } => {
                self.refund(decision_id, row, order_id, amount, fee, *method)
                    .await
            }
            Step::CancelLines {
                lines,
                reason,
                refund,
                restock,
                notify_customer,
            } => {
                self.cancel_lines(
                    decision_id,
                    row,
                    order_id,
                    lines,
                    *reason,
                    *refund,
                    *restock,
                    *notify_customer,
                )
                .await
            }
            Step::AddTags { tags } => {
                let data = self
                    .client
                    .run::<TagsAdd>(
                        self.shop,
                        tags_add::Variables {
                            id: order_id.to_string(),
                            tags: tags.clone(),
                        },
                    )
                    .await?;
                Ok(match data.tags_add {
                    Some(payload) if !payload.user_errors.is_empty() => StepOutcome::Failed(
                        payload
                            .user_errors
                            .into_iter()
                            .map(|e| e.message)
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    _ => StepOutcome::Done(json!({ "tags": tags })),
                })
            }
            Step::Hold {
                fulfillment_order_id,
                reason,
                ..
            } => self.hold(order_id, fulfillment_order_id, reason).await,
            Step::ReleaseHolds => self.release_holds(order_id).await,
            Step::RequestFulfillmentCancellation {
                fulfillment_order_id,
                message,
            } => {
                self.request_cancellation(order_id, fulfillment_order_id, message)
                    .await
            }
            Step::Review => Ok(StepOutcome::Done(json!({ "queued": "staff review" }))),
            Step::Reevaluate { at } => {
                let job = NewJob {
                    shop: self.shop.domain.clone(),
                    kind: "decide".to_string(),
                    payload: json!({
                        "orderId": order_id,
                        "trigger": "scheduled",
                        "dedupeKey": format!("scheduled:{decision_id}"),
                    })
                    .to_string(),
                    idempotency_key: format!("reevaluate:{decision_id}"),
                    run_at: Some(*at),
                };
                self.store.enqueue(&job).await?;
                Ok(StepOutcome::Done(json!({ "decideAgainAt": at })))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn cancel_order(
        &self,
        row: &StepRow,
        order_id: &str,
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        notify_customer: bool,
        staff_note: Option<&str>,
    ) -> Result<StepOutcome, ExecError> {
        let mut progress: CancelProgress = row
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let state = self.order_state(order_id).await?;
        if let Some(at) = state.cancelled_at {
            return Ok(StepOutcome::Done(json!({
                "cancelledAt": at,
                "cancelReason": state.cancel_reason.as_ref().map(enum_name),
                "byThisStep": progress.sent_at.is_some(),
            })));
        }
        if let Some(job_id) = progress.job_id.clone() {
            return self.await_cancel(order_id, &job_id).await;
        }
        if progress.sent_at.is_some() {
            // An earlier attempt may have sent orderCancel and died before saving the job id:
            // give that job time to show before sending again.
            let deadline = Instant::now() + self.timing.cancel_settle;
            while Instant::now() < deadline {
                tokio::time::sleep(self.timing.job_poll).await;
                self.keep_lease().await?;
                let state = self.order_state(order_id).await?;
                if let Some(at) = state.cancelled_at {
                    return Ok(StepOutcome::Done(
                        json!({ "cancelledAt": at, "byThisStep": true }),
                    ));
                }
            }
        }
        progress.sent_at = Some(Utc::now());
        self.save_progress(row, &progress).await?;
        // `refundMethod` replaces the deprecated `refund` flag; sending both is an error.
        // https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/orderCancel
        let refund_method = match refund {
            RefundMethod::Original => Some(order_cancel::OrderCancelRefundMethodInput {
                original_payment_methods_refund: Some(true),
                store_credit_refund: None,
            }),
            RefundMethod::StoreCredit => Some(order_cancel::OrderCancelRefundMethodInput {
                original_payment_methods_refund: None,
                store_credit_refund: Some(order_cancel::OrderCancelStoreCreditRefundInput {
                    expires_at: None,
                }),
            }),
            RefundMethod::None => None,
        };
        let variables = order_cancel::Variables {
            order_id: order_id.to_string(),
            refund_method,
            restock,
            reason: gql_enum(reason.name())?,
            notify_customer: Some(notify_customer),
            staff_note: staff_note.map(str::to_string),
        };
        let data = self.client.run::<OrderCancel>(self.shop, variables).await?;
        let Some(payload) = data.order_cancel else {
            return Err(ExecError::Transient(
                "orderCancel returned no payload".into(),
            ));
        };
        if !payload.order_cancel_user_errors.is_empty() {
            let messages: Vec<String> = payload
                .order_cancel_user_errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.code.as_ref().map(enum_name).unwrap_or_default(),
                        e.message
                    )
                })
                .collect();
            // Our own earlier send got there first.
            if messages.iter().any(|m| {
                m.contains("already been canceled") || m.contains("already been cancelled")
            }) {
                let state = self.order_state(order_id).await?;
                return Ok(StepOutcome::Done(
                    json!({ "cancelledAt": state.cancelled_at, "byThisStep": true }),
                ));
            }
            return Ok(StepOutcome::Failed(messages.join("; ")));
        }
        let Some(job) = payload.job else {
            return Err(ExecError::Transient("orderCancel returned no job".into()));
        };
        progress.job_id = Some(job.id.clone());
        self.save_progress(row, &progress).await?;
        self.await_cancel(order_id, &job.id).await
    }

    /// Polls `job(id){done}`, then re-reads the order. https://shopify.dev/docs/api/admin-graphql/2026-04/queries/job
    async fn await_cancel(&self, order_id: &str, job_id: &str) -> Result<StepOutcome, ExecError> {
        let deadline = Instant::now() + self.timing.job_timeout;
        loop {
            let data = self
                .client
                .run::<JobStatus>(
                    self.shop,
                    job_status::Variables {
                        id: job_id.to_string(),
                    },
                )
                .await?;
            if data.job.as_ref().is_none_or(|j| j.done) {
                break;
            }
            if Instant::now() >= deadline {
                return Err(ExecError::Transient(format!(
                    "cancel job {job_id} not done yet"
                )));
            }
            tokio::time::sleep(self.timing.job_poll).await;
            self.keep_lease().await?;
        }
        let state = self.order_state(order_id).await?;
        match state.cancelled_at {
            Some(at) => Ok(StepOutcome::Done(json!({
                "job": job_id,
                "cancelledAt": at,
                "cancelReason": state.cancel_reason.as_ref().map(enum_name),
                "displayFinancialStatus": state.display_financial_status.as_ref().map(enum_name),
                "byThisStep": true,
            }))),
            None => Ok(StepOutcome::Failed(format!(
                "cancel job {job_id} finished but the order is not cancelled"
            ))),
        }
    }

    fn refund_key(decision_id: i64, row: &StepRow, generation: u32) -> String {
        if generation == 0 {
            format!("cancel-policy-{decision_id}-{}", row.seq)
        } else {
            format!("cancel-policy-{decision_id}-{}-{generation}", row.seq)
        }
    }

    /// Sends a prepared refund once; the refund's note carries the key so a re-read finds it.
    async fn send_refund(
        &self,
        row: &StepRow,
        mut progress: RefundProgress,
        decision_id: i64,
    ) -> Result<StepOutcome, ExecError> {
        let input: refund_create::RefundInput = from_json(progress.input.clone())?;
        let result = self
            .client
            .run::<RefundCreate>(
                self.shop,
                refund_create::Variables {
                    input,
                    idempotency_key: progress.key.clone(),
                },
            )
            .await;
        let data = match result {
            Ok(data) => data,
            Err(AdminError::GraphQl(messages))
                if messages
                    .iter()
                    .any(|m| m.contains("IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")) =>
            {
                // "Retry with a new idempotency key." https://shopify.dev/docs/api/usage/idempotent-requests
                progress.generation += 1;
                progress.key = Self::refund_key(decision_id, row, progress.generation);
                set_note(&mut progress.input, &progress.key);
                self.save_progress(row, &progress).await?;
                return Err(ExecError::Transient(messages.join("; ")));
            }
            Err(AdminError::GraphQl(messages))
                if messages
                    .iter()
                    .any(|m| m.contains("IDEMPOTENCY_CONCURRENT_REQUEST")) =>
            {
                return Err(ExecError::Transient(messages.join("; ")));
            }
            Err(error) => return Err(error.into()),
        };
        let Some(payload) = data.refund_create else {
            return Err(ExecError::Transient(
                "refundCreate returned no payload".into(),
            ));
        };
        if !payload.user_errors.is_empty() {
            return Ok(StepOutcome::Failed(
                payload
                    .user_errors
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        Ok(StepOutcome::Done(json!({
            "refund": payload.refund.as_ref().map(|r| r.id.clone()),
            "amount": payload.refund.as_ref().map(|r| r.total_refunded_set.shop_money.amount.clone()),
            "idempotencyKey": progress.key,
            "displayFinancialStatus": payload.order.and_then(|o| o.display_financial_status).as_ref().map(enum_name),
        })))
    }

    /// Our refund is on the order already (found by the key in its note).
    fn refund_found(state: &order_state::OrderStateOrder, key: &str) -> Option<serde_json::Value> {
        state
            .refunds
            .iter()
            .find(|r| r.note.as_deref().is_some_and(|n| n.contains(key)))
            .map(|r| json!({ "refund": r.id, "amount": r.total_refunded_set.shop_money.amount, "idempotencyKey": key, "found": true }))
    }

    async fn refund(
        &self,
        decision_id: i64,
        row: &StepRow,
        order_id: &str,
        amount: &Money,
        fee: &Money,
        method: RefundMethod,
    ) -> Result<StepOutcome, ExecError> {
        if let Some(progress) = row
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str::<RefundProgress>(p).ok())
        {
            let state = self.order_state(order_id).await?;
            if let Some(found) = Self::refund_found(&state, &progress.key) {
                return Ok(StepOutcome::Done(found));
            }
            return self.send_refund(row, progress, decision_id).await;
        }
        let key = Self::refund_key(decision_id, row, 0);
        let state = self.order_state(order_id).await?;
        if let Some(found) = Self::refund_found(&state, &key) {
            return Ok(StepOutcome::Done(found));
        }
        let currency = amount.currency_code.as_str();
        let note = format!(
            "Cancellation fee {} {currency} kept by policy [{key}]",
            money_text(fee.amount, currency)
        );
        let mut input = json!({ "orderId": order_id, "note": note, "notify": true });
        match method {
            RefundMethod::StoreCredit => {
                set(
                    &mut input,
                    "refundMethods",
                    json!([{ "storeCreditRefund": { "amount": {
                    "amount": money_text(amount.amount, currency), "currencyCode": currency } } }]),
                );
            }
            RefundMethod::Original => {
                let Some(transactions) =
                    refund_transactions(&state, order_id, amount.amount, currency)
                else {
                    return Ok(StepOutcome::Done(
                        json!({ "skipped": "no captured payment to refund" }),
                    ));
                };
                set(&mut input, "transactions", transactions);
            }
            RefundMethod::None => {
                return Ok(StepOutcome::Done(json!({ "skipped": "no refund asked" })));
            }
        }
        let progress = RefundProgress {
            key,
            generation: 0,
            input,
        };
        self.save_progress(row, &progress).await?;
        self.send_refund(row, progress, decision_id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn cancel_lines(
        &self,
        decision_id: i64,
        row: &StepRow,
        order_id: &str,
        lines: &[LineSelection],
        reason: CancelReason,
        refund: RefundMethod,
        restock: bool,
        notify: bool,
    ) -> Result<StepOutcome, ExecError> {
        if let Some(progress) = row
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str::<RefundProgress>(p).ok())
        {
            let state = self.order_state(order_id).await?;
            if let Some(found) = Self::refund_found(&state, &progress.key) {
                return Ok(StepOutcome::Done(found));
            }
            return self.send_refund(row, progress, decision_id).await;
        }
        let key = Self::refund_key(decision_id, row, 0);
        let state = self.order_state(order_id).await?;
        if let Some(found) = Self::refund_found(&state, &key) {
            return Ok(StepOutcome::Done(found));
        }
        // Unfulfilled lines are cancelled (restockType CANCEL), not returned.
        // https://shopify.dev/docs/api/admin-graphql/2026-04/enums/RefundLineItemRestockType
        let restock_type = if restock { "CANCEL" } else { "NO_RESTOCK" };
        let refund_lines: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| json!({ "lineItemId": l.id, "quantity": l.quantity, "restockType": restock_type }))
            .collect();
        let suggested = self
            .client
            .run::<SuggestedRefund>(
                self.shop,
                suggested_refund::Variables {
                    id: order_id.to_string(),
                    lines: Some(from_json(json!(refund_lines))?),
                },
            )
            .await?;
        let suggestion = suggested.order.and_then(|o| o.suggested_refund);
        let note = format!("Lines cancelled by policy ({}) [{key}]", reason.name());
        let mut input = json!({ "orderId": order_id, "note": note, "notify": notify, "refundLineItems": refund_lines });
        if let Some(suggestion) = suggestion {
            let amount = &suggestion.amount_set.shop_money;
            let currency = enum_name(&amount.currency_code);
            match refund {
                RefundMethod::Original => {
                    let transactions: Vec<serde_json::Value> = suggestion
                        .suggested_transactions
                        .iter()
                        .filter_map(|t| {
                            Some(json!({
                                "amount": t.amount_set.shop_money.amount,
                                "gateway": t.gateway.clone()?,
                                "kind": "REFUND",
                                "orderId": order_id,
                                "parentId": t.parent_transaction.as_ref().map(|p| p.id.clone()),
                            }))
                        })
                        .collect();
                    set(&mut input, "transactions", json!(transactions));
                }
                RefundMethod::StoreCredit => {
                    set(
                        &mut input,
                        "refundMethods",
                        json!([{ "storeCreditRefund": { "amount": {
                        "amount": amount.amount, "currencyCode": currency } } }]),
                    );
                }
                RefundMethod::None => {}
            }
        }
        let progress = RefundProgress {
            key,
            generation: 0,
            input,
        };
        self.save_progress(row, &progress).await?;
        self.send_refund(row, progress, decision_id).await
    }

    async fn hold(
        &self,
        order_id: &str,
        fo_id: &str,
        reason: &str,
    ) -> Result<StepOutcome, ExecError> {
        let state = self.order_state(order_id).await?;
        let Some(fo) = state
            .fulfillment_orders
            .nodes
            .iter()
            .find(|fo| fo.id == fo_id)
        else {
            return Ok(StepOutcome::Done(
                json!({ "skipped": "fulfillment order no longer on the order" }),
            ));
        };
        if let Some(hold) = fo
            .fulfillment_holds
            .iter()
            .find(|h| h.handle.as_deref() == Some(HOLD_HANDLE))
        {
            return Ok(StepOutcome::Done(json!({ "hold": hold.id, "found": true })));
        }
        let status = enum_name(&fo.status);
        if !matches!(status.as_str(), "OPEN" | "SCHEDULED" | "ON_HOLD") {
            return Ok(StepOutcome::Done(
                json!({ "skipped": format!("fulfillment order is {status}") }),
            ));
        }
        let variables = fulfillment_order_hold::Variables {
            id: fo_id.to_string(),
            hold: fulfillment_order_hold::FulfillmentOrderHoldInput {
                reason: gql_enum(reason)?,
                reason_notes: Some(
                    "Held by the cancellation policy while it can still be cancelled".to_string(),
                ),
                notify_merchant: Some(false),
                external_id: None,
                handle: Some(HOLD_HANDLE.to_string()),
                fulfillment_order_line_items: None,
            },
        };
        let data = self
            .client
            .run::<FulfillmentOrderHold>(self.shop, variables)
            .await?;
        let Some(payload) = data.fulfillment_order_hold else {
            return Err(ExecError::Transient(
                "fulfillmentOrderHold returned no payload".into(),
            ));
        };
        if let Some(error) = payload.user_errors.first() {
            let code = error.code.as_ref().map(enum_name).unwrap_or_default();
            if code == "DUPLICATE_FULFILLMENT_HOLD_HANDLE" {
                return Ok(StepOutcome::Done(json!({ "found": true })));
            }
            return Ok(StepOutcome::Failed(format!("{code}: {}", error.message)));
        }
        Ok(StepOutcome::Done(
            json!({ "hold": payload.fulfillment_hold.map(|h| h.id) }),
        ))
    }

    async fn release_holds(&self, order_id: &str) -> Result<StepOutcome, ExecError> {
        let state = self.order_state(order_id).await?;
        let mut released = Vec::new();
        for fo in &state.fulfillment_orders.nodes {
            let ours: Vec<String> = fo
                .fulfillment_holds
                .iter()
                .filter(|h| h.handle.as_deref() == Some(HOLD_HANDLE))
                .map(|h| h.id.clone())
                .collect();
            if ours.is_empty() {
                continue;
            }
            let data = self
                .client
                .run::<FulfillmentOrderReleaseHold>(
                    self.shop,
                    fulfillment_order_release_hold::Variables {
                        id: fo.id.clone(),
                        hold_ids: Some(ours.clone()),
                    },
                )
                .await?;
            if let Some(error) = data
                .fulfillment_order_release_hold
                .and_then(|p| p.user_errors.into_iter().next())
            {
                return Ok(StepOutcome::Failed(error.message));
            }
            released.extend(ours);
        }
        Ok(StepOutcome::Done(json!({ "released": released })))
    }

    async fn request_cancellation(
        &self,
        order_id: &str,
        fo_id: &str,
        message: &str,
    ) -> Result<StepOutcome, ExecError> {
        let state = self.order_state(order_id).await?;
        let Some(fo) = state
            .fulfillment_orders
            .nodes
            .iter()
            .find(|fo| fo.id == fo_id)
        else {
            return Ok(StepOutcome::Done(
                json!({ "skipped": "fulfillment order no longer on the order" }),
            ));
        };
        let status = enum_name(&fo.status);
        let request = enum_name(&fo.request_status);
        match (status.as_str(), request.as_str()) {
            (_, "CANCELLATION_ACCEPTED") | ("CANCELLED" | "CLOSED", _) => {
                return Ok(StepOutcome::Done(
                    json!({ "requestStatus": request, "status": status }),
                ));
            }
            (_, "CANCELLATION_REJECTED") => {
                return Ok(StepOutcome::Failed(format!(
                    "the fulfillment service rejected the cancellation of {fo_id}"
                )));
            }
            (_, "CANCELLATION_REQUESTED") => {
                return Ok(StepOutcome::Waiting(json!({ "requestStatus": request })));
            }
            _ => {}
        }
        let data = self
            .client
            .run::<FulfillmentOrderSubmitCancellationRequest>(
                self.shop,
                fulfillment_order_submit_cancellation_request::Variables {
                    id: fo_id.to_string(),
                    message: Some(message.to_string()),
                },
            )
            .await?;
        let Some(payload) = data.fulfillment_order_submit_cancellation_request else {
            return Err(ExecError::Transient(
                "cancellation request returned no payload".into(),
            ));
        };
        if let Some(error) = payload.user_errors.first() {
            return Ok(StepOutcome::Failed(error.message.clone()));
        }
        let request = payload
            .fulfillment_order
            .map(|fo| enum_name(&fo.request_status));
        match request.as_deref() {
            Some("CANCELLATION_ACCEPTED") => {
                Ok(StepOutcome::Done(json!({ "requestStatus": request })))
            }
            Some("CANCELLATION_REJECTED") => Ok(StepOutcome::Failed(format!(
                "the fulfillment service rejected the cancellation of {fo_id}"
            ))),
            _ => Ok(StepOutcome::Waiting(json!({ "requestStatus": request }))),
        }
    }
}

fn set(input: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(object) = input.as_object_mut() {
        object.insert(key.to_string(), value);
    }
}

fn set_note(input: &mut serde_json::Value, key: &str) {
    if let Some(note) = input.get("note").and_then(|n| n.as_str()) {
        let base = note.split(" [").next().unwrap_or(note).to_string();
        set(input, "note", json!(format!("{base} [{key}]")));
    }
}

/// Refund transactions for `amount` over the order's successful captures, newest first.
fn refund_transactions(
    state: &order_state::OrderStateOrder,
    order_id: &str,
    amount: Amount,
    currency: &str,
) -> Option<serde_json::Value> {
    let mut left = amount.thousandths();
    let mut transactions = Vec::new();
    for tx in state.transactions.iter().rev() {
        let kind = enum_name(&tx.kind);
        if !matches!(kind.as_str(), "SALE" | "CAPTURE") || enum_name(&tx.status) != "SUCCESS" {
            continue;
        }
        let captured = Amount::parse(&tx.amount_set.shop_money.amount)
            .ok()?
            .thousandths();
        let take = left.min(captured);
        if take <= 0 {
            continue;
        }
        transactions.push(json!({
            "amount": money_text(Amount::from_thousandths(take), currency),
            "gateway": tx.gateway.clone().unwrap_or_else(|| "manual".to_string()),
            "kind": "REFUND",
            "orderId": order_id,
            "parentId": tx.id,
        }));
        left -= take;
        if left <= 0 {
            break;
        }
    }
    (!transactions.is_empty()).then(|| json!(transactions))
}
