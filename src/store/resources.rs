//! What users and groups have in common in storage.

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::scim::etag::{Precondition, etag_for_version};
use crate::scim::patch::MemberChange;
use crate::scim::resource::Prepared;

/// A stored User or Group: the resource JSON (without `id`, `meta`, memberships and password)
/// plus the server-owned metadata.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub id: String,
    pub resource: Value,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub last_modified: NaiveDateTime,
}

impl StoredResource {
    pub(crate) fn from_row(
        id: String,
        resource: &str,
        version: i64,
        created_at: NaiveDateTime,
        last_modified: NaiveDateTime,
    ) -> Result<Self> {
        let resource = serde_json::from_str(resource).map_err(Error::internal)?;
        Ok(StoredResource {
            id,
            resource,
            version,
            created_at,
            last_modified,
        })
    }
}

/// Queries bind at most this many values in one `IN (…)`: SQLite and PostgreSQL both cap the
/// number of parameters of a statement.
pub const IN_LIST_CHUNK: usize = 1000;

/// Enforces `If-Match` (RFC 7644 §3.14) against the version read in this transaction.
pub fn check_if_match(if_match: Option<&Precondition>, version: i64) -> Result<()> {
    match if_match {
        Some(precondition) if !precondition.matches_version(version) => {
            Err(Error::PreconditionFailed(format!(
                "If-Match does not match the current version {}",
                etag_for_version(version)
            )))
        }
        _ => Ok(()),
    }
}

/// What a PATCH does to a stored resource, worked out by the caller from the stored state
/// (engine, validation and password hashing stay out of the store).
#[derive(Debug, Default)]
pub struct Edit {
    /// The validated new attributes, when any changed.
    pub prepared: Option<Prepared>,
    /// Membership changes, in request order (Groups only).
    pub member_changes: Vec<MemberChange>,
    /// A new password's hash (Users only).
    pub password_hash: Option<String>,
}

/// The tables whose rows a read-modify-write locks.
#[derive(Debug, Clone, Copy)]
pub enum Locked {
    User,
    Group,
}

/// Locks one resource row until the transaction ends, so concurrent writers of the same
/// resource queue instead of losing the optimistic version check (PostgreSQL runs them side
/// by side; SQLite's IMMEDIATE transactions already serialise every writer).
/// Scoped by organisation, so that naming another tenant's id never holds its row.
pub fn lock_row(
    conn: &mut super::DbConn,
    table: Locked,
    org: &super::OrgId,
    id: &str,
) -> Result<()> {
    use diesel::RunQueryDsl;
    if let super::DbConn::Postgres(pg) = conn {
        let statement = match table {
            Locked::User => "SELECT 1 FROM users WHERE id = $1 AND org_id = $2 FOR UPDATE",
            Locked::Group => "SELECT 1 FROM groups WHERE id = $1 AND org_id = $2 FOR UPDATE",
        };
        diesel::sql_query(statement)
            .bind::<diesel::sql_types::Text, _>(id)
            .bind::<diesel::sql_types::Text, _>(org.as_str())
            .execute(pg)?;
    }
    Ok(())
}
