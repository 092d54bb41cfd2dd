//! A resource kind (Users, Groups) and the steps of a read-modify-write written once over
//! it: each kind brings only what differs (how its view gets its computed attribute, what a
//! delete removes first, how an edit is written).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::resource_table::ResourceTable;
use super::resources::{Edit, StoredResource, check_if_match};
use super::{DbConn, OrgId};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::patch::MemberChange;
use crate::scim::resource::Prepared;

/// What Users and Groups each bring to the read-modify-write code written once for both.
pub trait ResourceKind {
    type Table: ResourceTable;
    /// The resource with what rendering needs besides its row.
    type View;
    /// The attribute computed from other rows: a user's groups, a group's members.
    type Computed: Default;
    /// Names the kind in messages: "user", "group".
    const NOUN: &'static str;
    /// Loads the computed attribute of each resource in `ids` (absent: empty), in a fixed
    /// number of queries.
    const LOAD_COMPUTED: ComputedLoader<Self>;

    /// The view of `stored`, with its computed attribute when it was loaded.
    fn view(stored: StoredResource, computed: Option<Self::Computed>) -> Self::View;

    /// Deletes the resource and every row that refers to it; answers whether it existed.
    fn delete(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<bool>;

    /// Writes what `edit` changes in `existing` (read under its lock) and answers the stored
    /// result; [`Error::Conflict`] when a concurrent writer got there first.
    fn write(
        conn: &mut DbConn,
        org: &OrgId,
        existing: StoredResource,
        edit: Edit,
        now: NaiveDateTime,
    ) -> Result<StoredResource>;
}

/// The id of a User or a Group: its type picks the kind the steps below work on, so that
/// reading a user and reading a group are the one [`get`].
pub trait ResourceId {
    type Kind: ResourceKind;
    fn as_str(&self) -> &str;
}

/// The view of the kind `Id` names.
pub type ViewOf<Id> = <<Id as ResourceId>::Kind as ResourceKind>::View;

/// How a kind loads its computed attribute, by resource id.
pub type ComputedLoader<K> =
    fn(&mut DbConn, &OrgId, &[String]) -> Result<HashMap<String, <K as ResourceKind>::Computed>>;

/// Reads a resource; `with_computed` false leaves its computed attribute out.
pub fn get<Id: ResourceId>(
    conn: &mut DbConn,
    org: &OrgId,
    id: &Id,
    with_computed: bool,
) -> Result<ViewOf<Id>> {
    let id = id.as_str();
    let stored = <Id::Kind as ResourceKind>::Table::find_by_id(conn, org, id)?
        .ok_or_else(|| not_found::<Id::Kind>(id))?;
    view::<Id::Kind>(conn, org, stored, with_computed)
}

/// The views of `stored`, with their computed attribute when `load` (else left out).
pub(crate) fn views<K: ResourceKind>(
    conn: &mut DbConn,
    org: &OrgId,
    stored: Vec<StoredResource>,
    load: bool,
) -> Result<Vec<K::View>> {
    let mut computed = if load {
        let ids: Vec<String> = stored.iter().map(|resource| resource.id.clone()).collect();
        (K::LOAD_COMPUTED)(conn, org, &ids)?
    } else {
        HashMap::new()
    };
    Ok(stored
        .into_iter()
        .map(|stored| {
            let loaded = load.then(|| computed.remove(&stored.id).unwrap_or_default());
            K::view(stored, loaded)
        })
        .collect())
}

/// One resource's view (see [`views`]).
pub(crate) fn view<K: ResourceKind>(
    conn: &mut DbConn,
    org: &OrgId,
    stored: StoredResource,
    with_computed: bool,
) -> Result<K::View> {
    let computed = if with_computed {
        let mut loaded = (K::LOAD_COMPUTED)(conn, org, std::slice::from_ref(&stored.id))?;
        Some(loaded.remove(&stored.id).unwrap_or_default())
    } else {
        None
    };
    Ok(K::view(stored, computed))
}

/// Replaces a resource (PUT): reads it, lets `prepare` build the new state from the stored
/// one, checks `If-Match`, and writes only if nobody changed it meanwhile. Members change only
/// when the body names them: an omitted `members` keeps them, an empty list clears them. A
/// `None` password hash keeps the stored one: clients never send passwords back.
#[expect(
    clippy::too_many_arguments,
    reason = "PATCH's parameters, with the prepared state and the password in place of the edit"
)]
pub fn replace<Id: ResourceId>(
    conn: &mut DbConn,
    org: &OrgId,
    id: &Id,
    if_match: Option<&Precondition>,
    prepare: impl FnOnce(&Value) -> Result<Prepared, ProtocolError>,
    password_hash: Option<&str>,
    with_computed: bool,
    now: NaiveDateTime,
) -> Result<ViewOf<Id>> {
    let existing = locked_for_write::<Id::Kind>(conn, org, id.as_str(), if_match)?;
    let mut prepared = prepare(&existing.resource)?;
    let edit = Edit {
        member_changes: prepared
            .members
            .take()
            .map(MemberChange::ReplaceAll)
            .into_iter()
            .collect(),
        prepared: Some(prepared),
        password_hash: password_hash.map(str::to_owned),
    };
    let stored = Id::Kind::write(conn, org, existing, edit, now)?;
    view::<Id::Kind>(conn, org, stored, with_computed)
}

/// Patches a resource (PATCH, RFC 7644 §3.5.2) in one transaction: `edit` works out the
/// change from the stored resource, and the version changes only when something did. The
/// computed attribute is loaded for the answer only when `with_computed`.
pub fn patch<Id: ResourceId>(
    conn: &mut DbConn,
    org: &OrgId,
    id: &Id,
    if_match: Option<&Precondition>,
    edit: impl FnOnce(&StoredResource) -> Result<Edit>,
    with_computed: bool,
    now: NaiveDateTime,
) -> Result<ViewOf<Id>> {
    let existing = locked_for_write::<Id::Kind>(conn, org, id.as_str(), if_match)?;
    let edit = edit(&existing)?;
    let stored = Id::Kind::write(conn, org, existing, edit, now)?;
    view::<Id::Kind>(conn, org, stored, with_computed)
}

/// Deletes a resource (DELETE) after checking `If-Match`; answers it as it was.
pub fn remove<Id: ResourceId>(
    conn: &mut DbConn,
    org: &OrgId,
    id: &Id,
    if_match: Option<&Precondition>,
) -> Result<StoredResource> {
    let existing = locked_for_write::<Id::Kind>(conn, org, id.as_str(), if_match)?;
    Id::Kind::delete(conn, org, id.as_str())?;
    Ok(existing)
}

/// The resource a read-modify-write is about to change: its row locked for the transaction
/// (see [`ResourceTable::lock`]) and `If-Match` checked against the version read under that
/// lock.
fn locked_for_write<K: ResourceKind>(
    conn: &mut DbConn,
    org: &OrgId,
    id: &str,
    if_match: Option<&Precondition>,
) -> Result<StoredResource> {
    K::Table::lock(conn, org, id)?;
    let existing = K::Table::find_by_id(conn, org, id)?.ok_or_else(|| not_found::<K>(id))?;
    check_if_match(if_match, existing.version)?;
    Ok(existing)
}

fn not_found<K: ResourceKind>(id: &str) -> Error {
    Error::not_found(format_args!("{} {id}", K::NOUN))
}
