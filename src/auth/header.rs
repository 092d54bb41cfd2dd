//! Reading the credential out of an `Authorization` header, and saying what was wrong with
//! the header's shape when it cannot be read. The client wrote the header itself, so its
//! shape may be described back to it; nothing here tells whether a token exists or works,
//! and no part of the credential is ever repeated.

use super::token::{MalformedToken, TOKEN_LEN, TOKEN_PREFIX, WellFormedToken};

/// The header as the client should send it, quoted in every shape complaint.
const EXPECTED: &str = "send 'Authorization: Bearer wxt_…' with an API token";

/// Schemes that are named back to the client. Any other first word might be a secret
/// pasted without a scheme, so it is not repeated.
const KNOWN_SCHEMES: &[&str] = &[
    "Basic",
    "Digest",
    "Token",
    "SSWS",
    "ApiKey",
    "Api-Key",
    "Key",
    "OAuth",
    "JWT",
    "DPoP",
    "Negotiate",
    "NTLM",
    "HOBA",
    "Mutual",
    "MAC",
    "AWS4-HMAC-SHA256",
];

/// Why an `Authorization` header holds no readable credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadHeader {
    Missing,
    /// Bytes that are not visible ASCII text.
    NotText,
    /// The header, or the credential after `Bearer`, is empty.
    Empty,
    /// `Bearer Bearer …`: a scheme pasted in front of a value that already had one.
    RepeatedBearer,
    /// Another scheme than `Bearer`; its name when it is a well-known one.
    Scheme(Option<&'static str>),
    /// Not a token (and, when one is configured, not the shared secret either).
    Token(MalformedToken),
}

impl BadHeader {
    /// The 401 `detail`: what the header should look like, and what was wrong with its shape.
    pub fn detail(&self) -> String {
        let problem = match self {
            BadHeader::Missing => "the request has no Authorization header".to_owned(),
            BadHeader::NotText => "the Authorization header is not plain ASCII text".to_owned(),
            BadHeader::Empty => "the Authorization header holds no credential".to_owned(),
            BadHeader::RepeatedBearer => {
                "the header says 'Bearer' twice; send the scheme once".to_owned()
            }
            BadHeader::Scheme(Some(scheme)) => format!("the header's scheme was '{scheme}'"),
            BadHeader::Scheme(None) => "the header's scheme was not 'Bearer'".to_owned(),
            BadHeader::Token(MalformedToken::Prefix) => {
                format!("the credential does not start with '{TOKEN_PREFIX}'")
            }
            BadHeader::Token(MalformedToken::Length) => format!(
                "the credential is not {TOKEN_LEN} characters long (cut off, or something added?)"
            ),
            BadHeader::Token(MalformedToken::Alphabet) => {
                "the credential contains characters other than A-Z, a-z and 0-9 after 'wxt_'"
                    .to_owned()
            }
            BadHeader::Token(MalformedToken::Checksum) => {
                "the credential fails the token checksum (mistyped?)".to_owned()
            }
        };
        format!("Authentication failed: {EXPECTED}; {problem}.")
    }

    /// A short `reason=` value for the log.
    pub fn reason(&self) -> &'static str {
        match self {
            BadHeader::Missing => "no_header",
            BadHeader::NotText => "header_not_text",
            BadHeader::Empty => "empty_credential",
            BadHeader::RepeatedBearer => "bearer_twice",
            BadHeader::Scheme(_) => "wrong_scheme",
            BadHeader::Token(MalformedToken::Prefix) => "not_a_token",
            BadHeader::Token(MalformedToken::Length) => "token_length",
            BadHeader::Token(MalformedToken::Alphabet) => "token_characters",
            BadHeader::Token(MalformedToken::Checksum) => "token_checksum",
        }
    }
}

/// Reads the credential from `Authorization: Bearer <token>` (scheme case-insensitive) or from
/// a bare `Authorization: <token>`, which Okta's "HTTP header" mode sends.
pub fn credential_from_header(value: Option<&str>) -> Result<&str, BadHeader> {
    let value = value.ok_or(BadHeader::Missing)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_graphic() || c == ' ' || c == '\t')
    {
        return Err(BadHeader::NotText);
    }
    let value = value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            let rest = rest.trim();
            match rest.split_once(char::is_whitespace) {
                Some((again, _)) if again.eq_ignore_ascii_case("bearer") => {
                    Err(BadHeader::RepeatedBearer)
                }
                _ if rest.eq_ignore_ascii_case("bearer") => Err(BadHeader::RepeatedBearer),
                _ => Ok(rest),
            }
        }
        Some((scheme, _)) => Err(BadHeader::Scheme(known_scheme(scheme))),
        None if value.is_empty() || value.eq_ignore_ascii_case("bearer") => Err(BadHeader::Empty),
        None => Ok(value),
    }
}

/// Parses `credential` as a token, with the shape problem as a [`BadHeader`].
pub fn well_formed(credential: &str) -> Result<WellFormedToken<'_>, BadHeader> {
    WellFormedToken::parse(credential).map_err(BadHeader::Token)
}

fn known_scheme(scheme: &str) -> Option<&'static str> {
    KNOWN_SCHEMES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(scheme))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: &str) -> Result<&str, BadHeader> {
        credential_from_header(Some(value))
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_bare_tokens_are_accepted() {
        assert_eq!(read("Bearer abc"), Ok("abc"));
        assert_eq!(read("bearer   abc "), Ok("abc"));
        assert_eq!(read("BEARER abc"), Ok("abc"));
        assert_eq!(read("abc"), Ok("abc"));
    }

    #[test]
    fn each_bad_shape_is_named() {
        assert_eq!(credential_from_header(None), Err(BadHeader::Missing));
        assert_eq!(
            credential_from_header(Some("Bearer \u{fffd}")),
            Err(BadHeader::NotText)
        );
        assert_eq!(
            read("Basic dXNlcjpwYXNz"),
            Err(BadHeader::Scheme(Some("Basic")))
        );
        assert_eq!(read("token wxt_abc"), Err(BadHeader::Scheme(Some("Token"))));
        assert_eq!(read("hunter2 wxt_abc"), Err(BadHeader::Scheme(None)));
        assert_eq!(
            read("Bearer Bearer wxt_abc"),
            Err(BadHeader::RepeatedBearer)
        );
        assert_eq!(read("Bearer bearer"), Err(BadHeader::RepeatedBearer));
        assert_eq!(read("Bearer "), Err(BadHeader::Empty));
        assert_eq!(read(""), Err(BadHeader::Empty));
    }

    #[test]
    fn a_detail_never_repeats_the_credential() {
        let secret = "s3cr3t-Value";
        for header in [
            format!("{secret} more"),
            format!("Bearer {secret}"),
            format!("Token {secret}"),
        ] {
            let bad = match read(&header) {
                Ok(credential) => well_formed(credential).err().unwrap(),
                Err(bad) => bad,
            };
            let detail = bad.detail();
            assert!(!detail.contains(secret), "{detail}");
            assert!(detail.contains("Authorization: Bearer wxt_"), "{detail}");
        }
    }
}
