//! Console sessions, kept in the database so that signing out and removing a person take
//! effect on every instance. The cookie holds a random secret; the store only its digest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::{PersonView, Role, record_for_person};
use crate::auth::token::digest;
use crate::error::Result;
use crate::service::audit::{Actor, EventKind};
use crate::store::people::{self as stored, SessionRecord};
use crate::store::{DbConn, OrgId, PersonId, SessionId};

/// A session unused this long has ended.
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::hours(8);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::days(7);
/// `last_seen_at` is written at most this often: every page view writing a row would make
/// reading the console a stream of writes.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// A person's role in one organization, as the console's switcher and checks read it.
#[derive(Debug, Clone)]
pub struct Membership {
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
}

/// Who a valid session cookie belongs to, as every console request sees it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session_id: SessionId,
    pub person: PersonView,
    /// By organization name.
    pub memberships: Vec<Membership>,
    /// Goes in every form as the hidden `csrf` field; compare with [`SignedIn::csrf_matches`].
    pub csrf_token: SecretString,
}

impl SignedIn {
    /// Compares a form's `csrf` field with the session's token in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.csrf_token.expose_secret().as_bytes();
        !expected.is_empty() && bool::from(expected.ct_eq(presented.as_bytes()))
    }

    /// The person's membership in the organization named `org_name`; `None`: not theirs, which
    /// the console answers as it answers an organization that does not exist.
    pub fn membership(&self, org_name: &str) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.org_name == org_name)
    }

    /// The actor this person's changes are recorded as.
    pub fn actor(&self) -> Actor {
        Actor::Person(self.person.email.clone())
    }
}

/// One of a person's sessions, as the Account page lists it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: SessionId,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    /// When it ends unless used again: the earlier of the idle and the absolute timeout.
    pub ends_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
}

impl From<SessionRecord> for SessionView {
    fn from(record: SessionRecord) -> Self {
        SessionView {
            ends_at: ends_at(&record),
            id: record.id,
            created_at: record.created_at,
            last_seen_at: record.last_seen_at,
            user_agent: record.user_agent,
            client_addr: record.client_addr,
        }
    }
}

fn ends_at(record: &SessionRecord) -> NaiveDateTime {
    (record.last_seen_at + IDLE_TIMEOUT).min(record.expires_at)
}

/// What a request does with a session it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Ended,
    Fresh,
    /// Valid, and `last_seen_at` is due to be written.
    Touch,
}

fn freshness(record: &SessionRecord, now: NaiveDateTime) -> Freshness {
    if now >= ends_at(record) {
        Freshness::Ended
    } else if now - record.last_seen_at >= TOUCH_EVERY {
        Freshness::Touch
    } else {
        Freshness::Fresh
    }
}

/// What a found session needs written: its `last_seen_at` (at most once a minute), or its
/// row deleted once it has ended. Kept apart from [`session`] so that the lookup every console
/// request makes is a read, and only the rare request that is due takes the writer.
#[derive(Debug, Clone)]
pub enum SessionUpkeep {
    Touch(SessionId),
    End {
        person: PersonId,
        session: SessionId,
    },
}

/// The signed-in person behind the cookie `secret`, if its session is live, and the upkeep due.
/// Reads only: apply the upkeep with [`keep_up`] in a write.
pub fn session(
    conn: &mut DbConn,
    secret: &SecretString,
    now: NaiveDateTime,
) -> Result<(Option<SignedIn>, Option<SessionUpkeep>)> {
    let Some(record) =
        stored::find_session_by_digest(conn, digest(secret.expose_secret()).as_str())?
    else {
        return Ok((None, None));
    };
    let upkeep = match freshness(&record, now) {
        Freshness::Ended => {
            let end = SessionUpkeep::End {
                person: record.person_id,
                session: record.id,
            };
            return Ok((None, Some(end)));
        }
        Freshness::Touch => Some(SessionUpkeep::Touch(record.id.clone())),
        Freshness::Fresh => None,
    };
    let Some(person) = stored::find_person(conn, &record.person_id)? else {
        return Ok((None, None));
    };
    let memberships = stored::memberships_of(conn, &person.id)?
        .into_iter()
        .map(|membership| {
            Ok(Membership {
                org: membership.org_id,
                org_name: membership.org_name,
                role: Role::stored(&membership.role)?,
            })
        })
        .collect::<Result<_>>()?;
    let signed_in = SignedIn {
        session_id: record.id,
        person: PersonView::from(person),
        memberships,
        csrf_token: SecretString::from(record.csrf_token),
    };
    Ok((Some(signed_in), upkeep))
}

/// Writes what [`session`] found due.
pub fn keep_up(conn: &mut DbConn, upkeep: &SessionUpkeep, now: NaiveDateTime) -> Result<()> {
    match upkeep {
        SessionUpkeep::Touch(session) => stored::touch_session(conn, session, now),
        SessionUpkeep::End { person, session } => {
            stored::delete_session(conn, person, session).map(|_| ())
        }
    }
}

