//! From a trigger to what merchants see: facts → decision → plan → durable execution.

pub mod bulk;
pub mod decide;
pub mod execute;
pub mod flow_trigger;
pub mod inbox;
pub mod plan;

use crate::service::ServiceError;
use crate::store::StoreError;
use decide::DecideError;
use execute::ExecError;

/// Why a job run did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Decide(#[from] DecideError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    FlowTrigger(#[from] flow_trigger::SendError),
    #[error("bad job payload: {0}")]
    BadPayload(String),
}

impl JobError {
    /// Whether retrying later can help (a bad payload or a missing policy cannot).
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Store(_) => true,
            JobError::Service(ServiceError::Admin(e)) => e.is_transient(),
            JobError::Service(ServiceError::UnknownShop(_)) => false,
            JobError::Service(_) => true,
            JobError::Decide(DecideError::Admin(e)) => e.is_transient(),
            JobError::Decide(DecideError::Store(_)) => true,
            // A refused refresh token (or any permanent Admin error reaching the session) does
            // not heal on retry: fail at once with the reason rather than retry to the limit.
            JobError::Decide(DecideError::Service(ServiceError::Admin(e))) => e.is_transient(),
            JobError::Decide(DecideError::Service(_)) => true,
            JobError::Decide(_) => false,
            JobError::Exec(ExecError::Admin(e)) => e.is_transient(),
            JobError::Exec(_) => true,
            JobError::FlowTrigger(e) => e.is_transient(),
            JobError::BadPayload(_) => false,
        }
    }

    pub fn lease_lost(&self) -> bool {
        matches!(self, JobError::Exec(ExecError::LeaseLost))
    }
}
