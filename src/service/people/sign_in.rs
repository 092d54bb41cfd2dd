//! Signing in with e-mail address and password: one answer for every kind of wrong, the same
//! cost whether the account exists, and failures throttled per account and per address
//! without slowing a correct password down.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};

use super::fields::Email;
use super::sessions::{ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, SessionView};
use super::{random_secret, record_for_person};
use crate::auth::limit::{AddressKey, Rate, RateLimiter, retry_after_secs};
use crate::auth::token::digest;
use crate::error::{Error, Result};
use crate::service::audit::{Actor, EventKind};
use crate::store::Store;
use crate::store::people::{self as stored, PersonRecord};

/// What the sign-in form shows for an unknown address, a wrong password and an account
/// whose set-up link is still unused alike.
pub const SIGN_IN_FAILED: &str = "Email or password is incorrect.";

/// Failed sign-ins an account may have at once, then one more every five minutes.
const ACCOUNT_RATE: Rate = Rate {
    burst: 5.0,
    per_second: 1.0 / 300.0,
};
/// Failed sign-ins one address may have at once, whichever accounts it tries, then one a
/// minute: several people behind one NAT mistype too, but nobody tries twenty accounts.
const ADDRESS_RATE: Rate = Rate {
    burst: 20.0,
    per_second: 1.0 / 60.0,
};
/// Accounts and addresses remembered at once (see [`RateLimiter`]).
const TRACKED_KEYS: usize = 100_000;

/// Counts failed sign-ins, in memory, per instance: a sign-in that fails already costs a
/// password hash, so the count needs no database write of its own, and an attacker who
/// spreads guesses over N instances gains at most N times a budget that is small anyway.
/// Only failures count: a correct password below the limits is never delayed.
pub struct SignInThrottle {
    accounts: RateLimiter<String>,
    addresses: RateLimiter<AddressKey>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle {
            accounts: RateLimiter::new(TRACKED_KEYS),
            addresses: RateLimiter::new(TRACKED_KEYS),
        }
    }
}

impl SignInThrottle {
    pub fn new() -> Self {
        SignInThrottle::default()
    }

    /// How long until the account or the address may try again, if either may not now.
    fn refusal(&self, account: &String, address: AddressKey, now: Instant) -> Option<Duration> {
        let account = self.accounts.is_limited(account, ACCOUNT_RATE, now);
        let address = self.addresses.is_limited(&address, ADDRESS_RATE, now);
        account.into_iter().chain(address).max()
    }

    fn record_failure(&self, account: &String, address: AddressKey, now: Instant) {
        // An empty bucket is what `refusal` reads; taking from one only keeps it empty.
        let _ = self.accounts.take(account, ACCOUNT_RATE, now);
        let _ = self.addresses.take(&address, ADDRESS_RATE, now);
    }
}

