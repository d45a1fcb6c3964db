//! Orders given to `explain` and `simulate`: order facts, optionally with the moment, trigger,
//! request and shop-local time of the decision.

use anyhow::{Context, anyhow, bail};
use cancel_policy_core::facts::{OrderFacts, RequestFacts};
use cancel_policy_core::{CompiledPolicy, Facts, Trigger};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

/// One order to decide. A bare order-facts object is accepted too (see `parse`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderRecord {
    pub order: OrderFacts,
    #[serde(default)]
    pub request: RequestFacts,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub trigger: Option<Trigger>,
    #[serde(default)]
    pub now_local: Option<NaiveDateTime>,
}

impl OrderRecord {
    /// Reads `{"order": …, "at": …}` or a bare order-facts object.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
        let Some(object) = value.as_object() else {
            bail!("expected a JSON object with the order's facts");
        };
        if object.contains_key("order") {
            return serde_path_to_error::deserialize(value)
                .map_err(|e| anyhow!("at `{}`: {}", e.path(), e.inner()));
        }
        let order: OrderFacts = serde_path_to_error::deserialize(value)
            .map_err(|e| anyhow!("at `{}`: {}", e.path(), e.inner()))?;
        Ok(OrderRecord {
            order,
            request: RequestFacts::default(),
            at: None,
            trigger: None,
            now_local: None,
        })
    }

    /// The facts to evaluate at `at`, with shop-local times from the policy's zone when absent.
    pub fn facts(&self, policy: &CompiledPolicy, at: DateTime<Utc>) -> anyhow::Result<Facts> {
        let mut facts = Facts {
            order: self.order.clone(),
            request: self.request.clone(),
            now_local: self.now_local,
        };
        cancel_policy_core::tz::localize(&mut facts, at, &policy.timezone)
            .with_context(|| format!("the policy's time zone `{}` is unknown", policy.timezone))?;
        Ok(facts)
    }
}
