//! Groups: one row each; members live in `group_members` (see `store::members`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::members;
use super::resources::{Edit, Locked, StoredResource, check_if_match, lock_row};
use super::schema::{group_members, groups};
use super::{DbConn, GroupId, OrgId};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::resource::{MemberRef, Prepared};

type GroupColumns = (
    groups::id,
    groups::resource,
    groups::version,
    groups::created_at,
    groups::last_modified,
);
const GROUP_COLUMNS: GroupColumns = (
    groups::id,
    groups::resource,
    groups::version,
    groups::created_at,
    groups::last_modified,
);
type GroupRow = (String, String, i64, NaiveDateTime, NaiveDateTime);

fn to_stored(row: GroupRow) -> Result<StoredResource> {
    let (id, resource, version, created_at, last_modified) = row;
    StoredResource::from_row(id, &resource, version, created_at, last_modified)
}

/// Inserts a new group at version 1 (members are written separately).
pub fn insert_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    prepared: &Prepared,
    now: NaiveDateTime,
) -> Result<StoredResource> {
    let display_name = prepared.display_name.clone().unwrap_or_default();
    diesel::insert_into(groups::table)
        .values((
            groups::id.eq(id.as_str()),
            groups::org_id.eq(org.as_str()),
            groups::display_name_lower.eq(display_name.to_lowercase()),
            groups::display_name.eq(&display_name),
            groups::external_id.eq(prepared.external_id.as_deref()),
            groups::resource.eq(prepared.resource.to_string()),
            groups::version.eq(1_i64),
            groups::created_at.eq(now),
            groups::last_modified.eq(now),
        ))
        .execute(conn)?;
    Ok(StoredResource {
        id: id.as_str().to_owned(),
        resource: prepared.resource.clone(),
        version: 1,
        created_at: now,
        last_modified: now,
    })
}

pub fn find_group(conn: &mut DbConn, org: &OrgId, id: &GroupId) -> Result<Option<StoredResource>> {
    groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .filter(groups::id.eq(id.as_str()))
        .select(GROUP_COLUMNS)
        .get_result::<GroupRow>(conn)
        .optional()?
        .map(to_stored)
        .transpose()
}

