//! RFC 7644 §4 discovery endpoints, rendered from the schema registry.

use actix_web::{HttpRequest, HttpResponse, web};

use super::response::{scim_base_url, scim_json};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::discovery::{self, Features};
use crate::scim::limits::Limits;

pub async fn get_service_provider_config(
    auth: AuthContext,
    request: HttpRequest,
    limits: web::Data<Limits>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let base_url = scim_base_url(&request);
    Ok(scim_json(discovery::service_provider_config(
        &limits,
        &Features::IMPLEMENTED,
        &base_url,
        None,
    )))
}

pub async fn list_resource_types(auth: AuthContext, request: HttpRequest) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    Ok(scim_json(discovery::resource_types(&scim_base_url(
        &request,
    ))))
}

pub async fn get_resource_type(
    auth: AuthContext,
    request: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    discovery::resource_type(&name, &scim_base_url(&request))
        .map(scim_json)
        .ok_or_else(|| Error::not_found(format_args!("resource type '{name}'")))
}

pub async fn list_schemas(auth: AuthContext, request: HttpRequest) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    Ok(scim_json(discovery::schemas(&scim_base_url(&request))))
}

pub async fn get_schema(
    auth: AuthContext,
    request: HttpRequest,
    urn: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    discovery::schema(&urn, &scim_base_url(&request))
        .map(scim_json)
        .ok_or_else(|| Error::not_found(format_args!("schema '{urn}'")))
}
