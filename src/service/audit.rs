//! Audit events, built in one place: what happened (a typed kind), who did it (the actor) and
//! to what (the target). The store keeps them as plain strings, which the audit API and
//! `scimd audit` show as they are, so every string here is part of the log's format. The
//! kind is defined beside the store, so that the authenticator can name its failures with it.

use std::fmt;

use chrono::NaiveDateTime;

use crate::auth::{AuthContext, Principal};
use crate::error::Result;
pub use crate::store::audit::EventKind;
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::{DbConn, OrgId, TokenId, ZoneId};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A request made with an API token: `token:<id>`.
    Token(TokenId),
    /// A request made with `AUTH_SECRET`: `auth_secret`.
    SharedSecret,
    /// The operator at the command line: `cli`.
    Cli,
    /// The server creating its first organization and token: `first-start`.
    FirstStart,
    /// Whoever reported a leaked token, unauthenticated: `leak-report`.
    LeakReport,
    /// A person signed in to the console: `person:<login>`.
    Person(String),
}

impl Actor {
    /// The credential behind a request.
    pub fn of(auth: &AuthContext) -> Actor {
        match &auth.principal {
            Principal::Token { id, .. } => Actor::Token(id.clone()),
            Principal::SharedSecret => Actor::SharedSecret,
        }
    }
}

/// As stored in the log's `actor` column and in a token's `created_by`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Token(id) => write!(f, "token:{id}"),
            Actor::SharedSecret => f.write_str("auth_secret"),
            Actor::Cli => f.write_str("cli"),
            Actor::FirstStart => f.write_str("first-start"),
            Actor::LeakReport => f.write_str("leak-report"),
            Actor::Person(login) => write!(f, "person:{login}"),
        }
    }
}

/// What it happened to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Token(&'a TokenId),
    /// A User or Group, by its id.
    Resource(&'a str),
    /// A console person, by e-mail address: stored as `person:<email>`, as the actor.
    Person(&'a str),
    /// A network zone, by its id.
    Zone(&'a ZoneId),
    /// An event stream, by its id: stored as `stream:<id>`.
    EventStream(&'a str),
}

impl Target<'_> {
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Target::Token(id) => id.as_str().into(),
            Target::Resource(id) => (*id).into(),
            Target::Person(email) => format!("person:{email}").into(),
            Target::Zone(id) => id.as_str().into(),
            Target::EventStream(id) => format!("stream:{id}").into(),
        }
    }
}

/// One event, ready to record. `details` is free-form JSON and never holds a secret.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: EventKind,
    /// `None`: a server-wide event.
    pub org: Option<&'a OrgId>,
    /// `None`: nobody known, such as a caller whose credential was refused.
    pub actor: Option<&'a Actor>,
    pub target: Option<Target<'a>>,
    pub remote_addr: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    /// `actor` did `kind` to a token of `org`.
    pub fn on_token(
        kind: EventKind,
        org: &'a OrgId,
        actor: &'a Actor,
        token: &'a TokenId,
        details: serde_json::Value,
    ) -> Event<'a> {
        Event {
            kind,
            org: Some(org),
            actor: Some(actor),
            target: Some(Target::Token(token)),
            remote_addr: None,
            details,
        }
    }

    /// Records the event in the caller's transaction, so the log names exactly the changes
    /// that commit.
    pub fn record(self, conn: &mut DbConn, now: NaiveDateTime) -> Result<()> {
        let actor = self.actor.map(ToString::to_string);
        let target = self.target.as_ref().map(Target::text);
        insert_audit_event(
            conn,
            &NewAuditEvent {
                org_id: self.org,
                event_type: self.kind,
                actor: actor.as_deref(),
                target: target.as_deref(),
                remote_addr: self.remote_addr,
                details: self.details,
            },
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_read_as_the_log_has_always_stored_them() {
        let id = TokenId::parse("0b6f6b1e-3c5e-4a8e-9d7e-2f1a0c9b8d7e").unwrap();
        assert_eq!(
            Actor::Token(id).to_string(),
            "token:0b6f6b1e-3c5e-4a8e-9d7e-2f1a0c9b8d7e"
        );
        assert_eq!(Actor::SharedSecret.to_string(), "auth_secret");
        assert_eq!(Actor::Cli.to_string(), "cli");
        assert_eq!(Actor::FirstStart.to_string(), "first-start");
        assert_eq!(Actor::LeakReport.to_string(), "leak-report");
    }
}
