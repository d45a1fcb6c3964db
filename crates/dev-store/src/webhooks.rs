//! Webhooks out: subscriptions, signing, delivery with retries, and the drop / duplicate /
//! reorder knobs.
//!
//! Signed as Shopify signs HTTPS deliveries: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256
//! of the raw body keyed with the app's client secret
//! (https://shopify.dev/docs/apps/build/webhooks/subscribe/https). A non-2xx answer or a
//! timeout (1 s to connect, 5 s in all) is retried 8 times with exponential backoff over about
//! four hours, carrying the original payload and headers
//! (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism); the `time_scale` knob
//! compresses that schedule.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::model::iso;
use crate::sdl::API_VERSION;
use crate::store::Shared;

/// How much later a reordered webhook leaves than the one that overtakes it.
const REORDER_GAP: Duration = Duration::from_millis(50);

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 8;
/// Shopify-time delay before the first retry; each later one doubles it.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(60);

/// A webhook subscription: Shopify POSTs every event of `topic` to `uri`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: u64,
    pub topic: String,
    pub uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Dropped by the `webhook_drop_rate` knob: never sent.
    Dropped,
}

/// One delivery (one subscription, one event; a duplicate is a second delivery with the same
/// webhook id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub webhook_id: String,
    pub event_id: String,
    pub topic: String,
    pub uri: String,
    pub triggered_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub state: DeliveryState,
    pub payload: Value,
}

/// An event the store emitted, whether or not anyone subscribed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub event_id: String,
    pub topic: String,
    pub triggered_at: DateTime<Utc>,
    pub payload: Value,
}

#[derive(Debug, Clone)]
struct Outgoing {
    index: usize,
    webhook_id: String,
    event_id: String,
    topic: String,
    uri: String,
    triggered_at: DateTime<Utc>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    subscriptions: Vec<Subscription>,
    next_id: u64,
    deliveries: Vec<DeliveryRecord>,
    events: Vec<Event>,
    held_back: Option<Outgoing>,
}

pub struct Webhooks {
    inner: Mutex<Inner>,
    client: reqwest::Client,
    shop_domain: String,
    secret: String,
}

/// base64(HMAC-SHA256(secret, body)): the `X-Shopify-Hmac-Sha256` header value.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a webhook's signature in constant time (for receivers written against the store).
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(header) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

impl Webhooks {
    pub fn new(client: reqwest::Client, shop_domain: String, secret: String) -> Webhooks {
        Webhooks {
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            client,
            shop_domain,
            secret,
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn subscribe(&self, topic: &str, uri: &str) -> Subscription {
        let mut inner = self.inner();
        let sub = Subscription {
            id: inner.next_id,
            topic: topic.to_string(),
            uri: uri.to_string(),
        };
        inner.next_id += 1;
        inner.subscriptions.push(sub.clone());
        sub
    }

    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut inner = self.inner();
        let before = inner.subscriptions.len();
        inner.subscriptions.retain(|s| s.id != id);
        inner.subscriptions.len() != before
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.inner().subscriptions.clone()
    }

    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner().deliveries.clone()
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner().events.clone()
    }

    fn record(&self, index: usize, update: impl FnOnce(&mut DeliveryRecord)) {
        if let Some(r) = self.inner().deliveries.get_mut(index) {
            update(r);
        }
    }
}

