//! `service-bench`: the companion service under load, with the local dev store, on loopback.
//!
//! ```sh
//! cargo run --release --bin service-bench                  # about a minute
//! cargo run --release --bin service-bench -- --plan standard --webhooks 5000
//! ```
//!
//! Three measurements, each on a fresh dev store, service and SQLite database:
//! (a) verified webhooks per second: signed `orders/updated` deliveries with distinct webhook
//!     ids posted concurrently to `/webhooks`, counting 200s;
//! (b) customer-decision latency: sequential requests at the session-token door, each one
//!     reading the order from the dev store, deciding and storing the decision;
//! (c) bulk-cancel throughput against the plan's rate ceiling. The dev store restores its cost
//!     bucket at the plan's rate in real time, and a metering proxy between the service and the
//!     dev store adds up `extensions.cost.actualQueryCost` of every call, so the ceiling is
//!     `restoreRate / (points spent per cancelled order)` orders per second.
//!     https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
//!
//! Every loop is bounded; the program stops by itself.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use cancel_policy::config::{AppSecrets, RateLimits, Secret, Settings, WorkerSettings};
use cancel_policy::service::{self, RunningService, Tuning};
use cancel_policy::shopify::signatures::{session_claims, sign_session_token, sign_webhook};
use cancel_policy::store::NewPolicy;
use cancel_policy_dev_store::seed::InventoryBehaviour;
use cancel_policy_dev_store::{
    DevStore, DevStoreConfig, Faults, NewCustomer, NewLine, NewOrder, NewProduct, NewVariant, Plan,
    RunningDevStore,
};
use serde_json::{Value, json};

const API_KEY: &str = "bench-client-id";
const SECRET: &str = "bench-client-secret";
const BULK_TAG: &str = "bench-bulk";

/// Staff cancel what the bulk run selects; customers may cancel within the hour.
const POLICY: &str = r#"
id = "service-bench"
name = "Service benchmark"
version = "1.0.0"
default_locale = "en"
locales = ["en"]
timezone = "Europe/Paris"
triggers = ["customer_request", "staff_request"]

[default]
deny = { message = "window_closed" }

[[rule]]
id = "staff-bulk"
on = ["staff_request"]
when = { order_tags = { any_of = ["bench-bulk"] }, fulfillment_status = { in = ["UNFULFILLED", "ON_HOLD"] } }
then.cancel = { reason = "OTHER", refund = "original", restock = true, notify = false }

[[rule]]
id = "within-hour"
on = ["customer_request"]
when = { minutes_since_placed = { lt = 60 }, fulfillment_status = { in = ["UNFULFILLED", "ON_HOLD"] } }
then.allow = { reason = "CUSTOMER", refund = "original", restock = true, notify = true }

[messages.en]
window_closed = "Orders can be cancelled within one hour of purchase."
"#;

struct Args {
    webhooks: usize,
    concurrency: usize,
    requests: usize,
    plan: Plan,
    bulk_orders: Option<usize>,
    workers: usize,
}

fn usage() -> &'static str {
    "service-bench [--webhooks N] [--concurrency N] [--requests N] \
     [--plan standard|advanced|plus|enterprise] [--bulk-orders N] [--workers N]"
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        webhooks: 20_000,
        concurrency: 64,
        requests: 2_000,
        plan: Plan::Plus,
        bulk_orders: None,
        workers: 16,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        if flag == "--help" || flag == "-h" {
            println!("{}", usage());
            std::process::exit(0);
        }
        let value = words
            .next()
            .with_context(|| format!("{flag} needs a value\n{}", usage()))?;
        let number = || -> Result<usize> {
            value
                .parse()
                .with_context(|| format!("{flag}: `{value}` is not a number"))
        };
        match flag.as_str() {
            "--webhooks" => args.webhooks = number()?,
            "--concurrency" => args.concurrency = number()?.max(1),
            "--requests" => args.requests = number()?,
            "--bulk-orders" => args.bulk_orders = Some(number()?),
            "--workers" => args.workers = number()?.max(1),
            "--plan" => {
                args.plan = Plan::parse(&value)
                    .with_context(|| format!("unknown plan `{value}`\n{}", usage()))?
            }
            other => bail!("unknown option `{other}`\n{}", usage()),
        }
    }
    Ok(args)
}

/// A dev store and the service, with the bench policy published.
struct Harness {
    dev: RunningDevStore,
    service: RunningService,
    http: reqwest::Client,
    shop: String,
    dir: PathBuf,
}

