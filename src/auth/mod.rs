//! Who is calling: API tokens, the shared secret, and the request extractor.

pub mod context;
pub mod issue;
pub mod password;
pub mod scope;
pub mod secret;
pub mod token;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

pub use context::{AuthContext, Principal};
pub use issue::{IssuedToken, TokenRequest, issue_token, revoke_token};
pub use scope::{Scope, Scopes};
pub use secret::SharedSecret;

use crate::error::{Error, Result};
use crate::store::tokens::{self, TokenRecord};
use crate::store::{self, Store, TokenId};
use token::WellFormedToken;

/// How often a token's last-used time is written, per token and instance: often enough for
/// "last used" to be accurate to the minute, rarely enough to add no write per request.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// Turns an `Authorization` header into an [`AuthContext`].
pub struct Authenticator {
    store: Store,
    shared_secret: Option<SharedSecret>,
    last_used_written: Mutex<HashMap<TokenId, Instant>>,
}

impl Authenticator {
    pub fn new(store: Store, shared_secret: Option<SharedSecret>) -> Self {
        Authenticator {
            store,
            shared_secret,
            last_used_written: Mutex::new(HashMap::new()),
        }
    }

    /// Authenticates a request. Every failure is the same [`Error::Unauthorized`]; the reason
    /// goes to the debug log only, under the token's display prefix at most.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        remote_ip: Option<String>,
    ) -> Result<AuthContext> {
        let Some(credential) = authorization.and_then(credential_from_header) else {
            log::debug!("authentication failed: no bearer credential");
            return Err(Error::Unauthorized);
        };
        if let Some(secret) = &self.shared_secret
            && secret.matches(credential)
        {
            return Ok(AuthContext {
                org_id: secret.org_id.clone(),
                principal: Principal::SharedSecret,
                scopes: Scopes::SCIM,
            });
        }
        let token = WellFormedToken::parse(credential).map_err(|reason| {
            log::debug!("authentication failed: malformed token ({reason})");
            Error::Unauthorized
        })?;
        let digest = token.digest();
        let record = self
            .store
            .read(move |conn| tokens::find_token_by_digest(conn, digest.as_str()))
            .await?;
        let Some(record) = record else {
            log::debug!(
                "authentication failed: unknown token {}…",
                token.display_prefix()
            );
            return Err(Error::Unauthorized);
        };
        if let Some(reason) = refusal_reason(&record, store::now()) {
            log::debug!(
                "authentication failed: token {}… is {reason}",
                record.display_prefix
            );
            return Err(Error::Unauthorized);
        }
        self.note_use(&record.id, remote_ip);
        let scopes = Scopes::parse(&record.scopes).map_err(Error::internal)?;
        Ok(AuthContext {
            org_id: record.org_id,
            principal: Principal::Token {
                id: record.id,
                display_prefix: record.display_prefix,
            },
            scopes,
        })
    }

    /// Writes last-used time and address in the background, at most once a minute per token.
    fn note_use(&self, id: &TokenId, remote_ip: Option<String>) {
        let now = Instant::now();
        {
            let Ok(mut written) = self.last_used_written.lock() else {
                return;
            };
            match written.get(id) {
                Some(last) if now.duration_since(*last) < LAST_USED_RESOLUTION => return,
                _ => {
                    written.insert(id.clone(), now);
                }
            }
        }
        let store = self.store.clone();
        let id = id.clone();
        actix_web::rt::spawn(async move {
            let result = store
                .write(move |conn| {
                    tokens::touch_token(conn, &id, store::now(), remote_ip.as_deref())
                })
                .await;
            if let Err(error) = result {
                log::warn!("could not record token use: {error}");
            }
        });
    }
}

/// Why a stored token may not be used now, if it may not.
fn refusal_reason(record: &TokenRecord, now: NaiveDateTime) -> Option<&'static str> {
    if record.revoked_at.is_some() {
        Some("revoked")
    } else if record.disabled_at.is_some() {
        Some("disabled")
    } else if record.expires_at.is_some_and(|expiry| expiry <= now) {
        Some("expired")
    } else {
        None
    }
}

/// Reads the credential from `Authorization: Bearer <token>` (scheme case-insensitive) or from
/// a bare `Authorization: <token>`, which Okta's "HTTP header" mode sends.
fn credential_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(rest.trim()).filter(|credential| !credential.is_empty())
        }
        Some(_) => None,
        None if value.eq_ignore_ascii_case("bearer") => None,
        None => Some(value).filter(|credential| !credential.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_bare_tokens_are_accepted() {
        assert_eq!(credential_from_header("Bearer abc"), Some("abc"));
        assert_eq!(credential_from_header("bearer   abc "), Some("abc"));
        assert_eq!(credential_from_header("BEARER abc"), Some("abc"));
        assert_eq!(credential_from_header("abc"), Some("abc"));
        assert_eq!(credential_from_header("Basic dXNlcjpwYXNz"), None);
        assert_eq!(credential_from_header("Bearer "), None);
        assert_eq!(credential_from_header(""), None);
    }
}
