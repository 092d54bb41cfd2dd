//! The outermost layer around every request: its id, its access log line and its metrics.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::Method;
use actix_web::middleware::Next;

use crate::http::request_id::{self, REQUEST_ID_HEADER, RequestId};
use crate::logging::{self, Access};
use crate::metrics;

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// Gives every request its id (in the request's extensions and, while the request is being
/// answered, as [`RequestId::current`]) and returns it as `X-Request-Id` on every response,
/// including errors that inner layers return instead of a response; then logs and counts the
/// answer. Wraps every other layer, so the console, the management API and framework
/// rejections (404, 405, 413) are seen too.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    let id = RequestId::for_headers(request.headers());
    request.extensions_mut().insert(id.clone());
    let header = id.header_value();
    match request_id::within(id.clone(), next.call(request)).await {
        Ok(mut response) => {
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            let request = response.request();
            // The template, never the path: paths hold ids, which would make a series each.
            let route = request.match_pattern();
            let route = route.as_deref().unwrap_or(UNMATCHED);
            let status = response.status().as_u16();
            let elapsed = started.elapsed();
            metrics::request_answered(route, method, status, elapsed);
            logging::access(&Access {
                request_id: id.as_str(),
                method: request.method().as_str(),
                route,
                path: request.path(),
                status,
                bytes: match response.response().body().size() {
                    BodySize::Sized(bytes) => Some(bytes),
                    BodySize::None => Some(0),
                    BodySize::Stream => None,
                },
                duration: elapsed,
            });
            Ok(response)
        }
        Err(error) => {
            // Answered here, while the id is current, rather than by the server once every
            // middleware has let go of the request (which cannot be kept for it: a second
            // reference to it breaks the layers that change it).
            let mut response = request_id::within_sync(id, || error.error_response());
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            let status = response.status().as_u16();
            metrics::request_answered(UNMATCHED, method, status, started.elapsed());
            Err(InternalError::from_response(error, response).into())
        }
    }
}

/// The method as a metrics label: the standard ones by name, any other as `OTHER`, so a
/// client cannot make up series.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("OTHER")
}
