//! `/Groups` (RFC 7644 §3.3–§3.6).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::{ListQuery, Plan, list_page, plan, search_params};
use super::response::{not_modified, render_group, resource_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::limits::Limits;
use crate::scim::query::QueryParams;
use crate::scim::resource::prepare;
use crate::scim::schema::GROUP_RESOURCE_TYPE;
use crate::store::{self, GroupId, Store, groups, search};

fn group_id(text: &str) -> Result<GroupId> {
    GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
}

pub async fn create_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(&GROUP_RESOURCE_TYPE)?;
    let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
    let view = store
        .write(move |conn| groups::create_group(conn, &auth.org_id, &prepared, store::now()))
        .await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &GROUP_RESOURCE_TYPE,
        render_group(view, &base),
        &projection,
    ))
}

pub async fn get_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_none_match: IfNoneMatch,
    query: ListQuery,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let projection = query.projection(&GROUP_RESOURCE_TYPE)?;
    let with_members = projection.needs_members();
    let id = group_id(&id)?;
    let view = store
        .read(move |conn| groups::get_group(conn, &auth.org_id, &id, with_members))
        .await?;
    if let Some(precondition) = if_none_match.0
        && precondition.matches_version(view.stored.version)
    {
        return Ok(not_modified(view.stored.version));
    }
    Ok(resource_response(
        StatusCode::OK,
        &GROUP_RESOURCE_TYPE,
        render_group(view, &base),
        &projection,
    ))
}

pub async fn replace_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_match: IfMatch,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(&GROUP_RESOURCE_TYPE)?;
    let id = group_id(&id)?;
    let body = body.into_inner();
    let view = store
        .write_retrying(move |conn| {
            groups::replace_group(
                conn,
                &auth.org_id,
                &id,
                if_match.0.as_ref(),
                |existing| prepare(&GROUP_RESOURCE_TYPE, &body, Some(existing)),
                store::now(),
            )
        })
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &GROUP_RESOURCE_TYPE,
        render_group(view, &base),
        &projection,
    ))
}

pub async fn delete_group(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimDelete)?;
    let id = group_id(&id)?;
    store
        .write(move |conn| groups::remove_group(conn, &auth.org_id, &id, if_match.0.as_ref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_groups(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    search_groups_response(auth, store, &limits, base, &query.0).await
}

/// `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search_groups(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let params = search_params(&body)?;
    search_groups_response(auth, store, &limits, base, &params).await
}

async fn search_groups_response(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: &Limits,
    base: ScimBase,
    params: &QueryParams,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let Plan { request, search } = plan(params, &GROUP_RESOURCE_TYPE, limits)?;
    let with_extras = request.projection.needs_members();
    let found = store
        .read(move |conn| search::search_groups(conn, &auth.org_id, &search, with_extras))
        .await?;
    let resources = found
        .items
        .into_iter()
        .map(|view| {
            request
                .projection
                .apply(&GROUP_RESOURCE_TYPE, render_group(view, &base))
        })
        .collect();
    Ok(list_page(
        resources,
        found.total,
        &request.paging,
        found.next_cursor,
    ))
}
