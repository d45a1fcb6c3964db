//! `spawn_app`: a dev store and the service on loopback ports, a temporary database, the
//! test policy published and every webhook topic subscribed.

use std::future::Future;
use std::time::{Duration, Instant};

use cancel_policy::config::{AppSecrets, RateLimits, Secret, Settings, WorkerSettings};
use cancel_policy::service::{self, RunningService, Tuning};
use cancel_policy::shopify::client::RetryPolicy;
use cancel_policy::shopify::signatures::{
    session_claims, sign_app_proxy, sign_session_token, sign_webhook,
};
use cancel_policy::store::{NewPolicy, ShopTokens, Store};
use cancel_policy::workflow::execute::ExecTiming;
use cancel_policy::workflow::inbox::ORDER_TOPICS;
use cancel_policy_dev_store::seed::InventoryBehaviour;
use cancel_policy_dev_store::{
    DeliveryState, DevStore, DevStoreConfig, Faults, NewCustomer, NewLine, NewOrder, NewProduct,
    NewVariant, RunningDevStore,
};
use serde_json::{Value, json};

pub const API_KEY: &str = "e2e-client-id";
pub const SECRET: &str = "e2e-client-secret";

pub struct Options {
    pub workers: usize,
    pub start_workers: bool,
    pub lease: Duration,
    pub faults: Faults,
    pub database_url: Option<String>,
    pub limits: RateLimits,
    /// Expiring offline tokens in the dev store (`None`: one token that never expires).
    pub token_lifetime: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 2,
            start_workers: true,
            lease: Duration::from_secs(5),
            faults: Faults {
                time_scale: 1000.0,
                ..Faults::default()
            },
            database_url: None,
            limits: RateLimits::default(),
            token_lifetime: None,
        }
    }
}

pub struct TestApp {
    pub dev: RunningDevStore,
    pub service: RunningService,
    pub http: reqwest::Client,
    pub shop: String,
    _dir: tempfile::TempDir,
}

/// The two databases every e2e test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    static BACKEND: Backend;
    /// The PostgreSQL databases the test has created, dropped when it passes.
    static CREATED: std::cell::RefCell<Vec<String>>;
}

/// Runs one test body with `spawn_app` on `backend`. A test that passes drops the PostgreSQL
/// databases it created; a failing one (a panic) leaves them for a look.
pub async fn on_database<F: Future<Output = ()>>(backend: Backend, test: F) {
    let created = CREATED
        .scope(Default::default(), async {
            BACKEND.scope(backend, test).await;
            CREATED.with(|created| created.take())
        })
        .await;
    if !created.is_empty() {
        drop_databases(&postgres_server(), &created).await;
    }
}

/// Declares an e2e test twice, as `NAME::sqlite` and `NAME::postgres`: the same suite on both
/// databases the service supports.
macro_rules! on_both_databases {
    ($(#[$attr:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            async fn sqlite() {
                crate::support::on_database(crate::support::Backend::Sqlite, async $body).await
            }

            $(#[$attr])*
            async fn postgres() {
                crate::support::on_database(crate::support::Backend::Postgres, async $body).await
            }
        }
    };
}

/// The PostgreSQL server: `TEST_DATABASE_URL`, or one started (and installed if missing) by
/// `scripts/start-postgres.sh`, once per run.
fn postgres_server() -> String {
    static SERVER: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let server = SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL")
            && !url.is_empty()
        {
            return Ok(url);
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/start-postgres.sh");
        let output = std::process::Command::new("bash")
            .arg(script)
            .output()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{script} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    });
    match server {
        Ok(url) => url.clone(),
        Err(e) => panic!("no PostgreSQL for the e2e suite (set TEST_DATABASE_URL): {e}"),
    }
}

/// A fresh database for one test on the backend the test runs on (SQLite outside
/// `on_database`).
pub async fn database_url(dir: &tempfile::TempDir) -> String {
    match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Postgres => fresh_postgres(&postgres_server()).await,
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("service.sqlite").display()
        ),
    }
}

