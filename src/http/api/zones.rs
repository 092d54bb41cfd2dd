//! `/api/v1/zones`: an organization's named network zones, which token network rules name as
//! `zone:NAME`. Managed with the `tokens:manage` scope, like the tokens that use them.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{PREFIX, json_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::service::input::{self, ZoneName};
use crate::service::tokens::Caller;
use crate::service::views::ZoneView;
use crate::service::zones::{self, ZoneEdit, ZoneRequest};
use crate::store::{self, OrgId, Store, ZoneId};

fn zone_id(text: &str) -> Result<ZoneId> {
    ZoneId::parse(text).ok_or_else(|| Error::not_found(format_args!("zone {text}")))
}

/// A zone change is made in the credential's own organization, bounded by the credential.
fn org_and_caller(auth: AuthContext) -> (OrgId, Caller) {
    (auth.org_id.clone(), Caller::Credential(auth))
}

fn invalid(error: String) -> Error {
    ProtocolError::invalid_value(error).into()
}

pub async fn list_zones(auth: AuthContext, store: web::Data<Store>) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let list = store
        .read(move |conn| zones::list(conn, &auth.org_id))
        .await?;
    let views: Vec<ZoneView> = list.into_iter().map(ZoneView::from).collect();
    Ok(json_response(&serde_json::json!({ "zones": views })))
}

pub async fn get_zone(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = zone_id(&id)?;
    let zone = store
        .read(move |conn| zones::show(conn, &auth.org_id, &id))
        .await?;
    Ok(json_response(&ZoneView::from(zone)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateZone {
    name: String,
    /// CIDRs or addresses, IPv4 or IPv6.
    networks: Vec<String>,
}

pub async fn create_zone(
    auth: AuthContext,
    store: web::Data<Store>,
    body: web::Json<CreateZone>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let request = ZoneRequest {
        name: ZoneName::parse(&body.name).map_err(invalid)?,
        networks: input::parse_zone_networks(&body.networks).map_err(invalid)?,
    };
    let (org, caller) = org_and_caller(auth);
    let zone = store
        .write(move |conn| zones::create(conn, &org, &caller, &request, store::now()))
        .await?;
    let view = ZoneView::from(zone);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{PREFIX}/zones/{}", view.id)))
        .json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateZone {
    name: Option<String>,
    networks: Option<Vec<String>>,
}

/// `PATCH`: a new name and/or a new list of networks, which applies at once to every token
/// whose rule names the zone.
pub async fn update_zone(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    body: web::Json<UpdateZone>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = zone_id(&id)?;
    let edit = ZoneEdit {
        name: body
            .name
            .as_deref()
            .map(ZoneName::parse)
            .transpose()
            .map_err(invalid)?,
        networks: body
            .networks
            .as_deref()
            .map(input::parse_zone_networks)
            .transpose()
            .map_err(invalid)?,
    };
    let (org, caller) = org_and_caller(auth);
    let zone = store
        .write(move |conn| zones::update(conn, &org, &caller, &id, &edit, store::now()))
        .await?;
    Ok(json_response(&ZoneView::from(zone)))
}

/// `DELETE`: 204, or 409 naming the tokens whose rules still use the zone.
pub async fn delete_zone(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = zone_id(&id)?;
    let (org, caller) = org_and_caller(auth);
    store
        .write(move |conn| zones::delete(conn, &org, &caller, &id, store::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
