//! Human passwords (the SCIM `password` attribute): argon2id, never stored or returned in
//! plain text. Slow on purpose, so every hash runs on the blocking pool, outside transactions,
//! and through one gate that bounds how many run at once.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// How many hashes may run and wait at once (`--max-concurrent-hashes`, `--max-hash-queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes that run at once, each holding about 19 MiB.
    pub concurrent: NonZeroUsize,
    /// Requests that may wait for a free place; past them a request is answered 503.
    pub queue: usize,
}

/// At most this many hashes run at once by default: about 160 MB of argon2 memory.
pub const MAX_DEFAULT_CONCURRENT_HASHES: usize = 8;
/// The default `--max-hash-queue`: a few seconds of hashing on a small machine.
pub const DEFAULT_HASH_QUEUE: usize = 256;

impl Default for HashLimits {
    /// One hash per core, at most [`MAX_DEFAULT_CONCURRENT_HASHES`]: hashing is CPU-bound, so
    /// more hashes than cores only queue on the cores while holding their memory.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        HashLimits {
            concurrent: NonZeroUsize::new(cores.clamp(1, MAX_DEFAULT_CONCURRENT_HASHES))
                .unwrap_or(NonZeroUsize::MIN),
            queue: DEFAULT_HASH_QUEUE,
        }
    }
}

/// The one gate every argon2 hash and verification of a server goes through: at most
/// `concurrent` run at once, on the blocking pool, in reused work areas; at most `queue`
/// requests wait for a place, holding no thread and no hash memory, and further ones are
/// refused at once. Unbounded, 300 password syncs at once took the server to 4.4 GB, which
/// glibc kept after the flood (issue 15).
pub struct PasswordHasher {
    limits: HashLimits,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    running: AtomicUsize,
    high_water: AtomicUsize,
    /// argon2's work areas, one per hash that ran at once, kept for the next hashes.
    memory: Mutex<Vec<Vec<Block>>>,
    /// When a full queue was last logged (seconds since the epoch): once a minute is enough.
    full_logged_at: AtomicU64,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new(HashLimits::default())
    }
}

impl PasswordHasher {
    pub fn new(limits: HashLimits) -> Self {
        PasswordHasher {
            limits,
            permits: Arc::new(Semaphore::new(limits.concurrent.get())),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            high_water: AtomicUsize::new(0),
            memory: Mutex::new(Vec::new()),
            full_logged_at: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// The most hashes that ever ran at once through this gate: what tests check it with.
    pub fn high_water(&self) -> usize {
        self.high_water.load(Ordering::SeqCst)
    }

    /// Hashes a password with argon2id and a random salt, in PHC string format.
    pub async fn hash(self: &Arc<Self>, password: String) -> Result<String> {
        let permit = self.permit().await?;
        let gate = Arc::clone(self);
        // The permit moves into the blocking task: a request dropped mid-hash (a client that
        // hung up) must not free its place while its thread still hashes.
        actix_web::web::block(move || {
            let _permit = permit;
            let _running = Running::enter(&gate);
            gate.hash_now(&password)
        })
        .await?
    }

    /// Checks `password` against a PHC string from [`PasswordHasher::hash`]. `None` (a person
    /// who has none, or nobody) checks against a fixed hash and answers false: the answer then
    /// costs as long as a real check, so timing does not tell whether an account exists.
    pub async fn verify(
        self: &Arc<Self>,
        password: SecretString,
        hash: Option<String>,
    ) -> Result<bool> {
        let permit = self.permit().await?;
        let gate = Arc::clone(self);
        actix_web::web::block(move || {
            let _permit = permit;
            let _running = Running::enter(&gate);
            let matches = gate.verify_now(
                password.expose_secret().as_bytes(),
                hash.as_deref().unwrap_or(UNMATCHABLE_HASH),
            )?;
            Ok(matches && hash.is_some())
        })
        .await?
    }

    /// Hashes when there is a password.
    pub async fn hash_optional(
        self: &Arc<Self>,
        password: Option<String>,
    ) -> Result<Option<String>> {
        match password {
            Some(password) => Ok(Some(self.hash(password).await?)),
            None => Ok(None),
        }
    }

    /// A place to hash in: at once when one is free, else after waiting in the bounded queue.
    async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::join(self)?;
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(Error::internal)
    }

    fn log_full_queue(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let last = self.full_logged_at.load(Ordering::Relaxed);
        if now >= last + 60
            && self
                .full_logged_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            log::warn!(
                "password hashing is saturated: {} running and {} waiting; further requests \
                 that hash a password are answered 503 (--max-concurrent-hashes, \
                 --max-hash-queue)",
                self.limits.concurrent,
                self.limits.queue
            );
        }
    }
}

/// A request waiting for a place to hash, counted for as long as it waits.
struct Waiting<'a>(&'a PasswordHasher);