/// Ends the request's own session. Records `console.sign_out`.
pub fn sign_out(
    conn: &mut DbConn,
    signed_in: &SignedIn,
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<()> {
    let person = &signed_in.person.id;
    if stored::delete_session(conn, person, &signed_in.session_id)? {
        record_sign_out(conn, person, remote_addr, now)?;
    }
    Ok(())
}

/// The person's sessions, most recently used first; ended ones are left out.
pub fn sessions_of(
    conn: &mut DbConn,
    person: &PersonId,
    now: NaiveDateTime,
) -> Result<Vec<SessionView>> {
    Ok(stored::sessions_of(conn, person)?
        .into_iter()
        .filter(|record| freshness(record, now) != Freshness::Ended)
        .map(SessionView::from)
        .collect())
}

/// Ends every session of the person but `except` (the one asking, usually); answers how many
/// ended. Records `console.sign_out` when any did.
pub fn sign_out_everywhere(
    conn: &mut DbConn,
    person: &PersonId,
    except: Option<&SessionId>,
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize> {
    let ended = stored::delete_sessions_of(conn, person, except)?;
    if ended > 0 {
        record_sign_out(conn, person, remote_addr, now)?;
    }
    Ok(ended)
}

/// The one-time nonce of a console form that mints a secret: random, made when the form is
/// shown, used by the first send of that form only.
#[derive(Debug, Clone)]
pub struct FormNonce(String);

impl FormNonce {
    /// A new nonce: 16 bytes from the operating system, base64url.
    pub fn generate() -> Result<FormNonce> {
        let mut bytes = [0u8; 16];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(crate::error::Error::internal)?;
        Ok(FormNonce(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The nonce a form sent back, when it looks like one of ours.
    pub fn parse(sent: &str) -> Option<FormNonce> {
        let plausible = (16..=64).contains(&sent.len())
            && sent
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        plausible.then(|| FormNonce(sent.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Marks the form with `nonce` as sent in this session; answers `false` when it was sent
/// before, and the caller then does nothing. Run it in the transaction of what the form does.
pub fn use_form_nonce(
    conn: &mut DbConn,
    signed_in: &SignedIn,
    nonce: &FormNonce,
    now: NaiveDateTime,
) -> Result<bool> {
    stored::use_form_nonce(conn, &signed_in.session_id, nonce.as_str(), now)
}

/// Records `console.sign_out`, by the person themselves, once their sessions ended.
fn record_sign_out(
    conn: &mut DbConn,
    person: &PersonId,
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<()> {
    let Some(record) = stored::find_person(conn, person)? else {
        return Ok(());
    };
    let actor = Actor::Person(record.email.clone());
    record_for_person(
        conn,
        EventKind::ConsoleSignOut,
        &record,
        Some(&actor),
        remote_addr,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(hours: i64, minutes: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .unwrap()
            + TimeDelta::hours(hours)
            + TimeDelta::minutes(minutes)
    }

    fn signed_in_at(created: NaiveDateTime, last_seen: NaiveDateTime) -> SessionRecord {
        SessionRecord {
            id: SessionId::parse("0b6f6b1e-3c5e-4a8e-9d7e-2f1a0c9b8d7e").unwrap(),
            person_id: PersonId::from_db("p".to_owned()),
            csrf_token: String::new(),
            created_at: created,
            last_seen_at: last_seen,
            expires_at: created + ABSOLUTE_TIMEOUT,
            user_agent: None,
            client_addr: None,
        }
    }

    #[test]
    fn a_session_is_touched_at_most_once_a_minute() {
        let record = signed_in_at(at(0, 0), at(1, 0));
        assert_eq!(freshness(&record, at(1, 0)), Freshness::Fresh);
        assert_eq!(
            freshness(&record, at(1, 0) + TimeDelta::seconds(59)),
            Freshness::Fresh
        );
        assert_eq!(freshness(&record, at(1, 1)), Freshness::Touch);
    }

    #[test]
    fn a_session_ends_after_eight_idle_hours() {
        let record = signed_in_at(at(0, 0), at(1, 0));
        assert_eq!(freshness(&record, at(8, 59)), Freshness::Touch);
        assert_eq!(freshness(&record, at(9, 0)), Freshness::Ended);
    }

    #[test]
    fn a_busy_session_still_ends_seven_days_after_sign_in() {
        let created = at(0, 0);
        let seen_a_minute_ago = created + ABSOLUTE_TIMEOUT - TimeDelta::minutes(1);
        let record = signed_in_at(created, seen_a_minute_ago);
        assert_eq!(
            freshness(&record, created + ABSOLUTE_TIMEOUT - TimeDelta::seconds(1)),
            Freshness::Fresh
        );
        assert_eq!(
            freshness(&record, created + ABSOLUTE_TIMEOUT),
            Freshness::Ended
        );
        assert_eq!(
            SessionView::from(record).ends_at,
            created + ABSOLUTE_TIMEOUT
        );
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        let signed_in = SignedIn {
            session_id: SessionId::parse("0b6f6b1e-3c5e-4a8e-9d7e-2f1a0c9b8d7e").unwrap(),
            person: PersonView {
                id: PersonId::from_db("p".to_owned()),
                email: "ada@example.com".to_owned(),
                display_name: "Ada".to_owned(),
                has_password: true,
                created_at: at(0, 0),
                last_sign_in_at: None,
            },
            memberships: Vec::new(),
            csrf_token: SecretString::from("abc123"),
        };
        assert!(signed_in.csrf_matches("abc123"));
        assert!(!signed_in.csrf_matches("abc12"));
        assert!(!signed_in.csrf_matches("abc1234"));
        assert!(!signed_in.csrf_matches(""));
    }
}
