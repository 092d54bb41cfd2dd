//! Users and Groups (RFC 7644 §3.3–§3.6): create, read, replace, patch, delete and search,
//! written once for every resource kind. A [`Kind`] names the store calls that differ; the
//! SCIM handlers and Bulk both call these functions, so Bulk runs exactly what the
//! single-resource endpoints run.

mod kinds;
mod patch;
mod query;

use serde_json::Value;

pub use kinds::{Groups, Users};
use patch::{PrehashedPassword, edit};
pub use query::{MAX_FILTER_SCAN, Plan, plan, search_box};

use super::OrgActor;
use crate::error::Result;
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::scim::resource::{Prepared, prepare};
use crate::scim::schema::ResourceTypeDef;
use crate::store::kind::{self, ResourceId, ResourceKind};
use crate::store::render::ResourceView;
use crate::store::search::{Found, Search};
use crate::store::{self, DbConn, OrgId, Store};

/// A resource type: its ids and what differs between the types at this layer. Reads and
/// read-modify-writes are the store's steps written once for both types (`store::kind`), which
/// the id's type directs; every write the functions of this module make records itself in its
/// own transaction.
pub trait Kind: 'static {
    type Id: ResourceId<Kind: ResourceKind<View = Self::View>> + Clone + Send + Sync + 'static;
    type View: ResourceView + Send + 'static;

    const RESOURCE_TYPE: &'static ResourceTypeDef = <Self::View as ResourceView>::RESOURCE_TYPE;
    /// Whether the type has a `password`, hashed before the write's transaction starts.
    const HAS_PASSWORD: bool;
    /// PATCH answers 204 with the new ETag unless `attributes` asks for a body.
    const PATCH_ANSWERS_NO_CONTENT: bool;

    /// Reads an id from a URL; anything but a UUID names no resource (404).
    fn parse_id(text: &str) -> Result<Self::Id>;
    /// Whether `projection` shows the attribute computed from memberships: a user's `groups`,
    /// a group's `members`. Reads and PATCH answers skip those queries otherwise.
    fn shows_memberships(projection: &Projection) -> bool;

    fn search(
        conn: &mut DbConn,
        org: &OrgId,
        search: &Search,
        with_memberships: bool,
    ) -> Result<Found<Self::View>>;
    fn insert(
        conn: &mut DbConn,
        org: &OrgId,
        prepared: &Prepared,
        password_hash: Option<&str>,
        now: chrono::NaiveDateTime,
    ) -> Result<Self::View>;
}

/// POST to the collection.
pub async fn create<K: Kind>(store: &Store, actor: OrgActor, body: Value) -> Result<K::View> {
    let prepared = prepare(K::RESOURCE_TYPE, &body, None)?;
    let password_hash = store
        .passwords()
        .hash_optional(prepared.password.clone())
        .await?;
    store
        .write(move |conn| {
            let view = K::insert(
                conn,
                &actor.org,
                &prepared,
                password_hash.as_deref(),
                store::now(),
            )?;
            actor.record_write(conn, K::RESOURCE_TYPE, "create", &view.stored().id)?;
            Ok(view)
        })
        .await
}

/// GET of one resource.
pub async fn get<K: Kind>(
    store: &Store,
    org: OrgId,
    id: K::Id,
    with_memberships: bool,
) -> Result<K::View> {
    store
        .read(move |conn| kind::get(conn, &org, &id, with_memberships))
        .await
}

/// PUT. The attribute computed from memberships is loaded for the answer only when
/// `with_memberships`: a group's whole member list is not read under the writer to be dropped.
pub async fn replace<K: Kind>(
    store: &Store,
    actor: OrgActor,
    id: K::Id,
    if_match: Option<Precondition>,
    body: Value,
    with_memberships: bool,
) -> Result<K::View> {
    let password_hash = if K::HAS_PASSWORD {
        // Validated once up front so the slow password hash runs outside the transaction.
        let password = prepare(K::RESOURCE_TYPE, &body, None)?.password;
        store.passwords().hash_optional(password).await?
    } else {
        None
    };
    store
        .write_retrying(move |conn| {
            let view = kind::replace(
                conn,
                &actor.org,
                &id,
                if_match.as_ref(),
                |existing| prepare(K::RESOURCE_TYPE, &body, Some(existing)),
                password_hash.as_deref(),
                with_memberships,
                store::now(),
            )?;
            actor.record_write(conn, K::RESOURCE_TYPE, "replace", id.as_str())?;
            Ok(view)
        })
        .await
}

