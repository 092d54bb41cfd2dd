//! Reading the audit log, for every front end (the console's System log, `GET /api/v1/audit`,
//! `scimd audit`): filtered, newest first, in pages, with the actor and the target named where
//! the server knows a name for them.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::audit::EventKind;
use super::tokens;
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::store::audit::{AuditEvent, AuditQuery, search_audit_events};
use crate::store::{DbConn, OrgId};

/// Events per page unless the caller says otherwise, and the most one page may hold.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 10_000;

/// Which events: every condition must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `None`: every organization's events and the server-wide ones (the operator's CLI only).
    pub org: Option<OrgId>,
    /// Any of these; empty: any kind.
    pub kinds: Vec<EventKind>,
    /// As the log stores it: `cli`, `token:<id>`, `person:<email>`…
    pub actor: Option<String>,
    /// A token id: events about it or made with it.
    pub token: Option<String>,
    pub since: Option<NaiveDateTime>,
    /// Exclusive.
    pub until: Option<NaiveDateTime>,
}

/// Who acted, or what an event was about, named as far as the server knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Party {
    /// `name`: `None` when the token is gone.
    Token {
        id: String,
        name: Option<String>,
    },
    Person {
        email: String,
    },
    /// The operator's command line.
    Cli,
    /// The server's first start.
    FirstStart,
    /// `AUTH_SECRET`.
    SharedSecret,
    /// An unauthenticated leak report.
    LeakReport,
    /// A SCIM User or Group, by id.
    Resource {
        id: String,
    },
}

impl Party {
    /// A stored actor (`token:<id>`, `person:<email>`, `cli`…); `names` maps token ids to
    /// names. Anything else is shown as it is, as a resource would be.
    pub fn of_actor(stored: &str, names: &HashMap<String, String>) -> Party {
        if let Some(id) = stored.strip_prefix("token:") {
            return Party::token(id, names);
        }
        if let Some(email) = stored.strip_prefix("person:") {
            return Party::Person {
                email: email.to_owned(),
            };
        }
        match stored {
            "cli" => Party::Cli,
            "first-start" => Party::FirstStart,
            "auth_secret" => Party::SharedSecret,
            "leak-report" => Party::LeakReport,
            other => Party::Resource {
                id: other.to_owned(),
            },
        }
    }

    /// A stored target: a person (`person:<email>`), a token's id when the server knows the
    /// token, else a resource's.
    pub fn of_target(stored: &str, names: &HashMap<String, String>) -> Party {
        if let Some(email) = stored.strip_prefix("person:") {
            Party::Person {
                email: email.to_owned(),
            }
        } else if names.contains_key(stored) {
            Party::token(stored, names)
        } else {
            Party::Resource {
                id: stored.to_owned(),
            }
        }
    }

    pub fn token(id: &str, names: &HashMap<String, String>) -> Party {
        Party::Token {
            id: id.to_owned(),
            name: names.get(id).cloned(),
        }
    }

    /// How a person reads it: "token 'Okta production'", "person alice@example.com", "cli".
    pub fn label(&self) -> String {
        match self {
            Party::Token {
                name: Some(name), ..
            } => format!("token '{name}'"),
            Party::Token { id, name: None } => format!("token {id}"),
            Party::Person { email } => email.clone(),
            Party::Cli => "cli".to_owned(),
            Party::FirstStart => "first start".to_owned(),
            Party::SharedSecret => "AUTH_SECRET".to_owned(),
            Party::LeakReport => "leak report".to_owned(),
            Party::Resource { id } => id.clone(),
        }
    }
}

/// An event with its actor and target named.
#[derive(Debug, Clone)]
pub struct NamedEvent {
    pub event: AuditEvent,
    pub actor: Option<Party>,
    pub target: Option<Party>,
}

/// One page of events, newest first; `next_cursor` continues it when there may be more.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<NamedEvent>,
    pub next_cursor: Option<String>,
}

/// The page of events matching `filter` after `cursor` (a `next_cursor` this returned), at
/// most `limit` (1 to [`MAX_LIMIT`]). Two queries: the events, and the names of the tokens
/// they mention.
pub fn search(
    conn: &mut DbConn,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<AuditPage> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ProtocolError::invalid_value(format!("limit is 1 to {MAX_LIMIT}")).into());
    }
    let query = AuditQuery {
        org: filter.org.clone(),
        event_types: filter
            .kinds
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect(),
        since: filter.since,
        until: filter.until,
        token: filter.token.clone(),
        actor: filter.actor.clone(),
        before: cursor.map(decode_cursor).transpose()?,
        limit,
    };
    let events = search_audit_events(conn, &query)?;
    let next_cursor = events
        .last()
        .filter(|_| i64::try_from(events.len()).is_ok_and(|n| n == limit))
        .map(|last| encode_cursor(last.occurred_at, &last.id));
    let names = token_names(conn, filter.org.as_ref(), &events)?;
    let events = events
        .into_iter()
        .map(|event| NamedEvent {
            actor: event
                .actor
                .as_deref()
                .map(|actor| Party::of_actor(actor, &names)),
            target: event
                .target
                .as_deref()
                .map(|target| Party::of_target(target, &names)),
            event,
        })
        .collect();
    Ok(AuditPage {
        events,
        next_cursor,
    })
}

/// The names of the tokens the events mention, as actor or target, by id.
fn token_names(
    conn: &mut DbConn,
    org: Option<&OrgId>,
    events: &[AuditEvent],
) -> Result<HashMap<String, String>> {
    let mut ids: Vec<String> = events
        .iter()
        .flat_map(|event| {
            let actor = event
                .actor
                .as_deref()
                .and_then(|actor| actor.strip_prefix("token:"));
            [actor, event.target.as_deref()]
        })
        .flatten()
        .map(str::to_owned)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(tokens::names_by_id(conn, org, &ids)?.into_iter().collect())
}

/// A cursor over a newest-first listing: the `(time, id)` of a page's last entry.
pub(crate) fn encode_cursor(at: NaiveDateTime, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.format("%Y-%m-%dT%H:%M:%S%.6f")))
}

/// The `(time, id)` of a cursor [`encode_cursor`] made.
pub(crate) fn decode_cursor(text: &str) -> Result<(NaiveDateTime, String)> {
    let invalid = || ProtocolError::invalid_value("cursor is not one this server returned");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| invalid())?;
    Ok((at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_micro_opt(12, 0, 0, 123_456)
            .unwrap();
        let cursor = encode_cursor(at, "abc");
        assert_eq!(decode_cursor(&cursor).unwrap(), (at, "abc".to_owned()));
        assert!(decode_cursor("garbage!").is_err());
    }

    #[test]
    fn stored_actors_are_named() {
        let names = HashMap::from([("t1".to_owned(), "Okta".to_owned())]);
        assert_eq!(Party::of_actor("token:t1", &names).label(), "token 'Okta'");
        assert_eq!(Party::of_actor("token:t2", &names).label(), "token t2");
        assert_eq!(
            Party::of_actor("person:a@example.com", &names),
            Party::Person {
                email: "a@example.com".to_owned()
            }
        );
        assert_eq!(Party::of_actor("cli", &names), Party::Cli);
        assert_eq!(
            Party::of_target("person:b@example.com", &names).label(),
            "b@example.com"
        );
        assert_eq!(
            Party::of_target("u1", &names),
            Party::Resource {
                id: "u1".to_owned()
            }
        );
    }
}
