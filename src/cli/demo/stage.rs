//! The demo's stage: a dev store and the service on loopback, wired as a real install is
//! (the shop's offline token in the service, webhook subscriptions pointing at `/webhooks`),
//! and the session tokens the doors want.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use cancel_policy_dev_store::{DevStore, DevStoreConfig, RunningDevStore};

use crate::config::{AppSecrets, RateLimits, Secret, Settings, WorkerSettings};
use crate::service::{self, RunningService, Tuning};
use crate::shopify::client::RetryPolicy;
use crate::shopify::signatures::{session_claims, sign_session_token};
use crate::workflow::execute::ExecTiming;
use crate::workflow::inbox::ORDER_TOPICS;

/// The demo app's client id: the `aud` of the session tokens the demo signs.
const API_KEY: &str = "cancel-policy-demo";

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

pub struct Stage {
    pub dev: RunningDevStore,
    pub service: RunningService,
    pub shop: String,
    pub database_url: String,
    pub(super) http: reqwest::Client,
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
        for topic in ORDER_TOPICS {
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
        sign_session_token(
            &self.secret,
            &session_claims(&self.shop, API_KEY, "1", lifetime),
        )
    }

    /// A session token as a customer-account extension gets it for a signed-in customer.
    pub(super) fn customer_token(&self, customer: &str) -> String {
        sign_session_token(
            &self.secret,
            &session_claims(&self.shop, API_KEY, customer, Duration::from_secs(60)),
        )
    }

    pub async fn stop(self) {
        self.service.stop().await;
        self.dev.shutdown().await;
    }
}
