//! RFC 7644 §4 discovery endpoints, rendered from the schema registry.

use actix_web::{HttpResponse, web};

use super::extract::ScimBase;
use super::response::scim_json;
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::discovery::{self, Features};
use crate::scim::limits::Limits;

pub async fn get_service_provider_config(
    auth: AuthContext,
    base: ScimBase,
    limits: web::Data<Limits>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    Ok(scim_json(discovery::service_provider_config(
        &limits,
        &Features::IMPLEMENTED,
        &base.0,
        None,
    )))
}

pub async fn list_resource_types(auth: AuthContext, base: ScimBase) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    Ok(scim_json(discovery::resource_types(&base.0)))
}

pub async fn get_resource_type(
    auth: AuthContext,
    base: ScimBase,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    discovery::resource_type(&name, &base.0)
        .map(scim_json)
        .ok_or_else(|| Error::not_found(format_args!("resource type '{name}'")))
}

pub async fn list_schemas(auth: AuthContext, base: ScimBase) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    Ok(scim_json(discovery::schemas(&base.0)))
}

pub async fn get_schema(
    auth: AuthContext,
    base: ScimBase,
    urn: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    discovery::schema(&urn, &base.0)
        .map(scim_json)
        .ok_or_else(|| Error::not_found(format_args!("schema '{urn}'")))
}
