//! A local stand-in for a Shopify store, for tests and the demo.
//!
//! The dev store serves the Admin GraphQL API at `POST /admin/api/2026-04/graphql.json`
//! (header `X-Shopify-Access-Token`), parsing and validating every request against the pruned
//! official 2026-04 schema (`schema/admin-2026-04.graphql`) with async-graphql, answering with
//! Shopify-shaped errors and `extensions.cost`, throttling by query cost per the shop's plan,
//! and sending webhooks signed as Shopify signs them. It keeps state (shop, catalog, inventory,
//! customers, orders, fulfillment orders, refunds, jobs, metafields) and behaves as the real
//! API does for what the companion service uses; `tests/conformance.rs` replays Shopify
//! captures against it.
//!
//! # Starting it in a test
//!
//! ```no_run
//! # async fn demo() -> Result<(), cancel_policy_dev_store::DevStoreError> {
//! use cancel_policy_dev_store::{DevStore, DevStoreConfig, Faults};
//!
//! let store = DevStore::start(DevStoreConfig::default()).await?; // 127.0.0.1, port 0
//! let graphql = store.graphql_url(); // http://127.0.0.1:PORT/admin/api/2026-04/graphql.json
//! let token = store.access_token(); // send as X-Shopify-Access-Token
//! let secret = store.api_secret(); // the key of X-Shopify-Hmac-Sha256
//! store.seed_demo()?; // catalog, customers and one order per policy situation
//! store.subscribe_webhook("orders/create", "http://127.0.0.1:9999/webhooks");
//! store.set_faults(Faults { time_scale: 1000.0, job_delay_ms: 2000, ..Faults::default() });
//! let order = store.order("gid://shopify/Order/9007199254741024"); // JSON as the API shows it
//! # let _ = (graphql, token, secret, order);
//! store.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The same knobs, seeding and webhook subscriptions are reachable over HTTP under `/_dev/`
//! (see [`http`]), and [`run`] starts the store in the foreground for `cancel-policy dev-store`.

#![recursion_limit = "256"]

pub mod cli;
mod cost;
mod error;
pub mod facts;
mod graphql;
pub mod http;
pub mod model;
mod mutations;
mod payloads;
mod query;
mod refunds;
mod resolve;
mod sdl;
pub mod seed;
mod store;
mod tokens;
mod views;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

pub use cli::{DevStoreArgs, run};
pub use error::DevStoreError;
pub use facts::{Mix, SimulateLine};
pub use model::Plan;
pub use sdl::{ADMIN_SDL, API_VERSION};
pub use seed::{NewCustomer, NewLine, NewOrder, NewProduct, NewVariant};
pub use store::Faults;
pub use webhooks::{DeliveryRecord, DeliveryState, Event, Subscription, sign, verify};

use crate::cost::Bucket;
use crate::model::{Shop, State, parse_gid};
use crate::store::{Rng, Shared};
use crate::webhooks::Webhooks;

/// How to start a dev store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DevStoreConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub shop_domain: String,
    pub shop_name: String,
    /// The Admin API access token clients must send.
    pub access_token: String,
    /// The app's client secret: the HMAC key of webhooks, and (with `api_key`) the client
    /// credentials a token refresh must present.
    pub api_secret: String,
    /// The app's client id, checked on token refresh.
    pub api_key: String,
    /// `Some`: the access token expires after this long and comes with a refresh token (the
    /// expiring offline tokens of public apps); `None` (the default): it never expires.
    pub token_lifetime: Option<std::time::Duration>,
    pub plan: Plan,
    /// IANA time zone of the shop.
    pub timezone: String,
    pub currency: String,
    /// Seed for the fault knobs' randomness and generated ids.
    pub rng_seed: u64,
    pub faults: Faults,
    /// Seed the demo catalog, customers and orders at start.
    pub seed_demo: bool,
    /// The shop's first location (every shop has one).
    pub default_location: String,
}

