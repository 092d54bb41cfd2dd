//! Users and Groups (RFC 7644 §3.3–§3.6): create, read, replace, patch, delete and search,
//! written once for every resource kind. A [`Kind`] names the store calls that differ; the
//! SCIM handlers and Bulk both call these functions, so Bulk runs exactly what the
//! single-resource endpoints run.

mod kinds;
mod patch;
mod query;
mod shown;

use std::sync::Arc;

use serde_json::Value;

pub use kinds::{Groups, Users};
use patch::{PrehashedPassword, edit};
pub use query::{MAX_FILTER_SCAN, Plan, plan, search_box};
use shown::{Asked, Made};
pub use shown::{Shown, ShownCache};

use super::OrgActor;
use super::events::poll::wake;
use super::events::{Operation, ResourceChange};
use crate::error::Result;
use crate::scim::discovery::page_response;
use crate::scim::etag::Precondition;
use crate::scim::filter::{CompareOp, ResolvedFilter};
use crate::scim::limits::Limits;
use crate::scim::patch::MemberChange;
use crate::scim::projection::Projection;
use crate::scim::query::QueryParams;
use crate::scim::resource::{Prepared, prepare};
use crate::scim::schema::ResourceTypeDef;
use crate::store::data_version::Version;
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
    /// Whether the attribute computed from memberships stays short: a user's groups do, a
    /// group's members may number 100,000.
    const SHORT_COMPUTED: bool;
    /// Whether a write to the resource can change its computed attribute: a group's PATCH
    /// edits its members, while a user's groups change only through writes to groups.
    const WRITES_CHANGE_COMPUTED: bool;
    /// Core attributes that no two resources of an organization share (unique indexes), so
    /// that `attribute eq "…"` finds at most one.
    const UNIQUE_ATTRIBUTES: &'static [&'static str];

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
            let members = MemberEdits {
                rewritten: prepared.members.as_ref().is_some_and(|m| !m.is_empty()),
                ..MemberEdits::default()
            };
            emit_change::<K>(conn, &actor, Operation::Create, None, Some(&view), members)?;
            Ok(view)
        })
        .await
        .inspect(|_| wake())
}

/// GET of one resource.
pub async fn get<K: Kind>(
    store: &Store,
    org: OrgId,
    id: K::Id,
    with_memberships: bool,
) -> Result<K::View> {
    let read = move |conn: &mut DbConn| kind::get(conn, &org, &id, with_memberships);
    if reads_short::<K>(with_memberships) {
        store.read_quick(read).await
    } else {
        store.read(read).await
    }
}

