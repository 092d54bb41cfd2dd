//! How SCIM responses look on the wire.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::scim_error_json;

/// The media type of every SCIM response (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// Where the SCIM endpoints are, as the client addressed them (for `meta.location`).
pub fn scim_base_url(request: &HttpRequest) -> String {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map_or_else(|| request.app_config().host().to_owned(), str::to_owned);
    format!("http://{host}/scim/v2")
}

/// A 200 response with a SCIM body.
pub fn scim_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(SCIM_CONTENT_TYPE)
        .body(body.to_string())
}

/// Turns error responses that the framework produced as plain text or HTML (unknown routes,
/// malformed requests rejected before a handler ran) into SCIM error bodies.
pub fn scim_error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(
                response.map_into_left_body(),
            ));
        }
        let status = response.status();
        let detail = status.canonical_reason().unwrap_or("request failed");
        let (request, _) = response.into_parts();
        let replacement = HttpResponse::build(status)
            .content_type(SCIM_CONTENT_TYPE)
            .body(scim_error_json(status, None, detail).to_string());
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(request, replacement).map_into_right_body::<B>(),
        ))
    })
}
