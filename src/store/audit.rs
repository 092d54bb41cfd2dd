//! The append-only audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_events;
use super::{DbConn, OrgId};
use crate::error::Result;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    TokenCreated,
    TokenUpdated,
    TokenDisabled,
    TokenEnabled,
    TokenRotated,
    TokenRevoked,
    TokenRevokedAsLeaked,
    /// An expired token was presented.
    TokenExpiredUse,
    /// A rotated token was presented after its grace period.
    TokenStaleUse,
    AuthFailed,
    /// A token was presented from outside its allowlist.
    AuthIpDenied,
    /// A SCIM create, replace, patch or delete.
    ScimWrite,
    /// A person signed in to the console.
    ConsoleSignIn,
    /// A console sign-in was refused: wrong password, or no password set yet.
    ConsoleSignInFailed,
    ConsoleSignOut,
    PersonInvited,
    PersonRoleChanged,
    PersonRemoved,
    /// A person set their password through a set-up link.
    PersonPasswordSet,
    /// An organization's settings changed.
    OrgUpdated,
    ZoneCreated,
    ZoneUpdated,
    ZoneDeleted,
    /// An event stream was created: who exports the directory, and where to.
    EventStreamCreated,
    /// An event stream was paused or resumed.
    EventStreamUpdated,
    EventStreamDeleted,
    /// An organization's SET signing key was rotated.
    EventKeysRotated,
}

impl EventKind {
    /// Every kind, in the order `scimd audit --help` lists them.
    pub const ALL: [EventKind; 27] = [
        EventKind::TokenCreated,
        EventKind::TokenUpdated,
        EventKind::TokenDisabled,
        EventKind::TokenEnabled,
        EventKind::TokenRotated,
        EventKind::TokenRevoked,
        EventKind::TokenRevokedAsLeaked,
        EventKind::TokenExpiredUse,
        EventKind::TokenStaleUse,
        EventKind::AuthFailed,
        EventKind::AuthIpDenied,
        EventKind::ScimWrite,
        EventKind::ConsoleSignIn,
        EventKind::ConsoleSignInFailed,
        EventKind::ConsoleSignOut,
        EventKind::PersonInvited,
        EventKind::PersonRoleChanged,
        EventKind::PersonRemoved,
        EventKind::PersonPasswordSet,
        EventKind::OrgUpdated,
        EventKind::ZoneCreated,
        EventKind::ZoneUpdated,
        EventKind::ZoneDeleted,
        EventKind::EventStreamCreated,
        EventKind::EventStreamUpdated,
        EventKind::EventStreamDeleted,
        EventKind::EventKeysRotated,
    ];

    /// The kind whose `type` is `text`.
    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The event's `type` in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TokenCreated => "token.created",
            EventKind::TokenUpdated => "token.updated",
            EventKind::TokenDisabled => "token.disabled",
            EventKind::TokenEnabled => "token.enabled",
            EventKind::TokenRotated => "token.rotated",
            EventKind::TokenRevoked => "token.revoked",
            EventKind::TokenRevokedAsLeaked => "token.revoked_as_leaked",
            EventKind::TokenExpiredUse => "token.expired_use",
            EventKind::TokenStaleUse => "token.stale_use",
            EventKind::AuthFailed => "auth.failed",
            EventKind::AuthIpDenied => "auth.ip_denied",
            EventKind::ScimWrite => "scim.write",
            EventKind::ConsoleSignIn => "console.sign_in",
            EventKind::ConsoleSignInFailed => "console.sign_in_failed",
            EventKind::ConsoleSignOut => "console.sign_out",
            EventKind::PersonInvited => "person.invited",
            EventKind::PersonRoleChanged => "person.role_changed",
            EventKind::PersonRemoved => "person.removed",
            EventKind::PersonPasswordSet => "person.password_set",
            EventKind::OrgUpdated => "org.updated",
            EventKind::ZoneCreated => "zone.created",
            EventKind::ZoneUpdated => "zone.updated",
            EventKind::ZoneDeleted => "zone.deleted",
            EventKind::EventStreamCreated => "event_stream.created",
            EventKind::EventStreamUpdated => "event_stream.updated",
            EventKind::EventStreamDeleted => "event_stream.deleted",
            EventKind::EventKeysRotated => "event_keys.rotated",
        }
    }
}

/// One event to record. `details` is free-form JSON and never holds a secret.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub org_id: Option<&'a OrgId>,
    pub event_type: EventKind,
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
    pub remote_addr: Option<&'a str>,
    pub details: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEvent {
    pub id: String,
    pub org_id: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub event_type: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub remote_addr: Option<String>,
    pub details: String,
}

/// The condition of the partial index `audit_events_org_target_idx`, which leaves SCIM
/// writes out (each one would cost the writer a random page of it), as a query must spell it
/// for SQLite and PostgreSQL to use that index: a literal, where diesel would bind a value.
/// Look-ups of a token's events by target add it: a token is never a SCIM write's target.
pub(crate) fn not_a_scim_write() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("audit_events.event_type <> 'scim.write'")
}

