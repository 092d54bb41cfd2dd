//! `/Users` (RFC 7644 §3.3–§3.6).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::{ListQuery, Plan, list_page, plan, search_params};
use super::response::{not_modified, render_user, resource_response};
use crate::auth::password::hash_optional;
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::limits::Limits;
use crate::scim::query::QueryParams;
use crate::scim::resource::prepare;
use crate::scim::schema::USER_RESOURCE_TYPE;
use crate::store::{self, Store, UserId, search, users};

fn user_id(text: &str) -> Result<UserId> {
    UserId::parse(text).ok_or_else(|| Error::not_found(format_args!("user {text}")))
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
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    let password_hash = hash_optional(prepared.password.clone()).await?;
    let view = store
        .write(move |conn| {
            users::create_user(
                conn,
                &auth.org_id,
                &prepared,
                password_hash.as_deref(),
                store::now(),
            )
        })
        .await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &USER_RESOURCE_TYPE,
        render_user(view, &base),
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
    Ok(resource_response(
        StatusCode::OK,
        &USER_RESOURCE_TYPE,
        render_user(view, &base),
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
    // Validated once up front so the slow password hash runs outside the transaction.
    let password = prepare(&USER_RESOURCE_TYPE, &body, None)?.password;
    let password_hash = hash_optional(password).await?;
    let body = body.into_inner();
    let view = store
        .write_retrying(move |conn| {
            users::replace_user(
                conn,
                &auth.org_id,
                &id,
                if_match.0.as_ref(),
                |existing| prepare(&USER_RESOURCE_TYPE, &body, Some(existing)),
                password_hash.as_deref(),
                store::now(),
            )
        })
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &USER_RESOURCE_TYPE,
        render_user(view, &base),
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
    let id = user_id(&id)?;
    store
        .write(move |conn| users::remove_user(conn, &auth.org_id, &id, if_match.0.as_ref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_users(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    search_users_response(auth, store, &limits, base, &query.0).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search_users(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    let params = search_params(&body)?;
    search_users_response(auth, store, &limits, base, &params).await
}

async fn search_users_response(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: &Limits,
    base: ScimBase,
    params: &QueryParams,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let Plan { request, search } = plan(params, &USER_RESOURCE_TYPE, limits)?;
    let with_extras = request.projection.needs_groups();
    let found = store
        .read(move |conn| search::search_users(conn, &auth.org_id, &search, with_extras))
        .await?;
    let resources = found
        .items
        .into_iter()
        .map(|view| {
            request
                .projection
                .apply(&USER_RESOURCE_TYPE, render_user(view, &base))
        })
        .collect();
    Ok(list_page(
        resources,
        found.total,
        &request.paging,
        found.next_cursor,
    ))
}
