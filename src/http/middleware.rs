//! What happens around every request once its handler has answered: the media type the client
//! asked for, and expiry warnings for the IdP. (The audit record of a SCIM write is written in
//! the write's own transaction: see [`crate::service::resources`].)

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use chrono::NaiveDateTime;

use crate::auth::AuthContext;
use crate::scim::SCIM_CONTENT_TYPE;

/// The media type RFC 7644 §3.8 says servers SHOULD also answer with; OneLogin requires it.
pub const PLAIN_JSON_CONTENT_TYPE: &str = "application/json";

/// Labels every SCIM response (errors and framework rejections included, which all leave as
/// `application/scim+json`) with the type the request's `Accept` prefers: the body is the same
/// JSON either way, so this is the one place the choice is made.
pub async fn negotiated_content_type(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Decided before the handler runs, from the borrowed headers: no copy of them per request.
    let chosen = preferred_content_type(accept_ranges(request.headers()));
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    if is_scim_json(headers) {
        headers.append(header::VARY, HeaderValue::from_static("accept"));
        if chosen != SCIM_CONTENT_TYPE {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(chosen));
        }
    }
    Ok(response)
}

/// The media ranges of every `Accept` header of a request, in order (RFC 9110 §5.3: repeated
/// headers are one comma-separated list).
fn accept_ranges(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
}

fn is_scim_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(SCIM_CONTENT_TYPE))
}

/// `application/json` when the `Accept` media `ranges` rank it above `application/scim+json`;
/// otherwise, for ties (`*/*`, `application/*`, both listed alike), for neither and for no
/// `Accept` at all, SCIM's own type (RFC 7644 §3.8, proactive negotiation of RFC 9110
/// §12.5.1). Each type's weight is the q-value of the most specific range matching it (exact,
/// then `application/*`, then `*/*`), 0 when none does; ranges with a malformed q-value are
/// ignored.
pub fn preferred_content_type<'a>(ranges: impl IntoIterator<Item = &'a str>) -> &'static str {
    // (specificity, weight in thousandths) of the best range so far, per type.
    let mut json: Option<(u8, u16)> = None;
    let mut scim: Option<(u8, u16)> = None;
    for range in ranges {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default();
        let Some((range_type, range_subtype)) = media.trim().split_once('/') else {
            continue;
        };
        let (range_type, range_subtype) = (range_type.trim(), range_subtype.trim());
        let Some(weight) = weight(parts) else {
            continue;
        };
        for (subtype, best) in [("json", &mut json), ("scim+json", &mut scim)] {
            let specificity = if range_type == "*" && range_subtype == "*" {
                0
            } else if !range_type.eq_ignore_ascii_case("application") {
                continue;
            } else if range_subtype == "*" {
                1
            } else if range_subtype.eq_ignore_ascii_case(subtype) {
                2
            } else {
                continue;
            };
            if best.is_none_or(|(found, _)| specificity > found) {
                *best = Some((specificity, weight));
            }
        }
    }
    let weight_of = |best: Option<(u8, u16)>| best.map_or(0, |(_, weight)| weight);
    if weight_of(json) > weight_of(scim) {
        PLAIN_JSON_CONTENT_TYPE
    } else {
        SCIM_CONTENT_TYPE
    }
}

/// The `q` parameter among a range's parameters, in thousandths (`qvalue` of RFC 9110
/// §12.4.2); 1000 when absent, `None` when malformed.
fn weight<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    for parameter in parameters {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        let value = value.trim();
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        let digits_ok = fraction.len() <= 3 && fraction.bytes().all(|b| b.is_ascii_digit());
        return match whole {
            "0" if digits_ok => {
                let padded = format!("{fraction:0<3}");
                padded.parse().ok()
            }
            "1" if digits_ok && fraction.bytes().all(|b| b == b'0') => Some(1000),
            _ => None,
        };
    }
    Some(1000)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_chooses_plain_json_only_when_it_ranks_above_scim_json() {
        let json = PLAIN_JSON_CONTENT_TYPE;
        let scim = SCIM_CONTENT_TYPE;
        let cases = [
            ("", scim),
            ("application/json", json),
            ("Application/JSON; charset=utf-8", json),
            ("application/scim+json", scim),
            ("application/scim+json; charset=utf-8", scim),
            ("*/*", scim),
            ("application/*", scim),
            ("text/html", scim),
            ("application/json, application/scim+json", scim),
            ("application/scim+json, application/json", scim),
            ("application/json;q=0.5, application/scim+json", scim),
            ("application/json, application/scim+json;q=0.9", json),
            ("application/json, */*;q=0.1", json),
            ("application/json;q=0, */*", scim),
            ("application/scim+json;q=0, application/json;q=0.001", json),
            ("*/*;q=0.8, application/json", json),
            ("application/*;q=0.2, application/json;q=0.3", json),
            (
                "text/html, application/xhtml+xml, application/json;q=0.9, */*;q=0.8",
                json,
            ),
            ("application/json;q=2", scim),
            (
                "application/json;q=0.5555, application/scim+json;q=0.1",
                scim,
            ),
            (
                "application/json ; Q = 0.7 , application/scim+json;q=0.6",
                json,
            ),
            ("application/json;q=1.0", json),
            ("application/json;q=1.5", scim),
            ("application", scim),
            (",,;", scim),
        ];
        for (accept, expected) in cases {
            assert_eq!(
                preferred_content_type(accept.split(',')),
                expected,
                "{accept:?}"
            );
        }
    }

    #[test]
    fn repeated_accept_headers_are_read_as_one_list() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::ACCEPT,
            HeaderValue::from_static("application/scim+json;q=0.5"),
        );
        headers.append(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(
            preferred_content_type(accept_ranges(&headers)),
            PLAIN_JSON_CONTENT_TYPE
        );
    }
}
