//! What happens around every authenticated request once its handler has answered: expiry
//! warnings for the IdP. (The audit record of a SCIM write is written in the write's own
//! transaction: see [`crate::service::resources`].)

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use chrono::NaiveDateTime;

use crate::auth::AuthContext;

/// Adds `Sunset` and `Warning` to responses for a token that stops working soon.
pub async fn token_notices(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let sunset = response
        .request()
        .extensions()
        .get::<AuthContext>()
        .and_then(|auth| auth.sunset);
    if let Some(sunset) = sunset {
        add_expiry_warning(response.headers_mut(), sunset);
    }
    Ok(response)
}

/// `Sunset` (RFC 8594) with the date the token stops working, and a `Warning` saying so in
/// words, for IdP logs.
fn add_expiry_warning(headers: &mut header::HeaderMap, sunset: NaiveDateTime) {
    let http_date = sunset.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let warning = format!(
        "299 scimd \"This API token stops working at {}; replace it before then\"",
        sunset.format("%Y-%m-%dT%H:%M:%SZ")
    );
    if let Ok(value) = HeaderValue::from_str(&http_date) {
        headers.insert(HeaderName::from_static("sunset"), value);
    }
    if let Ok(value) = HeaderValue::from_str(&warning) {
        headers.insert(header::WARNING, value);
    }
}
