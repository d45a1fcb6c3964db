//! The doors the scenes go through, as a live shop's traffic does: the merchant API, the
//! customer's cancel button, a fraud app on the store's Admin API, and the audit to watch
//! the service carry a decision out.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

use super::stage::Stage;
use crate::http::customer::CancelAnswer;
use crate::http::merchant::AuditEntry;

/// How long a scene waits for the worker before giving up (it takes well under a second).
const DECISION_TIMEOUT: Duration = Duration::from_secs(20);

/// The published policy version, as the merchant API answers.
pub struct Published {
    pub policy_id: String,
    pub version: String,
    pub hash: String,
}

impl Stage {
    /// `POST /api/policies`: the service compiles the source and makes it the active version.
    pub async fn publish(&self, source: &str) -> anyhow::Result<Published> {
        let answer = self
            .http
            .post(self.url("/api/policies"))
            .bearer_auth(self.admin_token(Duration::from_secs(60)))
            .json(&json!({ "source": source, "file": "story.toml" }))
            .send()
            .await
            .context("publishing the demo policy")?;
        let body = json_body(answer, "POST /api/policies").await?;
        let field = |name: &str| {
            body.pointer(&format!("/published/{name}"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| anyhow!("POST /api/policies answered without `{name}`: {body}"))
        };
        Ok(Published {
            policy_id: field("policyId")?,
            version: field("version")?,
            hash: field("hash")?,
        })
    }

    /// The customer's cancel button: `POST /api/customer/orders/{id}/cancel`.
    pub async fn customer_cancel(
        &self,
        order: &str,
        customer: &str,
        reason: &str,
    ) -> anyhow::Result<CancelAnswer> {
        let path = format!("/api/customer/orders/{}/cancel", numeric_id(order));
        let answer = self
            .http
            .post(self.url(&path))
            .bearer_auth(self.customer_token(customer))
            .json(&json!({ "reason": reason }))
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let body = json_body(answer, &path).await?;
        serde_json::from_value(body).with_context(|| format!("the answer of POST {path}"))
    }

    /// What a fraud-screening app does: `orderRiskAssessmentCreate` on the store's Admin API.
    pub async fn assess_risk(&self, order: &str, level: &str, fact: &str) -> anyhow::Result<()> {
        const MUTATION: &str = "mutation Assess($input: OrderRiskAssessmentCreateInput!) {
            orderRiskAssessmentCreate(orderRiskAssessmentInput: $input) {
                orderRiskAssessment { riskLevel }
                userErrors { field message }
            }
        }";
        let input = json!({
            "orderId": order,
            "riskLevel": level,
            "facts": [{ "description": fact, "sentiment": "NEGATIVE" }],
        });
        let answer = self
            .http
            .post(self.dev.graphql_url())
            .header("X-Shopify-Access-Token", self.dev.access_token())
            .json(&json!({ "query": MUTATION, "variables": { "input": input } }))
            .send()
            .await
            .context("orderRiskAssessmentCreate")?;
        let body = json_body(answer, "orderRiskAssessmentCreate").await?;
        let user_errors = body
            .pointer("/data/orderRiskAssessmentCreate/userErrors")
            .and_then(Value::as_array);
        match (body.get("errors"), user_errors) {
            (None, Some(errors)) if errors.is_empty() => Ok(()),
            _ => bail!("orderRiskAssessmentCreate failed: {body}"),
        }
    }

    /// `GET /api/orders/{id}/audit`: every decision about the order with its steps.
    pub async fn audit(&self, order: &str) -> anyhow::Result<Vec<AuditEntry>> {
        let path = format!("/api/orders/{}/audit", numeric_id(order));
        let answer = self
            .http
            .get(self.url(&path))
            .bearer_auth(self.admin_token(Duration::from_secs(60)))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let mut body = json_body(answer, &path).await?;
        let decisions = body.get_mut("decisions").map(Value::take);
        serde_json::from_value(decisions.unwrap_or_default())
            .with_context(|| format!("the answer of GET {path}"))
    }

    /// Waits until the service has decided the order for `trigger` and carried the decision
    /// out (or given up on it), as the audit shows it.
    pub async fn carried_out(&self, order: &str, trigger: &str) -> anyhow::Result<AuditEntry> {
        let start = Instant::now();
        loop {
            let finished = self.audit(order).await?.into_iter().rev().find(|entry| {
                entry.trigger == trigger
                    && matches!(entry.status.as_str(), "done" | "failed" | "stopped")
            });
            if let Some(entry) = finished {
                return Ok(entry);
            }
            if start.elapsed() > DECISION_TIMEOUT {
                bail!("no {trigger} decision carried out for {order} after {DECISION_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The body of a successful JSON answer; the status and body of any other.
async fn json_body(answer: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = answer.status();
    let text = answer
        .text()
        .await
        .with_context(|| format!("reading the answer of {what}"))?;
    if !status.is_success() {
        bail!("{what} answered {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what} answered no JSON: {text}"))
}

/// `gid://shopify/Order/123` → `123`, as the service's paths take it.
pub fn numeric_id(gid: &str) -> &str {
    gid.rsplit('/').next().unwrap_or(gid)
}
