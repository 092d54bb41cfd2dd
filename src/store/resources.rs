//! What users and groups have in common in storage: the stored form, and what a write
//! checks and changes.

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
    /// A resource just inserted: version 1, created and modified `now`.
    pub(crate) fn inserted(id: &str, resource: &Value, now: NaiveDateTime) -> Self {
        StoredResource {
            id: id.to_owned(),
            resource: resource.clone(),
            version: 1,
            created_at: now,
            last_modified: now,
        }
    }

    /// `self` after an update that wrote `resource` (`None`: only the version) at `now`:
    /// everything it changed is known, so the row is not read back.
    pub(crate) fn updated(self, resource: Option<&Value>, now: NaiveDateTime) -> Self {
        StoredResource {
            resource: resource.cloned().unwrap_or(self.resource),
            version: self.version + 1,
            last_modified: now,
            ..self
        }
    }

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

/// What a PATCH (or a PUT, see [`super::kind::replace`]) does to a stored resource, worked out by the
/// caller from the stored state (engine, validation and password hashing stay out of the
/// store).
#[derive(Debug, Default)]
pub struct Edit {
    /// The validated new attributes, when any changed.
    pub prepared: Option<Prepared>,
    /// Membership changes, in request order (Groups only).
    pub member_changes: Vec<MemberChange>,
    /// A new password's hash (Users only).
    pub password_hash: Option<String>,
}