struct HarnessOptions {
    plan: Plan,
    /// Dev store time: 1 restores the cost bucket in real time.
    time_scale: f64,
    workers: usize,
    /// Where the service reaches the Admin API, when not the dev store itself.
    admin_url: Option<String>,
}

impl Harness {
    async fn start(name: &str, options: HarnessOptions) -> Result<Harness> {
        let dev = DevStore::start(DevStoreConfig {
            api_secret: SECRET.into(),
            plan: options.plan,
            faults: Faults {
                time_scale: options.time_scale,
                ..Faults::default()
            },
            ..DevStoreConfig::default()
        })
        .await?;
        let dir = std::env::temp_dir().join(format!(
            "service-bench-{}-{name}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)?;
        let shop = dev.shop_domain();
        let admin_url = options.admin_url.clone().unwrap_or_else(|| dev.base_url());
        let settings = Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: API_KEY.into(),
            secrets: AppSecrets::new(Secret::new(SECRET)),
            database_url: format!("sqlite://{}?mode=rwc", dir.join("service.sqlite").display()),
            admin_url: Some(admin_url),
            bootstrap_shop: Some((shop.clone(), Secret::new(dev.access_token()))),
            log_filter: "error".into(),
            worker: WorkerSettings {
                concurrency: options.workers,
                ..WorkerSettings::default()
            },
            limits: RateLimits {
                per_customer_per_minute: 1_000_000,
                per_shop_per_minute: 1_000_000,
            },
        };
        let service = service::start(settings, Tuning::default()).await?;
        let output = cancel_policy_core::compile::compile(POLICY, "bench.toml");
        let Some(policy) = output.policy else {
            bail!(
                "the bench policy does not compile: {:?}",
                output.diagnostics
            );
        };
        let compiled = policy.to_json();
        service
            .app
            .store
            .publish_policy(&NewPolicy {
                shop: &shop,
                policy_id: &policy.id,
                version: &policy.version,
                hash: &service::policy_hash(&compiled),
                compiled: &compiled,
                source: Some(POLICY),
            })
            .await?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Harness {
            dev,
            service,
            http,
            shop,
            dir,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.url())
    }

    fn admin_token(&self) -> String {
        let claims = session_claims(&self.shop, API_KEY, "1", Duration::from_secs(600));
        sign_session_token(SECRET, &claims)
    }

    fn customer_token(&self, customer: &str) -> String {
        let claims = session_claims(&self.shop, API_KEY, customer, Duration::from_secs(600));
        sign_session_token(SECRET, &claims)
    }

    /// `count` paid, unfulfilled orders placed `minutes_ago`, spread over `customers` customers.
    fn orders(
        &self,
        count: usize,
        customers: usize,
        minutes_ago: i64,
        tags: &[&str],
    ) -> Result<Vec<(String, String)>> {
        let sku = "BENCH-1";
        self.dev.add_product(&NewProduct {
            title: "Bench product".into(),
            product_type: "Home".into(),
            vendor: "Atelier".into(),
            variants: vec![NewVariant {
                title: "Default".into(),
                sku: sku.into(),
                price: "40.00".into(),
                quantity: 1_000_000,
                ..NewVariant::default()
            }],
            ..NewProduct::default()
        })?;
        let people: Vec<(String, String)> = (0..customers.max(1))
            .map(|i| {
                let email = format!("bench{i}@example.com");
                let id = self.dev.add_customer(&NewCustomer {
                    email: email.clone(),
                    first_name: "Bench".into(),
                    last_name: format!("Customer {i}"),
                    locale: Some("en".into()),
                    ..NewCustomer::default()
                });
                (email, id)
            })
            .collect();
        let mut orders = Vec::with_capacity(count);
        for (email, customer) in people.iter().cycle().take(count) {
            let order = self.dev.create_order(&NewOrder {
                customer: Some(email.clone()),
                created_at: Some(chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)),
                lines: vec![NewLine {
                    sku: Some(sku.into()),
                    quantity: 1,
                    ..NewLine::default()
                }],
                tags: tags.iter().map(|t| t.to_string()).collect(),
                shipping: Some(("Standard".into(), "5.00".into())),
                shipping_country: Some("FR".into()),
                inventory: InventoryBehaviour::DecrementIgnoringPolicy,
                ..NewOrder::default()
            })?;
            orders.push((order, customer.clone()));
        }
        Ok(orders)
    }

