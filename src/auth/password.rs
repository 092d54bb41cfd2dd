//! Human passwords (the SCIM `password` attribute): argon2id, never stored or returned in
//! plain text. Slow on purpose, so callers run it on the blocking pool, outside transactions.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::error::{Error, Result};

/// Hashes a password with argon2id and a random salt, in PHC string format.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng.try_fill_bytes(&mut salt).map_err(Error::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| Error::internal(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| Error::internal(error.to_string()))
}

/// Hashes on the blocking pool when there is a password.
pub async fn hash_optional(password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(password) => {
            let hash = actix_web::web::block(move || hash_password(&password)).await??;
            Ok(Some(hash))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let first = hash_password("N3w-p@ss").unwrap();
        let second = hash_password("N3w-p@ss").unwrap();
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
}
