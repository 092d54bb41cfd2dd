//! `/Groups` (RFC 7644 §3.3–§3.6).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::ListQuery;
use super::response::{list, not_modified, render_group, resource_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::resource::prepare;
use crate::scim::schema::GROUP_RESOURCE_TYPE;
use crate::store::{self, GroupId, Store, groups};

fn group_id(text: &str) -> Result<GroupId> {
    GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
}

pub async fn create_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
    let view = store
        .write(move |conn| groups::create_group(conn, &auth.org_id, &prepared, store::now()))
        .await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &render_group(view, &base),
    ))
}

pub async fn get_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let id = group_id(&id)?;
    let view = store
        .read(move |conn| groups::get_group(conn, &auth.org_id, &id))
        .await?;
    if let Some(precondition) = if_none_match.0
        && precondition.matches_version(view.stored.version)
    {
        return Ok(not_modified(view.stored.version));
    }
    Ok(resource_response(
        StatusCode::OK,
        &render_group(view, &base),
    ))
}

pub async fn replace_group(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_match: IfMatch,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
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
        &render_group(view, &base),
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
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let page = query.page()?;
    let (total, views) = store
        .read(move |conn| groups::list_group_views(conn, &auth.org_id, page.rows, true))
        .await?;
    let resources = views
        .into_iter()
        .map(|view| render_group(view, &base))
        .collect();
    Ok(list(resources, total, page.start_index))
}
