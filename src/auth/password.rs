//! Human passwords (the SCIM `password` attribute): argon2id, never stored or returned in
//! plain text. Slow on purpose, so every hash runs on the blocking pool, outside transactions,
//! and through one gate that bounds how many run at once.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::TryRngCore;
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// The most hashes that run at once: one per core (hashing is CPU-bound, more only queue on
/// the cores), never more than four. argon2id's default parameters allocate about 19 MiB per
/// hash, and the blocking pool has up to 512 threads: unbounded, 300 password syncs at once
/// took the server to 4.4 GB, which glibc kept after the flood.
pub fn concurrent_hash_bound() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, 4)
}

/// The most hashes that ever ran at once in this process: what tests check the bound with.
pub fn concurrent_hash_high_water() -> usize {
    GATE.high_water.load(Ordering::SeqCst)
}

/// Hashes a password with argon2id and a random salt, in PHC string format. A caller waits
/// for a permit on the async side, holding no thread and no hash memory while it waits.
pub async fn hash_password(password: String) -> Result<String> {
    let permit = Arc::clone(&GATE.permits)
        .acquire_owned()
        .await
        .map_err(Error::internal)?;
    // The permit moves into the blocking task: a request dropped mid-hash (a client that hung
    // up) must not free its place while its thread still hashes.
    actix_web::web::block(move || {
        let _permit = permit;
        let _running = Running::enter(&GATE);
        hash_now(&password)
    })
    .await?
}

/// Hashes when there is a password.
pub async fn hash_optional(password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(password) => Ok(Some(hash_password(password).await?)),
        None => Ok(None),
    }
}

static GATE: LazyLock<Gate> = LazyLock::new(|| Gate {
    permits: Arc::new(Semaphore::new(concurrent_hash_bound())),
    running: AtomicUsize::new(0),
    high_water: AtomicUsize::new(0),
    memory: Mutex::new(Vec::new()),
});

struct Gate {
    permits: Arc<Semaphore>,
    running: AtomicUsize,
    high_water: AtomicUsize,
    /// argon2's work areas, one per hash that ran at once, kept for the next hashes.
    memory: Mutex<Vec<Vec<Block>>>,
}

/// Counts one running hash for as long as it lives.
struct Running<'a>(&'a Gate);

impl<'a> Running<'a> {
    fn enter(gate: &'a Gate) -> Self {
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

/// Hashes in one of the gate's reused work areas: allocating 19 MiB per hash on whichever
/// blocking thread runs it left a copy in each thread's malloc arena after the flood.
fn hash_now(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng.try_fill_bytes(&mut salt).map_err(Error::internal)?;
    let argon2 = Argon2::default();
    let mut blocks = GATE
        .memory
        .lock()
        .map_err(|_| Error::internal("password hash memory poisoned"))?
        .pop()
        .unwrap_or_else(|| vec![Block::default(); argon2.params().block_count()]);
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let hashed =
        argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, &mut blocks);
    if let Ok(mut memory) = GATE.memory.lock() {
        memory.push(blocks);
    }
    hashed.map_err(|error| Error::internal(error.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let first = hash_password("N3w-p@ss".to_owned()).await.unwrap();
        let second = hash_password("N3w-p@ss".to_owned()).await.unwrap();
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_bound() {
        let hashes = (0..12).map(|n| tokio::spawn(hash_password(format!("p@ss-{n}"))));
        for hash in hashes.collect::<Vec<_>>() {
            assert!(hash.await.unwrap().unwrap().starts_with("$argon2id$"));
        }
        let bound = concurrent_hash_bound();
        assert!((1..=4).contains(&bound), "{bound}");
        assert!(
            concurrent_hash_high_water() <= bound,
            "{} hashes ran at once, over {bound}",
            concurrent_hash_high_water()
        );
    }
}