/// Emits an event: logs it and delivers it to every subscription of its topic.
pub fn emit(shared: &Arc<Shared>, topic: &str, payload: Value) {
    // Lock order: never hold the rng while taking the webhook state, nor the reverse (two
    // deliveries at once would deadlock). Draw every random value first, then record.
    let faults = shared.faults();
    let subscriptions = shared.webhooks.subscriptions();
    let (event_id, webhook_ids, draws) = {
        let mut rng = shared.rng();
        let event_id = rng.uuid();
        let ids: Vec<String> = subscriptions.iter().map(|_| rng.uuid()).collect();
        let draws: Vec<(bool, bool)> = subscriptions
            .iter()
            .map(|_| {
                (
                    rng.chance(faults.webhook_drop_rate),
                    rng.chance(faults.webhook_duplicate_rate),
                )
            })
            .collect();
        (event_id, ids, draws)
    };
    let triggered_at = Utc::now();
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let mut to_send = Vec::new();
    let to_send = {
        let hooks = &shared.webhooks;
        let mut inner = hooks.inner();
        inner.events.push(Event {
            event_id: event_id.clone(),
            topic: topic.to_string(),
            triggered_at,
            payload: payload.clone(),
        });
        let matching = subscriptions
            .iter()
            .zip(webhook_ids)
            .zip(draws)
            .filter(|((s, _), _)| s.topic == topic);
        for ((sub, webhook_id), (dropped, duplicated)) in matching {
            let copies = if duplicated { 2 } else { 1 };
            for _ in 0..copies {
                let index = inner.deliveries.len();
                inner.deliveries.push(DeliveryRecord {
                    webhook_id: webhook_id.clone(),
                    event_id: event_id.clone(),
                    topic: topic.to_string(),
                    uri: sub.uri.clone(),
                    triggered_at,
                    attempts: 0,
                    last_status: None,
                    state: if dropped {
                        DeliveryState::Dropped
                    } else {
                        DeliveryState::Pending
                    },
                    payload: payload.clone(),
                });
                if !dropped {
                    to_send.push(Outgoing {
                        index,
                        webhook_id: webhook_id.clone(),
                        event_id: event_id.clone(),
                        topic: topic.to_string(),
                        uri: sub.uri.clone(),
                        triggered_at,
                        body: body.clone(),
                    });
                }
            }
        }
        let mut scheduled: Vec<(Outgoing, Duration)> = Vec::new();
        if faults.webhook_reorder {
            for out in to_send.drain(..) {
                match inner.held_back.take() {
                    // The held one leaves after the newer one, late enough to arrive second.
                    Some(held) => {
                        scheduled.push((out, Duration::ZERO));
                        scheduled.push((held, REORDER_GAP));
                    }
                    None => inner.held_back = Some(out),
                }
            }
        } else {
            if let Some(held) = inner.held_back.take() {
                scheduled.push((held, Duration::ZERO));
            }
            scheduled.extend(to_send.into_iter().map(|o| (o, Duration::ZERO)));
        }
        scheduled
    };
    for (out, delay) in to_send {
        spawn_delivery(Arc::downgrade(shared), out, delay);
    }
}

/// Sends whatever the reorder knob still holds back (call when a test ends a sequence).
pub fn flush_held(shared: &Arc<Shared>) {
    let held = shared.webhooks.inner().held_back.take();
    if let Some(out) = held {
        spawn_delivery(Arc::downgrade(shared), out, Duration::ZERO);
    }
}

fn spawn_delivery(shared: Weak<Shared>, out: Outgoing, hold_back: Duration) {
    // Deliveries are sequenced per spawn: two sends of one emit start in emit order.
    tokio::spawn(async move {
        if !hold_back.is_zero() {
            tokio::time::sleep(hold_back).await;
        }
        let mut attempt = 0u32;
        loop {
            let Some(s) = shared.upgrade() else { return };
            let hooks = &s.webhooks;
            let signature = sign(&hooks.secret, &out.body);
            let result = hooks
                .client
                .post(&out.uri)
                .header("Content-Type", "application/json")
                .header("X-Shopify-Topic", &out.topic)
                .header("X-Shopify-Hmac-Sha256", signature)
                .header("X-Shopify-Shop-Domain", &hooks.shop_domain)
                .header("X-Shopify-API-Version", API_VERSION)
                .header("X-Shopify-Webhook-Id", &out.webhook_id)
                .header("X-Shopify-Event-Id", &out.event_id)
                .header("X-Shopify-Triggered-At", iso(out.triggered_at))
                .body(out.body.clone())
                .send()
                .await;
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            let ok = status.is_some_and(|c| (200..300).contains(&c));
            attempt += 1;
            let done = ok || attempt > MAX_RETRIES;
            hooks.record(out.index, |r| {
                r.attempts = attempt;
                r.last_status = status;
                r.state = if ok {
                    DeliveryState::Delivered
                } else if done {
                    DeliveryState::Failed
                } else {
                    DeliveryState::Pending
                };
            });
            if done {
                return;
            }
            let delay = FIRST_RETRY_DELAY * 2u32.saturating_pow(attempt - 1);
            let wait = s.faults().scaled(delay);
            drop(s);
            tokio::time::sleep(wait).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // Computed independently with Python's hmac module.
        let sig = sign("hush", br#"{"id":1}"#);
        assert_eq!(sig, "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY=");
        assert!(verify("hush", br#"{"id":1}"#, &sig));
        assert!(!verify("other", br#"{"id":1}"#, &sig));
    }
}
