//! Service settings from the environment (and an optional `.env` file).
//!
//! Every variable is documented in `.env.example`. Secrets are wrapped in [`Secret`], whose
//! `Debug` never shows the value, so settings can be logged.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::Env;
use serde::Deserialize;

/// A value that must never reach a log line.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for signing and verifying only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The app's client secrets: the current one and, during a rotation, the previous one.
/// Shopify signs webhooks with the oldest unrevoked secret for up to an hour after a rotation.
/// https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets/rotate-revoke-client-credentials
#[derive(Debug, Clone)]
pub struct AppSecrets {
    pub current: Secret,
    pub previous: Option<Secret>,
}

impl AppSecrets {
    pub fn new(current: Secret) -> Self {
        AppSecrets {
            current,
            previous: None,
        }
    }

    /// Every secret a signature may be made with, newest first.
    pub fn all(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The app's client id: the `aud` of session tokens.
    pub api_key: String,
    pub secrets: AppSecrets,
    pub database_url: String,
    /// Base URL of the Admin API for every shop (the dev store); `None` = `https://{shop}`.
    pub admin_url: Option<String>,
    /// A shop installed at start (its offline token), for a single-shop deployment or the demo.
    pub bootstrap_shop: Option<(String, Secret)>,
    pub log_filter: String,
    pub worker: WorkerSettings,
    pub limits: RateLimits,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Concurrent job runners in this process.
    pub concurrency: usize,
    /// How long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// Idle wait between polls of the queue.
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt.
    pub retry_base: Duration,
    pub max_attempts: i64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 4,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(200),
            retry_base: Duration::from_millis(500),
            max_attempts: 12,
        }
    }
}

/// Customer cancel requests allowed per minute.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub per_customer_per_minute: u32,
    pub per_shop_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_customer_per_minute: 10,
            per_shop_per_minute: 600,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("configuration: `{name}` is required ({what})")]
    Missing {
        name: &'static str,
        what: &'static str,
    },
    #[error("configuration: `{name}` = `{value}` is not valid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: String,
    },
}

/// The variables as read, before validation. Field names are the lowercased variable names.
#[derive(Debug, Deserialize, Default)]
struct RawSettings {
    shopify_api_key: Option<String>,
    shopify_api_secret: Option<Secret>,
    shopify_api_secret_previous: Option<Secret>,
    database_url: Option<String>,
    shopify_admin_url: Option<String>,
    shopify_shop: Option<String>,
    shopify_access_token: Option<Secret>,
    cancel_policy_data_dir: Option<String>,
    cancel_policy_log: Option<String>,
    cancel_policy_workers: Option<usize>,
}

const VARIABLES: &[&str] = &[
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "SHOPIFY_API_SECRET_PREVIOUS",
    "DATABASE_URL",
    "SHOPIFY_ADMIN_URL",
    "SHOPIFY_SHOP",
    "SHOPIFY_ACCESS_TOKEN",
    "CANCEL_POLICY_DATA_DIR",
    "CANCEL_POLICY_LOG",
    "CANCEL_POLICY_WORKERS",
];

impl Settings {
    /// Reads `.env` (when present) and the environment.
    pub fn from_env(listen: SocketAddr) -> Result<Settings, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the variables it lacks.
        let _ = dotenvy::dotenv();
        let raw: RawSettings = Figment::new()
            .merge(Env::raw().only(VARIABLES))
            .extract()
            .map_err(Box::new)?;
        Settings::from_raw(raw, listen)
    }

    fn from_raw(raw: RawSettings, listen: SocketAddr) -> Result<Settings, ConfigError> {
        let api_key = raw.shopify_api_key.ok_or(ConfigError::Missing {
            name: "SHOPIFY_API_KEY",
            what: "the app's client id",
        })?;
        let current = raw.shopify_api_secret.ok_or(ConfigError::Missing {
            name: "SHOPIFY_API_SECRET",
            what: "the app's client secret",
        })?;
        let data_dir = raw
            .cancel_policy_data_dir
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = match raw.database_url {
            Some(url) => url,
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("cancel-policy.sqlite").display()
            ),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: database_url,
                why: "expected sqlite:… or postgres://…".to_string(),
            });
        }
        let bootstrap_shop = match (raw.shopify_shop, raw.shopify_access_token) {
            (Some(shop), Some(token)) => Some((shop, token)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    name: "SHOPIFY_ACCESS_TOKEN",
                    what: "the offline token of SHOPIFY_SHOP",
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    name: "SHOPIFY_SHOP",
                    what: "the shop SHOPIFY_ACCESS_TOKEN belongs to",
                });
            }
        };
        let mut worker = WorkerSettings::default();
        if let Some(n) = raw.cancel_policy_workers {
            if n == 0 {
                return Err(ConfigError::Invalid {
                    name: "CANCEL_POLICY_WORKERS",
                    value: n.to_string(),
                    why: "at least one worker is needed".to_string(),
                });
            }
            worker.concurrency = n;
        }
        Ok(Settings {
            listen,
            api_key,
            secrets: AppSecrets {
                current,
                previous: raw.shopify_api_secret_previous,
            },
            database_url,
            admin_url: raw.shopify_admin_url,
            bootstrap_shop,
            log_filter: raw.cancel_policy_log.unwrap_or_else(|| "info".to_string()),
            worker,
            limits: RateLimits::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let raw = RawSettings {
            shopify_api_key: Some("key".into()),
            shopify_api_secret: Some(Secret::new("hush-very-secret")),
            shopify_shop: Some("a.myshopify.com".into()),
            shopify_access_token: Some(Secret::new("shpat_token_value")),
            ..RawSettings::default()
        };
        let settings = Settings::from_raw(raw, listen()).unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hush-very-secret"), "{shown}");
        assert!(!shown.contains("shpat_token_value"), "{shown}");
        assert!(settings.database_url.starts_with("sqlite://data/"));
    }

    #[test]
    fn missing_secret_and_bad_database_url_are_named() {
        let raw = RawSettings {
            shopify_api_key: Some("key".into()),
            ..RawSettings::default()
        };
        let error = Settings::from_raw(raw, listen()).unwrap_err().to_string();
        assert!(error.contains("SHOPIFY_API_SECRET"), "{error}");

        let raw = RawSettings {
            shopify_api_key: Some("key".into()),
            shopify_api_secret: Some(Secret::new("s")),
            database_url: Some("mysql://x".into()),
            ..RawSettings::default()
        };
        let error = Settings::from_raw(raw, listen()).unwrap_err().to_string();
        assert!(
            error.contains("DATABASE_URL") && error.contains("mysql://x"),
            "{error}"
        );
    }
}
