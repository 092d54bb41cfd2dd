//! The id that ties a client's answer to the server's log lines: taken from the client's
//! `X-Request-Id` when it is safe to repeat, made up otherwise, and returned on every response.

use std::fmt;
use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use rand::RngCore;

/// The header a request id travels in, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client id repeated; a longer one is replaced, so log lines stay bounded.
pub const MAX_CLIENT_ID_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request being answered, for code that has no request at hand (an error
    /// turning itself into a response).
    static CURRENT: RequestId;
}

/// One request's id; cloning it is a reference count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The id the middleware gave `request` (a `HttpRequest` or `ServiceRequest`).
    pub fn of(request: &impl HttpMessage) -> Option<RequestId> {
        request.extensions().get::<RequestId>().cloned()
    }

    /// The id of the request this task is answering, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(RequestId::clone).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The client's id when it is at most [`MAX_CLIENT_ID_LEN`] characters of
    /// `[A-Za-z0-9._:/+=-]`: anything else could forge or break a log line, so it is never
    /// repeated.
    fn from_client(value: &HeaderValue) -> Option<RequestId> {
        let bytes = value.as_bytes();
        let acceptable = !bytes.is_empty()
            && bytes.len() <= MAX_CLIENT_ID_LEN
            && bytes
                .iter()
                .all(|&byte| byte.is_ascii_alphanumeric() || b"._:/+=-".contains(&byte));
        acceptable
            .then(|| std::str::from_utf8(bytes).ok())
            .flatten()
            .map(|text| RequestId(Arc::from(text)))
    }

    /// 64 random bits as 16 lowercase hex digits: unique enough to find one request in a
    /// log, and cheap to make (no UUID layout, one small allocation).
    fn fresh() -> RequestId {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut bits = rand::rng().next_u64();
        let mut text = [0u8; 16];
        for digit in text.iter_mut().rev() {
            // `bits & 0xf` is below 16: the index cannot miss.
            *digit = DIGITS.get((bits & 0xf) as usize).copied().unwrap_or(b'0');
            bits >>= 4;
        }
        let text = std::str::from_utf8(&text).unwrap_or("0000000000000000");
        RequestId(Arc::from(text))
    }

    fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.0).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Gives every request its id (in the request's extensions and, while the request is being
/// answered, in [`RequestId::current`]) and returns it as `X-Request-Id` on every response,
/// including errors that inner layers return instead of a response.
pub async fn assign(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(RequestId::from_client)
        .unwrap_or_else(RequestId::fresh);
    request.extensions_mut().insert(id.clone());
    let header = id.header_value();
    match CURRENT.scope(id.clone(), next.call(request)).await {
        Ok(mut response) => {
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        }
        Err(error) => {
            // Answered here, while the id is current, rather than by the server once every
            // middleware has let go of the request (which cannot be kept for it: a second
            // reference to it breaks the layers that change it).
            let mut response = CURRENT.sync_scope(id, || error.error_response());
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Err(InternalError::from_response(error, response).into())
        }
    }
}

/// `detail` with the request id appended, for answers the user may need to quote to an
/// operator (server faults); `detail` alone when no request is being answered.
pub fn quotable(detail: &str) -> String {
    match RequestId::current() {
        Some(id) => format!("{detail} (request id: {id})"),
        None => detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_repeated_only_when_short_and_plain() {
        let good = ["abc", "A-Z_0.9:/+=", &"x".repeat(MAX_CLIENT_ID_LEN)];
        for text in good {
            let value = HeaderValue::from_str(text).unwrap();
            assert_eq!(RequestId::from_client(&value).unwrap().as_str(), text);
        }
        let bad = [
            "",
            "has space",
            "new\tline",
            "quote\"",
            "é",
            &"x".repeat(MAX_CLIENT_ID_LEN + 1),
        ];
        for text in bad {
            let value = HeaderValue::from_bytes(text.as_bytes()).unwrap();
            assert!(RequestId::from_client(&value).is_none(), "{text:?}");
        }
    }

    #[test]
    fn fresh_ids_are_sixteen_hex_digits() {
        let id = RequestId::fresh();
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, RequestId::fresh());
    }
}