impl Default for DevStoreConfig {
    fn default() -> DevStoreConfig {
        DevStoreConfig {
            port: 0,
            shop_domain: "cancel-policy-dev.myshopify.com".into(),
            shop_name: "Maison Lumière".into(),
            access_token: "shpat_dev_store_0000000000000000".into(),
            api_secret: "dev-store-client-secret".into(),
            api_key: "dev-store-client-id".into(),
            token_lifetime: None,
            plan: Plan::Standard,
            timezone: "Europe/Paris".into(),
            currency: "EUR".into(),
            rng_seed: 0x5eed,
            faults: Faults::default(),
            seed_demo: false,
            default_location: "Paris Warehouse".into(),
        }
    }
}

/// Starts dev stores.
pub struct DevStore;

impl DevStore {
    /// Binds 127.0.0.1 (on `config.port`, 0 for any) and serves until shut down.
    pub async fn start(config: DevStoreConfig) -> Result<RunningDevStore, DevStoreError> {
        // reqwest is built without a default TLS provider; webhooks to https URLs use ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (schema, info) = sdl::build()?;
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(1))
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| DevStoreError::HttpClient(e.to_string()))?;
        let mut rng = Rng::new(config.rng_seed);
        let shop_id = 1 + rng.below(1_000_000);
        let mut state = State::new(Shop {
            id: shop_id,
            name: config.shop_name.clone(),
            domain: config.shop_domain.clone(),
            timezone: config.timezone.clone(),
            plan: config.plan,
            currency: config.currency.clone(),
            email: format!("owner@{}", config.shop_domain),
        });
        state.add_location(&config.default_location, true);
        let seed_events = if config.seed_demo {
            seed::seed_demo(&mut state, chrono::Utc::now())?
        } else {
            Vec::new()
        };
        let (restore, maximum) = config.plan.limits();
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Mutex::new(config.faults.clone()),
            bucket: Mutex::new(Bucket::new(maximum, restore)),
            rng: Mutex::new(rng),
            webhooks: Webhooks::new(
                client,
                config.shop_domain.clone(),
                config.api_secret.clone(),
            ),
            info,
            schema,
            access_token: config.access_token.clone(),
            api_secret: config.api_secret.clone(),
            api_key: config.api_key.clone(),
            tokens: Mutex::new(tokens::Tokens::new(
                &config.access_token,
                config.token_lifetime,
            )),
        });
        for (topic, payload) in seed_events {
            webhooks::emit(&shared, &topic, payload);
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| DevStoreError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DevStoreError::Bind {
                port: config.port,
                source,
            })?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = http::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .map_err(DevStoreError::Serve)
        });
        Ok(RunningDevStore {
            handle: DevStoreHandle { shared },
            addr,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A started dev store. Dereferences to its [`DevStoreHandle`]; dropping it stops the server.
pub struct RunningDevStore {
    handle: DevStoreHandle,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), DevStoreError>>,
}

impl RunningDevStore {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Admin GraphQL endpoint.
    pub fn graphql_url(&self) -> String {
        format!("{}/admin/api/{API_VERSION}/graphql.json", self.base_url())
    }

    pub fn handle(&self) -> DevStoreHandle {
        self.handle.clone()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the server stops (it stops only on error, or when shut down elsewhere).
    pub async fn wait(mut self) -> Result<(), DevStoreError> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(DevStoreError::Invalid(format!("server task failed: {e}"))),
        }
    }
}

impl Drop for RunningDevStore {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl std::ops::Deref for RunningDevStore {
    type Target = DevStoreHandle;
    fn deref(&self) -> &DevStoreHandle {
        &self.handle
    }
}

/// The bucket's state, as `extensions.cost.throttleStatus` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// Rust access to a running store: knobs, seeding, reading state, webhooks. Cheap to clone.
#[derive(Clone)]
pub struct DevStoreHandle {
    shared: Arc<Shared>,
}

fn order_number(state: &State, id: &str) -> Option<u64> {
    if let Some(("Order", n)) = parse_gid(id) {
        return state.orders.contains_key(&n).then_some(n);
    }
    let n: u64 = id.trim_start_matches('#').parse().ok()?;
    if state.orders.contains_key(&n) {
        return Some(n);
    }
    state.orders.values().find(|o| o.number == n).map(|o| o.id)
}

impl DevStoreHandle {
    pub fn shop_domain(&self) -> String {
        self.shared.state().shop.domain.clone()
    }