    async fn stop(self) {
        self.service.stop().await;
        self.dev.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---- (a) webhooks ---------------------------------------------------------------------------

struct WebhookResult {
    sent: usize,
    accepted: usize,
    stored: i64,
    seconds: f64,
}

async fn bench_webhooks(args: &Args) -> Result<WebhookResult> {
    let harness = Harness::start(
        "webhooks",
        HarnessOptions {
            plan: Plan::Standard,
            time_scale: 1000.0,
            workers: 4,
            admin_url: None,
        },
    )
    .await?;
    // Signed before the clock starts: the sender's HMACs are not the service's work.
    let base = chrono::Utc::now();
    let deliveries: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..args.webhooks)
            .map(|i| {
                let order = 5_000_000 + (i % 1_000) as u64;
                let body = json!({
                    "id": order,
                    "admin_graphql_api_id": format!("gid://shopify/Order/{order}"),
                    "name": format!("#{order}"),
                    "updated_at": (base + chrono::Duration::milliseconds(i as i64)).to_rfc3339(),
                    "cancelled_at": null,
                    "financial_status": "paid",
                    "fulfillment_status": null,
                    "tags": "",
                    "customer": { "id": 7_000_000 + (i % 100) as u64, "admin_graphql_api_id": format!("gid://shopify/Customer/{}", 7_000_000 + (i % 100) as u64) },
                })
                .to_string();
                let signature = sign_webhook(SECRET, body.as_bytes());
                (format!("bench-{i:08}-{:016x}", rand::random::<u64>()), body, signature)
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let url = harness.url("/webhooks");
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..args.concurrency {
        let (deliveries, next, accepted) = (deliveries.clone(), next.clone(), accepted.clone());
        let (http, url, shop) = (harness.http.clone(), url.clone(), harness.shop.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, body, signature)) = deliveries.get(i) else {
                    break;
                };
                let response = http
                    .post(&url)
                    .header("X-Shopify-Topic", "orders/updated")
                    .header("X-Shopify-Hmac-Sha256", signature)
                    .header("X-Shopify-Shop-Domain", &shop)
                    .header("X-Shopify-API-Version", "2026-04")
                    .header("X-Shopify-Webhook-Id", id)
                    .header("Content-Type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                if response.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for sender in senders {
        sender.await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stored = harness
        .service
        .app
        .store
        .webhook_count(&harness.shop)
        .await?;
    harness.stop().await;
    Ok(WebhookResult {
        sent: args.webhooks,
        accepted: accepted.load(Ordering::Relaxed),
        stored,
        seconds,
    })
}

// ---- (b) customer decisions -----------------------------------------------------------------

struct LatencyResult {
    requests: usize,
    allowed: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_ms: f64,
}

async fn bench_customer_latency(args: &Args) -> Result<LatencyResult> {
    // A fast bucket: this measures the service, not Shopify's rate limit.
    let harness = Harness::start(
        "customers",
        HarnessOptions {
            plan: Plan::Standard,
            time_scale: 1000.0,
            workers: 4,
            admin_url: None,
        },
    )
    .await?;
    let warmup = 50.min(args.requests);
    let orders = harness.orders(args.requests + warmup, 50, 5, &[])?;
    let mut latencies = Vec::with_capacity(args.requests);
    let mut allowed = 0;
    for (index, (order, customer)) in orders.iter().enumerate() {
        let numeric = order.rsplit('/').next().unwrap_or_default();
        let request = harness
            .http
            .post(harness.url(&format!("/api/customer/orders/{numeric}/cancel")))
            .bearer_auth(harness.customer_token(customer))
            .json(&json!({ "reason": "changed_mind" }));
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let elapsed = started.elapsed();
        if index < warmup {
            continue;
        }
        if status == reqwest::StatusCode::OK
            && answer.get("outcome").and_then(Value::as_str) == Some("allow")
        {
            allowed += 1;
        }
        latencies.push(elapsed.as_secs_f64() * 1000.0);
    }
    harness.stop().await;
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| -> f64 {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).copied().unwrap_or(f64::NAN)
    };
    Ok(LatencyResult {
        requests: latencies.len(),
        allowed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        mean_ms: latencies.iter().sum::<f64>() / latencies.len().max(1) as f64,
    })
}

// ---- (c) bulk cancellation against the rate ceiling -----------------------------------------

/// What passed through the metering proxy, per operation.
#[derive(Default)]
struct Meter {
    calls: AtomicU64,
    throttled: AtomicU64,
    by_operation: Mutex<BTreeMap<String, (u64, f64)>>,
}

impl Meter {
    fn record(&self, operation: &str, response: &[u8]) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Ok(body) = serde_json::from_slice::<Value>(response) else {
            return;
        };
        let throttled = body
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|errors| {
                errors.iter().any(|e| {
                    e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED")
                })
            });
        if throttled {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        let actual = body
            .pointer("/extensions/cost/actualQueryCost")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        if let Ok(mut by_operation) = self.by_operation.lock() {
            let entry = by_operation.entry(operation.to_string()).or_default();
            entry.0 += 1;
            entry.1 += actual;
        }
    }

    fn total_cost(&self) -> f64 {
        self.by_operation
            .lock()
            .map(|m| m.values().map(|(_, cost)| cost).sum())
            .unwrap_or(0.0)
    }
}

#[derive(Clone)]
struct Proxy {
    http: reqwest::Client,
    target: Arc<Mutex<String>>,
    meter: Arc<Meter>,
}

async fn forward(
    State(proxy): State<Proxy>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Bytes) {
    let operation = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("operationName")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "anonymous".into());
    let target = proxy.target.lock().map(|t| t.clone()).unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.http.post(format!("{target}{path}")).body(body);
    for name in ["x-shopify-access-token", "content-type"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value.as_bytes());
        }
    }
    let json = [("content-type", "application/json")];
    match request.send().await {
        Ok(response) => {
            let status =
                StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let bytes = response.bytes().await.unwrap_or_default();
            proxy.meter.record(&operation, &bytes);
            (status, json, bytes)
        }
        Err(_) => (StatusCode::BAD_GATEWAY, json, Bytes::new()),
    }
}

