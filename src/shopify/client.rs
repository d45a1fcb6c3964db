//! The Admin GraphQL client: one POST per operation, retries with backoff on 5xx, 429,
//! timeouts and THROTTLED (which Shopify may send with HTTP 200), and self-pacing from the
//! cost bucket each response reports in `extensions.cost.throttleStatus`.
//! https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use graphql_client::GraphQLQuery;
use serde::Deserialize;

use crate::config::Secret;
use crate::shopify::API_VERSION;

/// Gets a shop a new access token when the one it has expired (expiring offline tokens).
pub trait TokenRefresher: Send + Sync + std::fmt::Debug {
    /// A usable access token in place of `stale`: the stored one if another call already
    /// replaced `stale`, else a refreshed one (stored before it is returned).
    fn refresh<'a>(
        &'a self,
        stale: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = Result<Secret, AdminError>> + Send + 'a>>;
}

/// Where and as whom to call one shop's Admin API.
#[derive(Debug, Clone)]
pub struct ShopSession {
    pub domain: String,
    /// `https://{domain}` in production; the dev store's base URL in tests.
    pub base_url: String,
    /// Shared by the clones of one session, so a refresh during one call serves the next.
    token: Arc<Mutex<Secret>>,
    /// `Some` when the shop's token expires and can be refreshed.
    refresher: Option<Arc<dyn TokenRefresher>>,
}

impl ShopSession {
    pub fn new(
        domain: String,
        base_url: String,
        token: Secret,
        refresher: Option<Arc<dyn TokenRefresher>>,
    ) -> ShopSession {
        ShopSession {
            domain,
            base_url,
            token: Arc::new(Mutex::new(token)),
            refresher,
        }
    }

