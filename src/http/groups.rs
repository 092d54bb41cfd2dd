//! `/Groups` (RFC 7644 §3.3–§3.6): what is particular to groups (their members); the endpoints
//! themselves are in [`super::resource`].

use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::ScimBase;
use super::list::{GROUPS, ListQuery, respond, search_params};
use super::patch::edit;
use super::resource::{Kind, Writer};
use super::response::render_group;
use crate::auth::AuthContext;
use crate::error::{Error, Result};
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::scim::resource::prepare;
use crate::scim::schema::{GROUP_RESOURCE_TYPE, ResourceTypeDef};
use crate::store::groups::GroupView;
use crate::store::{self, DbConn, GroupId, OrgId, Store, groups};

/// `/Groups`.
pub struct Groups;

impl Kind for Groups {
    type Id = GroupId;
    type View = GroupView;

    const RESOURCE_TYPE: &'static ResourceTypeDef = &GROUP_RESOURCE_TYPE;
    /// Membership changes cost O(changes); echoing a large member list would not, and Entra
    /// advises against it.
    const PATCH_ANSWERS_NO_CONTENT: bool = true;

    fn parse_id(text: &str) -> Result<GroupId> {
        GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_members()
    }

    fn version(view: &GroupView) -> i64 {
        view.stored.version
    }

    fn render(view: GroupView, base: &ScimBase) -> Value {
        render_group(view, base)
    }

    fn get(conn: &mut DbConn, org: &OrgId, id: &GroupId, with_members: bool) -> Result<GroupView> {
        groups::get_group(conn, org, id, with_members)
    }

    async fn create(store: &Store, writer: Writer, body: Value) -> Result<GroupView> {
        let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
        store
            .write(move |conn| {
                let view = groups::create_group(conn, &writer.org, &prepared, store::now())?;
                writer.record(conn, &GROUP_RESOURCE_TYPE, "create", &view.stored.id)?;
                Ok(view)
            })
            .await
    }

    async fn replace(
        store: &Store,
        writer: Writer,
        id: GroupId,
        if_match: Option<Precondition>,
        body: Value,
    ) -> Result<GroupView> {
        store
            .write_retrying(move |conn| {
                let view = groups::replace_group(
                    conn,
                    &writer.org,
                    &id,
                    if_match.as_ref(),
                    |existing| prepare(&GROUP_RESOURCE_TYPE, &body, Some(existing)),
                    store::now(),
                )?;
                writer.record(conn, &GROUP_RESOURCE_TYPE, "replace", id.as_str())?;
                Ok(view)
            })
            .await
    }

    async fn modify(
        store: &Store,
        writer: Writer,
        id: GroupId,
        if_match: Option<Precondition>,
        body: Value,
        limits: Limits,
        with_members: bool,
    ) -> Result<GroupView> {
        store
            .write_retrying(move |conn| {
                let view = groups::patch_group(
                    conn,
                    &writer.org,
                    &id,
                    if_match.as_ref(),
                    |existing| edit(&GROUP_RESOURCE_TYPE, existing, &body, &limits, None),
                    with_members,
                    store::now(),
                )?;
                writer.record(conn, &GROUP_RESOURCE_TYPE, "patch", id.as_str())?;
                Ok(view)
            })
            .await
    }

    async fn remove(
        store: &Store,
        writer: Writer,
        id: GroupId,
        if_match: Option<Precondition>,
    ) -> Result<()> {
        store
            .write(move |conn| {
                groups::remove_group(conn, &writer.org, &id, if_match.as_ref())?;
                writer.record(conn, &GROUP_RESOURCE_TYPE, "delete", id.as_str())
            })
            .await
    }
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