/// GET of one resource as the response shows it: projected as `params` say, its locations
/// under `base_url`. Kept in `cache` unless it lists a group's members, which may number
/// 100,000.
pub async fn get_shown<K: Kind>(
    store: &Store,
    cache: &ShownCache,
    read_at: Option<Version>,
    org: OrgId,
    id: K::Id,
    params: &QueryParams,
    base_url: &str,
) -> Result<Arc<Shown>> {
    let asked = Asked::one(&org, K::RESOURCE_TYPE.name, base_url, id.as_str(), params);
    cache
        .answer(asked, read_at, || async {
            let projection = params.projection(K::RESOURCE_TYPE)?;
            let with_memberships = K::shows_memberships(&projection);
            let view = get::<K>(store, org, id, with_memberships).await?;
            let version = view.stored().version;
            let rendered = projection.apply(K::RESOURCE_TYPE, view.into_rendered(Some(base_url)));
            Ok(Made {
                shown: Shown {
                    version: Some(version),
                    body: rendered.to_string().into(),
                },
                keep: reads_short::<K>(with_memberships),
            })
        })
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
    let org = actor.org.clone();
    let in_write = with_memberships && K::WRITES_CHANGE_COMPUTED;
    let view = store
        .write_retrying(move |conn| {
            let mut before = None;
            let mut members = MemberEdits::default();
            let view = kind::replace(
                conn,
                &actor.org,
                &id,
                if_match.as_ref(),
                |existing| {
                    let prepared = prepare(K::RESOURCE_TYPE, &body, Some(existing))?;
                    before = Some(existing.clone());
                    members.rewritten = prepared.members.is_some();
                    Ok(prepared)
                },
                password_hash.as_deref(),
                in_write,
                store::now(),
            )?;
            actor.record_write(conn, K::RESOURCE_TYPE, "replace", id.as_str())?;
            let before = before.as_ref().map(|resource| (resource, None));
            emit_change::<K>(conn, &actor, Operation::Put, before, Some(&view), members)?;
            Ok(view)
        })
        .await
        .inspect(|_| wake())?;
    with_computed_after_write::<K>(store, org, view, with_memberships && !in_write).await
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
    let org = actor.org.clone();
    let in_write = with_memberships && K::WRITES_CHANGE_COMPUTED;
    let view = store
        .write_retrying(move |conn| {
            let mut before = None;
            let mut members = MemberEdits::default();
            let view = kind::patch(
                conn,
                &actor.org,
                &id,
                if_match.as_ref(),
                |existing| {
                    let edit = edit(
                        K::RESOURCE_TYPE,
                        existing,
                        &body,
                        &limits,
                        prehashed.as_ref(),
                    )?;
                    before = Some((existing.resource.clone(), existing.version));
                    members = MemberEdits::of(&edit.member_changes);
                    Ok(edit)
                },
                in_write,
                store::now(),
            )?;
            actor.record_write(conn, K::RESOURCE_TYPE, "patch", id.as_str())?;
            let before = before
                .as_ref()
                .map(|(resource, version)| (resource, Some(*version)));
            emit_change::<K>(conn, &actor, Operation::Patch, before, Some(&view), members)?;
            Ok(view)
        })
        .await
        .inspect(|_| wake())?;
    with_computed_after_write::<K>(store, org, view, with_memberships && !in_write).await
}

/// `view`, written without its computed attribute, with it loaded now when `load`. A user's
/// groups cannot change by a write to the user, so a PUT or PATCH that answers them reads
/// them after its commit: under SQLite's one writer that query cost every write of the
/// batch about 13% of the writer's time (issue 15).
async fn with_computed_after_write<K: Kind>(
    store: &Store,
    org: OrgId,
    view: K::View,
    load: bool,
) -> Result<K::View> {
    if !load {
        return Ok(view);
    }
    let (stored, _) = view.into_parts();
    let read = move |conn: &mut DbConn| {
        kind::view::<<K::Id as ResourceId>::Kind>(conn, &org, stored, true)
    };
    if reads_short::<K>(true) {
        store.read_quick(read).await
    } else {
        store.read(read).await
    }
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
            let removed = kind::remove(conn, &actor.org, &id, if_match.as_ref())?;
            actor.record_write(conn, K::RESOURCE_TYPE, "delete", id.as_str())?;
            ResourceChange {
                operation: Operation::Delete,
                resource_type: K::RESOURCE_TYPE,
                id: id.as_str(),
                before: Some(&removed.resource),
                after: None,
                version: None,
                members_added: Vec::new(),
                members_removed: Vec::new(),
                members_rewritten: false,
            }
            .emit(conn, &actor.org, || Value::Null)
        })
        .await
        .inspect(|()| wake())
}

/// How a write changed a group's members, as its event names them.
#[derive(Debug, Default)]
struct MemberEdits {
    added: Vec<String>,
    removed: Vec<String>,
    /// Changed in a way not listed id by id (a replacement, a filtered removal).
    rewritten: bool,
}

impl MemberEdits {
    /// The ids a PATCH names: those it adds (one already a member may be among them) and
    /// those it removes; a group of any size thus costs its event only the ids the request
    /// carried.
    fn of(changes: &[MemberChange]) -> MemberEdits {
        let mut edits = MemberEdits::default();
        for change in changes {
            match change {
                MemberChange::Add(refs) => edits
                    .added
                    .extend(refs.iter().map(|member| member.value.clone())),
                MemberChange::Remove(ids) => edits.removed.extend(ids.iter().cloned()),
                MemberChange::RemoveAll
                | MemberChange::ReplaceAll(_)
                | MemberChange::RemoveMatching(_) => edits.rewritten = true,
            }
        }
        edits
    }
}

