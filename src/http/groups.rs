//! `/Groups` (RFC 7644 §3.3–§3.6). The operations are plain functions so that Bulk runs
//! exactly what the single-resource endpoints run.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::{GROUPS, ListQuery, respond, search_params};
use super::patch::edit;
use super::response::{no_content_with_etag, not_modified, render_group, resource_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::resource::prepare;
use crate::scim::schema::GROUP_RESOURCE_TYPE;
use crate::store::groups::GroupView;
use crate::store::{self, GroupId, OrgId, Store, groups};

/// Reads a group id from a URL; anything but a UUID names no group.
pub fn group_id(text: &str) -> Result<GroupId> {
    GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
}

/// POST /Groups.
pub async fn create(store: &Store, org: OrgId, body: Value) -> Result<GroupView> {
    let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
    store
        .write(move |conn| groups::create_group(conn, &org, &prepared, store::now()))
        .await
}

/// PUT /Groups/{id}.
pub async fn replace(
    store: &Store,
    org: OrgId,
    id: GroupId,
    if_match: Option<Precondition>,
    body: Value,
) -> Result<GroupView> {
    store
        .write_retrying(move |conn| {
            groups::replace_group(
                conn,
                &org,
                &id,
                if_match.as_ref(),
                |existing| prepare(&GROUP_RESOURCE_TYPE, &body, Some(existing)),
                store::now(),
            )
        })
        .await
}

/// PATCH /Groups/{id}; members are loaded for the answer only when `with_members`.
pub async fn modify(
    store: &Store,
    org: OrgId,
    id: GroupId,
    if_match: Option<Precondition>,
    body: Value,
    limits: Limits,
    with_members: bool,
) -> Result<GroupView> {
    store
        .write_retrying(move |conn| {
            groups::patch_group(
                conn,
                &org,
                &id,
                if_match.as_ref(),
                |existing| edit(&GROUP_RESOURCE_TYPE, existing, &body, &limits),
                with_members,
                store::now(),
            )
        })
        .await
}

/// DELETE /Groups/{id}.
pub async fn remove(
    store: &Store,
    org: OrgId,
    id: GroupId,
    if_match: Option<Precondition>,
) -> Result<()> {
    store
        .write(move |conn| groups::remove_group(conn, &org, &id, if_match.as_ref()))
        .await
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
    let view = create(&store, auth.org_id, body.into_inner()).await?;
    let rendered = render_group(view, &base);
    Ok(resource_response(
        StatusCode::CREATED,
        &GROUP_RESOURCE_TYPE,
        rendered,
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
    let rendered = render_group(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &GROUP_RESOURCE_TYPE,
        rendered,
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
    let view = replace(&store, auth.org_id, id, if_match.0, body.into_inner()).await?;
    let rendered = render_group(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &GROUP_RESOURCE_TYPE,
        rendered,
        &projection,
    ))
}

/// PATCH in the RFC's form and the dialects Okta and Entra send. Membership changes cost
/// O(changes); the answer is 204 unless `attributes` asks for a body, as Entra advises against
/// echoing large member lists.
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per request part"
)]
pub async fn patch_group(
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
    let projection = query.projection(&GROUP_RESOURCE_TYPE)?;
    let wants_body = query.0.attributes.is_some();
    let with_members = wants_body && projection.needs_members();
    let id = group_id(&id)?;
    let limits = *limits.get_ref();
    let view = modify(
        &store,
        auth.org_id,
        id,
        if_match.0,
        body.into_inner(),
        limits,
        with_members,
    )
    .await?;
    if !wants_body {
        return Ok(no_content_with_etag(view.stored.version));
    }
    let rendered = render_group(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &GROUP_RESOURCE_TYPE,
        rendered,
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
    remove(&store, auth.org_id, group_id(&id)?, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_groups(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    respond(&GROUPS, auth, &store, &limits, base, &query.0).await
}

/// `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search_groups(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    respond(&GROUPS, auth, &store, &limits, base, &search_params(&body)?).await
}