    pub fn access_token(&self) -> &str {
        &self.shared.access_token
    }

    pub fn api_secret(&self) -> &str {
        &self.shared.api_secret
    }

    /// The current refresh token (`None` unless tokens expire).
    pub fn refresh_token(&self) -> Option<String> {
        self.shared.tokens().refresh_token()
    }

    /// How many token refreshes the store has granted.
    pub fn token_refreshes(&self) -> u64 {
        self.shared.tokens().refreshes()
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Changes some knobs, keeping the others.
    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        let mut f = self.shared.faults();
        change(&mut f);
        self.shared.set_faults(f);
    }

    pub fn throttle_status(&self) -> ThrottleStatus {
        let faults = self.shared.faults();
        let mut b = self.shared.bucket();
        b.refill(faults.time_scale, faults.throttle_pressure);
        ThrottleStatus {
            maximum_available: b.maximum,
            currently_available: b.available().floor(),
            restore_rate: b.restore_rate,
        }
    }

    /// Sets the points left in the bucket (throttle pressure at a stroke).
    pub fn set_throttle_available(&self, points: f64) {
        self.shared.bucket().set_available(points);
    }

    /// Seeds the demo locations, catalog, customers and orders (emits `orders/create`).
    pub fn seed_demo(&self) -> Result<(), DevStoreError> {
        let events = seed::seed_demo(&mut self.shared.state(), chrono::Utc::now())?;
        self.emit_all(events);
        Ok(())
    }

    fn emit_all(&self, events: Vec<(String, Value)>) {
        for (topic, payload) in events {
            webhooks::emit(&self.shared, &topic, payload);
        }
    }

    /// The number the next order gets (`#1001` by default).
    pub fn set_next_order_number(&self, number: u64) {
        self.shared.state().set_next_order_number(number);
    }

    /// Adds a location; returns its gid.
    pub fn add_location(&self, name: &str, active: bool) -> String {
        model::gid("Location", self.shared.state().add_location(name, active))
    }

    /// Adds a product with its variants; returns the product gid.
    pub fn add_product(&self, product: &NewProduct) -> Result<String, DevStoreError> {
        let mut state = self.shared.state();
        if state.default_location().is_none() {
            state.add_location("Shop location", true);
        }
        Ok(model::gid(
            "Product",
            seed::add_product(&mut state, product)?,
        ))
    }

    pub fn add_customer(&self, customer: &NewCustomer) -> String {
        model::gid(
            "Customer",
            seed::add_customer(&mut self.shared.state(), customer),
        )
    }

    /// Creates an order (emits `orders/create`); returns its gid.
    pub fn create_order(&self, order: &NewOrder) -> Result<String, DevStoreError> {
        let (id, events) = {
            let mut state = self.shared.state();
            if state.default_location().is_none() {
                state.add_location("Shop location", true);
            }
            seed::create_order(&mut state, order)?
        };
        self.emit_all(events);
        Ok(model::gid("Order", id))
    }

    /// The order as the Admin API shows it (every field of the schema's `Order`, with nested
    /// objects inline), by gid, numeric id or order number; None when absent.
    pub fn order(&self, id: &str) -> Option<Value> {
        let state = self.shared.state();
        let n = order_number(&state, id)?;
        let order = state.orders.get(&n)?;
        Some(views::inline_refs(&state, views::order(&state, order), 0))
    }

    /// A copy of the order's state model.
    pub fn order_state(&self, id: &str) -> Option<model::Order> {
        let state = self.shared.state();
        let n = order_number(&state, id)?;
        state.orders.get(&n).cloned()
    }

    /// Gids of every order, oldest first.
    pub fn order_ids(&self) -> Vec<String> {
        let state = self.shared.state();
        let mut orders: Vec<_> = state.orders.values().collect();
        orders.sort_by_key(|o| (o.created_at, o.id));
        orders.iter().map(|o| model::gid("Order", o.id)).collect()
    }

    /// Units available for a SKU, over all locations.
    pub fn available(&self, sku: &str) -> Option<i64> {
        let state = self.shared.state();
        state
            .variants
            .values()
            .find(|v| v.sku == sku)
            .map(|v| v.inventory_quantity())
    }