/// A new empty database on the server of `base` for one test.
async fn fresh_postgres(base: &str) -> String {
    use sqlx::Executor;
    let name = format!("cp_e2e_{:016x}", rand::random::<u64>());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .unwrap();
    let create = format!("CREATE DATABASE {name}");
    pool.execute(sqlx::AssertSqlSafe(create)).await.unwrap();
    pool.close().await;
    // Outside `on_database` (no scope) the database is kept.
    let _ = CREATED.try_with(|created| created.borrow_mut().push(name.clone()));
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// Drops `names` on the server of `base`, with the connections the test's service left open.
async fn drop_databases(base: &str, names: &[String]) {
    use sqlx::Executor;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .unwrap();
    for name in names {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        pool.execute(sqlx::AssertSqlSafe(drop)).await.unwrap();
    }
    pool.close().await;
}

pub async fn spawn_app(options: Options) -> TestApp {
    if let Ok(filter) = std::env::var("E2E_LOG") {
        cancel_policy::telemetry::init(&filter);
    }
    let dev = DevStore::start(DevStoreConfig {
        api_secret: SECRET.into(),
        api_key: API_KEY.into(),
        token_lifetime: options.token_lifetime,
        faults: options.faults.clone(),
        ..DevStoreConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database_url = match &options.database_url {
        Some(url) => url.clone(),
        None => database_url(&dir).await,
    };
    let shop = dev.shop_domain();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_key: API_KEY.into(),
        secrets: AppSecrets::new(Secret::new(SECRET)),
        database_url,
        admin_url: Some(dev.base_url()),
        bootstrap_shop: Some((shop.clone(), Secret::new(dev.access_token()))),
        log_filter: "warn".into(),
        worker: WorkerSettings {
            concurrency: options.workers,
            lease: options.lease,
            poll_interval: Duration::from_millis(10),
            retry_base: Duration::from_millis(20),
            max_attempts: 40,
        },
        limits: options.limits,
    };
    let tuning = Tuning {
        retry: Some(RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            timeout: Duration::from_secs(3),
        }),
        timing: Some(ExecTiming {
            job_poll: Duration::from_millis(10),
            job_timeout: Duration::from_secs(10),
            cancel_settle: Duration::from_millis(300),
            wait_recheck: Duration::from_millis(200),
            lease: options.lease,
        }),
        no_workers: !options.start_workers,
    };
    let service = service::start(settings, tuning).await.unwrap();
    if let Some(refresh_token) = dev.refresh_token() {
        // The pair an install's token exchange would have stored (the bootstrap settings carry
        // the access token only).
        let lifetime = options.token_lifetime.unwrap_or_default();
        let now = chrono::Utc::now();
        service
            .app
            .store
            .set_shop_tokens(
                &shop,
                &ShopTokens {
                    access_token: dev.access_token(),
                    access_token_expires_at: Some(
                        now + chrono::Duration::from_std(lifetime).unwrap(),
                    ),
                    refresh_token: &refresh_token,
                    refresh_token_expires_at: Some(now + chrono::Duration::days(90)),
                },
            )
            .await
            .unwrap();
    }
    publish(
        &service.app.store,
        &shop,
        include_str!("policies/service.toml"),
    )
    .await;
    let url = format!("{}/webhooks", service.url());
    for topic in ORDER_TOPICS {
        dev.subscribe_webhook(topic, &url);
    }
    TestApp {
        dev,
        service,
        http: reqwest::Client::new(),
        shop,
        _dir: dir,
    }
}

pub async fn publish(store: &Store, shop: &str, source: &str) {
    let output = cancel_policy_core::compile::compile(source, "policy.toml");
    let policy = output
        .policy
        .unwrap_or_else(|| panic!("{:?}", output.diagnostics));
    let compiled = policy.to_json();
    let hash = service::policy_hash(&compiled);
    store
        .publish_policy(&NewPolicy {
            shop,
            policy_id: &policy.id,
            version: &policy.version,
            hash: &hash,
            compiled: &compiled,
            source: Some(source),
        })
        .await
        .unwrap();
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.url())
    }

    pub fn store(&self) -> &Store {
        &self.service.app.store
    }

    /// Waits until every webhook was delivered and every job has ended.
    pub async fn settle(&self, timeout: Duration) {
        let start = Instant::now();
        loop {
            self.dev.flush_webhooks();
            let pending = self
                .dev
                .webhook_deliveries()
                .iter()
                .any(|d| d.state == DeliveryState::Pending);
            let counts = self.store().job_counts().await.unwrap();
            if !pending && counts.queued == 0 && counts.running == 0 {
                // Twice in a row: a job may be enqueueing another.
                tokio::time::sleep(Duration::from_millis(30)).await;
                let again = self.store().job_counts().await.unwrap();
                if again.queued == 0 && again.running == 0 {
                    return;
                }
            }
            if start.elapsed() > timeout {
                let jobs = self.store().jobs().await.unwrap();
                let open: Vec<_> = jobs.iter().filter(|j| j.status != "done").collect();
                panic!("not settled after {timeout:?}: {counts:?}; open jobs: {open:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn customer_token(&self, customer: &str) -> String {
        let claims = session_claims(&self.shop, API_KEY, customer, Duration::from_secs(60));
        sign_session_token(SECRET, &claims)
    }

    pub fn admin_token(&self) -> String {
        let claims = session_claims(&self.shop, API_KEY, "42", Duration::from_secs(60));
        sign_session_token(SECRET, &claims)
    }

    pub async fn customer_cancel(&self, order: &str, customer: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/customer/orders/{}/cancel", numeric(order))))
            .bearer_auth(self.customer_token(customer))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The app proxy door, signed as Shopify signs it.
    pub async fn proxy_cancel(
        &self,
        order: &str,
        customer_numeric: &str,
        secret: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut query: Vec<(String, String)> = vec![
            ("shop".into(), self.shop.clone()),
            ("logged_in_customer_id".into(), customer_numeric.into()),
            ("path_prefix".into(), "/apps/cancel".into()),
            (
                "timestamp".into(),
                chrono::Utc::now().timestamp().to_string(),
            ),
        ];
        let signature = sign_app_proxy(secret, &query);
        query.push(("signature".into(), signature));
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let response = self
            .http
            .post(self.url(&format!(
                "/proxy/orders/{}/cancel?{}",
                numeric(order),
                encoded.join("&")
            )))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn audit(&self, order: &str) -> Value {
        self.http
            .get(self.url(&format!("/api/orders/{}/audit", numeric(order))))
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Posts a signed webhook as Shopify would.
    pub async fn send_webhook(
        &self,
        topic: &str,
        webhook_id: &str,
        body: &Value,
        secret: &str,
    ) -> u16 {
        let raw = body.to_string();
        self.http
            .post(self.url("/webhooks"))
            .header("X-Shopify-Topic", topic)
            .header(
                "X-Shopify-Hmac-Sha256",
                sign_webhook(secret, raw.as_bytes()),
            )
            .header("X-Shopify-Shop-Domain", &self.shop)
            .header("X-Shopify-API-Version", "2026-04")
            .header("X-Shopify-Webhook-Id", webhook_id)
            .header("X-Shopify-Triggered-At", chrono::Utc::now().to_rfc3339())
            .body(raw)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// A stocked product; returns its SKU.
    pub fn product(
        &self,
        sku: &str,
        price: &str,
        quantity: i64,
        tags: &[&str],
        policy: Option<&str>,
    ) -> String {
        self.dev
            .add_product(&NewProduct {
                title: format!("Product {sku}"),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                product_type: "Home".into(),
                vendor: "Atelier".into(),
                variants: vec![NewVariant {
                    title: "Default".into(),
                    sku: sku.into(),
                    price: price.into(),
                    quantity,
                    inventory_policy: policy.map(|p| serde_json::from_value(json!(p)).unwrap()),
                    ..NewVariant::default()
                }],
                ..NewProduct::default()
            })
            .unwrap();
        sku.to_string()
    }

    pub fn customer(&self, email: &str, locale: &str) -> String {
        self.dev.add_customer(&NewCustomer {
            email: email.into(),
            first_name: "Test".into(),
            last_name: "Customer".into(),
            locale: Some(locale.into()),
            ..NewCustomer::default()
        })
    }

    /// An order placed `minutes_ago`, paid, for `email`'s customer.
    pub fn order(
        &self,
        email: &str,
        lines: &[(&str, i64)],
        minutes_ago: i64,
        extra: impl FnOnce(&mut NewOrder),
    ) -> String {
        let mut order = NewOrder {
            customer: Some(email.into()),
            created_at: Some(chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)),
            lines: lines
                .iter()
                .map(|(sku, quantity)| NewLine {
                    sku: Some(sku.to_string()),
                    quantity: *quantity,
                    ..NewLine::default()
                })
                .collect(),
            shipping: Some(("Standard".into(), "5.00".into())),
            shipping_country: Some("FR".into()),
            inventory: InventoryBehaviour::DecrementIgnoringPolicy,
            ..NewOrder::default()
        };
        extra(&mut order);
        self.dev.create_order(&order).unwrap()
    }

    /// The dev store's view of the order (as the Admin API shows it).
    pub fn shopify_order(&self, id: &str) -> Value {
        self.dev.order(id).unwrap()
    }

    pub fn customer_of(&self, order: &str) -> String {
        let id = self.dev.order_state(order).unwrap().customer_id.unwrap();
        format!("gid://shopify/Customer/{id}")
    }
}

pub fn numeric(gid: &str) -> &str {
    gid.rsplit('/').next().unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
