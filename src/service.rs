//! The running service: shared state, the HTTP server and the workers, started together.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Secret, Settings};
use crate::http;
use crate::http::limits::RateLimiter;
use crate::shopify::client::{RetryPolicy, TokenRefresher};
use crate::shopify::tokens::{ShopTokenRefresher, expires_soon};
use crate::shopify::{AdminClient, AdminError, ShopSession};
use crate::store::{NewShop, Store, StoreError};
use crate::worker;
use crate::workflow::decide::ActivePolicies;
use crate::workflow::execute::ExecTiming;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("shop `{0}` is not installed")]
    UnknownShop(String),
}

/// Everything a request handler or a worker needs.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub client: AdminClient,
    pub limiter: RateLimiter,
    pub timing: ExecTiming,
    pub policies: ActivePolicies,
    /// One lock per shop, so one token refresh runs at a time per shop.
    pub token_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub type App = Arc<AppState>;

impl AppState {
    /// How to reach a shop's Admin API, from its stored offline token.
    pub async fn session(&self, shop: &str) -> Result<ShopSession, ServiceError> {
        let row = self
            .store
            .shop(shop)
            .await?
            .filter(|row| row.uninstalled_at.is_none())
            .ok_or_else(|| ServiceError::UnknownShop(shop.to_string()))?;
        let base_url = self
            .settings
            .admin_url
            .clone()
            .or(row.admin_url)
            .unwrap_or_else(|| format!("https://{}", row.domain));
        let mut token = Secret::new(row.access_token);
        // Only shops with a refresh token have expiring tokens; the others keep today's
        // non-expiring offline token and never refresh.
        let refresher: Option<Arc<dyn TokenRefresher>> = match row.refresh_token {
            Some(_) => Some(Arc::new(ShopTokenRefresher {
                http: self.client.http().clone(),
                store: self.store.clone(),
                domain: row.domain.clone(),
                base_url: base_url.clone(),
                client_id: self.settings.api_key.clone(),
                client_secret: self.settings.secrets.current.clone(),
                lock: self.token_lock(&row.domain),
            })),
            None => None,
        };
        if let Some(refresher) = &refresher
            && expires_soon(row.access_token_expires_at.as_deref(), Utc::now())
        {
            token = refresher.refresh(&token).await?;
        }
        Ok(ShopSession::new(row.domain, base_url, token, refresher))
    }

    fn token_lock(&self, shop: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .token_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(shop.to_string()).or_default().clone()
    }
}

/// Short, stable id of a compiled policy version.
pub fn policy_hash(compiled_json: &str) -> String {
    Sha256::digest(compiled_json.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Knobs tests turn (short leases and polls, fewer retries).
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    pub retry: Option<RetryPolicy>,
    pub timing: Option<ExecTiming>,
    /// Start no workers (a test drives them itself).
    pub no_workers: bool,
}

pub struct RunningService {
    pub addr: SocketAddr,
    pub app: App,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
}

impl RunningService {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the workers and the server, letting running jobs finish their step.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for handle in self.workers {
            let _ = handle.await;
        }
        self.server.abort();
        let _ = self.server.await;
    }

    /// Kills the workers at once, wherever they are (the crash tests).
    pub fn kill_workers(&mut self) {
        for handle in self.workers.drain(..) {
            handle.abort();
        }
    }

    /// Starts `n` fresh workers (a restarted replica).
    pub fn start_workers(&mut self, n: usize) {
        for _ in 0..n {
            self.workers
                .push(worker::spawn(self.app.clone(), self.shutdown.subscribe()));
        }
    }
}

/// Opens the database, installs the bootstrap shop, binds and starts serving and working.
pub async fn start(settings: Settings, tuning: Tuning) -> Result<RunningService, ServiceError> {
    let store = Store::connect(&settings.database_url).await?;
    if let Some((shop, token)) = &settings.bootstrap_shop {
        store
            .upsert_shop(&NewShop {
                domain: shop,
                access_token: token.expose(),
                admin_url: settings.admin_url.as_deref(),
                timezone: None,
            })
            .await?;
    }
    let client = AdminClient::new(tuning.retry.unwrap_or_default())?;
    let mut timing = tuning.timing.unwrap_or_default();
    timing.lease = settings.worker.lease;
    let limiter = RateLimiter::new(settings.limits);
    let app: App = Arc::new(AppState {
        settings,
        store,
        client,
        limiter,
        timing,
        policies: ActivePolicies::default(),
        token_locks: std::sync::Mutex::default(),
    });
    let listen = app.settings.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let router = http::router(app.clone());
    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "HTTP server stopped");
        }
    });
    let mut running = RunningService {
        addr,
        app: app.clone(),
        shutdown,
        server,
        workers: Vec::new(),
    };
    if !tuning.no_workers {
        running.start_workers(app.settings.worker.concurrency);
    }
    tracing::info!(%addr, backend = app.store.backend(), "cancel-policy service listening");
    Ok(running)
}