/// Appends the event of a write that left `after` (RFC 9967 §2.4), in its transaction.
/// `before` is the stored state with its version (`None`: a PUT, whose stored version is not
/// kept); a write that changed nothing (same version) emits nothing.
fn emit_change<K: Kind>(
    conn: &mut DbConn,
    actor: &OrgActor,
    operation: Operation,
    before: Option<(&Value, Option<i64>)>,
    after: Option<&K::View>,
    members: MemberEdits,
) -> Result<()> {
    let stored_after = after.map(ResourceView::stored);
    if let (Some((_, Some(version))), Some(stored)) = (before, stored_after)
        && stored.version == version
    {
        return Ok(());
    }
    let id = stored_after
        .map(|stored| stored.id.as_str())
        .unwrap_or_default();
    ResourceChange {
        operation,
        resource_type: K::RESOURCE_TYPE,
        id,
        before: before.map(|(resource, _)| resource),
        after: stored_after.map(|stored| &stored.resource),
        version: stored_after.map(|stored| stored.version),
        members_added: members.added,
        members_removed: members.removed,
        members_rewritten: members.rewritten,
    }
    .emit(conn, &actor.org, || {
        after.map(|view| view.render(None)).unwrap_or_default()
    })
}

/// One page of a list or search request.
pub async fn search<K: Kind>(
    store: &Store,
    org: OrgId,
    search: Search,
    with_memberships: bool,
) -> Result<Found<K::View>> {
    let short = finds_one::<K>(&search, with_memberships);
    let read = move |conn: &mut DbConn| K::search(conn, &org, &search, with_memberships);
    if short {
        store.read_quick(read).await
    } else {
        store.read(read).await
    }
}

/// A list or search request's page as the response shows it, under `base_url`. Kept in
/// `cache` when it finds at most one resource, as IdPs' `userName eq "…"` does.
pub async fn search_shown<K: Kind>(
    store: &Store,
    cache: &ShownCache,
    read_at: Option<Version>,
    org: OrgId,
    params: &QueryParams,
    limits: &Limits,
    base_url: &str,
) -> Result<Arc<Shown>> {
    let asked = Asked::search(&org, K::RESOURCE_TYPE.name, base_url, params);
    cache
        .answer(asked, read_at, || async {
            let Plan { request, search } = plan(params, K::RESOURCE_TYPE, limits)?;
            let with_memberships = K::shows_memberships(&request.projection);
            let keep = finds_one::<K>(&search, with_memberships);
            let found = self::search::<K>(store, org, search, with_memberships).await?;
            let resources = found
                .items
                .into_iter()
                .map(|view| {
                    request
                        .projection
                        .apply(K::RESOURCE_TYPE, view.into_rendered(Some(base_url)))
                })
                .collect();
            let page = page_response(resources, found.total, &request.paging, found.next_cursor);
            Ok(Made {
                shown: Shown {
                    version: None,
                    body: page.to_string().into(),
                },
                keep,
            })
        })
        .await
}

/// Whether reading a resource of kind `K` stays short: a user's groups do, a group's members
/// (up to 100,000) do not. Short reads may run on the worker and be kept.
fn reads_short<K: Kind>(with_memberships: bool) -> bool {
    K::SHORT_COMPUTED || !with_memberships
}

/// Whether `search` finds at most one resource and reads it quickly: no group's members.
fn finds_one<K: Kind>(search: &Search, with_memberships: bool) -> bool {
    reads_short::<K>(with_memberships)
        && search
            .filter
            .as_ref()
            .is_some_and(|filter| finds_at_most_one(filter, K::UNIQUE_ATTRIBUTES))
}

/// Whether `filter` pins a unique attribute to one value (IdPs' `userName eq "…"` before
/// every create), so its search is two index probes, short enough for [`Store::read_quick`].
fn finds_at_most_one(filter: &ResolvedFilter, unique: &[&str]) -> bool {
    match filter {
        ResolvedFilter::Compare {
            target,
            op: CompareOp::Eq,
            ..
        } => {
            !target.extension
                && target.sub_attribute.is_none()
                && unique.contains(&target.attribute)
        }
        ResolvedFilter::And(left, right) => {
            finds_at_most_one(left, unique) || finds_at_most_one(right, unique)
        }
        _ => false,
    }
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
