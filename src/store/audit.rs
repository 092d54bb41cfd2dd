//! The append-only audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_events;
use super::{DbConn, OrgId};
use crate::error::Result;

/// One event to record. `details` is free-form JSON and never holds a secret.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub org_id: Option<&'a OrgId>,
    pub event_type: &'a str,
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

pub fn insert_audit_event(
    conn: &mut DbConn,
    event: &NewAuditEvent<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::new_v4().to_string()),
            audit_events::org_id.eq(event.org_id.map(OrgId::as_str)),
            audit_events::occurred_at.eq(now),
            audit_events::event_type.eq(event.event_type),
            audit_events::actor.eq(event.actor),
            audit_events::target.eq(event.target),
            audit_events::remote_addr.eq(event.remote_addr),
            audit_events::details.eq(event.details.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest events of an organization first.
pub fn list_audit_events(conn: &mut DbConn, org: &OrgId, limit: i64) -> Result<Vec<AuditEvent>> {
    Ok(audit_events::table
        .filter(audit_events::org_id.eq(org.as_str()))
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .load::<AuditEvent>(conn)?)
}
