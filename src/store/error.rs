//! Database failures as the server's [`Error`]: a unique index names the attribute taken,
//! a lost connection or a busy database is worth retrying (503), anything else is a fault.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::Error;
use crate::scim::error::{ProtocolError, ScimType};

impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Error::NotFound("resource not found".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info) => {
                let what = unique_violation_subject(info.constraint_name(), info.message());
                // Organization names are unique across the server, everything else within one.
                let scope = if what == ORG_NAME {
                    ""
                } else {
                    " in this organization"
                };
                Error::Protocol(ProtocolError::new(
                    ScimType::Uniqueness,
                    format!("{what} is already taken{scope}"),
                ))
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | DieselError::BrokenTransactionManager => Error::Unavailable(Box::new(error)),
            DieselError::DatabaseError(ref kind, ref info) if is_busy(kind, info.message()) => {
                Error::Unavailable(Box::new(error))
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}

/// Whether the database refused for now, not for good: SQLite stayed locked by another
/// writer past its busy timeout (SQLITE_BUSY, or SQLITE_LOCKED within one process), or
/// PostgreSQL gave up a transaction to a concurrent one. diesel reports SQLite's busy errors
/// only by their message.
fn is_busy(kind: &DatabaseErrorKind, message: &str) -> bool {
    matches!(kind, DatabaseErrorKind::SerializationFailure)
        || message.starts_with("database is locked")
        || message.starts_with("database table is locked")
        || message.starts_with("deadlock detected")
}

const ORG_NAME: &str = "the organization name";

/// Names the attribute behind a unique index: PostgreSQL reports the index name, SQLite the
/// columns ("UNIQUE constraint failed: users.org_id, users.user_name_lower").
fn unique_violation_subject(constraint: Option<&str>, message: &str) -> &'static str {
    let text = constraint.unwrap_or(message);
    if text.contains("user_name") {
        "userName"
    } else if text.contains("display_name") {
        "displayName"
    } else if text.contains("organizations") {
        ORG_NAME
    } else if text.contains("network_zones") {
        "the zone name"
    } else {
        "a unique value"
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(Box::new(error))
    }
}

/// The store runs diesel on actix's blocking pool; a task lost there is a server fault.
impl From<actix_web::error::BlockingError> for Error {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Error::Internal(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;
    use actix_web::http::header;

    #[test]
    fn a_busy_database_is_a_503_with_retry_after_never_a_500() {
        struct Info(&'static str);
        impl diesel::result::DatabaseErrorInformation for Info {
            fn message(&self) -> &str {
                self.0
            }
            fn details(&self) -> Option<&str> {
                None
            }
            fn hint(&self) -> Option<&str> {
                None
            }
            fn table_name(&self) -> Option<&str> {
                None
            }
            fn column_name(&self) -> Option<&str> {
                None
            }
            fn constraint_name(&self) -> Option<&str> {
                None
            }
            fn statement_position(&self) -> Option<i32> {
                None
            }
        }
        for (kind, message) in [
            (DatabaseErrorKind::Unknown, "database is locked"),
            (
                DatabaseErrorKind::Unknown,
                "database table is locked: users",
            ),
            (
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access",
            ),
            (DatabaseErrorKind::Unknown, "deadlock detected"),
        ] {
            let error = Error::from(DieselError::DatabaseError(kind, Box::new(Info(message))));
            let response = error.error_response();
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{message}"
            );
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        }
        let other = Error::from(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(Info("no such table: users")),
        ));
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unique_violations_name_the_attribute() {
        assert_eq!(
            unique_violation_subject(
                None,
                "UNIQUE constraint failed: users.org_id, users.user_name_lower"
            ),
            "userName"
        );
        assert_eq!(
            unique_violation_subject(Some("groups_org_display_name_key"), ""),
            "displayName"
        );
    }
}
