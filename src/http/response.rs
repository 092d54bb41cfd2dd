//! How SCIM responses look on the wire.

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use serde_json::Value;

use crate::error::scim_error_json;
use crate::http::metrics::METRICS_PATH;
use crate::http::request_id;
use crate::scim::SCIM_CONTENT_TYPE;
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceTypeDef;
use crate::service::resources::Shown;

/// A 200 response with a SCIM body.
pub fn scim_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(SCIM_CONTENT_TYPE)
        .body(body.to_string())
}

/// A single resource with its `ETag` (RFC 7644 §3.14); a 201 also carries `Location`
/// (RFC 7644 §3.3). Both come from the full rendering, so a projection that leaves `meta`
/// out of the body does not take the headers with it.
pub fn resource_response(
    status: StatusCode,
    rt: &ResourceTypeDef,
    rendered: Value,
    projection: &Projection,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type(SCIM_CONTENT_TYPE);
    let meta = |key: &str| {
        rendered
            .pointer(&format!("/meta/{key}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(version) = meta("version") {
        response.insert_header((header::ETAG, version));
    }
    if status == StatusCode::CREATED
        && let Some(location) = meta("location")
    {
        response.insert_header((header::LOCATION, location));
    }
    response.body(projection.apply(rt, rendered).to_string())
}

/// A 200 with a body made before, and its `ETag` when it is a single resource.
pub fn shown_response(shown: &Shown) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type(SCIM_CONTENT_TYPE);
    if let Some(version) = shown.version {
        response.insert_header((header::ETAG, crate::scim::etag::etag_for_version(version)));
    }
    response.body(shown.body.clone())
}

/// 204 for a change whose answer has no body, still naming the new version.
pub fn no_content_with_etag(version: i64) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ETAG, crate::scim::etag::etag_for_version(version)))
        .finish()
}

/// 304 for a GET whose `If-None-Match` names the current version.
pub fn not_modified(version: i64) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, crate::scim::etag::etag_for_version(version)))
        .finish()
}

/// Turns error responses that the framework produced as plain text (unknown routes,
/// malformed requests rejected before a handler ran) into SCIM error bodies. JSON is SCIM's
/// already, and HTML is the console's own error page (see `console::error`), which a browser
/// must get as a page.
pub fn scim_error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let keep = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("json") || value.starts_with("text/html"))
            // Prometheus shows a refused scrape's plain body as it is.
            || response.request().path() == METRICS_PATH;
        if keep {
            return Ok(ErrorHandlerResponse::Response(
                response.map_into_left_body(),
            ));
        }
        let status = response.status();
        let reason = status.canonical_reason().unwrap_or("request failed");
        let detail = if status.is_server_error() {
            request_id::quotable(reason)
        } else {
            reason.to_owned()
        };
        let (request, _) = response.into_parts();
        let replacement = HttpResponse::build(status)
            .content_type(SCIM_CONTENT_TYPE)
            .body(scim_error_json(status.as_u16(), None, &detail).to_string());
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(request, replacement).map_into_right_body::<B>(),
        ))
    })
}
