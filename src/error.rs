//! The one error type of the server, and which SCIM error each variant is. It knows neither
//! the web framework nor the database: `http/error.rs` turns it into a response, and
//! `store/error.rs` turns database failures into it.

use crate::scim::ERROR_URN;
use crate::scim::error::{ProtocolError, ScimType};

/// A boxed cause, kept for the log and never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a request can fail. Client mistakes carry a `detail` written for the client;
/// server faults carry a cause that is logged once, where the response is built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request the SCIM protocol rejects, with its RFC 7644 §3.12 `scimType`. Transparent:
    /// `#[from]` alone would also make the inner error the source, and a cause chain
    /// (`{:#}`, as the CLI prints errors) would say the message twice.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("authentication required")]
    Unauthorized,
    /// The `Authorization` header has the wrong shape; the detail says which, and never
    /// anything about tokens (see [`crate::auth::header`]).
    #[error("{0}")]
    BadAuthorization(String),
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
    /// The resource cannot be removed while others refer to it; the detail names them.
    #[error("{0}")]
    InUse(String),
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
    /// The server is saturated by work it bounds (password hashing) and refused this request
    /// rather than queue it without end; worth retrying like [`Error::Unavailable`]. Not a
    /// fault: not logged per request.
    #[error("{0}")]
    Busy(String),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// The `Retry-After` of every 503: about as long as one request may hold SQLite's writer by
/// default (`--max-write-ms`), so a retry usually finds the database free.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// The server's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `detail` of every 401 for a credential that has the right shape, whatever the reason:
/// telling an attacker whether a token exists, expired or was revoked helps only the attacker.
/// A header of the wrong shape is [`Error::BadAuthorization`], which the client may be told.
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
    pub fn status_and_scim_type(&self) -> (u16, Option<ScimType>) {
        match self {
            Error::Protocol(error) => match error.scim_type {
                ScimType::Uniqueness => (409, Some(error.scim_type)),
                // RFC 7644 §3.12: information that must not travel in a URI is refused with 403.
                ScimType::Sensitive => (403, Some(error.scim_type)),
                scim_type => (400, Some(scim_type)),
            },
            Error::Unauthorized | Error::BadAuthorization(_) => (401, None),
            Error::Forbidden(_) => (403, None),
            Error::NotFound(_) => (404, None),
            Error::MethodNotAllowed(_) => (405, None),
            Error::PreconditionFailed(_) => (412, None),
            Error::Conflict | Error::InUse(_) => (409, None),
            Error::PayloadTooLarge(_) => (413, None),
            Error::UnsupportedMediaType(_) => (415, None),
            Error::NotImplemented(_) => (501, None),
            Error::TooManyRequests { .. } => (429, None),
            Error::Unavailable(_) | Error::Busy(_) => (503, None),
            Error::Internal(_) => (500, None),
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
    status: u16,
    scim_type: Option<ScimType>,
    detail: &str,
) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("schemas".into(), serde_json::json!([ERROR_URN]));
    body.insert("status".into(), status.to_string().into());
    if let Some(scim_type) = scim_type {
        body.insert("scimType".into(), scim_type.as_str().into());
    }
    body.insert("detail".into(), detail.into());
    serde_json::Value::Object(body)
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
    fn a_protocol_error_is_said_once_in_a_cause_chain() {
        let error = Error::from(ProtocolError::invalid_value("the name is empty"));
        assert_eq!(
            format!("{:#}", anyhow::Error::from(error)),
            "the name is empty"
        );
    }

    #[test]
    fn server_faults_reveal_nothing_internal() {
        let error = Error::internal("connection to 10.0.0.7 refused, password=hunter2");
        let body = error.to_json();
        assert_eq!(body["status"], "500");
        assert!(body.get("scimType").is_none());
        assert!(!body.to_string().contains("hunter2"));
    }
}