    pub fn token(&self) -> Secret {
        self.token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_token(&self, token: Secret) {
        *self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = token;
    }

    pub fn endpoint(&self) -> String {
        format!(
            "{}/admin/api/{API_VERSION}/graphql.json",
            self.base_url.trim_end_matches('/')
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Whole-request timeout (Shopify's own calls are much faster; a hang is a fault).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("Admin API unreachable: {0}")]
    Transport(String),
    #[error("Admin API answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("Admin API still throttled after retries")]
    Throttled,
    #[error("Admin API errors: {}", .0.join("; "))]
    GraphQl(Vec<String>),
    #[error("Admin API response could not be read: {0}")]
    Decode(String),
    /// The shop's expired access token could not be refreshed (a rejected refresh token needs
    /// the merchant to reinstall or re-authorize; retrying will not help).
    #[error("access token refresh failed: {0}")]
    TokenRefresh(String),
}

impl AdminError {
    /// Worth trying again later (the job is retried with backoff).
    pub fn is_transient(&self) -> bool {
        match self {
            AdminError::Transport(_) | AdminError::Throttled => true,
            AdminError::Status { status, .. } => *status == 429 || *status >= 500,
            AdminError::GraphQl(_) | AdminError::Decode(_) | AdminError::TokenRefresh(_) => false,
        }
    }
}

/// Counts for the load benchmark and the stats endpoint.
#[derive(Debug, Default)]
pub struct ClientCounters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    /// Milliseconds spent waiting for the bucket to refill before sending.
    pub paced_ms: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn available_now(&self, now: Instant) -> f64 {
        let refilled =
            self.available + self.restore_rate * now.duration_since(self.at).as_secs_f64();
        refilled.min(self.maximum)
    }
}

#[derive(Debug, Default)]
struct Pacing {
    buckets: HashMap<String, Bucket>,
    /// The last requested cost of each operation, to estimate the next one.
    costs: HashMap<&'static str, f64>,
}

/// How many THROTTLED answers one call waits out before giving up (each wait is the time the
/// bucket needs to hold the call's cost again).
const MAX_THROTTLED_RETRIES: u32 = 20;

#[derive(Clone)]
pub struct AdminClient {
    http: reqwest::Client,
    retry: RetryPolicy,
    pacing: Arc<Mutex<Pacing>>,
    pub counters: Arc<ClientCounters>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("retry", &self.retry)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    data: Option<serde_json::Value>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct GraphQlError {
    message: String,
    #[serde(default)]
    extensions: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    cost: Option<Cost>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cost {
    requested_query_cost: Option<f64>,
    throttle_status: Option<ThrottleStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleStatus {
    maximum_available: f64,
    currently_available: f64,
    restore_rate: f64,
}

enum Attempt<T> {
    Done(T),
    Retry {
        error: AdminError,
        wait: Option<Duration>,
    },
    /// Will not change on retry (a 4xx, a GraphQL error, no data).
    Fail(AdminError),
}

impl AdminClient {
    pub fn new(retry: RetryPolicy) -> Result<AdminClient, AdminError> {
        // reqwest is built without a default TLS provider: use ring everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| AdminError::Transport(e.to_string()))?;
        Ok(AdminClient {
            http,
            retry,
            pacing: Arc::default(),
            counters: Arc::default(),
        })
    }

    /// The HTTP client, shared with the token refresh (same timeouts, same connection pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Runs one operation, retrying what is transient.
    pub async fn run<Q>(
        &self,
        shop: &ShopSession,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData, AdminError>
    where
        Q: GraphQLQuery,
        Q::ResponseData: for<'de> Deserialize<'de>,
    {
        let body = Q::build_query(variables);
        let operation = body.operation_name;
        let payload = serde_json::to_vec(&body).map_err(|e| AdminError::Decode(e.to_string()))?;
        let mut attempt = 0;
        let (mut failures, mut throttled) = (0, 0);
        let mut refreshed = false;
        loop {
            attempt += 1;
            let booking = self.pace(&shop.domain, operation).await;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let attempt_result = self.send(shop, operation, &payload).await;
            // Sent and answered: the response's throttle status (or Shopify's charge) stands.
            booking.settle();
            match attempt_result {
                Attempt::Done(data) => {
                    return serde_json::from_value(data)
                        .map_err(|e| AdminError::Decode(format!("{operation}: {e}")));
                }
                // An expired or revoked access token: refresh once and retry once (a second 401
                // means the new token is refused too, and is reported as it is).
                // https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
                Attempt::Fail(AdminError::Status { status: 401, .. })
                    if !refreshed && shop.refresher.is_some() =>
                {
                    refreshed = true;
                    if let Some(refresher) = &shop.refresher {
                        let stale = shop.token();
                        let fresh = refresher.refresh(&stale).await?;
                        shop.set_token(fresh);
                    }
                }
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry { error, wait } => {
                    // THROTTLED always clears as the bucket refills, and the wait says when: it
                    // gets a budget of its own instead of using up the tries meant for failures.
                    // https://shopify.dev/docs/api/usage/limits#rate-limits
                    let out_of_tries = if matches!(error, AdminError::Throttled) {
                        throttled += 1;
                        throttled > MAX_THROTTLED_RETRIES
                    } else {
                        failures += 1;
                        failures >= self.retry.attempts
                    };
                    if out_of_tries {
                        return Err(error);
                    }
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let backoff = self
                        .retry
                        .base_delay
                        .saturating_mul(1 << attempt.min(10))
                        .min(self.retry.max_delay);
                    let jitter = Duration::from_millis(rand::random_range(
                        0..=backoff.as_millis().min(1000) as u64 / 2,
                    ));
                    let wait = wait.unwrap_or(backoff + jitter);
                    if wait > Duration::from_secs(1) {
                        tracing::warn!(operation, wait_ms = wait.as_millis() as u64, %error, "waiting before retrying");
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn send(
        &self,
        shop: &ShopSession,
        operation: &'static str,
        payload: &[u8],
    ) -> Attempt<serde_json::Value> {
        let response = self
            .http
            .post(shop.endpoint())
            .header("X-Shopify-Access-Token", shop.token().expose())
            .header("Content-Type", "application/json")
            .body(payload.to_vec())
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    error: AdminError::Transport(e.to_string()),
                    wait: None,
                };
            }
        };
        let status = response.status().as_u16();
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry {
                    error: AdminError::Transport(e.to_string()),
                    wait: None,
                };
            }
        };
        let envelope: Option<Envelope> = serde_json::from_str(&text).ok();
        if let Some(cost) = envelope
            .as_ref()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|e| e.cost.as_ref())
        {
            self.observe(&shop.domain, operation, cost);
        }
        let throttled = envelope.as_ref().is_some_and(|e| {
            e.errors.iter().any(|err| {
                err.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .and_then(|c| c.as_str())
                    == Some("THROTTLED")
            })
        });
        if throttled || status == 429 {
            self.counters.throttled.fetch_add(1, Ordering::Relaxed);
            return Attempt::Retry {
                error: AdminError::Throttled,
                wait: Some(self.refill_wait(&shop.domain, operation)),
            };
        }
        if status >= 500 || !(200..300).contains(&status) {
            let error = AdminError::Status {
                status,
                body: text.chars().take(300).collect(),
            };
            return if error.is_transient() {
                Attempt::Retry { error, wait: None }
            } else {
                // A 4xx other than 429 will not change on retry: report at once.
                Attempt::Fail(error)
            };
        }
        let Some(envelope) = envelope else {
            return Attempt::Retry {
                error: AdminError::Decode(format!(
                    "{operation}: not JSON: {}",
                    text.chars().take(200).collect::<String>()
                )),
                wait: None,
            };
        };
        if !envelope.errors.is_empty() {
            // Keep Shopify's error code (e.g. IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED) in front.
            let messages = envelope
                .errors
                .into_iter()
                .map(|e| {
                    match e
                        .extensions
                        .as_ref()
                        .and_then(|x| x.get("code"))
                        .and_then(|c| c.as_str())
                    {
                        Some(code) => format!("{code}: {}", e.message),
                        None => e.message,
                    }
                })
                .collect();
            return Attempt::Fail(AdminError::GraphQl(messages));
        }
        match envelope.data {
            Some(data) => Attempt::Done(data),
            None => Attempt::Fail(AdminError::Decode(format!("{operation}: no data"))),
        }
    }

    fn observe(&self, shop: &str, operation: &'static str, cost: &Cost) {
        let Ok(mut pacing) = self.pacing.lock() else {
            return;
        };
        if let Some(requested) = cost.requested_query_cost {
            pacing.costs.insert(operation, requested);
        }
        if let Some(status) = &cost.throttle_status {
            pacing.buckets.insert(
                shop.to_string(),
                Bucket {
                    maximum: status.maximum_available,
                    available: status.currently_available,
                    restore_rate: status.restore_rate.max(1.0),
                    at: Instant::now(),
                },
            );
        }
    }

    fn refill_wait(&self, shop: &str, operation: &'static str) -> Duration {
        let Ok(pacing) = self.pacing.lock() else {
            return self.retry.base_delay;
        };
        let cost = pacing.costs.get(operation).copied().unwrap_or(10.0);
        match pacing.buckets.get(shop) {
            Some(bucket) => {
                let missing = (cost - bucket.available_now(Instant::now())).max(0.0);
                Duration::from_secs_f64(missing / bucket.restore_rate) + Duration::from_millis(5)
            }
            None => self.retry.base_delay,
        }
    }

    /// Waits until the shop's bucket should hold this operation's cost, and books it, so
    /// concurrent tasks share one budget instead of all hitting THROTTLED.
    async fn pace(&self, shop: &str, operation: &'static str) -> Booking {
        let (cost, wait) = {
            let Ok(mut pacing) = self.pacing.lock() else {
                return Booking::none();
            };
            let cost = pacing.costs.get(operation).copied().unwrap_or(0.0);
            let Some(bucket) = pacing.buckets.get_mut(shop) else {
                return Booking::none();
            };
            let now = Instant::now();
            let available = bucket.available_now(now);
            // Book the cost now; the next response corrects the estimate.
            bucket.available = available - cost;
            bucket.at = now;
            let wait = (available < cost)
                .then(|| Duration::from_secs_f64((cost - available) / bucket.restore_rate));
            (cost, wait)
        };
        // From here a cancelled call (a worker stopped mid-wait) gives its booking back, so
        // abandoned requests never leave the bucket in debt for the tasks that follow.
        let booking = Booking {
            pacing: Some(self.pacing.clone()),
            shop: shop.to_string(),
            cost,
        };
        if let Some(wait) = wait {
            if wait > Duration::from_secs(1) {
                tracing::warn!(
                    shop,
                    operation,
                    cost,
                    wait_ms = wait.as_millis() as u64,
                    "pacing: waiting for the shop's API budget"
                );
            }
            self.counters
                .paced_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
        booking
    }
}

/// A cost booked in the local bucket for a request not answered yet; refunded when dropped
/// before `settle` (the request was abandoned before Shopify answered).
struct Booking {
    pacing: Option<Arc<Mutex<Pacing>>>,
    shop: String,
    cost: f64,
}

impl Booking {
    fn none() -> Booking {
        Booking {
            pacing: None,
            shop: String::new(),
            cost: 0.0,
        }
    }

    fn settle(mut self) {
        self.pacing = None;
    }
}

impl Drop for Booking {
    fn drop(&mut self) {
        let Some(pacing) = self.pacing.take() else {
            return;
        };
        let Ok(mut pacing) = pacing.lock() else {
            return;
        };
        if let Some(bucket) = pacing.buckets.get_mut(&self.shop) {
            bucket.available = (bucket.available + self.cost).min(bucket.maximum);
        }
    }
}
