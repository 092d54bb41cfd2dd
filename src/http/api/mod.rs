//! The management API under `/api/v1`: plain JSON (not SCIM) for tokens, network zones,
//! the organization's settings and the audit log, authenticated with a `tokens:manage` token. Errors are SCIM
//! error bodies like everywhere.

pub mod activity;
pub mod audit;
pub mod credentials;
pub mod events;
pub mod org;
pub mod tokens;
pub mod zones;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, Scope, web};

/// Where the management API lives.
pub const PREFIX: &str = "/api/v1";

/// The OpenAPI document of this API, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// One method on one path (relative to [`PREFIX`]) and the route that serves it.
pub struct Endpoint {
    pub path: &'static str,
    pub method: Method,
    route: Route,
}

fn endpoint<F, Args>(path: &'static str, method: Method, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        path,
        route: web::method(method.clone()).to(handler),
        method,
    }
}

/// Every endpoint of the API: the one list the router and the OpenAPI test both read.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint("/tokens", Method::GET, tokens::list_tokens),
        endpoint("/tokens", Method::POST, tokens::create_token),
        endpoint("/tokens/{id}", Method::GET, tokens::get_token),
        endpoint("/tokens/{id}", Method::PATCH, tokens::update_token),
        endpoint("/tokens/{id}", Method::DELETE, tokens::revoke_token),
        endpoint("/tokens/{id}/rotate", Method::POST, tokens::rotate_token),
        endpoint("/zones", Method::GET, zones::list_zones),
        endpoint("/zones", Method::POST, zones::create_zone),
        endpoint("/zones/{id}", Method::GET, zones::get_zone),
        endpoint("/zones/{id}", Method::PATCH, zones::update_zone),
        endpoint("/zones/{id}", Method::DELETE, zones::delete_zone),
        endpoint("/audit", Method::GET, audit::list_audit_events),
        endpoint("/activity", Method::GET, activity::list_activity),
        endpoint("/activity/{id}", Method::GET, activity::get_activity),
        endpoint("/org", Method::GET, org::get_org),
        endpoint("/org", Method::PATCH, org::update_org),
        endpoint(
            "/credentials/revoke",
            Method::POST,
            credentials::revoke_leaked_tokens,
        ),
        endpoint("/events/streams", Method::GET, events::list_streams),
        endpoint("/events/streams", Method::POST, events::create_stream),
        endpoint("/events/streams/{id}", Method::GET, events::get_stream),
        endpoint("/events/streams/{id}", Method::PATCH, events::update_stream),
        endpoint(
            "/events/streams/{id}/poll",
            Method::POST,
            events::poll_stream,
        ),
        endpoint(
            "/events/streams/{id}",
            Method::DELETE,
            events::delete_stream,
        ),
        endpoint("/orgs/{org}/jwks", Method::GET, events::jwks),
        endpoint("/openapi.json", Method::GET, openapi),
    ]
}

/// The `/api/v1` scope: one resource per path, 405 for other methods, 404 elsewhere.
pub fn scope() -> Scope {
    let mut paths: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for endpoint in endpoints() {
        match paths.iter_mut().find(|(path, _)| *path == endpoint.path) {
            Some((_, routes)) => routes.push(endpoint.route),
            None => paths.push((endpoint.path, vec![endpoint.route])),
        }
    }
    paths
        .into_iter()
        .fold(web::scope(PREFIX), |scope, (path, routes)| {
            let resource = routes
                .into_iter()
                .fold(web::resource(path), |resource, route| resource.route(route))
                .default_service(web::to(super::method_not_allowed));
            scope.service(resource)
        })
        .default_service(web::to(super::unknown_endpoint))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

/// A 200 with a JSON body.
/// A `since`/`until` query parameter: a date or an RFC 3339 time, else `invalidValue`
/// naming the parameter.
pub(crate) fn query_time(
    name: &str,
    text: Option<&str>,
) -> crate::error::Result<Option<chrono::NaiveDateTime>> {
    text.map(|text| {
        crate::service::input::parse_time(text).ok_or_else(|| {
            crate::scim::error::ProtocolError::invalid_value(format!(
                "{name} '{text}' is not a date or an RFC 3339 time"
            ))
            .into()
        })
    })
    .transpose()
}

pub fn json_response(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_openapi_document_lists_exactly_the_routed_endpoints() {
        let document: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|key| !key.starts_with("parameters"))
                    .map(move |method| (path.clone(), method.to_uppercase()))
            })
            .collect();
        let routed: BTreeSet<(String, String)> = endpoints()
            .iter()
            .map(|e| (format!("{PREFIX}{}", e.path), e.method.to_string()))
            .collect();
        assert_eq!(documented, routed);
    }
}
