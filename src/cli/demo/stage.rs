//! The demo's stage: a dev store and the service on loopback, wired as a real install is
//! (the shop's offline token in the service, webhook subscriptions pointing at `/webhooks`),
//! and the HTTP calls the scenes make through the service's and the store's own doors.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use cancel_policy_dev_store::{DevStore, DevStoreConfig, RunningDevStore};
use serde_json::{Value, json};

use crate::config::{AppSecrets, RateLimits, Secret, Settings, WorkerSettings};
use crate::http::customer::CancelAnswer;
use crate::http::merchant::AuditEntry;
use crate::service::{self, RunningService, Tuning};
use crate::shopify::client::RetryPolicy;
use crate::shopify::signatures::sign_session_token;
use crate::workflow::execute::ExecTiming;

/// The demo app's client id: the `aud` of the session tokens the demo signs.
const API_KEY: &str = "cancel-policy-demo";

/// Every topic the service acts on or records.
const TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/risk_assessment_changed",
    "fulfillment_orders/cancellation_request_accepted",
    "fulfillment_orders/cancellation_request_rejected",
    "fulfillment_orders/placed_on_hold",
    "app/uninstalled",
];

/// How long a scene waits for the worker before giving up (it takes well under a second).
const DECISION_TIMEOUT: Duration = Duration::from_secs(20);

/// The admin session token printed for trying the merchant API by hand.
pub const PRINTED_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

pub struct StageOptions {
    pub service_port: u16,
    pub store_port: u16,
}

/// A folder under the system's temporary directory, removed when dropped.
struct TempFolder(PathBuf);

impl TempFolder {
    fn create() -> anyhow::Result<TempFolder> {
        let unique = format!(
            "cancel-policy-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempFolder(path))
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        // Best effort: a leftover folder in the temporary directory harms nobody.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The published policy version, as the merchant API answers.
pub struct Published {
    pub policy_id: String,
    pub version: String,
    pub hash: String,
}

pub struct Stage {
    pub dev: RunningDevStore,
    pub service: RunningService,
    pub shop: String,
    pub database_url: String,
    http: reqwest::Client,
    secret: String,
    _data: TempFolder,
}

impl Stage {
    pub async fn start(options: StageOptions) -> anyhow::Result<Stage> {
        let dev = DevStore::start(DevStoreConfig {
            port: options.store_port,
            ..DevStoreConfig::default()
        })
        .await
        .context("starting the dev store")?;
        let data = TempFolder::create()?;
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            data.0.join("cancel-policy.sqlite").display()
        );
        let shop = dev.shop_domain();
        let secret = dev.api_secret().to_string();
        let settings = Settings {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, options.service_port)),
            api_key: API_KEY.to_string(),
            secrets: AppSecrets::new(Secret::new(secret.clone())),
            database_url: database_url.clone(),
            admin_url: Some(dev.base_url()),
            bootstrap_shop: Some((shop.clone(), Secret::new(dev.access_token()))),
            log_filter: "warn".to_string(),
            // Short polls so each scene settles in a fraction of a second.
            worker: WorkerSettings {
                concurrency: 2,
                lease: Duration::from_secs(10),
                poll_interval: Duration::from_millis(20),
                retry_base: Duration::from_millis(50),
                max_attempts: 12,
            },
            limits: RateLimits::default(),
        };
        let tuning = Tuning {
            retry: Some(RetryPolicy {
                attempts: 4,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(500),
                timeout: Duration::from_secs(5),
            }),
            timing: Some(ExecTiming {
                job_poll: Duration::from_millis(20),
                job_timeout: Duration::from_secs(10),
                cancel_settle: Duration::from_millis(300),
                wait_recheck: Duration::from_millis(500),
                lease: Duration::from_secs(10),
            }),
            no_workers: false,
        };
        let service = service::start(settings, tuning)
            .await
            .context("starting the service")?;
        let webhooks = format!("{}/webhooks", service.url());
        for topic in TOPICS {
            dev.subscribe_webhook(topic, &webhooks);
        }
        Ok(Stage {
            dev,
            service,
            shop,
            database_url,
            http: reqwest::Client::new(),
            secret,
            _data: data,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.url())
    }

    /// A session token as the shop's admin issues it to the embedded app.
    pub fn admin_token(&self, lifetime: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(60);
        sign_session_token(
            &self.secret,
            &json!({
                "iss": format!("https://{}/admin", self.shop),
                "dest": format!("https://{}", self.shop),
                "aud": API_KEY,
                "sub": "1",
                "exp": now + lifetime,
                "nbf": now - 1,
                "iat": now,
            }),
        )
    }

    /// A session token as a customer-account extension gets it for a signed-in customer.
    fn customer_token(&self, customer: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        sign_session_token(
            &self.secret,
            &json!({
                "iss": format!("https://{}/admin", self.shop),
                "dest": format!("https://{}", self.shop),
                "aud": API_KEY,
                "sub": customer,
                "exp": now + 60,
                "nbf": now - 1,
                "iat": now,
                "jti": format!("{:016x}", rand::random::<u64>()),
            }),
        )
    }

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
                entry.trigger == trigger && matches!(entry.status.as_str(), "done" | "failed")
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

    pub async fn stop(self) {
        self.service.stop().await;
        self.dev.shutdown().await;
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