/// Starts the metering proxy; its target is set once the dev store is up.
async fn start_proxy() -> Result<(String, Proxy)> {
    let proxy = Proxy {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?,
        target: Arc::default(),
        meter: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, proxy))
}

struct BulkResult {
    plan: Plan,
    restore_rate: f64,
    orders: usize,
    cancelled: usize,
    seconds: f64,
    cost_per_order: f64,
    by_operation: BTreeMap<String, (u64, f64)>,
    throttled_answers: u64,
    surfaced_errors: Vec<String>,
    finished: bool,
}

impl BulkResult {
    fn ceiling(&self) -> f64 {
        self.restore_rate / self.cost_per_order
    }

    fn achieved(&self) -> f64 {
        self.cancelled as f64 / self.seconds
    }
}

async fn bench_bulk(args: &Args) -> Result<BulkResult> {
    let (restore_rate, _) = args.plan.limits();
    // About 25 s of work at ~40 points per order.
    let count = args
        .bulk_orders
        .unwrap_or(((restore_rate * 25.0 / 40.0) as usize).max(20));
    let (proxy_url, proxy) = start_proxy().await?;
    let harness = Harness::start(
        "bulk",
        HarnessOptions {
            plan: args.plan,
            time_scale: 1.0,
            workers: args.workers,
            admin_url: Some(proxy_url),
        },
    )
    .await?;
    if let Ok(mut target) = proxy.target.lock() {
        *target = harness.dev.base_url();
    }
    let orders = harness.orders(count, 100, 30, &[BULK_TAG])?;
    // Start with an empty bucket: the burst a full bucket allows would flatter the rate.
    harness.dev.set_throttle_available(0.0);
    let started = Instant::now();
    let response = harness
        .http
        .post(harness.url("/api/bulk-cancellations"))
        .bearer_auth(harness.admin_token())
        .json(&json!({ "query": format!("tag:{BULK_TAG}"), "pageSize": 50 }))
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    if status != reqwest::StatusCode::ACCEPTED {
        bail!("the bulk cancellation was refused: {status} {answer}");
    }
    let id = answer
        .get("id")
        .and_then(Value::as_i64)
        .context("no bulk id")?;
    let deadline = Duration::from_secs(120);
    let ids: Vec<u64> = orders
        .iter()
        .filter_map(|(gid, _)| gid.rsplit('/').next()?.parse().ok())
        .collect();
    let cancelled_now = || {
        harness.dev.with_state(|state| {
            ids.iter()
                .filter(|id| {
                    state
                        .orders
                        .get(id)
                        .is_some_and(|o| o.cancelled_at.is_some())
                })
                .count()
        })
    };
    let mut finished = false;
    let mut last_cancel = started.elapsed();
    let mut cancelled = 0;
    while started.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = cancelled_now();
        if now > cancelled {
            cancelled = now;
            last_cancel = started.elapsed();
        }
        let counts = harness.service.app.store.job_counts().await?;
        let bulk = harness.service.app.store.bulk(id).await?;
        let run_over = bulk.is_some_and(|b| b.status != "running");
        if run_over && counts.queued == 0 && counts.running == 0 {
            finished = true;
            break;
        }
    }
    let store = &harness.service.app.store;
    let bulk = store.bulk(id).await?.context("the run vanished")?;
    let jobs = store.jobs().await?;
    let mut surfaced: Vec<String> = jobs
        .iter()
        .filter(|j| {
            j.status == "failed"
                || j.last_error
                    .as_deref()
                    .is_some_and(|e| e.to_ascii_lowercase().contains("throttl"))
        })
        .map(|j| {
            format!(
                "job {} ({}, {} after {} attempts): {}",
                j.id,
                j.kind,
                j.status,
                j.attempts,
                j.last_error.as_deref().unwrap_or("")
            )
        })
        .collect();
    if let Some(error) = &bulk.last_error {
        surfaced.push(format!("bulk run {}: {error}", bulk.status));
    }
    surfaced.extend(
        store
            .bulk_errors(id, 20)
            .await?
            .into_iter()
            .map(|e| format!("order {}: {}", e.order_id, e.message)),
    );
    let total_cost = proxy.meter.total_cost();
    let by_operation = proxy
        .meter
        .by_operation
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    let result = BulkResult {
        plan: args.plan,
        restore_rate,
        orders: count,
        cancelled,
        seconds: last_cancel.as_secs_f64().max(0.001),
        cost_per_order: total_cost / cancelled.max(1) as f64,
        by_operation,
        throttled_answers: proxy.meter.throttled.load(Ordering::Relaxed),
        surfaced_errors: surfaced,
        finished,
    };
    harness.stop().await;
    Ok(result)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!("service-bench on {cores} cores; (a) webhooks …");
    let webhooks = bench_webhooks(&args).await?;
    eprintln!("(b) customer decisions …");
    let latency = bench_customer_latency(&args).await?;
    eprintln!(
        "(c) bulk cancellation on the {} plan …",
        args.plan.display_name()
    );
    let bulk = bench_bulk(&args).await?;

    let webhook_rate = webhooks.accepted as f64 / webhooks.seconds;
    let fraction = bulk.achieved() / bulk.ceiling();
    println!(
        "service-bench, {}, {cores} cores, release build, SQLite, loopback\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!("| measure | result | target | |");
    println!("|---|---:|---:|---|");
    println!(
        "| (a) verified webhooks/s ({} signed `orders/updated`, {} concurrent; {} answered 200, {} stored) | {:.0}/s | ≥ 3,000/s | {} |",
        webhooks.sent,
        args.concurrency,
        webhooks.accepted,
        webhooks.stored,
        webhook_rate,
        verdict(webhook_rate >= 3000.0 && webhooks.accepted == webhooks.sent)
    );
    println!(
        "| (b) customer decision p50 ({} sequential requests, {} allowed; mean {:.2} ms, max {:.1} ms) | {:.2} ms | | |",
        latency.requests, latency.allowed, latency.mean_ms, latency.max_ms, latency.p50_ms
    );
    println!(
        "| (b) customer decision p99 | {:.2} ms | ≤ 5 ms | {} |",
        latency.p99_ms,
        verdict(latency.p99_ms <= 5.0)
    );
    println!(
        "| (c) bulk cancel: {}/{} orders in {:.1} s on {} ({:.0} pts/s); {:.1} pts/order → ceiling {:.2} orders/s | {:.2} orders/s = {:.1}% of ceiling | ≥ 90% | {} |",
        bulk.cancelled,
        bulk.orders,
        bulk.seconds,
        bulk.plan.display_name(),
        bulk.restore_rate,
        bulk.cost_per_order,
        bulk.ceiling(),
        bulk.achieved(),
        fraction * 100.0,
        verdict(fraction >= 0.9 && bulk.finished && bulk.cancelled == bulk.orders)
    );
    println!(
        "| (c) THROTTLED surfaced as errors ({} THROTTLED answers, each retried by the client) | {} | 0 | {} |",
        bulk.throttled_answers,
        bulk.surfaced_errors.len(),
        verdict(bulk.surfaced_errors.is_empty())
    );
    for error in &bulk.surfaced_errors {
        println!("\n- surfaced: {error}");
    }
    println!("\nbulk cancellation, Admin API calls and actual cost per operation:\n");
    println!("| operation | calls | points | points/order |");
    println!("|---|---:|---:|---:|");
    for (operation, (calls, cost)) in &bulk.by_operation {
        println!(
            "| {operation} | {calls} | {cost:.0} | {:.2} |",
            cost / bulk.cancelled.max(1) as f64
        );
    }
    Ok(())
}
