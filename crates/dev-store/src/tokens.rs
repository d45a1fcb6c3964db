//! Offline access tokens: one non-expiring token by default, or (with
//! [`crate::DevStoreConfig::token_lifetime`]) expiring tokens with a refresh token, as public
//! apps get them. The access token lasts `token_lifetime`, the refresh token 90 days; a refresh
//! (`POST /admin/oauth/access_token`, `grant_type=refresh_token`) returns a new pair, and the
//! refresh token it used stays usable until the new access token is first used.
//! https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

/// What Shopify says to an expired, revoked or unknown access token.
pub const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

const REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

#[derive(Debug)]
struct Pair {
    access_expires: Instant,
    refresh: String,
    refresh_expires: Instant,
    /// The refresh token this pair replaced, usable until `access` is first used.
    previous_refresh: Option<String>,
}

#[derive(Debug)]
pub struct Tokens {
    /// `None`: the configured access token never expires (the default).
    lifetime: Option<Duration>,
    fixed: String,
    /// The live pair, by access token (the newest only: a refresh retires older ones).
    pairs: HashMap<String, Pair>,
    issued: u64,
    refreshes: u64,
}

/// The body of a refresh request, as a form or JSON.
#[derive(Debug, Deserialize)]
struct RefreshRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    refresh_token: Option<String>,
}

impl Tokens {
    pub fn new(access_token: &str, lifetime: Option<Duration>) -> Tokens {
        let mut tokens = Tokens {
            lifetime,
            fixed: access_token.to_string(),
            pairs: HashMap::new(),
            issued: 0,
            refreshes: 0,
        };
        if let Some(lifetime) = lifetime {
            let now = Instant::now();
            let refresh = tokens.next_refresh_token();
            tokens.pairs.insert(
                access_token.to_string(),
                Pair {
                    access_expires: now + lifetime,
                    refresh,
                    refresh_expires: now + REFRESH_LIFETIME,
                    previous_refresh: None,
                },
            );
        }
        tokens
    }

    fn next_refresh_token(&mut self) -> String {
        self.issued += 1;
        format!("shprt_dev_store_{:016}", self.issued)
    }

    /// Whether `token` may call the Admin API now (using a new pair retires the refresh token
    /// it replaced).
    pub fn accept(&mut self, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        if self.lifetime.is_none() {
            return token == self.fixed;
        }
        match self.pairs.get_mut(token) {
            Some(pair) if pair.access_expires > Instant::now() => {
                pair.previous_refresh = None;
                true
            }
            _ => false,
        }
    }

    /// The refresh token of the current pair (`None` when tokens do not expire).
    pub fn refresh_token(&self) -> Option<String> {
        self.pairs.values().next().map(|p| p.refresh.clone())
    }

    pub fn refreshes(&self) -> u64 {
        self.refreshes
    }

    /// Answers `POST /admin/oauth/access_token`: `(status, body)`.
    pub fn refresh(
        &mut self,
        body: &[u8],
        json_body: bool,
        client_id: &str,
        client_secret: &str,
    ) -> (u16, Value) {
        let request: Option<RefreshRequest> = if json_body {
            serde_json::from_slice(body).ok()
        } else {
            parse_form(body)
        };
        let Some(request) = request else {
            return oauth_error(
                400,
                "invalid_request",
                "the body is neither a form nor JSON",
            );
        };
        if request.grant_type.as_deref() != Some("refresh_token") {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be refresh_token",
            );
        }
        if request.client_id.as_deref() != Some(client_id)
            || request.client_secret.as_deref() != Some(client_secret)
        {
            return oauth_error(401, "invalid_client", "unknown client_id or client_secret");
        }
        let Some(lifetime) = self.lifetime else {
            return oauth_error(400, "invalid_request", "this shop's tokens do not expire");
        };
        let now = Instant::now();
        let presented = request.refresh_token.unwrap_or_default();
        let usable = self.pairs.values().any(|p| {
            (p.refresh == presented && p.refresh_expires > now)
                || p.previous_refresh.as_deref() == Some(presented.as_str())
        });
        if !usable {
            return oauth_error(
                400,
                "invalid_grant",
                "the refresh token is invalid or expired",
            );
        }
        self.refreshes += 1;
        let access = format!("shpat_dev_store_{:016}", self.issued + 1);
        let refresh = self.next_refresh_token();
        self.pairs.clear();
        self.pairs.insert(
            access.clone(),
            Pair {
                access_expires: now + lifetime,
                refresh: refresh.clone(),
                refresh_expires: now + REFRESH_LIFETIME,
                previous_refresh: Some(presented),
            },
        );
        (
            200,
            json!({
                "access_token": access,
                "expires_in": lifetime.as_secs().max(1),
                "refresh_token": refresh,
                "refresh_token_expires_in": REFRESH_LIFETIME.as_secs(),
                "scope": "read_orders,write_orders",
            }),
        )
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": error, "error_description": description }),
    )
}

/// `application/x-www-form-urlencoded` into the request's fields.
fn parse_form(body: &[u8]) -> Option<RefreshRequest> {
    let text = std::str::from_utf8(body).ok()?;
    let mut fields = serde_json::Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(decode(key)?, Value::String(decode(value)?));
    }
    serde_json::from_value(Value::Object(fields)).ok()
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "id";
    const SECRET: &str = "secret";

    #[test]
    fn fixed_token_never_expires() {
        let mut tokens = Tokens::new("shpat_x", None);
        assert!(tokens.accept(Some("shpat_x")));
        assert!(!tokens.accept(Some("other")));
        assert_eq!(tokens.refresh_token(), None);
    }

    #[test]
    fn refresh_issues_a_new_pair_and_checks_the_client() {
        let mut tokens = Tokens::new("shpat_x", Some(Duration::from_secs(60)));
        let refresh = tokens.refresh_token().unwrap();
        let form = format!(
            "client_id={ID}&client_secret={SECRET}&grant_type=refresh_token&refresh_token={refresh}"
        );
        let (status, _) = tokens.refresh(form.as_bytes(), false, ID, "wrong");
        assert_eq!(status, 401);
        let (status, body) = tokens.refresh(form.as_bytes(), false, ID, SECRET);
        assert_eq!(status, 200, "{body}");
        let access = body["access_token"].as_str().unwrap();
        assert!(!tokens.accept(Some("shpat_x")));
        // The old refresh token works until the new access token is used.
        let (status, body) = tokens.refresh(form.as_bytes(), false, ID, SECRET);
        assert_eq!(status, 200, "{body}");
        let newest = body["access_token"].as_str().unwrap().to_string();
        assert!(!tokens.accept(Some(access)));
        assert!(tokens.accept(Some(&newest)));
        let (status, _) = tokens.refresh(form.as_bytes(), false, ID, SECRET);
        assert_eq!(status, 400);
        assert_eq!(tokens.refreshes(), 2);
    }
}
