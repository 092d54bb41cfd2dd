//! The one error type of the server, and how each variant becomes a SCIM error response.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::scim::ERROR_URN;
use crate::scim::error::{ProtocolError, ScimType};

/// A boxed cause, kept for the log and never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a request can fail. Client mistakes carry a `detail` written for the client;
/// server faults carry a cause that is logged once, where the response is built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request the SCIM protocol rejects, with its RFC 7644 §3.12 `scimType`.
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// A concurrent writer changed the resource between our read and our write, more often
    /// than the store retries.
    #[error("the resource was modified concurrently; retry the request")]
    Conflict,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotImplemented(String),
    /// A rate limit was hit; the client may retry after this many seconds.
    #[error("too many requests; retry after {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot be reached, the pool is exhausted, or the database stayed busy
    /// (another writer, or this request held the writer longer than allowed); worth retrying
    /// after [`UNAVAILABLE_RETRY_AFTER_SECS`].
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// The `Retry-After` of every 503: about as long as one request may hold SQLite's writer by
/// default (`--max-write-ms`), so a retry usually finds the database free.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// The server's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `detail` of every 401, whatever the reason: telling an attacker whether a token exists,
/// expired or was revoked helps only the attacker.
pub const UNAUTHORIZED_DETAIL: &str =
    "Authentication failed: send a valid API token as 'Authorization: Bearer <token>'.";

impl Error {
    /// Logs a server fault with its whole cause chain (the client sees none of it); other
    /// errors are the client's and are not logged.
    pub fn log_fault(&self, context: &str) {
        if let Error::Internal(cause) | Error::Unavailable(cause) = self {
            log::error!("{context}: {self}: {}", error_chain(cause.as_ref()));
        }
    }

    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Error::Internal(cause.into())
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Error::NotFound(format!("{what} not found"))
    }

    /// The HTTP status and SCIM `scimType` of this error: the one place they are decided.
    pub fn status_and_scim_type(&self) -> (StatusCode, Option<ScimType>) {
        match self {
            Error::Protocol(error) => match error.scim_type {
                ScimType::Uniqueness => (StatusCode::CONFLICT, Some(error.scim_type)),
                // RFC 7644 §3.12: information that must not travel in a URI is refused with 403.
                ScimType::Sensitive => (StatusCode::FORBIDDEN, Some(error.scim_type)),
                scim_type => (StatusCode::BAD_REQUEST, Some(scim_type)),
            },
            Error::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, None),
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, None),
            Error::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, None),
            Error::Conflict => (StatusCode::CONFLICT, None),
            Error::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
            Error::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            Error::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, None),
            Error::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, None),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, None),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        }
    }

    /// What the client reads in `detail`; server faults say nothing internal.
    pub fn detail(&self) -> String {
        match self {
            Error::Unauthorized => UNAUTHORIZED_DETAIL.to_owned(),
            Error::Unavailable(_) => {
                "The service is temporarily unavailable; retry the request later.".to_owned()
            }
            Error::Internal(_) => "The server failed to process the request.".to_owned(),
            other => other.to_string(),
        }
    }

    /// The RFC 7644 §3.12 error body.
    pub fn to_json(&self) -> serde_json::Value {
        let (status, scim_type) = self.status_and_scim_type();
        scim_error_json(status, scim_type, &self.detail())
    }
}

/// An RFC 7644 §3.12 error body: `status` is a string, `scimType` only when there is one.
pub fn scim_error_json(
    status: StatusCode,
    scim_type: Option<ScimType>,
    detail: &str,
) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("schemas".into(), serde_json::json!([ERROR_URN]));
    body.insert("status".into(), status.as_u16().to_string().into());
    if let Some(scim_type) = scim_type {
        body.insert("scimType".into(), scim_type.as_str().into());
    }
    body.insert("detail".into(), detail.into());
    serde_json::Value::Object(body)
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status_and_scim_type().0
    }

    fn error_response(&self) -> HttpResponse {
        self.log_fault("request failed");
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(crate::http::response::SCIM_CONTENT_TYPE);
        if matches!(self, Error::Unauthorized) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            ));
        }
        match self {
            Error::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Error::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response.body(self.to_json().to_string())
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Error::NotFound("resource not found".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info) => {
                let what = unique_violation_subject(info.constraint_name(), info.message());
                Error::Protocol(ProtocolError::new(
                    ScimType::Uniqueness,
                    format!("{what} is already taken in this organization"),
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

/// Names the attribute behind a unique index: PostgreSQL reports the index name, SQLite the
/// columns ("UNIQUE constraint failed: users.org_id, users.user_name_lower").
fn unique_violation_subject(constraint: Option<&str>, message: &str) -> &'static str {
    let text = constraint.unwrap_or(message);
    if text.contains("user_name") {
        "userName"
    } else if text.contains("display_name") {
        "displayName"
    } else if text.contains("organizations") {
        "the organization name"
    } else {
        "a unique value"
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(Box::new(error))
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Error::Internal(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn protocol_errors_are_400_with_their_scim_type() {
        let error = Error::from(ProtocolError::new(ScimType::InvalidFilter, "bad filter"));
        assert_eq!(
            error.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "bad filter"
            })
        );
    }

    #[test]
    fn uniqueness_is_a_409() {
        let error = Error::from(ProtocolError::new(ScimType::Uniqueness, "taken"));
        assert_eq!(error.status_code(), StatusCode::CONFLICT);
        assert_eq!(error.to_json()["scimType"], "uniqueness");
    }

    #[test]
    fn sensitive_is_a_403() {
        let error = Error::from(ProtocolError::sensitive("a password in the query string"));
        assert_eq!(error.status_code(), StatusCode::FORBIDDEN);
        assert_eq!(error.to_json()["scimType"], "sensitive");
        assert_eq!(error.to_json()["status"], "403");
    }

    #[test]
    fn server_faults_reveal_nothing_internal() {
        let error = Error::internal("connection to 10.0.0.7 refused, password=hunter2");
        let body = error.to_json();
        assert_eq!(body["status"], "500");
        assert!(body.get("scimType").is_none());
        assert!(!body.to_string().contains("hunter2"));
    }

    #[test]
    fn unauthorized_says_the_same_whatever_the_cause() {
        let response = Error::Unauthorized.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer realm=\"scim\""
        );
        assert_eq!(Error::Unauthorized.to_json()["detail"], UNAUTHORIZED_DETAIL);
    }

    #[test]
    fn too_many_requests_is_a_429_with_retry_after() {
        let error = Error::TooManyRequests {
            retry_after_secs: 7,
        };
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
        assert_eq!(error.to_json()["status"], "429");
        assert!(error.to_json().get("scimType").is_none());
    }

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
