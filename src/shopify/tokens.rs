//! Expiring offline access tokens: public apps get an access token that lasts an hour and a
//! refresh token that lasts 90 days. Refreshing (`POST https://{shop}/admin/oauth/access_token`
//! with the app's client credentials and `grant_type=refresh_token`) returns a new pair; the
//! refresh token used stays valid until the new access token is first used, so a crash between
//! the answer and the store loses nothing, and storing the pair in one UPDATE keeps a reader
//! from pairing a new access token with an old refresh token.
//! https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::config::Secret;
use crate::shopify::client::{AdminError, TokenRefresher};
use crate::store::{ShopTokens, Store, parse_ts};

/// Refresh this long before the access token expires, so a call never starts with a token
/// about to lapse mid-job.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// Whether a token expiring at `expires_at` (stored text; `None` = never) should be refreshed.
pub fn expires_soon(expires_at: Option<&str>, now: DateTime<Utc>) -> bool {
    match expires_at {
        None => false,
        // An unreadable expiry is treated as expired: a refresh costs one call, a stale token a
        // failed one.
        Some(text) => parse_ts(text).is_none_or(|at| at <= now + REFRESH_MARGIN),
    }
}

#[derive(Deserialize)]
struct RefreshAnswer {
    access_token: Secret,
    expires_in: Option<i64>,
    refresh_token: Secret,
    refresh_token_expires_in: Option<i64>,
}

/// Refreshes one shop's token pair and stores it. Its `lock` is the shop's: one refresh at a
/// time per shop, since each refresh retires the previous pair.
pub struct ShopTokenRefresher {
    pub http: reqwest::Client,
    pub store: Store,
    pub domain: String,
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub lock: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for ShopTokenRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopTokenRefresher")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl ShopTokenRefresher {
    async fn refresh_now(&self, stale: &Secret) -> Result<Secret, AdminError> {
        let _one_at_a_time = self.lock.lock().await;
        let row = self
            .store
            .shop(&self.domain)
            .await
            .map_err(|e| AdminError::Transport(format!("reading the stored tokens: {e}")))?
            .ok_or_else(|| {
                AdminError::TokenRefresh(format!("shop {} is not stored", self.domain))
            })?;
        let now = Utc::now();
        // Another call refreshed while this one waited for the lock: use its token while it
        // has not expired (refreshing again would retire the token that call is using).
        let expired = row
            .access_token_expires_at
            .as_deref()
            .is_some_and(|text| parse_ts(text).is_none_or(|at| at <= now));
        if row.access_token != stale.expose() && !expired {
            return Ok(Secret::new(row.access_token));
        }
        let refresh_token = row.refresh_token.ok_or_else(|| {
            AdminError::TokenRefresh(format!(
                "the access token of {} expired and no refresh token is stored",
                self.domain
            ))
        })?;
        let body = serde_json::json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        });
        let url = format!(
            "{}/admin/oauth/access_token",
            self.base_url.trim_end_matches('/')
        );
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| AdminError::Transport(format!("token refresh: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| AdminError::Transport(format!("token refresh: {e}")))?;
        if status == 429 || status >= 500 {
            return Err(AdminError::Status {
                status,
                body: text.chars().take(300).collect(),
            });
        }
        if !(200..300).contains(&status) {
            // The body is Shopify's OAuth error (`error`, `error_description`): no secret in it.
            return Err(AdminError::TokenRefresh(format!(
                "Shopify refused the refresh token of {} (HTTP {status}): {}",
                self.domain,
                text.chars().take(300).collect::<String>()
            )));
        }
        let answer: RefreshAnswer = serde_json::from_str(&text).map_err(|e| {
            AdminError::TokenRefresh(format!("unreadable token refresh answer: {e}"))
        })?;
        let expiry = |seconds: Option<i64>| seconds.map(|s| now + Duration::seconds(s));
        self.store
            .set_shop_tokens(
                &self.domain,
                &ShopTokens {
                    access_token: answer.access_token.expose(),
                    access_token_expires_at: expiry(answer.expires_in),
                    refresh_token: answer.refresh_token.expose(),
                    refresh_token_expires_at: expiry(answer.refresh_token_expires_in),
                },
            )
            .await
            .map_err(|e| AdminError::Transport(format!("storing the refreshed tokens: {e}")))?;
        tracing::info!(shop = %self.domain, "refreshed the offline access token");
        Ok(answer.access_token)
    }
}

impl TokenRefresher for ShopTokenRefresher {
    fn refresh<'a>(
        &'a self,
        stale: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = Result<Secret, AdminError>> + Send + 'a>> {
        Box::pin(self.refresh_now(stale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ts;

    #[test]
    fn refreshes_within_the_margin_only() {
        let now = Utc::now();
        assert!(!expires_soon(None, now));
        assert!(!expires_soon(Some(&ts(now + Duration::minutes(30))), now));
        assert!(expires_soon(Some(&ts(now + Duration::minutes(4))), now));
        assert!(expires_soon(Some(&ts(now - Duration::seconds(1))), now));
        assert!(expires_soon(Some("garbage"), now));
    }
}