    /// Marks every unit of the order shipped (so a later cancellation finds it fulfilled).
    pub fn fulfill_order(&self, id: &str) -> Result<(), DevStoreError> {
        let events = {
            let mut state = self.shared.state();
            let n =
                order_number(&state, id).ok_or_else(|| DevStoreError::UnknownOrder(id.into()))?;
            let now = chrono::Utc::now();
            let Some(order) = state.orders.get_mut(&n) else {
                return Err(DevStoreError::UnknownOrder(id.into()));
            };
            for line in &mut order.line_items {
                line.fulfilled = line.current_quantity();
            }
            for fo in &mut order.fulfillment_orders {
                if !matches!(
                    fo.status,
                    model::FoStatus::Cancelled | model::FoStatus::Closed
                ) {
                    fo.status = model::FoStatus::Closed;
                    fo.updated_at = now;
                    for l in &mut fo.lines {
                        l.remaining = 0;
                    }
                }
            }
            order.updated_at = now;
            let Some(order) = state.orders.get(&n) else {
                return Err(DevStoreError::UnknownOrder(id.into()));
            };
            let payload = payloads::order(&state, order);
            vec![
                ("orders/fulfilled".to_string(), payload.clone()),
                ("orders/updated".to_string(), payload),
            ]
        };
        self.emit_all(events);
        Ok(())
    }

    /// The access scopes the app has been granted (`read_apps` is off, as in the captures).
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.shared.state().scopes = scopes.iter().map(|s| s.to_string()).collect();
    }

    pub fn scopes(&self) -> Vec<String> {
        self.shared.state().scopes.clone()
    }

    /// Registers a webhook subscription: every event of `topic` is POSTed to `uri`.
    pub fn subscribe_webhook(&self, topic: &str, uri: &str) -> Subscription {
        self.shared.webhooks.subscribe(topic, uri)
    }

    pub fn unsubscribe_webhook(&self, id: u64) -> bool {
        self.shared.webhooks.unsubscribe(id)
    }

    pub fn webhook_subscriptions(&self) -> Vec<Subscription> {
        self.shared.webhooks.subscriptions()
    }

    /// Every delivery so far (pending, delivered, failed or dropped).
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.webhooks.deliveries()
    }

    /// Every event emitted, subscribed or not.
    pub fn events(&self) -> Vec<Event> {
        self.shared.webhooks.events()
    }

    /// Sends the webhook the reorder knob is holding back.
    pub fn flush_webhooks(&self) {
        webhooks::flush_held(&self.shared);
    }

    /// Customer notifications the store would have sent.
    pub fn notifications(&self) -> Vec<model::Notification> {
        self.shared.state().notifications.clone()
    }

    /// `flowTriggerReceive` calls accepted so far.
    pub fn flow_triggers(&self) -> Vec<model::FlowTrigger> {
        self.shared.state().flow_triggers.clone()
    }

    /// Generates `count` orders with the given mix (seeding the demo catalog first when the
    /// store has no products); returns their gids.
    pub fn generate_orders(
        &self,
        count: usize,
        mix: &Mix,
        seed: u64,
    ) -> Result<Vec<String>, DevStoreError> {
        let (ids, events) = facts::generate(&mut self.shared.state(), count, mix, seed)?;
        self.emit_all(events);
        Ok(ids.into_iter().map(|id| model::gid("Order", id)).collect())
    }

    /// One `cancel-policy simulate` line per order, evaluated at `at`.
    pub fn simulate_lines(
        &self,
        order_ids: &[String],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Vec<SimulateLine> {
        let state = self.shared.state();
        order_ids
            .iter()
            .filter_map(|id| order_number(&state, id))
            .filter_map(|n| state.orders.get(&n))
            .map(|o| facts::simulate_line(&state, o, at))
            .collect()
    }

    /// Writes `simulate_lines` as JSONL to `path`.
    pub fn write_simulate_jsonl(
        &self,
        path: &Path,
        order_ids: &[String],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DevStoreError> {
        facts::write_jsonl(path, &self.simulate_lines(order_ids, at))
    }

    /// Read access to the whole state.
    pub fn with_state<R>(&self, read: impl FnOnce(&State) -> R) -> R {
        read(&self.shared.state())
    }
}
