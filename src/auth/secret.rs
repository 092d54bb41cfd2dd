//! The on-prem shared bearer secret (`AUTH_SECRET`).

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::OrgId;

/// Below this length a shared secret is guessable enough to warn about.
pub const RECOMMENDED_MIN_LEN: usize = 32;

/// The configured secret and the organization it authenticates as.
pub struct SharedSecret {
    digest: [u8; 32],
    pub org_id: OrgId,
}

impl SharedSecret {
    pub fn new(secret: &SecretString, org_id: OrgId) -> Self {
        SharedSecret {
            digest: Sha256::digest(secret.expose_secret().as_bytes()).into(),
            org_id,
        }
    }

    /// Compares in constant time. Both sides are hashed first, so neither the content nor
    /// the length of the secret leaks through timing.
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(self.digest.ct_eq(&presented))
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
}
