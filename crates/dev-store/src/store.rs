//! The shared state behind the HTTP server and the Rust handle.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_graphql::dynamic::Schema;
use serde::{Deserialize, Serialize};

use crate::cost::Bucket;
use crate::model::State;
use crate::sdl::SchemaInfo;
use crate::webhooks::Webhooks;

/// Fault knobs, settable per test through [`crate::DevStoreHandle::set_faults`] or
/// `PUT /_dev/faults`. Rates are probabilities in 0..=1; the defaults inject nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of Admin API requests answered with a 5xx before they run.
    pub error_rate: f64,
    /// Added to every Admin API request, in milliseconds of real time.
    pub latency_ms: u64,
    /// Share of the bucket's restore rate eaten by other traffic (0 = none, 1 = no restore).
    pub throttle_pressure: f64,
    /// Share of webhook deliveries silently dropped (never sent, never retried).
    pub webhook_drop_rate: f64,
    /// Share of webhook deliveries sent twice (same `X-Shopify-Webhook-Id`).
    pub webhook_duplicate_rate: f64,
    /// Hold each webhook back until the next one is emitted, so pairs arrive swapped.
    pub webhook_reorder: bool,
    /// How long an `orderCancel` job stays queued before it runs, in Shopify-time milliseconds.
    pub job_delay_ms: u64,
    /// Speeds Shopify time up: webhook retry backoff, job delays and bucket restore run this
    /// many times faster (1 = real time).
    pub time_scale: f64,
    /// How the simulated fulfillment service answers cancellation requests.
    pub fulfillment_service_accepts_cancellation: bool,
    /// The next N refunds fail at the payment gateway (their idempotency key is then spent).
    pub refund_gateway_failures: u32,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            error_rate: 0.0,
            latency_ms: 0,
            throttle_pressure: 0.0,
            webhook_drop_rate: 0.0,
            webhook_duplicate_rate: 0.0,
            webhook_reorder: false,
            job_delay_ms: 0,
            time_scale: 1.0,
            fulfillment_service_accepts_cancellation: true,
            refund_gateway_failures: 0,
        }
    }
}

impl Faults {
    /// A Shopify-time duration in real time.
    pub fn scaled(&self, shopify_time: Duration) -> Duration {
        let scale = if self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        shopify_time.div_f64(scale)
    }
}

/// A small deterministic generator (xorshift64*), so fault runs repeat with the same seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A version-4-shaped UUID (Shopify job and webhook ids look like this).
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

pub struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    pub bucket: Mutex<Bucket>,
    pub rng: Mutex<Rng>,
    pub webhooks: Webhooks,
    pub info: SchemaInfo,
    pub schema: Schema,
    pub access_token: String,
    pub api_secret: String,
    pub api_key: String,
    pub tokens: Mutex<crate::tokens::Tokens>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave half-applied state behind here (mutations
    // validate first, then apply), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub fn bucket(&self) -> MutexGuard<'_, Bucket> {
        lock(&self.bucket)
    }

    pub fn tokens(&self) -> MutexGuard<'_, crate::tokens::Tokens> {
        lock(&self.tokens)
    }

    pub fn rng(&self) -> MutexGuard<'_, Rng> {
        lock(&self.rng)
    }
}
