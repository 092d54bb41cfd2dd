//! Request extractors for SCIM: bodies, preconditions, and the base URL clients see.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderName};
use actix_web::{FromRequest, HttpMessage, HttpRequest, mime, web};

use super::auth::TrustedProxies;
use crate::error::Error;
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;

/// Where `/scim/v2` is, as the client addressed it: for `meta.location` and `$ref`s.
#[derive(Debug, Clone)]
pub struct ScimBase(pub String);

impl FromRequest for ScimBase {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ScimBase(scim_base_url(request))))
    }
}

/// The scheme and host from the `Host` header, or from `X-Forwarded-Proto`/`X-Forwarded-Host`
/// when the peer is a trusted proxy.
pub fn scim_base_url(request: &HttpRequest) -> String {
    let trusted = request
        .app_data::<web::Data<TrustedProxies>>()
        .zip(request.peer_addr())
        .is_some_and(|(proxies, peer)| proxies.contains(peer.ip()));
    let forwarded = |name: &'static str| {
        trusted
            .then(|| first_header_value(request, &HeaderName::from_static(name)))
            .flatten()
    };
    let own_scheme = if request.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let scheme = forwarded("x-forwarded-proto").unwrap_or_else(|| own_scheme.to_owned());
    let host = forwarded("x-forwarded-host")
        .or_else(|| first_header_value(request, &header::HOST))
        .unwrap_or_else(|| request.app_config().host().to_owned());
    format!("{scheme}://{host}/scim/v2")
}

fn first_header_value(request: &HttpRequest, name: &HeaderName) -> Option<String> {
    let value = request.headers().get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// `If-Match`, when sent (RFC 7644 §3.14).
#[derive(Debug, Clone)]
pub struct IfMatch(pub Option<Precondition>);

/// `If-None-Match`, when sent (RFC 7644 §3.14).
#[derive(Debug, Clone)]
pub struct IfNoneMatch(pub Option<Precondition>);

fn precondition(request: &HttpRequest, name: HeaderName) -> Result<Option<Precondition>, Error> {
    let Some(value) = request.headers().get(&name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ProtocolError::invalid_syntax(format!("{name} is not valid text")))?;
    Ok(Some(Precondition::parse(text)?))
}

impl FromRequest for IfMatch {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(precondition(request, header::IF_MATCH).map(IfMatch))
    }
}

impl FromRequest for IfNoneMatch {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(precondition(request, header::IF_NONE_MATCH).map(IfNoneMatch))
    }
}

/// JSON bodies: `application/scim+json` or `application/json`, with any parameters (RFC 7644
/// §3.8), at most the advertised payload size. Anything else, including no content type, is a
/// 415 that says what to send: guessing would turn a form post into a confusing 400.
pub fn json_config(limits: &Limits) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limits.max_payload_bytes)
        .content_type(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        })
        .error_handler(|error, _| json_error(error).into())
}

/// Whether the request says its body is JSON, as [`json_config`] accepts it: actix takes any
/// `…/json` or `…+json` type before the predicate is asked.
pub fn declares_json(request: &HttpRequest) -> bool {
    matches!(request.mime_type(), Ok(Some(mime))
        if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

/// The SCIM error for a body that cannot be read as JSON.
pub fn json_error(error: JsonPayloadError) -> Error {
    match error {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            Error::PayloadTooLarge(format!("the body has {length} bytes; the limit is {limit}"))
        }
        JsonPayloadError::Overflow { limit } => {
            Error::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => Error::UnsupportedMediaType(
            "send the body as application/scim+json or application/json".to_owned(),
        ),
        JsonPayloadError::Deserialize(error) => {
            ProtocolError::invalid_syntax(format!("the body is not valid JSON: {error}")).into()
        }
        other => ProtocolError::invalid_syntax(format!("cannot read the body: {other}")).into(),
    }
}

/// Query strings that do not fit the endpoint's parameters are `invalidValue`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        let detail = match error {
            QueryPayloadError::Deserialize(error) => format!("invalid query parameter: {error}"),
            other => format!("invalid query string: {other}"),
        };
        Error::from(ProtocolError::invalid_value(detail)).into()
    })
}

/// Path segments that do not parse name no resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_: PathError, _| Error::NotFound("no such resource".to_owned()).into())
}
