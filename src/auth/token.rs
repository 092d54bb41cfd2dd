//! The API token format: `wxt_` + 33 random base62 characters + a 6-character base62 CRC32
//! of everything before it. The checksum lets secret scanners and this server reject
//! mistyped or made-up tokens without a database lookup.
//!
//! Never change the prefix or the layout: tokens already issued and scanner rules in the
//! wild depend on both.

use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "wxt_";
const RANDOM_LEN: usize = 33;
const CHECKSUM_LEN: usize = 6;
/// Length of a whole token.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// Random characters kept in the display prefix (`wxt_aBcDeFgH`).
const DISPLAY_RANDOM_LEN: usize = 8;
/// The regular expression secret scanners can use (the checksum narrows it further).
pub const TOKEN_REGEX: &str = "wxt_[0-9A-Za-z]{39}";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly generated token: the secret (shown once) and what may be stored about it.
pub struct GeneratedToken {
    pub plain: SecretString,
    pub digest: TokenDigest,
    pub display_prefix: String,
}

/// SHA-256 of a token, hex-encoded: what the database keeps. Its `Debug` shows nothing, so it
/// cannot end up in a log by accident either.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// Why a presented string is not a well-formed token. The client may be told (it knows what it
/// sent); see `crate::auth::header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedToken {
    #[error("does not start with {TOKEN_PREFIX}")]
    Prefix,
    #[error("has the wrong length")]
    Length,
    #[error("contains a character outside base62")]
    Alphabet,
    #[error("fails its checksum")]
    Checksum,
}

/// A string that has the shape and checksum of a token; it may still be unknown or revoked.
pub struct WellFormedToken<'a>(&'a str);

impl<'a> WellFormedToken<'a> {
    /// Checks prefix, length, alphabet and checksum, in that order.
    pub fn parse(text: &'a str) -> Result<Self, MalformedToken> {
        let body = text
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(MalformedToken::Prefix)?;
        if text.len() != TOKEN_LEN {
            return Err(MalformedToken::Length);
        }
        if !body.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(MalformedToken::Alphabet);
        }
        let (signed, checksum) = text.split_at(TOKEN_LEN - CHECKSUM_LEN);
        if checksum != base62_checksum(signed) {
            return Err(MalformedToken::Checksum);
        }
        Ok(WellFormedToken(text))
    }

    pub fn digest(&self) -> TokenDigest {
        digest(self.0)
    }

    pub fn display_prefix(&self) -> String {
        display_prefix(self.0)
    }
}

/// Generates a token from the operating system's CSPRNG.
pub fn generate() -> Result<GeneratedToken, rand::rand_core::OsError> {
    let mut text = String::with_capacity(TOKEN_LEN);
    text.push_str(TOKEN_PREFIX);
    let mut buffer = [0u8; 64];
    while text.len() < TOKEN_PREFIX.len() + RANDOM_LEN {
        OsRng.try_fill_bytes(&mut buffer)?;
        for byte in buffer {
            // 248 = 4 × 62: rejecting the top eight byte values keeps every character
            // equally likely.
            if byte < 248 && text.len() < TOKEN_PREFIX.len() + RANDOM_LEN {
                text.push(base62_char(u32::from(byte % 62)));
            }
        }
    }
    let checksum = base62_checksum(&text);
    text.push_str(&checksum);
    Ok(GeneratedToken {
        digest: digest(&text),
        display_prefix: display_prefix(&text),
        plain: SecretString::from(text),
    })
}

/// SHA-256 of the whole token. Tokens carry ~196 bits of entropy, so a fast digest is as
/// strong as a slow password hash here, and costs microseconds per request instead of
/// tens of milliseconds.
pub fn digest(token: &str) -> TokenDigest {
    fn hex_digit(nibble: u8) -> char {
        char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        })
    }
    let hash = Sha256::digest(token.as_bytes());
    // Runs on every request: one allocation, not one per byte.
    let mut hex = String::with_capacity(2 * hash.len());
    for byte in hash {
        hex.push(hex_digit(byte >> 4));
        hex.push(hex_digit(byte & 0x0f));
    }
    TokenDigest(hex)
}

/// Digest of a secret held as [`SecretString`].
pub fn digest_secret(token: &SecretString) -> TokenDigest {
    digest(token.expose_secret())
}

fn display_prefix(token: &str) -> String {
    token
        .chars()
        .take(TOKEN_PREFIX.len() + DISPLAY_RANDOM_LEN)
        .collect()
}

fn base62_char(value: u32) -> char {
    BASE62
        .get(value as usize)
        .map_or('0', |byte| char::from(*byte))
}

fn base62_checksum(signed: &str) -> String {
    let mut value = crc32fast::hash(signed.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
    digits.iter().map(|byte| char::from(*byte)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape_and_verify() {
        let token = generate().unwrap();
        let text = token.plain.expose_secret();
        assert_eq!(text.len(), TOKEN_LEN);
        assert!(text.starts_with("wxt_"));
        assert!(text[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let parsed = WellFormedToken::parse(text).unwrap();
        assert_eq!(parsed.digest(), token.digest);
        assert_eq!(token.display_prefix, &text[..12]);
    }

    #[test]
    fn generated_tokens_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.plain.expose_secret(), b.plain.expose_secret());
    }

    #[test]
    fn one_changed_character_fails_the_checksum() {
        let token = generate().unwrap();
        let text = token.plain.expose_secret().to_owned();
        let mut chars: Vec<char> = text.chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let mistyped: String = chars.into_iter().collect();
        assert_eq!(
            WellFormedToken::parse(&mistyped).err(),
            Some(MalformedToken::Checksum)
        );
    }

    #[test]
    fn malformed_tokens_say_why() {
        let cases = [
            (
                "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abc",
                MalformedToken::Prefix,
            ),
            ("wxt_short", MalformedToken::Length),
            (
                "wxt_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890ab-",
                MalformedToken::Alphabet,
            ),
            (
                "wxt_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abc",
                MalformedToken::Checksum,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(WellFormedToken::parse(text).err(), Some(expected), "{text}");
        }
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{:?}", digest("abc")), "TokenDigest(..)");
    }

    #[test]
    fn checksum_is_six_base62_characters() {
        assert_eq!(base62_checksum(""), "000000");
        let sum = base62_checksum("wxt_abc");
        assert_eq!(sum.len(), 6);
        assert!(sum.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
