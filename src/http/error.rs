//! How an [`Error`] is answered: status, SCIM error body, and the headers some errors carry.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{Error, UNAVAILABLE_RETRY_AFTER_SECS, scim_error_json};
use crate::http::request_id::{self, RequestId};
use crate::scim::SCIM_CONTENT_TYPE;

/// The SCIM error body of `error` as this request answers it: a server fault names the
/// request id, which the user can quote and the operator finds in the log.
pub fn error_body(error: &Error) -> serde_json::Value {
    let (status, scim_type) = error.status_and_scim_type();
    if status < 500 {
        return error.to_json();
    }
    scim_error_json(status, scim_type, &request_id::quotable(&error.detail()))
}

/// Logs a server fault (see [`Error::log_fault`]) with the id of the request it failed.
pub fn log_fault(error: &Error, context: &str) {
    if !matches!(error, Error::Internal(_) | Error::Unavailable(_)) {
        return;
    }
    match RequestId::current() {
        Some(id) => error.log_fault(&format!("{context} (request id: {id})")),
        None => error.log_fault(context),
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status_and_scim_type().0)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        log_fault(self, "request failed");
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(SCIM_CONTENT_TYPE);
        if matches!(self, Error::Unauthorized | Error::BadAuthorization(_)) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            ));
        }
        match self {
            Error::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Error::Unavailable(_) | Error::Busy(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response.body(error_body(self).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UNAUTHORIZED_DETAIL;
    use crate::scim::error::{ProtocolError, ScimType};

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
}
