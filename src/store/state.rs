//! Server-wide facts that must be decided once for all instances sharing a database.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;
use super::schema::server_state;
use crate::error::Result;

/// Records `key` unless it is already recorded; answers whether this call recorded it.
/// Callers run it inside a write transaction, so exactly one instance wins.
pub fn claim_once(conn: &mut DbConn, key: &str, value: &str) -> Result<bool> {
    let existing = server_state::table
        .find(key)
        .select(server_state::value)
        .get_result::<String>(conn)
        .optional()?;
    if existing.is_some() {
        return Ok(false);
    }
    // PostgreSQL lets two instances starting together both look before either inserts; the
    // later insert then waits on the key and fails once the first commits. In a savepoint,
    // that failure means "already claimed" and leaves the caller's transaction usable.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(server_state::table)
            .values((server_state::key.eq(key), server_state::value.eq(value)))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The value recorded for `key`, if any.
pub fn get(conn: &mut DbConn, key: &str) -> Result<Option<String>> {
    Ok(server_state::table
        .find(key)
        .select(server_state::value)
        .get_result::<String>(conn)
        .optional()?)
}