/// PATCH, in the RFC's form and the dialects Okta and Entra send.
pub async fn patch<K: Kind>(
    store: &Store,
    actor: OrgActor,
    id: K::Id,
    if_match: Option<Precondition>,
    body: Value,
    limits: Limits,
    with_memberships: bool,
) -> Result<K::View> {
    let prehashed = if K::HAS_PASSWORD {
        prehash_password::<K>(store, &actor.org, &id, &body, &limits).await?
    } else {
        None
    };
    store
        .write_retrying(move |conn| {
            let view = kind::patch(
                conn,
                &actor.org,
                &id,
                if_match.as_ref(),
                |existing| {
                    edit(
                        K::RESOURCE_TYPE,
                        existing,
                        &body,
                        &limits,
                        prehashed.as_ref(),
                    )
                },
                with_memberships,
                store::now(),
            )?;
            actor.record_write(conn, K::RESOURCE_TYPE, "patch", id.as_str())?;
            Ok(view)
        })
        .await
}

/// The password a PATCH `body` sets, hashed before its transaction. Applying the body to an
/// empty resource finds it without a read; a body that cannot apply there (a filter on other
/// attributes) is applied to the stored resource, read first.
async fn prehash_password<K: Kind>(
    store: &Store,
    org: &OrgId,
    id: &K::Id,
    body: &Value,
    limits: &Limits,
) -> Result<Option<PrehashedPassword>> {
    let plain_set_by = |id: &str, resource: &Value| {
        PrehashedPassword::plain_set_by(K::RESOURCE_TYPE, body, limits, id, resource)
    };
    let plain = match plain_set_by("", &Value::Object(serde_json::Map::new())) {
        Ok(plain) => plain,
        Err(_) => {
            let (org, id) = (org.clone(), id.clone());
            let stored = store
                .read(move |conn| kind::get(conn, &org, &id, false))
                .await?;
            let stored = stored.stored();
            // A body that fails here too is the client's mistake, which the transaction
            // reports on the resource it locks.
            plain_set_by(&stored.id, &stored.resource).unwrap_or(None)
        }
    };
    match plain {
        Some(plain) => Ok(Some(
            PrehashedPassword::hash(store.passwords(), plain).await?,
        )),
        None => Ok(None),
    }
}

/// DELETE.
pub async fn delete<K: Kind>(
    store: &Store,
    actor: OrgActor,
    id: K::Id,
    if_match: Option<Precondition>,
) -> Result<()> {
    store
        .write(move |conn| {
            kind::remove(conn, &actor.org, &id, if_match.as_ref())?;
            actor.record_write(conn, K::RESOURCE_TYPE, "delete", id.as_str())
        })
        .await
}

/// One page of a list or search request.
pub async fn search<K: Kind>(
    store: &Store,
    org: OrgId,
    search: Search,
    with_memberships: bool,
) -> Result<Found<K::View>> {
    store
        .read(move |conn| K::search(conn, &org, &search, with_memberships))
        .await
}

/// One page of a group's members, for the console (the SCIM rendering of a group reads every
/// member); a group of another organization is not found.
pub async fn group_members(
    store: &Store,
    org: OrgId,
    group: crate::store::GroupId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<crate::scim::resource::MemberRef>)> {
    store
        .read(move |conn| {
            store::groups::find_group(conn, &org, &group)?
                .ok_or_else(|| crate::error::Error::not_found(format_args!("group {group}")))?;
            store::members_page::members_page(conn, &org, &group, offset, limit)
        })
        .await
}
