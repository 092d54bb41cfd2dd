//! The single-resource endpoints of `/Users` and `/Groups` (RFC 7644 §3.3–§3.6), written once
//! over a [`Kind`]: each reads the request, checks the scope, calls
//! [`crate::service::resources`] and answers.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::actor;
use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::ListQuery;
use super::response::{no_content_with_etag, not_modified, resource_response, shown_response};
use crate::auth::{AuthContext, Scope};
use crate::error::Result;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::service::resources::{self, Kind, ShownCache};
use crate::store::Store;
use crate::store::render::ResourceView;

fn answer<K: Kind>(
    status: StatusCode,
    view: K::View,
    base: &ScimBase,
    projection: &Projection,
) -> HttpResponse {
    resource_response(
        status,
        K::RESOURCE_TYPE,
        view.into_rendered(Some(&base.0)),
        projection,
    )
}

pub async fn create<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(K::RESOURCE_TYPE)?;
    let view = resources::create::<K>(&store, actor(&auth), body.into_inner()).await?;
    Ok(answer::<K>(StatusCode::CREATED, view, &base, &projection))
}

pub async fn get<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    cache: web::Data<ShownCache>,
    base: ScimBase,
    id: web::Path<String>,
    if_none_match: IfNoneMatch,
    query: ListQuery,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let id = K::parse_id(&id)?;
    let shown = resources::get_shown::<K>(
        &store,
        &cache,
        auth.data_version,
        auth.org_id,
        id,
        &query.0,
        &base.0,
    )
    .await?;
    if let (Some(precondition), Some(version)) = (if_none_match.0, shown.version)
        && precondition.matches_version(version)
    {
        return Ok(not_modified(version));
    }
    Ok(shown_response(&shown))
}

pub async fn replace<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_match: IfMatch,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(K::RESOURCE_TYPE)?;
    let with_memberships = K::shows_memberships(&projection);
    let id = K::parse_id(&id)?;
    let body = body.into_inner();
    let view =
        resources::replace::<K>(&store, actor(&auth), id, if_match.0, body, with_memberships)
            .await?;
    Ok(answer::<K>(StatusCode::OK, view, &base, &projection))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per request part"
)]
pub async fn patch<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    id: web::Path<String>,
    if_match: IfMatch,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(K::RESOURCE_TYPE)?;
    let wants_body = !K::PATCH_ANSWERS_NO_CONTENT || query.0.attributes.is_some();
    let with_memberships = wants_body && K::shows_memberships(&projection);
    let id = K::parse_id(&id)?;
    let view = resources::patch::<K>(
        &store,
        actor(&auth),
        id,
        if_match.0,
        body.into_inner(),
        *limits.get_ref(),
        with_memberships,
    )
    .await?;
    if !wants_body {
        return Ok(no_content_with_etag(view.stored().version));
    }
    Ok(answer::<K>(StatusCode::OK, view, &base, &projection))
}

pub async fn delete<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimDelete)?;
    resources::delete::<K>(&store, actor(&auth), K::parse_id(&id)?, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