/// What the sign-in form sent, and from where.
#[derive(Debug)]
pub struct SignInAttempt {
    /// As typed.
    pub email: String,
    pub password: SecretString,
    pub client_addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// A session just started. `secret` goes into the cookie and nowhere else.
#[derive(Debug)]
pub struct NewSession {
    pub secret: SecretString,
    pub session: SessionView,
}

/// Checks the attempt and starts a session. Fails with [`Error::Unauthorized`] for every
/// wrong address or password (show [`SIGN_IN_FAILED`]), and with
/// [`Error::TooManyRequests`] at once, without checking the password, while the account or
/// the address is throttled. Records `console.sign_in`, or `console.sign_in_failed` for an
/// account that exists (an unknown address is not recorded: people type passwords into the
/// wrong field).
pub async fn sign_in(
    store: &Store,
    throttle: &SignInThrottle,
    attempt: SignInAttempt,
    now: NaiveDateTime,
) -> Result<NewSession> {
    let account = attempt.email.trim().to_lowercase();
    let address = AddressKey::of(attempt.client_addr);
    if let Some(wait) = throttle.refusal(&account, address, Instant::now()) {
        log::info!("console sign-in throttled for {address}");
        return Err(Error::TooManyRequests {
            retry_after_secs: retry_after_secs(wait),
        });
    }
    let person = match Email::parse(&account) {
        Ok(email) => {
            store
                .read(move |conn| stored::find_person_by_email(conn, email.as_str()))
                .await?
        }
        Err(_) => None,
    };
    let hash = person
        .as_ref()
        .and_then(|person| person.password_hash.clone());
    if !store.passwords().verify(attempt.password, hash).await? {
        throttle.record_failure(&account, address, Instant::now());
        if let Some(person) = person {
            let remote_addr = attempt.client_addr.map(|addr| addr.to_string());
            store
                .write(move |conn| {
                    record_for_person(
                        conn,
                        EventKind::ConsoleSignInFailed,
                        &person,
                        None,
                        remote_addr.as_deref(),
                        now,
                    )
                })
                .await?;
        }
        return Err(Error::Unauthorized);
    }
    let Some(person) = person else {
        // A verification never matches without a hash.
        return Err(Error::Unauthorized);
    };
    store
        .write(move |conn| {
            start_session(conn, &person, &attempt.user_agent, attempt.client_addr, now)
        })
        .await
}

fn start_session(
    conn: &mut crate::store::DbConn,
    person: &PersonRecord,
    user_agent: &Option<String>,
    client_addr: Option<IpAddr>,
    now: NaiveDateTime,
) -> Result<NewSession> {
    let secret = random_secret()?;
    let csrf_token = random_secret()?;
    let client_addr = client_addr.map(|addr| addr.to_string());
    // A long User-Agent is the client's to send, not ours to keep.
    let user_agent: Option<String> = user_agent
        .as_deref()
        .map(|agent| agent.chars().take(512).collect());
    let record = stored::insert_session(
        conn,
        &stored::NewSession {
            secret_digest: digest(secret.expose_secret()).as_str(),
            person_id: &person.id,
            csrf_token: csrf_token.expose_secret(),
            expires_at: now + ABSOLUTE_TIMEOUT,
            user_agent: user_agent.as_deref(),
            client_addr: client_addr.as_deref(),
        },
        now,
    )?;
    stored::set_last_sign_in(conn, &person.id, now)?;
    stored::delete_ended_sessions(conn, &person.id, now - IDLE_TIMEOUT, now)?;
    let actor = Actor::Person(person.email.clone());
    record_for_person(
        conn,
        EventKind::ConsoleSignIn,
        person,
        Some(&actor),
        client_addr.as_deref(),
        now,
    )?;
    Ok(NewSession {
        secret,
        session: SessionView::from(record),
    })
}

/// What the sign-in form shows for an error of [`sign_in`] that is the person's to fix, or
/// `None` for a server fault (shown as such).
pub fn refusal_message(error: &Error) -> Option<String> {
    match error {
        Error::Unauthorized => Some(SIGN_IN_FAILED.to_owned()),
        Error::TooManyRequests { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            Some(format!(
                "Too many failed sign-ins. Try again in {minutes} {unit}."
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> AddressKey {
        AddressKey::of(Some(text.parse().unwrap()))
    }

    #[test]
    fn an_account_is_refused_after_five_failures_until_five_minutes_pass() {
        let throttle = SignInThrottle::new();
        let account = "ada@example.com".to_owned();
        let start = Instant::now();
        for attempt in 0..5 {
            assert_eq!(
                throttle.refusal(&account, v4("192.0.2.1"), start),
                None,
                "{attempt}"
            );
            throttle.record_failure(&account, v4("192.0.2.1"), start);
        }
        // From another address too: the account is what is guessed at.
        let wait = throttle.refusal(&account, v4("192.0.2.2"), start).unwrap();
        assert_eq!(retry_after_secs(wait), 300);
        assert_eq!(
            refusal_message(&Error::TooManyRequests {
                retry_after_secs: 300
            })
            .unwrap(),
            "Too many failed sign-ins. Try again in 5 minutes."
        );
        assert_eq!(
            throttle.refusal(&"bob@example.com".to_owned(), v4("192.0.2.2"), start),
            None
        );
        let later = start + Duration::from_secs(300);
        assert_eq!(throttle.refusal(&account, v4("192.0.2.1"), later), None);
    }

    #[test]
    fn an_address_is_refused_after_twenty_failures_whatever_the_accounts() {
        let throttle = SignInThrottle::new();
        let start = Instant::now();
        for n in 0..20 {
            let account = format!("user{n}@example.com");
            assert_eq!(throttle.refusal(&account, v4("198.51.100.7"), start), None);
            throttle.record_failure(&account, v4("198.51.100.7"), start);
        }
        let fresh = "new@example.com".to_owned();
        assert!(
            throttle
                .refusal(&fresh, v4("198.51.100.7"), start)
                .is_some()
        );
        assert_eq!(throttle.refusal(&fresh, v4("198.51.100.8"), start), None);
    }

    #[test]
    fn successes_are_never_counted() {
        let throttle = SignInThrottle::new();
        let account = "ada@example.com".to_owned();
        let now = Instant::now();
        // Only refusal() runs on a correct password: asking takes nothing.
        for _ in 0..100 {
            assert_eq!(throttle.refusal(&account, v4("192.0.2.1"), now), None);
        }
    }
}
