//! What happens around every authenticated request once its handler has answered: expiry
//! warnings for the IdP, and the audit record of SCIM writes.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::AuthContext;
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::{self, Store};

/// Adds `Sunset` and `Warning` to responses for a token that stops working soon, and records
/// `scim.write` for every successful SCIM write. Recording here rather than in each handler
/// covers every write route, PATCH and Bulk included, without touching them; the event is
/// written after the resource's own transaction committed, so a failure to record it is
/// logged at error level and does not undo the write.
pub async fn token_notices(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let write = ScimWrite::of(request.method(), request.path());
    let store = request.app_data::<web::Data<Store>>().cloned();
    let mut response = next.call(request).await?;
    let Some(auth) = response
        .request()
        .extensions()
        .get::<AuthContext>()
        .cloned()
    else {
        return Ok(response);
    };
    if let Some(sunset) = auth.sunset {
        add_expiry_warning(response.headers_mut(), sunset);
    }
    if let (Some(write), Some(store)) = (write, store)
        && response.status().is_success()
    {
        let id = write.id.or_else(|| {
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| location.rsplit('/').next())
                .map(str::to_owned)
        });
        let result = store
            .write(move |conn| {
                insert_audit_event(
                    conn,
                    &NewAuditEvent {
                        org_id: Some(&auth.org_id),
                        event_type: "scim.write",
                        actor: Some(&auth.actor()),
                        target: id.as_deref(),
                        remote_addr: None,
                        details: json!({
                            "resource_type": write.resource_type,
                            "operation": write.operation,
                        }),
                    },
                    store::now(),
                )
            })
            .await;
        if let Err(error) = result {
            log::error!("could not record a SCIM write in the audit log: {error}");
        }
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

/// A request that changes SCIM resources.
#[derive(Debug, PartialEq, Eq)]
struct ScimWrite {
    resource_type: &'static str,
    operation: &'static str,
    id: Option<String>,
}

impl ScimWrite {
    fn of(method: &Method, path: &str) -> Option<ScimWrite> {
        let rest = path.strip_prefix("/scim/v2/")?;
        let mut segments = rest.trim_end_matches('/').split('/');
        let resource_type = match segments.next()? {
            "Users" => "User",
            "Groups" => "Group",
            "Bulk" => "Bulk",
            _ => return None,
        };
        let id = segments.next().map(str::to_owned);
        if segments.next().is_some() || id.as_deref() == Some(".search") {
            return None;
        }
        let operation = match (method, id.is_some()) {
            (&Method::POST, false) if resource_type == "Bulk" => "bulk",
            (&Method::POST, false) => "create",
            (&Method::PUT, true) => "replace",
            (&Method::PATCH, true) => "patch",
            (&Method::DELETE, true) => "delete",
            _ => return None,
        };
        Some(ScimWrite {
            resource_type,
            operation,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_writes_are_recognised_by_method_and_path() {
        let write = |method: Method, path: &str| {
            ScimWrite::of(&method, path).map(|w| (w.resource_type, w.operation, w.id))
        };
        assert_eq!(
            write(Method::POST, "/scim/v2/Users"),
            Some(("User", "create", None))
        );
        assert_eq!(
            write(Method::PATCH, "/scim/v2/Groups/g1"),
            Some(("Group", "patch", Some("g1".to_owned())))
        );
        assert_eq!(
            write(Method::DELETE, "/scim/v2/Users/u1"),
            Some(("User", "delete", Some("u1".to_owned())))
        );
        assert_eq!(write(Method::POST, "/scim/v2/Users/.search"), None);
        assert_eq!(write(Method::GET, "/scim/v2/Users/u1"), None);
        assert_eq!(write(Method::POST, "/scim/v2/.search"), None);
        assert_eq!(write(Method::POST, "/api/v1/tokens"), None);
    }
}
