//! Turning a PATCH body into a store [`Edit`]: engine, validation and password hashing, run
//! inside the write transaction on the stored state it read.

use serde_json::Value;

use crate::auth::password::hash_password;
use crate::error::Result;
use crate::scim::limits::Limits;
use crate::scim::patch::patch;
use crate::scim::resource::prepare;
use crate::scim::schema::ResourceTypeDef;
use crate::store::resources::{Edit, StoredResource};

/// Applies `body` to `stored` and validates the result as PUT would. A password is hashed
/// here, inside the transaction: it is rare (Okta's password sync), and the hash needs the
/// request's outcome.
pub fn edit(
    rt: &ResourceTypeDef,
    stored: &StoredResource,
    body: &Value,
    limits: &Limits,
) -> Result<Edit> {
    let applied = patch(rt, &stored.id, &stored.resource, body, limits)?;
    let password_hash = applied.password.as_deref().map(hash_password).transpose()?;
    let prepared = if applied.changed || password_hash.is_some() {
        Some(prepare(rt, &applied.resource, Some(&stored.resource))?)
    } else {
        None
    };
    Ok(Edit {
        prepared,
        member_changes: applied.member_changes,
        password_hash,
    })
}
