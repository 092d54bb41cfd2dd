//! Token-bucket rate limiting, in memory and per instance.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// Buckets by key, bounded to `max_keys`, least recently used out first. Buckets live in two
/// generations: every use moves a bucket into the current one, and when that holds half of
/// `max_keys` the previous generation (keys unseen since) is dropped and the current one takes
/// its place. So a busy key is never forgotten however many new keys arrive, which is what
/// keeps a guesser throttled while it also floods the map from other addresses, and each
/// request costs a few hash operations.
pub struct RateLimiter<K> {
    generations: Mutex<Generations<K>>,
    max_keys: usize,
}

struct Generations<K> {
    current: HashMap<K, Bucket>,
    previous: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Generations<K> {
    /// Moves `key`'s bucket into the current generation; false if it is not tracked.
    fn promote(&mut self, key: &K, max_keys: usize) -> bool {
        if self.current.contains_key(key) {
            return true;
        }
        let Some(bucket) = self.previous.remove(key) else {
            return false;
        };
        self.make_room(max_keys);
        self.current.insert(key.clone(), bucket);
        true
    }

    /// Starts a new generation when the current one is full, forgetting the previous one.
    fn make_room(&mut self, max_keys: usize) {
        if self.current.len() >= (max_keys / 2).max(1) {
            self.previous = std::mem::take(&mut self.current);
        }
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(max_keys: usize) -> Self {
        RateLimiter {
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
            max_keys,
        }
    }

    /// Takes one request from `key`'s bucket, or answers how long until one is available.
    pub fn take(&self, key: &K, rate: Rate, now: Instant) -> Result<(), Duration> {
        let Ok(mut generations) = self.generations.lock() else {
            // A poisoned lock means a panic elsewhere; limiting is best effort, serving is not.
            return Ok(());
        };
        if !generations.promote(key, self.max_keys) {
            generations.make_room(self.max_keys);
        }
        let bucket = generations.current.entry(key.clone()).or_insert(Bucket {
            tokens: rate.burst,
            updated: now,
        });
        bucket.tokens = refilled(bucket, rate, now);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(wait_for_one(bucket.tokens, rate))
        }
    }

    /// How long until `key` could take a request, if it cannot now; takes nothing. A key
    /// that keeps asking stays tracked, so being refused never makes it forgotten.
    pub fn is_limited(&self, key: &K, rate: Rate, now: Instant) -> Option<Duration> {
        let mut generations = self.generations.lock().ok()?;
        if !generations.promote(key, self.max_keys) {
            return None;
        }
        let tokens = refilled(generations.current.get(key)?, rate, now);
        (tokens < 1.0).then(|| wait_for_one(tokens, rate))
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.generations.lock().map_or(0, |generations| {
            generations.current.len() + generations.previous.len()
        })
    }
}

fn wait_for_one(tokens: f64, rate: Rate) -> Duration {
    Duration::from_secs_f64(((1.0 - tokens) / rate.per_second).max(0.0))
}

fn refilled(bucket: &Bucket, rate: Rate, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    (bucket.tokens + elapsed * rate.per_second).min(rate.burst)
}

/// What per-address limits count against. IPv6 clients count by their /64: a host usually
/// holds a whole /64 and may use any address in it, so keying by address would give it 2^64
/// budgets. Every client whose address is unknown shares one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKey {
    V4(Ipv4Addr),
    /// The /64 network, host bits zero.
    V6Net(Ipv6Addr),
    Unknown,
}

impl AddressKey {
    pub fn of(address: Option<IpAddr>) -> AddressKey {
        match address.map(|address| address.to_canonical()) {
            Some(IpAddr::V4(v4)) => AddressKey::V4(v4),
            Some(IpAddr::V6(v6)) => {
                AddressKey::V6Net(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX)))
            }
            None => AddressKey::Unknown,
        }
    }
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressKey::V4(v4) => write!(f, "{v4}"),
            AddressKey::V6Net(net) => write!(f, "{net}/64"),
            AddressKey::Unknown => f.write_str("clients of unknown address"),
        }
    }
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
        assert!(limiter.tracked() <= 4);
    }

    #[test]
    fn a_busy_key_outlives_a_flood_of_new_keys_and_an_idle_one_does_not() {
        let limiter = RateLimiter::new(100_000);
        let rate = Rate {
            burst: 1.0,
            per_second: 1e-6,
        };
        let now = Instant::now();
        for key in ["busy", "idle"] {
            limiter.take(&key.to_owned(), rate, now).unwrap();
            assert!(limiter.take(&key.to_owned(), rate, now).is_err());
        }
        for flood in 0..300_000 {
            let _ = limiter.take(&format!("flood-{flood}"), rate, now);
            if flood % 1_000 == 0 {
                assert!(limiter.take(&"busy".to_owned(), rate, now).is_err());
            }
        }
        assert!(limiter.tracked() <= 100_000);
        assert!(
            limiter.is_limited(&"busy".to_owned(), rate, now).is_some(),
            "the busy key kept its empty bucket"
        );
        assert!(
            limiter.is_limited(&"idle".to_owned(), rate, now).is_none(),
            "the least recently used key went"
        );
    }

    #[test]
    fn asking_whether_a_key_is_limited_takes_nothing() {
        let limiter = RateLimiter::new(10);
        let rate = Rate::per_minute(1);
        let now = Instant::now();
        assert_eq!(limiter.is_limited(&"k", rate, now), None);
        assert_eq!(limiter.is_limited(&"k", rate, now), None);
        limiter.take(&"k", rate, now).unwrap();
        assert_eq!(
            limiter.is_limited(&"k", rate, now),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64_and_unknown_clients_share_one() {
        let key = |text: &str| AddressKey::of(Some(text.parse().unwrap()));
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
        assert_eq!(AddressKey::of(None), AddressKey::Unknown);
        assert_ne!(AddressKey::of(None), key("0.0.0.0"));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