impl<'a> Waiting<'a> {
    fn join(gate: &'a PasswordHasher) -> Result<Self> {
        let queue = gate.limits.queue;
        let joined = gate
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |waiting| {
                (waiting < queue).then_some(waiting + 1)
            });
        if joined.is_err() {
            gate.log_full_queue();
            return Err(Error::Busy(
                "too many passwords are being hashed right now; retry the request later".into(),
            ));
        }
        Ok(Waiting(gate))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A hash in the default parameters whose output was made up, not computed: no password is
/// known to produce it.
const UNMATCHABLE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    c2NpbWQtbm8tc3VjaC1wZXJzb24$\
    8l1mJ3gQyW5nB0pVv4bY9zQ2a0cXk7QFJ9hS2m7b1Qo";

/// Counts one running hash for as long as it lives.
struct Running<'a>(&'a PasswordHasher);

impl<'a> Running<'a> {
    fn enter(gate: &'a PasswordHasher) -> Self {
        let running = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
        gate.high_water.fetch_max(running, Ordering::SeqCst);
        Running(gate)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHasher {
    /// Runs argon2 in one of the gate's reused work areas, allocating one when none is free or
    /// the parameters need another size.
    fn with_memory<T>(
        &self,
        block_count: usize,
        f: impl FnOnce(&mut [Block]) -> argon2::Result<T>,
    ) -> Result<T> {
        let mut blocks = self
            .memory
            .lock()
            .map_err(|_| Error::internal("password hash memory poisoned"))?
            .pop()
            .filter(|blocks| blocks.len() == block_count)
            .unwrap_or_else(|| vec![Block::default(); block_count]);
        let result = f(&mut blocks);
        if let Ok(mut memory) = self.memory.lock() {
            memory.push(blocks);
        }
        result.map_err(|error| Error::internal(error.to_string()))
    }

    /// Recomputes the hash of `password` with the stored salt and parameters and compares in
    /// constant time.
    fn verify_now(&self, password: &[u8], phc: &str) -> Result<bool> {
        let to_internal = |error: argon2::password_hash::Error| Error::internal(error.to_string());
        let parsed = PasswordHash::new(phc).map_err(to_internal)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(Error::internal("stored password hash lacks salt or output"));
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(to_internal)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|error| Error::internal(error.to_string()))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(to_internal)?;
        let argon2 = Argon2::new(algorithm, version, params);
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes).map_err(to_internal)?;
        let mut output = vec![0u8; expected.len()];
        self.with_memory(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt, &mut output, blocks)
        })?;
        Ok(output.ct_eq(expected.as_bytes()).into())
    }

    /// Hashes in one of the gate's reused work areas: allocating 19 MiB per hash on whichever
    /// blocking thread runs it left a copy in each thread's malloc arena after the flood.
    fn hash_now(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        OsRng.try_fill_bytes(&mut salt).map_err(Error::internal)?;
        let argon2 = Argon2::default();
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.with_memory(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, blocks)
        })?;
        let to_internal = |error: argon2::password_hash::Error| Error::internal(error.to_string());
        let salt = SaltString::encode_b64(&salt).map_err(to_internal)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: argon2.params().try_into().map_err(to_internal)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&output).map_err(to_internal)?),
        }
        .to_string();
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    fn gate(concurrent: usize, queue: usize) -> Arc<PasswordHasher> {
        Arc::new(PasswordHasher::new(HashLimits {
            concurrent: NonZeroUsize::new(concurrent).unwrap(),
            queue,
        }))
    }

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let gate = gate(2, 8);
        let first = gate.hash("N3w-p@ss".to_owned()).await.unwrap();
        let second = gate.hash("N3w-p@ss".to_owned()).await.unwrap();
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert_ne!(first, second, "salts differ");
        assert!(!first.contains("N3w-p@ss"));
        let parsed = PasswordHash::new(&first).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"N3w-p@ss", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let gate = gate(2, 8);
        let hash = gate.hash("correct horse battery".to_owned()).await.unwrap();
        let check = |password: &str, hash: Option<&str>| {
            gate.verify(SecretString::from(password), hash.map(str::to_owned))
        };
        assert!(check("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!check("correct horse batterY", Some(&hash)).await.unwrap());
        assert!(!check("", Some(&hash)).await.unwrap());
        // The stand-in for a missing hash parses and runs, and never matches.
        assert!(!check("correct horse battery", None).await.unwrap());
        assert!(gate.verify_now(b"x", UNMATCHABLE_HASH).is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_bound_and_the_rest_wait_or_are_refused() {
        let gate = gate(2, 3);
        let hashes = (0..12).map(|n| {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move { gate.hash(format!("p@ss-{n}")).await })
        });
        let (mut hashed, mut refused) = (0, 0);
        for hash in hashes.collect::<Vec<_>>() {
            match hash.await.unwrap() {
                Ok(hash) => {
                    assert!(hash.starts_with("$argon2id$"));
                    hashed += 1;
                }
                Err(Error::Busy(_)) => refused += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(gate.high_water() <= 2, "{} at once", gate.high_water());
        assert!(hashed >= 2, "{hashed} hashed");
        assert!(
            refused >= 1,
            "12 at once with 2 running and 3 waiting: some are refused"
        );
    }

    #[test]
    fn by_default_one_hash_runs_per_core_and_never_more_than_eight() {
        let limits = HashLimits::default();
        assert!((1..=MAX_DEFAULT_CONCURRENT_HASHES).contains(&limits.concurrent.get()));
        assert_eq!(limits.queue, DEFAULT_HASH_QUEUE);
    }
}
