//! Deciding one order: read its facts, evaluate the shop's active policy, plan, and store
//! the decision with its steps and their job in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cancel_policy_core::facts::{Facts, RequestFacts};
use cancel_policy_core::{CompiledPolicy, Decision, Trigger, evaluate};
use chrono::{DateTime, Utc};

use crate::service::{AppState, ServiceError};
use crate::shopify::AdminError;
use crate::shopify::facts::{self, AdminOrder};
use crate::shopify::operations::{OrderFacts, order_facts};
use crate::store::{
    DecisionRow, NewDecision, NewJob, NewStep, Recorded, Store, StoreError, parse_ts,
};
use crate::workflow::plan::{Step, plan};

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("shop `{0}` has no published policy")]
    NoPolicy(String),
    #[error("the stored policy cannot be loaded: {0}")]
    BadPolicy(String),
    #[error("order `{0}` was not found")]
    OrderNotFound(String),
    /// The requester is not the order's customer (reported as not found, never confirming
    /// that the order exists).
    #[error("order `{0}` was not found")]
    NotYourOrder(String),
}

pub struct DecideRequest<'a> {
    pub shop: &'a str,
    pub order_id: &'a str,
    pub trigger: Trigger,
    pub request: RequestFacts,
    /// One decision per key (a webhook event, a customer request, a Flow run).
    pub dedupe_key: String,
    /// `customer`, `webhook`, `flow`, `staff`, `scheduled`.
    pub source: &'a str,
    /// When set, the order must belong to this customer.
    pub customer: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// Evaluate only (a dry run): nothing is stored or carried out.
    pub dry_run: bool,
}

#[derive(Debug, Clone)]
pub struct Decided {
    /// `None` for a dry run.
    pub decision_id: Option<i64>,
    /// False when an identical request was decided before (its decision is returned).
    pub new: bool,
    pub decision: Decision,
    pub facts: Facts,
    pub steps: Vec<Step>,
    pub order_name: String,
    pub policy_hash: String,
}

pub async fn read_order(
    app: &AppState,
    shop: &str,
    order_id: &str,
) -> Result<AdminOrder, DecideError> {
    let session = app.session(shop).await?;
    let data = app
        .client
        .run::<OrderFacts>(
            &session,
            order_facts::Variables {
                id: order_id.to_string(),
            },
        )
        .await?;
    facts::from_response(data).ok_or_else(|| DecideError::OrderNotFound(order_id.to_string()))
}

/// The shops' active policies, compiled, kept in memory so that a decision neither reads the
/// policy's JSON from the database nor parses it again.
///
/// An entry is keyed by the version's hash and checked against the database's active hash on
/// every use, rather than dropped when this process publishes or rolls back: replicas sharing
/// one PostgreSQL publish behind each other's backs, and the check is one small indexed read.
#[derive(Debug, Default)]
pub struct ActivePolicies {
    by_shop: Mutex<HashMap<String, ActivePolicy>>,
}

#[derive(Debug, Clone)]
pub struct ActivePolicy {
    /// The `policies.hash` of the version, as the database names it.
    pub version: String,
    /// The hash recorded with each decision (of the compiled JSON).
    pub hash: String,
    pub policy: Arc<CompiledPolicy>,
}

