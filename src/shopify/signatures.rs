//! Verifying what Shopify signs: webhook bodies, session tokens and app proxy requests.
//! Every comparison is constant-time (`Mac::verify_slice`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::config::AppSecrets;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so this never fails.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable_mac(),
    }
}

#[cold]
fn unreachable_mac() -> HmacSha256 {
    // `new_from_slice` only rejects keys for fixed-key MACs; HMAC has none. Fall back to an
    // empty-key MAC, which can never match a real signature.
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

/// `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(client secret, raw body)). During a secret
/// rotation either secret may have signed. https://shopify.dev/docs/apps/build/webhooks/subscribe/https
pub fn verify_webhook(secrets: &AppSecrets, body: &[u8], header: &str) -> bool {
    let Ok(expected) = STANDARD.decode(header.trim()) else {
        return false;
    };
    secrets.all().any(|secret| {
        let mut mac = mac(secret.expose());
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// Signs a body as Shopify does (tests, the demo, Flow responses).
pub fn sign_webhook(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// App proxy: drop `signature`, render each other parameter as `key=value` (several values
/// joined by `,`), sort, concatenate without separator, hex HMAC-SHA256 with the client secret.
/// https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
pub fn verify_app_proxy(secrets: &AppSecrets, query: &[(String, String)]) -> bool {
    let Some(signature) = query
        .iter()
        .find(|(k, _)| k == "signature")
        .map(|(_, v)| v.as_str())
    else {
        return false;
    };
    let Some(expected) = decode_hex(signature) else {
        return false;
    };
    let message = app_proxy_message(query);
    secrets.all().any(|secret| {
        let mut mac = mac(secret.expose());
        mac.update(message.as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}

/// The `signature` parameter for a proxied query (tests and the demo play Shopify's part).
pub fn sign_app_proxy(secret: &str, query: &[(String, String)]) -> String {
    let mut mac = mac(secret);
    mac.update(app_proxy_message(query).as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn app_proxy_message(query: &[(String, String)]) -> String {
    let mut grouped: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (k, v) in query {
        if k != "signature" {
            grouped.entry(k.as_str()).or_default().push(v.as_str());
        }
    }
    let mut parts: Vec<String> = grouped
        .into_iter()
        .map(|(k, values)| format!("{k}={}", values.join(",")))
        .collect();
    parts.sort();
    parts.concat()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The claims of a Shopify session token that the service relies on.
/// https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/session-token-api
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SessionClaims {
    /// The shop, e.g. `https://shop.myshopify.com` (or the shop domain alone).
    pub dest: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub iss: Option<String>,
    /// The customer (customer accounts) or staff member (admin), when known.
    #[serde(default)]
    pub sub: Option<String>,
}

impl SessionClaims {
    /// The shop's myshopify domain from `dest`.
    pub fn shop_domain(&self) -> &str {
        let dest = self.dest.trim_end_matches('/');
        let dest = dest
            .strip_prefix("https://")
            .or_else(|| dest.strip_prefix("http://"))
            .unwrap_or(dest);
        dest.split('/').next().unwrap_or(dest)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the session token is not three base64url parts")]
    Malformed,
    #[error("the session token is not signed with HS256")]
    Algorithm,
    #[error("the session token's signature does not match")]
    Signature,
    #[error("the session token is for another app")]
    Audience,
    #[error("the session token has expired")]
    Expired,
    #[error("the session token is not valid yet")]
    NotYetValid,
}

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: i64 = 5;

/// Verifies an HS256 session token signed with the app secret and checks `aud`, `exp`, `nbf`.
pub fn verify_session_token(
    secrets: &AppSecrets,
    api_key: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<SessionClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(TokenError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signed = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
    let signed_part = token.get(..signed).ok_or(TokenError::Malformed)?;
    let valid = secrets.all().any(|secret| {
        let mut mac = mac(secret.expose());
        mac.update(signed_part.as_bytes());
        mac.verify_slice(&signature).is_ok()
    });
    if !valid {
        return Err(TokenError::Signature);
    }
    let claims: SessionClaims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.aud != api_key {
        return Err(TokenError::Audience);
    }
    let now = now.timestamp();
    if claims.exp + LEEWAY_SECONDS < now {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECONDS > now) {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

/// Makes an HS256 session token as Shopify does (tests, the demo, the load command).
pub fn sign_session_token(secret: &str, claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let mut mac = mac(secret);
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// The claims Shopify puts in a session token for `subject` (a staff user id or a customer
/// GID) of `shop`, valid for `lifetime` from now: what the demo, the load command and the
/// tests sign with [`sign_session_token`].
/// https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
pub fn session_claims(
    shop: &str,
    api_key: &str,
    subject: &str,
    lifetime: std::time::Duration,
) -> serde_json::Value {
    let now = Utc::now().timestamp();
    let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
    serde_json::json!({
        "iss": format!("https://{shop}/admin"),
        "dest": format!("https://{shop}"),
        "aud": api_key,
        "sub": subject,
        "exp": now.saturating_add(lifetime),
        "nbf": now - 1,
        "iat": now,
        "jti": format!("{:016x}", rand::random::<u64>()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use serde_json::json;

    fn secrets() -> AppSecrets {
        AppSecrets::new(Secret::new("hush"))
    }

    #[test]
    fn webhook_signature_matches_and_forgeries_fail() {
        let body = br#"{"id":820982911946154508}"#;
        let header = sign_webhook("hush", body);
        assert!(verify_webhook(&secrets(), body, &header));
        assert!(!verify_webhook(&secrets(), b"{\"id\":1}", &header));
        assert!(!verify_webhook(&secrets(), body, "not base64!"));
        assert!(!verify_webhook(
            &secrets(),
            body,
            &sign_webhook("other", body)
        ));
    }

    #[test]
    fn rotated_secret_is_accepted_until_removed() {
        let body = b"{}";
        let old = sign_webhook("old-secret", body);
        let mut rotating = AppSecrets::new(Secret::new("new-secret"));
        rotating.previous = Some(Secret::new("old-secret"));
        assert!(verify_webhook(&rotating, body, &old));
        assert!(!verify_webhook(
            &AppSecrets::new(Secret::new("new-secret")),
            body,
            &old
        ));
    }

    #[test]
    fn app_proxy_example_from_shopify_docs_verifies() {
        // The worked example on shopify.dev (secret `hush`).
        let query: Vec<(String, String)> = [
            ("extra", "1"),
            ("extra", "2"),
            ("shop", "shop-name.myshopify.com"),
            ("logged_in_customer_id", "1"),
            ("path_prefix", "/apps/awesome_reviews"),
            ("timestamp", "1317327555"),
            (
                "signature",
                "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(verify_app_proxy(&secrets(), &query));
        let mut tampered = query.clone();
        tampered[3].1 = "2".to_string();
        assert!(!verify_app_proxy(&secrets(), &tampered));
        assert_eq!(
            sign_app_proxy("hush", &query),
            "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
        );
    }

    #[test]
    fn session_token_checks_signature_audience_and_time() {
        let now: DateTime<Utc> = "2026-03-02T10:00:00Z".parse().unwrap();
        let t = now.timestamp();
        let claims = json!({"dest": "https://a.myshopify.com", "aud": "key", "exp": t + 60, "nbf": t - 5, "sub": "gid://shopify/Customer/7"});
        let token = sign_session_token("hush", &claims);
        let verified = verify_session_token(&secrets(), "key", &token, now).unwrap();
        assert_eq!(verified.shop_domain(), "a.myshopify.com");
        assert_eq!(verified.sub.as_deref(), Some("gid://shopify/Customer/7"));

        assert_eq!(
            verify_session_token(&secrets(), "other", &token, now),
            Err(TokenError::Audience)
        );
        let later = now + chrono::Duration::seconds(120);
        assert_eq!(
            verify_session_token(&secrets(), "key", &token, later),
            Err(TokenError::Expired)
        );
        let earlier = now - chrono::Duration::seconds(120);
        assert_eq!(
            verify_session_token(&secrets(), "key", &token, earlier),
            Err(TokenError::NotYetValid)
        );
        let forged = sign_session_token("guess", &claims);
        assert_eq!(
            verify_session_token(&secrets(), "key", &forged, now),
            Err(TokenError::Signature)
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert_eq!(
            verify_session_token(&secrets(), "key", &none_alg, now),
            Err(TokenError::Algorithm)
        );
        assert_eq!(
            verify_session_token(&secrets(), "key", "abc", now),
            Err(TokenError::Malformed)
        );
    }
}
