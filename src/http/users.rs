//! `/Users` (RFC 7644 §3.3–§3.6). The operations are plain functions so that Bulk runs exactly
//! what the single-resource endpoints run.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::{ListQuery, USERS, respond, search_params};
use super::patch::edit;
use super::response::{not_modified, render_user, resource_response};
use crate::auth::password::hash_optional;
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::resource::prepare;
use crate::scim::schema::USER_RESOURCE_TYPE;
use crate::store::users::UserView;
use crate::store::{self, OrgId, Store, UserId, users};

/// Reads a user id from a URL; anything but a UUID names no user.
pub fn user_id(text: &str) -> Result<UserId> {
    UserId::parse(text).ok_or_else(|| Error::not_found(format_args!("user {text}")))
}

/// POST /Users.
pub async fn create(store: &Store, org: OrgId, body: Value) -> Result<UserView> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    let password_hash = hash_optional(prepared.password.clone()).await?;
    store
        .write(move |conn| {
            users::create_user(
                conn,
                &org,
                &prepared,
                password_hash.as_deref(),
                store::now(),
            )
        })
        .await
}

/// PUT /Users/{id}.
pub async fn replace(
    store: &Store,
    org: OrgId,
    id: UserId,
    if_match: Option<Precondition>,
    body: Value,
) -> Result<UserView> {
    // Validated once up front so the slow password hash runs outside the transaction.
    let password = prepare(&USER_RESOURCE_TYPE, &body, None)?.password;
    let password_hash = hash_optional(password).await?;
    store
        .write_retrying(move |conn| {
            users::replace_user(
                conn,
                &org,
                &id,
                if_match.as_ref(),
                |existing| prepare(&USER_RESOURCE_TYPE, &body, Some(existing)),
                password_hash.as_deref(),
                store::now(),
            )
        })
        .await
}

/// PATCH /Users/{id}.
pub async fn modify(
    store: &Store,
    org: OrgId,
    id: UserId,
    if_match: Option<Precondition>,
    body: Value,
    limits: Limits,
    with_groups: bool,
) -> Result<UserView> {
    store
        .write_retrying(move |conn| {
            users::patch_user(
                conn,
                &org,
                &id,
                if_match.as_ref(),
                |existing| edit(&USER_RESOURCE_TYPE, existing, &body, &limits),
                with_groups,
                store::now(),
            )
        })
        .await
}

/// DELETE /Users/{id}.
pub async fn remove(
    store: &Store,
    org: OrgId,
    id: UserId,
    if_match: Option<Precondition>,
) -> Result<()> {
    store
        .write(move |conn| users::remove_user(conn, &org, &id, if_match.as_ref()))
        .await
}

pub async fn create_user(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(&USER_RESOURCE_TYPE)?;
    let view = create(&store, auth.org_id, body.into_inner()).await?;
    let rendered = render_user(view, &base);
    Ok(resource_response(
        StatusCode::CREATED,
        &USER_RESOURCE_TYPE,
        rendered,
        &projection,
    ))
}

pub async fn get_user(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_none_match: IfNoneMatch,
    query: ListQuery,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let projection = query.projection(&USER_RESOURCE_TYPE)?;
    let with_groups = projection.needs_groups();
    let id = user_id(&id)?;
    let view = store
        .read(move |conn| users::get_user(conn, &auth.org_id, &id, with_groups))
        .await?;
    if let Some(precondition) = if_none_match.0
        && precondition.matches_version(view.stored.version)
    {
        return Ok(not_modified(view.stored.version));
    }
    let rendered = render_user(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &USER_RESOURCE_TYPE,
        rendered,
        &projection,
    ))
}

pub async fn replace_user(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_match: IfMatch,
    query: ListQuery,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimWrite)?;
    let projection = query.projection(&USER_RESOURCE_TYPE)?;
    let id = user_id(&id)?;
    let view = replace(&store, auth.org_id, id, if_match.0, body.into_inner()).await?;
    let rendered = render_user(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &USER_RESOURCE_TYPE,
        rendered,
        &projection,
    ))
}

/// PATCH in the RFC's form and the dialects Okta and Entra send; answers 200 with the user.
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per request part"
)]
pub async fn patch_user(
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
    let projection = query.projection(&USER_RESOURCE_TYPE)?;
    let id = user_id(&id)?;
    let limits = *limits.get_ref();
    let with_groups = projection.needs_groups();
    let view = modify(
        &store,
        auth.org_id,
        id,
        if_match.0,
        body.into_inner(),
        limits,
        with_groups,
    )
    .await?;
    let rendered = render_user(view, &base);
    Ok(resource_response(
        StatusCode::OK,
        &USER_RESOURCE_TYPE,
        rendered,
        &projection,
    ))
}

pub async fn delete_user(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimDelete)?;
    remove(&store, auth.org_id, user_id(&id)?, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_users(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    respond(&USERS, auth, &store, &limits, base, &query.0).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search_users(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    respond(&USERS, auth, &store, &limits, base, &search_params(&body)?).await
}