pub fn insert_audit_event(
    conn: &mut DbConn,
    event: &NewAuditEvent<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(audit_events::table)
        .values((
            // Time-ordered, as the ids of `ids.rs` are: the primary key takes appends.
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::org_id.eq(event.org_id.map(OrgId::as_str)),
            audit_events::occurred_at.eq(now),
            audit_events::event_type.eq(event.event_type.as_str()),
            audit_events::actor.eq(event.actor),
            audit_events::target.eq(event.target),
            audit_events::remote_addr.eq(event.remote_addr),
            audit_events::details.eq(event.details.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which events to list: all conditions must hold. Newest first; `before` continues a page.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// `None` lists events of every organization and server-wide ones (operator CLI only).
    pub org: Option<OrgId>,
    pub event_types: Vec<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Events about the token or made by it.
    pub token: Option<String>,
    /// Events by this actor, as stored (`cli`, `token:<id>`, `person:<email>`).
    pub actor: Option<String>,
    /// The `(occurred_at, id)` of the last event of the previous page.
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Events matching `query`, newest first, at most `query.limit`.
pub fn search_audit_events(conn: &mut DbConn, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
    let mut select = audit_events::table.into_boxed();
    if let Some(org) = &query.org {
        select = select.filter(audit_events::org_id.eq(org.as_str().to_owned()));
    }
    if !query.event_types.is_empty() {
        select = select.filter(audit_events::event_type.eq_any(query.event_types.clone()));
    }
    if let Some(since) = query.since {
        select = select.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = query.until {
        select = select.filter(audit_events::occurred_at.lt(until));
    }
    if let Some(token) = &query.token {
        select = select.filter(
            audit_events::target
                .eq(token.clone())
                .and(not_a_scim_write())
                .or(audit_events::actor.eq(format!("token:{token}"))),
        );
    }
    if let Some(actor) = &query.actor {
        select = select.filter(audit_events::actor.eq(actor.clone()));
    }
    if let Some((at, id)) = &query.before {
        select = select.filter(
            audit_events::occurred_at
                .lt(*at)
                .or(audit_events::occurred_at
                    .eq(*at)
                    .and(audit_events::id.lt(id.clone()))),
        );
    }
    let select = select
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .limit(query.limit);
    Ok(conn.planned_per_run(select).load::<AuditEvent>(conn)?)
}

#[cfg(test)]
mod tests {
    use diesel::connection::InstrumentationEvent;
    use diesel::sql_types::Text;
    use diesel::{QueryableByName, RunQueryDsl};

    use super::{AuditQuery, EventKind, not_a_scim_write, search_audit_events};
    use crate::store::testing::{migrated_sqlite, record_statements};
    use crate::store::tokens::{Suspicion, suspicious_among};
    use crate::store::{DbConn, OrgId, now, orgs};

    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// SQLite's plan of the statement `run` makes, with `''` for each parameter.
    fn plan_of(conn: &mut DbConn, run: impl FnOnce(&mut DbConn)) -> String {
        let DbConn::Sqlite(sqlite) = &mut *conn else {
            panic!("an SQLite store");
        };
        let seen = record_statements(sqlite, |event| match event {
            InstrumentationEvent::StartQuery { query, .. } => Some(query.to_string()),
            _ => None,
        });
        run(conn);
        let statements = seen.lock().unwrap().clone();
        let [statement] = statements.as_slice() else {
            panic!("one statement, not {statements:?}");
        };
        let sql = statement.split(" -- binds:").next().unwrap();
        let mut explain = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .into_boxed::<diesel::sqlite::Sqlite>();
        for _ in 0..sql.matches('?').count() {
            explain = explain.bind::<Text, _>("");
        }
        let DbConn::Sqlite(sqlite) = &mut *conn else {
            unreachable!()
        };
        let steps: Vec<Step> = explain.load(sqlite).unwrap();
        steps
            .into_iter()
            .map(|step| step.detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Without SCIM writes in the target index, the look-ups of tokens' events still go
    /// through an index (SQLite takes the organization's events by time or by kind for both),
    /// never through every event stored.
    #[test]
    fn a_tokens_events_are_found_through_an_index_without_scim_writes_in_the_target_one() {
        assert!(
            format!("{:?}", not_a_scim_write()).contains(EventKind::ScimWrite.as_str()),
            "the literal names the event kind as stored"
        );
        let dir = tempfile::tempdir().unwrap();
        let (_, store) = migrated_sqlite(&dir, "a.db", 1);
        store
            .run_blocking(|conn| {
                let org: OrgId = orgs::insert_org(conn, "o", now()).unwrap().id;
                let listing = plan_of(conn, |conn| {
                    let query = AuditQuery {
                        org: Some(org.clone()),
                        token: Some("tok".to_owned()),
                        limit: 50,
                        ..AuditQuery::default()
                    };
                    search_audit_events(conn, &query).unwrap();
                });
                assert!(!listing.contains("SCAN audit_events"), "{listing}");
                let suspicious = plan_of(conn, |conn| {
                    let suspicion = Suspicion {
                        kinds: vec![EventKind::TokenStaleUse],
                        since: now(),
                    };
                    suspicious_among(conn, &org, &["tok".to_owned()], &suspicion).unwrap();
                });
                assert!(!suspicious.contains("SCAN audit_events"), "{suspicious}");
                Ok(())
            })
            .unwrap();
    }
}