/// Replaces a group's attributes if it is still at `expected_version`; `None` when a
/// concurrent writer got there first.
pub fn update_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    expected_version: i64,
    prepared: &Prepared,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let display_name = prepared.display_name.clone().unwrap_or_default();
    let updated = diesel::update(
        groups::table
            .filter(groups::org_id.eq(org.as_str()))
            .filter(groups::id.eq(id.as_str()))
            .filter(groups::version.eq(expected_version)),
    )
    .set((
        groups::display_name_lower.eq(display_name.to_lowercase()),
        groups::display_name.eq(&display_name),
        groups::external_id.eq(prepared.external_id.as_deref()),
        groups::resource.eq(prepared.resource.to_string()),
        groups::version.eq(expected_version + 1),
        groups::last_modified.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_group(conn, org, id)
}

/// Deletes a group of `org` (the caller has read it, see [`remove_group`]), its member rows,
/// and its own memberships in other groups; the member users stay (RFC 7644 §3.6).
///
/// Two deletes, each on its own index: SQLite answered `group_id = ? OR member_id = ?` by
/// reading every membership of the organisation.
fn delete_group(conn: &mut DbConn, org: &OrgId, id: &GroupId) -> Result<bool> {
    // By group id alone, the primary key's prefix.
    diesel::delete(group_members::table.filter(group_members::group_id.eq(id.as_str())))
        .execute(conn)?;
    diesel::delete(
        group_members::table
            .filter(group_members::org_id.eq(org.as_str()))
            .filter(group_members::member_id.eq(id.as_str())),
    )
    .execute(conn)?;
    let deleted = diesel::delete(
        groups::table
            .filter(groups::org_id.eq(org.as_str()))
            .filter(groups::id.eq(id.as_str())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// A group with its members, or without them when the caller asked not to load them.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub stored: StoredResource,
    pub members: Option<Vec<MemberRef>>,
}

fn view_of(conn: &mut DbConn, org: &OrgId, stored: StoredResource) -> Result<GroupView> {
    let mut members = members::members_of_groups(conn, org, std::slice::from_ref(&stored.id))?;
    Ok(GroupView {
        members: Some(members.remove(&stored.id).unwrap_or_default()),
        stored,
    })
}

/// Creates a group with its members (POST /Groups); unknown members fail the whole request.
pub fn create_group(
    conn: &mut DbConn,
    org: &OrgId,
    prepared: &Prepared,
    now: NaiveDateTime,
) -> Result<GroupView> {
    let id = GroupId::generate();
    let wanted = prepared.members.as_deref().unwrap_or_default();
    let resolved = members::resolve_members(conn, org, &id, wanted)?;
    let stored = insert_group(conn, org, &id, prepared, now)?;
    members::add_members(conn, org, &id, &resolved)?;
    view_of(conn, org, stored)
}

/// Reads a group; `with_members` false skips the member query (`excludedAttributes=members`).
pub fn get_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    with_members: bool,
) -> Result<GroupView> {
    let stored = find_group(conn, org, id)?.ok_or_else(|| group_not_found(id))?;
    if with_members {
        view_of(conn, org, stored)
    } else {
        Ok(GroupView {
            stored,
            members: None,
        })
    }
}

/// Replaces a group (PUT /Groups/{id}). Members change only when the body names them: an
/// omitted `members` keeps them, an empty list clears them.
pub fn replace_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    if_match: Option<&Precondition>,
    prepare: impl FnOnce(&serde_json::Value) -> Result<Prepared, ProtocolError>,
    now: NaiveDateTime,
) -> Result<GroupView> {
    let existing = locked_for_write(conn, org, id, if_match)?;
    let prepared = prepare(&existing.resource)?;
    if let Some(wanted) = &prepared.members {
        let resolved = members::resolve_members(conn, org, id, wanted)?;
        members::set_members(conn, org, id, &resolved)?;
    }
    let stored =
        update_group(conn, org, id, existing.version, &prepared, now)?.ok_or(Error::Conflict)?;
    view_of(conn, org, stored)
}

/// Deletes a group (DELETE /Groups/{id}) after checking `If-Match`.
pub fn remove_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    if_match: Option<&Precondition>,
) -> Result<()> {
    locked_for_write(conn, org, id, if_match)?;
    delete_group(conn, org, id)?;
    Ok(())
}

/// The group a read-modify-write is about to change: its row locked for the transaction
/// (see [`lock_row`]) and `If-Match` checked against the version read under that lock.
fn locked_for_write(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    if_match: Option<&Precondition>,
) -> Result<StoredResource> {
    lock_row(conn, Locked::Group, org, id.as_str())?;
    let existing = find_group(conn, org, id)?.ok_or_else(|| group_not_found(id))?;
    check_if_match(if_match, existing.version)?;
    Ok(existing)
}

fn group_not_found(id: &GroupId) -> Error {
    Error::not_found(format_args!("group {id}"))
}

/// Patches a group (PATCH /Groups/{id}, RFC 7644 §3.5.2) in one transaction: `edit` works out
/// the change from the stored resource; membership changes touch only the rows they name. The
/// version changes only when something did. Members are loaded for the answer only when
/// `with_members`.
pub fn patch_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    if_match: Option<&Precondition>,
    edit: impl FnOnce(&StoredResource) -> Result<Edit>,
    with_members: bool,
    now: NaiveDateTime,
) -> Result<GroupView> {
    let existing = locked_for_write(conn, org, id, if_match)?;
    let edit = edit(&existing)?;
    let members_changed = members::apply_member_changes(conn, org, id, &edit.member_changes)?;
    let stored = match &edit.prepared {
        Some(prepared) => {
            update_group(conn, org, id, existing.version, prepared, now)?.ok_or(Error::Conflict)?
        }
        None if members_changed => {
            bump_version(conn, org, id, existing.version, now)?.ok_or(Error::Conflict)?
        }
        None => existing,
    };
    if with_members {
        view_of(conn, org, stored)
    } else {
        Ok(GroupView {
            stored,
            members: None,
        })
    }
}

/// A new version for a change that lives outside the group row (its members).
fn bump_version(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    expected_version: i64,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let updated = diesel::update(
        groups::table
            .filter(groups::org_id.eq(org.as_str()))
            .filter(groups::id.eq(id.as_str()))
            .filter(groups::version.eq(expected_version)),
    )
    .set((
        groups::version.eq(expected_version + 1),
        groups::last_modified.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_group(conn, org, id)
}
