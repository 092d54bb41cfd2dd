//! Token-bucket rate limiting, in memory and per instance.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed at once.
    pub burst: f64,
    /// Requests regained per second.
    pub per_second: f64,
}

impl Rate {
    /// `n` requests a minute, of which all may come at once.
    pub fn per_minute(n: u32) -> Rate {
        Rate {
            burst: f64::from(n.max(1)),
            per_second: f64::from(n.max(1)) / 60.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets by key, bounded: when `max_keys` is reached, full buckets (which hold no state
/// worth keeping) are dropped, and if that is not enough, all of them.
pub struct RateLimiter<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(max_keys: usize) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// Takes one request from `key`'s bucket, or answers how long until one is available.
    pub fn take(&self, key: &K, rate: Rate, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; limiting is best effort, serving is not.
            return Ok(());
        };
        if buckets.len() >= self.max_keys && !buckets.contains_key(key) {
            buckets.retain(|_, bucket| refilled(bucket, rate, now) < rate.burst);
            if buckets.len() >= self.max_keys {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: rate.burst,
            updated: now,
        });
        bucket.tokens = refilled(bucket, rate, now);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate.per_second;
            Err(Duration::from_secs_f64(wait.max(0.0)))
        }
    }

    /// Answers whether `key` could take a request now, without taking one.
    pub fn is_limited(&self, key: &K, rate: Rate, now: Instant) -> Option<Duration> {
        let buckets = self.buckets.lock().ok()?;
        let bucket = buckets.get(key)?;
        let tokens = refilled(bucket, rate, now);
        (tokens < 1.0).then(|| Duration::from_secs_f64((1.0 - tokens) / rate.per_second))
    }
}

fn refilled(bucket: &Bucket, rate: Rate, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    (bucket.tokens + elapsed * rate.per_second).min(rate.burst)
}

/// Whole seconds for `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills() {
        let limiter = RateLimiter::new(10);
        let rate = Rate::per_minute(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(&"k", rate, start).is_ok());
        }
        let wait = limiter.take(&"k", rate, start).unwrap_err();
        assert_eq!(retry_after_secs(wait), 20);
        assert!(
            limiter.take(&"other", rate, start).is_ok(),
            "keys are separate"
        );
        assert!(
            limiter
                .take(&"k", rate, start + Duration::from_secs(20))
                .is_ok()
        );
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = RateLimiter::new(4);
        let rate = Rate::per_minute(1);
        let now = Instant::now();
        for key in 0..100 {
            let _ = limiter.take(&key, rate, now);
        }
        assert!(limiter.buckets.lock().unwrap().len() <= 4);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
