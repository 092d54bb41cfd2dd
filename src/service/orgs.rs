//! Organization use cases, for every front end: create and list them, and change their
//! settings: the inactivity policy and the default rate limit of their tokens. A setting
//! applies at once on every instance: the authenticator reads it with each token lookup.

use chrono::NaiveDateTime;
use serde_json::json;

use super::audit::{Actor, Event, EventKind};
use super::input;
use crate::auth::lifecycle::MAX_RATE_LIMIT;
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
pub use crate::store::orgs::Organization;

use crate::store::orgs as stored;
use crate::store::{DbConn, OrgId};

/// Creates an organization; an invalid name is `invalidValue`, a taken one `uniqueness`.
pub fn create(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> Result<Organization> {
    stored::insert_org(conn, name, now)
}

/// Every organization, by name.
pub fn list(conn: &mut DbConn) -> Result<Vec<Organization>> {
    stored::list_orgs(conn)
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Organization>> {
    stored::find_org_by_name(conn, name)
}

/// The organization `org`, or 404.
pub fn show(conn: &mut DbConn, org: &OrgId) -> Result<Organization> {
    stored::find_org(conn, org)?.ok_or_else(|| Error::not_found(format_args!("organization {org}")))
}

/// Changes to an organization's settings; `None` leaves one alone, `Some(None)` turns it off.
#[derive(Debug, Clone, Default)]
pub struct SettingsEdit {
    /// Tokens unused for this many days stop working.
    pub inactivity_days: Option<Option<i64>>,
    /// Requests per minute for tokens without a limit of their own.
    pub default_rate_limit_per_minute: Option<Option<i64>>,
}

/// Applies `edit` to `org`'s settings, checked as a whole before anything is written, and
/// records `org.updated` naming the changed fields. Answers the organization as it is now.
pub fn update_settings(
    conn: &mut DbConn,
    org: &OrgId,
    actor: &Actor,
    edit: &SettingsEdit,
    now: NaiveDateTime,
) -> Result<Organization> {
    let inactivity_days = edit
        .inactivity_days
        .map(|days| days.map(input::inactivity_days).transpose())
        .transpose()
        .map_err(ProtocolError::invalid_value)?;
    let rate_limit = edit
        .default_rate_limit_per_minute
        .map(|limit| limit.map(default_rate_limit).transpose())
        .transpose()?;
    show(conn, org)?;
    let mut fields = Vec::new();
    if let Some(days) = inactivity_days {
        stored::set_inactivity_days(conn, org, days)?;
        fields.push("inactivity_days");
    }
    if let Some(limit) = rate_limit {
        stored::set_default_rate_limit(conn, org, limit)?;
        fields.push("default_rate_limit_per_minute");
    }
    let updated = show(conn, org)?;
    if !fields.is_empty() {
        Event {
            kind: EventKind::OrgUpdated,
            org: Some(org),
            actor: Some(actor),
            target: None,
            remote_addr: None,
            details: json!({
                "fields": fields,
                "inactivity_days": updated.inactivity_days,
                "default_rate_limit_per_minute": updated.default_rate_limit_per_minute,
            }),
        }
        .record(conn, now)?;
    }
    Ok(updated)
}

fn default_rate_limit(per_minute: i64) -> Result<i32> {
    i32::try_from(per_minute)
        .ok()
        .filter(|limit| u32::try_from(*limit).is_ok_and(|n| (1..=MAX_RATE_LIMIT).contains(&n)))
        .ok_or_else(|| {
            ProtocolError::invalid_value(format!(
                "a default rate limit is 1 to {MAX_RATE_LIMIT} requests per minute, or null for the server's"
            ))
            .into()
        })
}
