//! What a person types about themselves, parsed once: e-mail addresses, display names and
//! the password policy.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::error::Result;
use crate::scim::error::ProtocolError;

/// An e-mail address, trimmed and lower-cased: people type their address in any case, and
/// one person must not become two accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The longest address RFC 5321 lets through.
    const MAX_LEN: usize = 254;

    pub fn parse(text: &str) -> Result<Email> {
        let email = text.trim().to_lowercase();
        let (local, domain) = email.split_once('@').unwrap_or_default();
        let valid = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && email.len() <= Email::MAX_LEN
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Email(email))
        } else {
            Err(
                ProtocolError::invalid_value("enter an e-mail address such as ada@example.com")
                    .into(),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a person is called until they say otherwise: the address's local part.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown in the console: trimmed, 1 to 100 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    const MAX_CHARS: usize = 100;

    pub fn parse(text: &str) -> Result<DisplayName> {
        let name = text.trim();
        let length = name.chars().count();
        if length == 0 || length > DisplayName::MAX_CHARS {
            return Err(ProtocolError::invalid_value(format!(
                "the name needs 1 to {} characters",
                DisplayName::MAX_CHARS
            ))
            .into());
        }
        if name.chars().any(char::is_control) {
            return Err(
                ProtocolError::invalid_value("the name cannot hold control characters").into(),
            );
        }
        Ok(DisplayName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The fewest characters a console password has: long passphrases over composition rules
/// (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most: argon2 takes any length, but nobody types more, and a megabyte of input is work
/// an attacker should not get to hand us.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Refuses a password outside the policy, saying what the policy is (never the password).
pub fn check_password_policy(password: &SecretString) -> Result<()> {
    let length = password.expose_secret().chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        Ok(())
    } else {
        Err(ProtocolError::invalid_value(format!(
            "the password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        ))
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lower_cased_and_need_both_halves() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert_eq!(Email::parse("ada@example.com").unwrap().local_part(), "ada");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a b@example.com",
            "a@b@c",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_need_twelve_to_1024_characters() {
        let check = |text: &str| check_password_policy(&SecretString::from(text)).is_ok();
        assert!(!check("eleven-char"));
        assert!(check("twelve-chars"));
        assert!(check(&"é".repeat(1024)));
        assert!(!check(&"x".repeat(1025)));
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada L. ").unwrap().as_str(), "Ada L.");
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }
}
