//! Per-customer and per-shop limits on cancel requests (token buckets, in memory: each
//! replica limits its own share).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::RateLimits;

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for this customer of this shop; `Err(seconds)` to wait when over.
    pub fn check(&self, shop: &str, customer: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            // Forget idle buckets rather than grow without bound.
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 120);
        }
        let customer_key = format!("c:{shop}:{customer}");
        let shop_key = format!("s:{shop}");
        let per_customer = f64::from(self.limits.per_customer_per_minute);
        let per_shop = f64::from(self.limits.per_shop_per_minute);
        let customer_left = refill(&buckets, &customer_key, per_customer, now);
        let shop_left = refill(&buckets, &shop_key, per_shop, now);
        if customer_left < 1.0 {
            return Err(wait_seconds(customer_left, per_customer));
        }
        if shop_left < 1.0 {
            return Err(wait_seconds(shop_left, per_shop));
        }
        buckets.insert(customer_key, (customer_left - 1.0, now));
        buckets.insert(shop_key, (shop_left - 1.0, now));
        Ok(())
    }
}

fn refill(
    buckets: &HashMap<String, (f64, Instant)>,
    key: &str,
    per_minute: f64,
    now: Instant,
) -> f64 {
    match buckets.get(key) {
        Some((tokens, at)) => {
            (tokens + per_minute * now.duration_since(*at).as_secs_f64() / 60.0).min(per_minute)
        }
        None => per_minute,
    }
}

fn wait_seconds(tokens: f64, per_minute: f64) -> u64 {
    (((1.0 - tokens) * 60.0 / per_minute).ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_over_the_limit_waits_while_others_go_on() {
        let limiter = RateLimiter::new(RateLimits {
            per_customer_per_minute: 3,
            per_shop_per_minute: 5,
        });
        for _ in 0..3 {
            assert!(limiter.check("a", "c1").is_ok());
        }
        assert!(limiter.check("a", "c1").is_err());
        assert!(limiter.check("a", "c2").is_ok());
        assert!(limiter.check("a", "c3").is_ok());
        // The shop's budget of 5 is spent.
        assert!(limiter.check("a", "c4").is_err());
        assert!(limiter.check("b", "c1").is_ok());
    }
}