impl ActivePolicies {
    /// The shop's active policy, from memory when its version is still the active one.
    pub async fn get(&self, store: &Store, shop: &str) -> Result<ActivePolicy, DecideError> {
        let Some(version) = store.active_policy_hash(shop).await? else {
            self.entries().remove(shop);
            return Err(DecideError::NoPolicy(shop.to_string()));
        };
        if let Some(active) = self.entries().get(shop).filter(|a| a.version == version) {
            return Ok(active.clone());
        }
        // Another version became active (or none was cached): load it. A rollback racing this
        // read is caught by the next call's hash check.
        let row = store
            .active_policy(shop)
            .await?
            .ok_or_else(|| DecideError::NoPolicy(shop.to_string()))?;
        let policy = CompiledPolicy::load(&row.compiled)
            .map_err(|e| DecideError::BadPolicy(e.to_string()))?;
        let active = ActivePolicy {
            version: row.hash,
            hash: crate::service::policy_hash(&row.compiled),
            policy: Arc::new(policy),
        };
        self.entries().insert(shop.to_string(), active.clone());
        Ok(active)
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, ActivePolicy>> {
        // The map stays consistent whatever panicked while holding it: each entry is
        // replaced whole.
        self.by_shop.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub async fn decide(app: &AppState, req: DecideRequest<'_>) -> Result<Decided, DecideError> {
    let active = app.policies.get(&app.store, req.shop).await?;
    let policy = active.policy.as_ref();
    let order = read_order(app, req.shop, req.order_id).await?;
    if let Some(customer) = req.customer {
        let owner = order.facts.customer.as_ref().map(|c| c.id.as_str());
        if owner != Some(customer) {
            return Err(DecideError::NotYourOrder(req.order_id.to_string()));
        }
    }
    let mut request = req.request.clone();
    if request.locale.is_none() {
        request.locale = order.customer_locale.clone();
    }
    if request.source.is_none() {
        request.source = Some(match req.trigger {
            Trigger::CustomerRequest => "customer".to_string(),
            Trigger::StaffRequest => "staff".to_string(),
            Trigger::FlowAction => "flow".to_string(),
            _ => "automation".to_string(),
        });
    }
    let mut facts = Facts {
        order: order.facts.clone(),
        request,
        now_local: None,
    };
    if let Some(customer) = facts.order.customer.as_mut() {
        customer.cancelled_order_dates = app
            .store
            .customer_cancellations(req.shop, &customer.id)
            .await?
            .iter()
            .filter_map(|t| parse_ts(t))
            .collect();
    }
    let zone = if order.shop_timezone.is_empty() {
        policy.timezone.clone()
    } else {
        order.shop_timezone.clone()
    };
    if cancel_policy_core::tz::localize(&mut facts, req.now, &zone).is_err() {
        cancel_policy_core::tz::localize(&mut facts, req.now, &policy.timezone)
            .map_err(|e| DecideError::BadPolicy(e.to_string()))?;
    }
    let decision = evaluate(policy, &facts, req.now, req.trigger);
    let steps = plan(&decision, &facts.order, req.trigger);
    let policy_hash = active.hash.clone();
    if req.dry_run {
        return Ok(Decided {
            decision_id: None,
            new: true,
            decision,
            facts,
            steps,
            order_name: order.name,
            policy_hash,
        });
    }
    let to_json = |value: &dyn erased::Json, what: &'static str| {
        value
            .json()
            .map_err(|source| StoreError::Json { what, source })
    };
    let facts_json = to_json(&facts, "facts")?;
    let decision_json = to_json(&decision, "decision")?;
    let new_steps = steps
        .iter()
        .map(|s| {
            Ok(NewStep {
                kind: s.kind().to_string(),
                request: to_json(s, "step")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut jobs = if steps.is_empty() {
        Vec::new()
    } else {
        vec![NewJob {
            shop: req.shop.to_string(),
            kind: "execute".to_string(),
            // `{decision}` becomes the new decision's id (a number) when stored.
            payload: r#"{"decisionId":{decision}}"#.to_string(),
            idempotency_key: "execute:{decision}".to_string(),
            run_at: None,
        }]
    };
    // Announced to Flow ("Order decided by policy") only when this decision is new: the job
    // is stored with it.
    jobs.push(crate::workflow::flow_trigger::job(req.shop));
    let cancel_reason = decision.actions.iter().find_map(|a| match a {
        cancel_policy_core::Action::CancelOrder { reason, .. }
        | cancel_policy_core::Action::CancelLines { reason, .. } => Some(reason.name()),
        _ => None,
    });
    let customer_id = facts.order.customer.as_ref().map(|c| c.id.clone());
    let recorded = app
        .store
        .record_decision(
            &NewDecision {
                shop: req.shop,
                order_id: req.order_id,
                customer_id: customer_id.as_deref(),
                trigger: req.trigger.name(),
                source: req.source,
                dedupe_key: &req.dedupe_key,
                policy_hash: &policy_hash,
                facts: &facts_json,
                rule: decision.rule.as_deref(),
                outcome: decision.outcome.name(),
                cancel_reason,
                decision: &decision_json,
            },
            &new_steps,
            &jobs,
        )
        .await?;
    match recorded {
        Recorded::New(id) => Ok(Decided {
            decision_id: Some(id),
            new: true,
            decision,
            facts,
            steps,
            order_name: order.name,
            policy_hash,
        }),
        Recorded::Existing(id) => {
            let row = app
                .store
                .decision(id)
                .await?
                .ok_or_else(|| DecideError::OrderNotFound(req.order_id.to_string()))?;
            Ok(previous(row, facts, steps, order.name)?)
        }
    }
}

fn previous(
    row: DecisionRow,
    facts: Facts,
    steps: Vec<Step>,
    order_name: String,
) -> Result<Decided, StoreError> {
    let decision: Decision =
        serde_json::from_str(&row.decision).map_err(|source| StoreError::Json {
            what: "decision",
            source,
        })?;
    Ok(Decided {
        decision_id: Some(row.id),
        new: false,
        decision,
        facts,
        steps,
        order_name,
        policy_hash: row.policy_hash,
    })
}

/// Object-safe JSON rendering for the handful of types stored as text.
mod erased {
    pub trait Json {
        fn json(&self) -> Result<String, serde_json::Error>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Result<String, serde_json::Error> {
            serde_json::to_string(self)
        }
    }
}
