//! Who is calling: API tokens, the shared secret, the authenticator and its cache, limits.
//! `crate::http::auth` reads the caller from a request; `crate::service::tokens` changes tokens.

pub mod bounds;
pub mod context;
pub mod failure_log;
pub mod header;
pub mod lifecycle;
pub mod limit;
pub mod password;
pub mod scope;
pub mod secret;
pub mod token;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

pub use context::{AuthContext, Principal};
pub use scope::{Scope, Scopes};
pub use secret::SharedSecret;

use crate::error::{Error, Result};
use crate::store::audit::{EventKind, NewAuditEvent, insert_audit_event};
use crate::store::data_version::{Version, VersionedCache};
use crate::store::freshness::Freshness;
use crate::store::tokens::{self, OrgPolicy, TokenRecord};
use crate::store::{self, OrgId, Store, TokenId};
use failure_log::FailureLog;
use header::{BadHeader, credential_from_header};
use lifecycle::Refusal;
use limit::{AddressKey, Rate, RateLimiter, retry_after_secs};
use token::{TokenDigest, WellFormedToken};

/// How often a token's last-used time is written, per token and instance: often enough for
/// "last used" to be accurate to the minute, rarely enough to add no write per request.
const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// Failed authentications one address may make at once, and regains one of every
/// [`FAILURE_REFILL`]. Only failures count, so a valid token is never slowed by them; an
/// address over the budget has anything but a well-formed token refused uncompared.
const FAILURE_BURST: f64 = 20.0;
const FAILURE_REFILL: Duration = Duration::from_secs(3);
/// Addresses and tokens tracked by the in-memory limiters; the least recently used go first.
const MAX_TRACKED_KEYS: usize = 100_000;
/// Token records kept between requests before the cache starts over.
const MAX_CACHED_TOKENS: usize = 10_000;

/// The failed-authentication budget of one address.
fn failure_rate() -> Rate {
    Rate {
        burst: FAILURE_BURST,
        per_second: 1.0 / FAILURE_REFILL.as_secs_f64(),
    }
}

/// A token's record and its organization's policy, as the lookup answers them.
type FoundToken = (TokenRecord, OrgPolicy);

/// Turns an `Authorization` header into an [`AuthContext`].
pub struct Authenticator {
    store: Store,
    shared_secret: Option<SharedSecret>,
    /// Requests per minute for tokens without a limit of their own or of their
    /// organization; `None`: unlimited.
    default_rate_limit: Option<u32>,
    last_used_written: Mutex<HashMap<TokenId, Instant>>,
    /// Where the database's version can be read without a query: SQLite's commit counter, or
    /// PostgreSQL's notices of token changes.
    freshness: Option<Arc<Freshness>>,
    /// Found tokens by digest (never the token itself; made-up tokens are not kept, so they
    /// cannot fill it), valid while the database is unchanged: a revocation is a commit, so
    /// the next request looks its token up again. Unused without `freshness`.
    found_tokens: VersionedCache<TokenDigest, FoundToken>,
    token_limits: RateLimiter<TokenId>,
    failures: RateLimiter<AddressKey>,
    failure_log: FailureLog,
}

/// A refused credential: the error the client gets, and what the log and the audit log
/// record.
struct Failure {
    error: Error,
    reason: &'static str,
    /// The display prefix of a well-formed token, never more of it.
    prefix: Option<String>,
    event: Option<FailureEvent>,
}

/// A failure worth an audit event: one made with something shaped like a token.
struct FailureEvent {
    org_id: Option<OrgId>,
    event_type: EventKind,
    token_id: Option<TokenId>,
}

enum Rejection {
    /// The credential is bad: counts against the address and may be audited.
    Credential(Failure),
    /// Anything else (a rate limit, the database): passed through as is.
    Other(Error),
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        Rejection::Other(error)
    }
}

impl Authenticator {
    pub fn new(store: Store, shared_secret: Option<SharedSecret>) -> Self {
        Authenticator {
            store,
            shared_secret,
            default_rate_limit: None,
            last_used_written: Mutex::new(HashMap::new()),
            freshness: None,
            found_tokens: VersionedCache::new(MAX_CACHED_TOKENS),
            token_limits: RateLimiter::new(MAX_TRACKED_KEYS),
            failures: RateLimiter::new(MAX_TRACKED_KEYS),
            failure_log: FailureLog::new(Instant::now()),
        }
    }

    /// Keeps found tokens between requests for as long as `freshness` shows the database
    /// unchanged.
    pub fn with_freshness(mut self, freshness: Option<Arc<Freshness>>) -> Self {
        self.freshness = freshness;
        self
    }

    /// Applies `per_minute` to every token without a rate limit of its own.
    pub fn with_default_rate_limit(mut self, per_minute: Option<u32>) -> Self {
        self.default_rate_limit = per_minute.filter(|limit| *limit > 0);
        self
    }

