//! The single-resource endpoints of `/Users` and `/Groups` (RFC 7644 §3.3–§3.6), written once.
//! A [`Kind`] supplies what differs between the two; its operations are plain functions, so
//! that Bulk runs exactly what the single-resource endpoints run.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::extract::{IfMatch, IfNoneMatch, ScimBase};
use super::list::ListQuery;
use super::response::{no_content_with_etag, not_modified, resource_response};
use crate::auth::{AuthContext, Scope};
use crate::error::Result;
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceTypeDef;
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::{self, DbConn, OrgId, Store};

/// Who writes: the organization written to, and the actor the audit log names.
#[derive(Debug, Clone)]
pub struct Writer {
    pub org: OrgId,
    actor: String,
}

impl Writer {
    pub fn of(auth: &AuthContext) -> Writer {
        Writer {
            org: auth.org_id.clone(),
            actor: auth.actor(),
        }
    }

    /// Records `scim.write` in the write's own transaction, so the log cannot miss a write
    /// that committed nor name one that rolled back. Bulk operations are recorded one by one.
    pub fn record(
        &self,
        conn: &mut DbConn,
        resource_type: &ResourceTypeDef,
        operation: &str,
        id: &str,
    ) -> Result<()> {
        insert_audit_event(
            conn,
            &NewAuditEvent {
                org_id: Some(&self.org),
                event_type: "scim.write",
                actor: Some(&self.actor),
                target: Some(id),
                remote_addr: None,
                details: json!({
                    "resource_type": resource_type.name,
                    "operation": operation,
                }),
            },
            store::now(),
        )
    }
}

/// A resource type's storage, rendering and write operations. Every write records itself
/// through [`Writer::record`].
pub trait Kind: 'static {
    type Id: Send + 'static;
    /// A stored resource with what its rendering needs besides its row.
    type View: Send + 'static;

    const RESOURCE_TYPE: &'static ResourceTypeDef;
    /// PATCH answers 204 with the new ETag unless `attributes` asks for a body.
    const PATCH_ANSWERS_NO_CONTENT: bool;

    /// Reads an id from a URL; anything but a UUID names no resource (404).
    fn parse_id(text: &str) -> Result<Self::Id>;
    /// Whether `projection` shows the attribute computed from memberships: a user's `groups`,
    /// a group's `members`. Reads and PATCH answers skip those queries otherwise.
    fn shows_memberships(projection: &Projection) -> bool;
    fn version(view: &Self::View) -> i64;
    fn render(view: Self::View, base: &ScimBase) -> Value;

    fn get(
        conn: &mut DbConn,
        org: &OrgId,
        id: &Self::Id,
        with_memberships: bool,
    ) -> Result<Self::View>;
    /// POST to the collection.
    fn create(
        store: &Store,
        writer: Writer,
        body: Value,
    ) -> impl Future<Output = Result<Self::View>>;
    /// PUT.
    fn replace(
        store: &Store,
        writer: Writer,
        id: Self::Id,
        if_match: Option<Precondition>,
        body: Value,
    ) -> impl Future<Output = Result<Self::View>>;
    /// PATCH, in the RFC's form and the dialects Okta and Entra send.
    fn modify(
        store: &Store,
        writer: Writer,
        id: Self::Id,
        if_match: Option<Precondition>,
        body: Value,
        limits: Limits,
        with_memberships: bool,
    ) -> impl Future<Output = Result<Self::View>>;
    /// DELETE.
    fn remove(
        store: &Store,
        writer: Writer,
        id: Self::Id,
        if_match: Option<Precondition>,
    ) -> impl Future<Output = Result<()>>;
}

fn answer<K: Kind>(
    status: StatusCode,
    view: K::View,
    base: &ScimBase,
    projection: &Projection,
) -> HttpResponse {
    resource_response(status, K::RESOURCE_TYPE, K::render(view, base), projection)
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
    let view = K::create(&store, Writer::of(&auth), body.into_inner()).await?;
    Ok(answer::<K>(StatusCode::CREATED, view, &base, &projection))
}

pub async fn get<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    base: ScimBase,
    id: web::Path<String>,
    if_none_match: IfNoneMatch,
    query: ListQuery,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let projection = query.projection(K::RESOURCE_TYPE)?;
    let with_memberships = K::shows_memberships(&projection);
    let id = K::parse_id(&id)?;
    let view = store
        .read(move |conn| K::get(conn, &auth.org_id, &id, with_memberships))
        .await?;
    if let Some(precondition) = if_none_match.0
        && precondition.matches_version(K::version(&view))
    {
        return Ok(not_modified(K::version(&view)));
    }
    Ok(answer::<K>(StatusCode::OK, view, &base, &projection))
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
    let id = K::parse_id(&id)?;
    let view = K::replace(&store, Writer::of(&auth), id, if_match.0, body.into_inner()).await?;
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
    let view = K::modify(
        &store,
        Writer::of(&auth),
        id,
        if_match.0,
        body.into_inner(),
        *limits.get_ref(),
        with_memberships,
    )
    .await?;
    if !wants_body {
        return Ok(no_content_with_etag(K::version(&view)));
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
    K::remove(&store, Writer::of(&auth), K::parse_id(&id)?, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
