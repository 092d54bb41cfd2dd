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
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
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

/// Checks `password` against a PHC string from [`hash_password`], through the same gate and
/// reused memory. `None` (a person who has none, or nobody) checks against a fixed hash and
/// answers false: the answer then costs as long as a real check, so timing does not tell
/// whether an account exists.
pub async fn verify_password(password: SecretString, hash: Option<String>) -> Result<bool> {
    let permit = Arc::clone(&GATE.permits)
        .acquire_owned()
        .await
        .map_err(Error::internal)?;
    actix_web::web::block(move || {
        let _permit = permit;
        let _running = Running::enter(&GATE);
        let matches = verify_now(
            password.expose_secret().as_bytes(),
            hash.as_deref().unwrap_or(UNMATCHABLE_HASH),
        )?;
        Ok(matches && hash.is_some())
    })
    .await?
}

/// A hash in the default parameters whose output was made up, not computed: no password is
/// known to produce it.
const UNMATCHABLE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    c2NpbWQtbm8tc3VjaC1wZXJzb24$\
    8l1mJ3gQyW5nB0pVv4bY9zQ2a0cXk7QFJ9hS2m7b1Qo";

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

/// Runs argon2 in one of the gate's reused work areas, allocating one when none is free or
/// the parameters need another size.
fn with_memory<T>(
    block_count: usize,
    f: impl FnOnce(&mut [Block]) -> argon2::Result<T>,
) -> Result<T> {
    let mut blocks = GATE
        .memory
        .lock()
        .map_err(|_| Error::internal("password hash memory poisoned"))?
        .pop()
        .filter(|blocks| blocks.len() == block_count)
        .unwrap_or_else(|| vec![Block::default(); block_count]);
    let result = f(&mut blocks);
    if let Ok(mut memory) = GATE.memory.lock() {
        memory.push(blocks);
    }
    result.map_err(|error| Error::internal(error.to_string()))
}

/// Recomputes the hash of `password` with the stored salt and parameters and compares in
/// constant time.
fn verify_now(password: &[u8], phc: &str) -> Result<bool> {
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
    with_memory(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut output, blocks)
    })?;
    Ok(output.ct_eq(expected.as_bytes()).into())
}

/// Hashes in one of the gate's reused work areas: allocating 19 MiB per hash on whichever
/// blocking thread runs it left a copy in each thread's malloc arena after the flood.
fn hash_now(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng.try_fill_bytes(&mut salt).map_err(Error::internal)?;
    let argon2 = Argon2::default();
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(argon2.params().block_count(), |blocks| {
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

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .unwrap();
        let check = |password: &str, hash: Option<&str>| {
            verify_password(SecretString::from(password), hash.map(str::to_owned))
        };
        assert!(check("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!check("correct horse batterY", Some(&hash)).await.unwrap());
        assert!(!check("", Some(&hash)).await.unwrap());
        // The stand-in for a missing hash parses and runs, and never matches.
        assert!(!check("correct horse battery", None).await.unwrap());
        assert!(verify_now(b"x", UNMATCHABLE_HASH).is_ok());
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