    /// Requests per minute for tokens without a limit of their own or of their organization;
    /// `None`: unlimited. The console shows it beside a token's rate limit.
    pub fn default_rate_limit(&self) -> Option<u32> {
        self.default_rate_limit
    }

    /// Authenticates a request from `client_ip` (`None`: the address is unknown, see
    /// `crate::http::auth::client_ip`). A header of the wrong shape is
    /// [`Error::BadAuthorization`], saying what was wrong with it; a credential of the right
    /// shape that does not work is the same [`Error::Unauthorized`] whatever the reason (the
    /// reason goes to the info log and the audit log, under the token's display prefix at
    /// most); a token used from outside its allowlist is [`Error::Forbidden`], naming the
    /// address the server saw. Repeated failures from one address answer 429.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<AuthContext> {
        match self.check(authorization, client_ip).await {
            Ok(context) => Ok(context),
            Err(Rejection::Other(error)) => Err(error),
            Err(Rejection::Credential(failure)) => Err(self.on_failure(failure, client_ip)),
        }
    }

    async fn check(
        &self,
        authorization: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<AuthContext, Rejection> {
        let credential = credential_from_header(authorization).map_err(bad_shape)?;
        // A well-formed token goes straight to its lookup, whatever its address's failures (a
        // random token cannot be guessed), and without hashing the shared secret too. Anything
        // else is refused here, before any database query, unless it is the shared secret.
        // The answer to a wrong shape is the same whether a shared secret is configured or
        // not, so it tells nothing about the server either.
        let token = match header::well_formed(credential) {
            Ok(token) => token,
            Err(bad) => {
                return self
                    .shared_secret_unless_throttled(credential, client_ip)?
                    .ok_or_else(|| bad_shape(bad));
            }
        };
        let (found, data_version) = self.find(token.digest()).await?;
        let Some(found) = found else {
            // An AUTH_SECRET may happen to have a token's shape.
            if let Some(context) = self.shared_secret_unless_throttled(credential, client_ip)? {
                return Ok(context);
            }
            return Err(Rejection::Credential(Failure {
                error: Error::Unauthorized,
                reason: "unknown",
                prefix: Some(token.display_prefix()),
                event: Some(FailureEvent {
                    org_id: None,
                    event_type: EventKind::AuthFailed,
                    token_id: None,
                }),
            }));
        };
        let (record, policy) = &*found;
        let now = store::now();
        if let Some(refusal) = lifecycle::refusal(record, policy.inactivity_days, now) {
            let event_type = match refusal {
                Refusal::Expired => EventKind::TokenExpiredUse,
                Refusal::Superseded => EventKind::TokenStaleUse,
                _ => EventKind::AuthFailed,
            };
            return Err(refused(
                record,
                Error::Unauthorized,
                event_type,
                refusal.as_str(),
            ));
        }
        if !lifecycle::address_allowed(record, client_ip) {
            // The address, not the rule or its zones: behind a proxy that is not trusted, it is the
            // proxy's, which is what an administrator needs to see.
            let (detail, reason) = match client_ip {
                Some(address) => (
                    format!(
                        "this token may not be used from {address}, the address this server \
                         sees for the client"
                    ),
                    "address not allowed",
                ),
                None => (
                    "this token may only be used from its allowed networks, and the client \
                     address could not be determined"
                        .to_owned(),
                    "address unknown",
                ),
            };
            return Err(refused(
                record,
                Error::Forbidden(detail),
                EventKind::AuthIpDenied,
                reason,
            ));
        }
        if record.first_used_at.is_none() {
            // Once per token: starts a rotated predecessor's grace period at once, on every
            // instance, instead of whenever the throttled last-used write happens.
            let first = record.clone();
            self.store
                .write(move |conn| tokens::record_first_use(conn, &first, now))
                .await?;
        }
        // The token's own limit, else its organization's, else the server's.
        let limit = record
            .rate_limit_per_minute
            .or(policy.default_rate_limit_per_minute)
            .and_then(|limit| u32::try_from(limit).ok())
            .or(self.default_rate_limit);
        if let Some(limit) = limit
            && let Err(wait) =
                self.token_limits
                    .take(&record.id, Rate::per_minute(limit), Instant::now())
        {
            return Err(Rejection::Other(Error::TooManyRequests {
                retry_after_secs: retry_after_secs(wait),
            }));
        }
        self.note_use(&record.id, client_ip);
        let scopes = Scopes::parse(&record.scopes).map_err(Error::internal)?;
        let sunset = sunset_of(record, now);
        Ok(AuthContext {
            org_id: record.org_id.clone(),
            principal: Principal::Token {
                id: record.id.clone(),
                display_prefix: record.display_prefix.clone(),
            },
            scopes,
            sunset,
            data_version,
        })
    }

    /// The token with this digest: from the cache while the database is unchanged since it
    /// was read, otherwise from one indexed lookup. Also the version read before it, for the
    /// request's other caches.
    async fn find(
        &self,
        digest: TokenDigest,
    ) -> Result<(Option<Arc<FoundToken>>, Option<Version>)> {
        // Read before the lookup, so that a commit in between makes the entry stale.
        let version = self.data_version();
        if let Some(found) = version.and_then(|version| self.found_tokens.get(&digest, version)) {
            return Ok((Some(found), version));
        }
        let key = digest.clone();
        let found = self
            .store
            .read_quick(move |conn| tokens::find_token_for_auth(conn, key.as_str()))
            .await?
            .map(Arc::new);
        // An entry of a version that is already gone would only push out current ones.
        if let (Some(version), Some(found)) = (version, &found)
            && self.data_version() == Some(version)
        {
            self.found_tokens.insert(digest, version, Arc::clone(found));
        }
        Ok((found, version))
    }

    fn data_version(&self) -> Option<Version> {
        self.freshness.as_ref()?.current()
    }

    /// Compares `credential` with the shared secret, unless its address has used up its
    /// failure budget: then it is refused with 429 uncompared, so that the throttle slows
    /// guessing of the secret and not merely the answers to it.
    fn shared_secret_unless_throttled(
        &self,
        credential: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Option<AuthContext>> {
        let key = AddressKey::of(client_ip);
        if let Some(wait) = self
            .failures
            .is_limited(&key, failure_rate(), Instant::now())
        {
            crate::metrics::auth_failed("throttled");
            self.log_failure("throttled", client_ip, None);
            return Err(Error::TooManyRequests {
                retry_after_secs: retry_after_secs(wait),
            });
        }
        Ok(self.shared_secret_context(credential))
    }

    fn shared_secret_context(&self, credential: &str) -> Option<AuthContext> {
        let secret = self.shared_secret.as_ref()?;
        secret.matches(credential).then(|| AuthContext {
            org_id: secret.org_id.clone(),
            principal: Principal::SharedSecret,
            scopes: Scopes::SCIM,
            sunset: None,
            data_version: None,
        })
    }

    /// Counts a failure against the address: within its budget the failure is logged, audited
    /// (in the background) and answered as is; beyond it, 429 without touching the database.
    fn on_failure(&self, failure: Failure, client_ip: Option<IpAddr>) -> Error {
        let key = AddressKey::of(client_ip);
        if let Err(wait) = self.failures.take(&key, failure_rate(), Instant::now()) {
            crate::metrics::auth_failed("throttled");
            self.log_failure("throttled", client_ip, None);
            return Error::TooManyRequests {
                retry_after_secs: retry_after_secs(wait),
            };
        }
        crate::metrics::auth_failed(failure.reason);
        self.log_failure(failure.reason, client_ip, failure.prefix.as_deref());
        if let Some(event) = failure.event {
            let (reason, prefix) = (failure.reason, failure.prefix);
            let store = self.store.clone();
            let remote_addr = client_ip.map(|ip| ip.to_string());
            actix_web::rt::spawn(async move {
                let result = store
                    .write(move |conn| {
                        insert_audit_event(
                            conn,
                            &NewAuditEvent {
                                org_id: event.org_id.as_ref(),
                                event_type: event.event_type,
                                actor: None,
                                target: event.token_id.as_ref().map(TokenId::as_str),
                                remote_addr: remote_addr.as_deref(),
                                details: json!({
                                    "reason": reason,
                                    "prefix": prefix,
                                }),
                            },
                            store::now(),
                        )
                    })
                    .await;
                if let Err(error) = result {
                    log::warn!("could not record a failed authentication: {error}");
                }
            });
        }
        failure.error
    }

    /// One info line per failure, within the global budget of [`FailureLog`]: the reason, the
    /// client's address and a token's display prefix, never the credential.
    fn log_failure(&self, reason: &str, client_ip: Option<IpAddr>, prefix: Option<&str>) {
        let client = client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let reason = reason.replace(' ', "_");
        match prefix {
            Some(prefix) => self.failure_log.log(format_args!(
                "authentication failed: reason={reason} client={client} prefix={prefix}"
            )),
            None => self.failure_log.log(format_args!(
                "authentication failed: reason={reason} client={client}"
            )),
        }
    }

    /// Writes last-used time and address in the background, at most once a minute per token.
    fn note_use(&self, id: &TokenId, client_ip: Option<IpAddr>) {
        let now = Instant::now();
        {
            let Ok(mut written) = self.last_used_written.lock() else {
                return;
            };
            match written.get(id) {
                Some(last) if now.duration_since(*last) < LAST_USED_RESOLUTION => return,
                _ => {
                    if written.len() >= MAX_TRACKED_KEYS {
                        written.retain(|_, last| now.duration_since(*last) < LAST_USED_RESOLUTION);
                    }
                    written.insert(id.clone(), now);
                }
            }
        }
        let store = self.store.clone();
        let id = id.clone();
        let remote_ip = client_ip.map(|ip| ip.to_string());
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

    /// Confirms that the token behind `auth` (sent as `authorization`) may still be used, for
    /// work that outlasts the check at the door, such as a Bulk request: revoked, disabled or
    /// expired since is [`Error::Unauthorized`]. From the cache or one indexed lookup; counts
    /// no use and takes nothing from the rate limit.
    pub async fn confirm(&self, auth: &AuthContext, authorization: Option<&str>) -> Result<()> {
        // AUTH_SECRET changes only with a restart.
        let Principal::Token { id, .. } = &auth.principal else {
            return Ok(());
        };
        let token = credential_from_header(authorization)
            .ok()
            .and_then(|credential| WellFormedToken::parse(credential).ok())
            .ok_or(Error::Unauthorized)?;
        let (found, _) = self.find(token.digest()).await?;
        let refusal = match found.as_deref() {
            Some((record, _)) if record.id != *id => Some("replaced"),
            Some((record, policy)) => {
                lifecycle::refusal(record, policy.inactivity_days, store::now())
                    .map(Refusal::as_str)
            }
            None => Some("gone"),
        };
        match refusal {
            Some(reason) => {
                log::debug!("token {id} refused during its request: {reason}");
                Err(Error::Unauthorized)
            }
            None => Ok(()),
        }
    }
}

/// A header of the wrong shape: not audited (nothing in it names a token), but counted and
/// logged like any failure.
fn bad_shape(bad: BadHeader) -> Rejection {
    Rejection::Credential(Failure {
        error: Error::BadAuthorization(bad.detail()),
        reason: bad.reason(),
        prefix: None,
        event: None,
    })
}

/// A known token refused with `error`.
fn refused(
    record: &TokenRecord,
    error: Error,
    event_type: EventKind,
    reason: &'static str,
) -> Rejection {
    Rejection::Credential(Failure {
        error,
        reason,
        prefix: Some(record.display_prefix.clone()),
        event: Some(FailureEvent {
            org_id: Some(record.org_id.clone()),
            event_type,
            token_id: Some(record.id.clone()),
        }),
    })
}

/// When a token stops working, if within the warning window: the `Sunset` date.
pub fn sunset_of(record: &TokenRecord, now: NaiveDateTime) -> Option<NaiveDateTime> {
    lifecycle::end_of_life(record)
        .filter(|end| *end - now <= TimeDelta::days(lifecycle::EXPIRY_WARNING_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{self, audit::Actor, tokens::Caller};
    use secrecy::ExposeSecret;

    #[actix_web::test]
    async fn a_found_token_is_kept_while_the_database_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let (url, store) = store::testing::migrated_sqlite(&dir, "auth.db", 2);
        let first = crate::bootstrap::first_start(&store).unwrap().unwrap();
        let plain = first.token.plain.expose_secret().to_owned();
        let header = format!("Bearer {plain}");
        let digest = token::digest(&plain);
        let authenticator = Authenticator::new(store.clone(), None)
            .with_freshness(Freshness::open(&url, &store).map(Arc::new));
        let cached = || {
            let version = authenticator.data_version().unwrap();
            authenticator.found_tokens.get(&digest, version).is_some()
        };

        // The first use writes first_used_at at once and last_used_at in the background: wait
        // for both, so that no commit lands between the next lookup and the check.
        authenticator
            .authenticate(Some(&header), None)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while store
            .run_blocking(|conn| tokens::find_token_any_org(conn, &first.token.id))
            .unwrap()
            .and_then(|record| record.last_used_at)
            .is_none()
        {
            assert!(Instant::now() < deadline, "last use never written");
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        authenticator
            .authenticate(Some(&header), None)
            .await
            .unwrap();
        assert!(cached(), "kept under the current version");
        authenticator
            .authenticate(Some(&header), None)
            .await
            .unwrap();
        assert!(cached());

        let id = first.token.id.clone();
        store
            .write_blocking(|conn| {
                let record = tokens::find_token_any_org(conn, &id)?.unwrap();
                let cli = Caller::Admin(Actor::Cli);
                service::tokens::revoke(conn, &record.org_id, &cli, &record.id, store::now())
            })
            .unwrap();
        assert!(!cached(), "a commit outdates it");
        let refused = authenticator.authenticate(Some(&header), None).await;
        assert!(matches!(refused, Err(Error::Unauthorized)), "{refused:?}");
    }
}
