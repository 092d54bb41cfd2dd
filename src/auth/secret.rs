//! The on-prem shared bearer secret (`AUTH_SECRET`).

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::OrgId;

/// Shorter shared secrets are refused unless explicitly allowed: the failure throttle slows
/// guessing down, it cannot make a short secret safe.
pub const MIN_LEN: usize = 32;

/// Shorter than [`MIN_LEN`] characters.
pub fn is_weak(secret: &SecretString) -> bool {
    secret.expose_secret().chars().count() < MIN_LEN
}

/// The configured secret and the organization it authenticates as.
pub struct SharedSecret {
    digest: [u8; 32],
    /// `AUTH_SECRET_PREVIOUS`, accepted too while set, so the secret can be rotated without
    /// downtime.
    previous: Option<[u8; 32]>,
    pub org_id: OrgId,
}

impl SharedSecret {
    pub fn new(secret: &SecretString, org_id: OrgId) -> Self {
        SharedSecret {
            digest: Sha256::digest(secret.expose_secret().as_bytes()).into(),
            previous: None,
            org_id,
        }
    }

    /// Also accepts `previous` (the secret being rotated out).
    pub fn with_previous(mut self, previous: &SecretString) -> Self {
        self.previous = Some(Sha256::digest(previous.expose_secret().as_bytes()).into());
        self
    }

    /// Compares in constant time. Both sides are hashed first, so neither the content nor
    /// the length of the secret leaks through timing.
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Both comparisons always run, so timing does not tell which secret matched.
        let previous = self.previous.unwrap_or(self.digest);
        bool::from(self.digest.ct_eq(&presented) | previous.ct_eq(&presented))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_matches() {
        let secret = SharedSecret::new(
            &SecretString::from("correct horse battery staple 1234"),
            OrgId::from_db("org".into()),
        );
        assert!(secret.matches("correct horse battery staple 1234"));
        assert!(!secret.matches("correct horse battery staple 123"));
        assert!(!secret.matches(""));
    }

    #[test]
    fn a_secret_is_weak_below_32_characters() {
        assert!(is_weak(&SecretString::from("x".repeat(31))));
        assert!(!is_weak(&SecretString::from("x".repeat(32))));
        assert!(
            is_weak(&SecretString::from("é".repeat(20))),
            "characters, not bytes"
        );
    }

    #[test]
    fn the_previous_secret_is_accepted_while_set() {
        let secret = SharedSecret::new(
            &SecretString::from("the new secret of at least 32 chars"),
            OrgId::from_db("org".into()),
        )
        .with_previous(&SecretString::from("the old secret of at least 32 chars"));
        assert!(secret.matches("the new secret of at least 32 chars"));
        assert!(secret.matches("the old secret of at least 32 chars"));
        assert!(!secret.matches("another secret"));
    }
}
