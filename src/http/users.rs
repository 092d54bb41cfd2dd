//! `/Users` (RFC 7644 §3.3–§3.6): what is particular to users (passwords, their groups); the
//! endpoints themselves are in [`super::resource`].

use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::ScimBase;
use super::list::{ListQuery, USERS, respond, search_params};
use super::patch::{PrehashedPassword, edit};
use super::resource::{Kind, Writer};
use super::response::render_user;
use crate::auth::AuthContext;
use crate::auth::password::hash_optional;
use crate::error::{Error, Result};
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::scim::resource::prepare;
use crate::scim::schema::{ResourceTypeDef, USER_RESOURCE_TYPE};
use crate::store::users::UserView;
use crate::store::{self, DbConn, OrgId, Store, UserId, users};

/// `/Users`.
pub struct Users;

impl Kind for Users {
    type Id = UserId;
    type View = UserView;

    const RESOURCE_TYPE: &'static ResourceTypeDef = &USER_RESOURCE_TYPE;
    const PATCH_ANSWERS_NO_CONTENT: bool = false;

    fn parse_id(text: &str) -> Result<UserId> {
        UserId::parse(text).ok_or_else(|| Error::not_found(format_args!("user {text}")))
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_groups()
    }

    fn version(view: &UserView) -> i64 {
        view.stored.version
    }

    fn render(view: UserView, base: &ScimBase) -> Value {
        render_user(view, base)
    }

    fn get(conn: &mut DbConn, org: &OrgId, id: &UserId, with_groups: bool) -> Result<UserView> {
        users::get_user(conn, org, id, with_groups)
    }

    async fn create(store: &Store, writer: Writer, body: Value) -> Result<UserView> {
        let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
        let password_hash = hash_optional(prepared.password.clone()).await?;
        store
            .write(move |conn| {
                let view = users::create_user(
                    conn,
                    &writer.org,
                    &prepared,
                    password_hash.as_deref(),
                    store::now(),
                )?;
                writer.record(conn, &USER_RESOURCE_TYPE, "create", &view.stored.id)?;
                Ok(view)
            })
            .await
    }

    async fn replace(
        store: &Store,
        writer: Writer,
        id: UserId,
        if_match: Option<Precondition>,
        body: Value,
    ) -> Result<UserView> {
        // Validated once up front so the slow password hash runs outside the transaction.
        let password = prepare(&USER_RESOURCE_TYPE, &body, None)?.password;
        let password_hash = hash_optional(password).await?;
        store
            .write_retrying(move |conn| {
                let view = users::replace_user(
                    conn,
                    &writer.org,
                    &id,
                    if_match.as_ref(),
                    |existing| prepare(&USER_RESOURCE_TYPE, &body, Some(existing)),
                    password_hash.as_deref(),
                    store::now(),
                )?;
                writer.record(conn, &USER_RESOURCE_TYPE, "replace", id.as_str())?;
                Ok(view)
            })
            .await
    }

    async fn modify(
        store: &Store,
        writer: Writer,
        id: UserId,
        if_match: Option<Precondition>,
        body: Value,
        limits: Limits,
        with_groups: bool,
    ) -> Result<UserView> {
        let prehashed = PrehashedPassword::of(&USER_RESOURCE_TYPE, &body, &limits).await?;
        store
            .write_retrying(move |conn| {
                let view = users::patch_user(
                    conn,
                    &writer.org,
                    &id,
                    if_match.as_ref(),
                    |existing| {
                        edit(
                            &USER_RESOURCE_TYPE,
                            existing,
                            &body,
                            &limits,
                            prehashed.as_ref(),
                        )
                    },
                    with_groups,
                    store::now(),
                )?;
                writer.record(conn, &USER_RESOURCE_TYPE, "patch", id.as_str())?;
                Ok(view)
            })
            .await
    }

    async fn remove(
        store: &Store,
        writer: Writer,
        id: UserId,
        if_match: Option<Precondition>,
    ) -> Result<()> {
        store
            .write(move |conn| {
                users::remove_user(conn, &writer.org, &id, if_match.as_ref())?;
                writer.record(conn, &USER_RESOURCE_TYPE, "delete", id.as_str())
            })
            .await
    }
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
