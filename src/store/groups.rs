//! Groups: one row each; members live in `group_members` (see `store::members`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kind;
use super::kind::{ComputedLoader, ResourceId, ResourceKind};
use super::members;
use super::resource_table::{ResourceTable, resource_table};
use super::resources::{Edit, StoredResource};
use super::schema::{group_members, groups};
use super::{DbConn, GroupId, OrgId};
use crate::error::{Error, Result};
use crate::scim::resource::{MemberRef, Prepared};

/// What a group row holds besides the columns every resource row has: written whole on
/// insert, and as the changes of an update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = groups, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct GroupAttributes<'a> {
    external_id: Option<&'a str>,
    display_name: &'a str,
    display_name_lower: String,
    resource: String,
}

impl<'a> GroupAttributes<'a> {
    fn of(prepared: &'a Prepared) -> Self {
        let display_name = prepared.display_name.as_deref().unwrap_or_default();
        GroupAttributes {
            external_id: prepared.external_id.as_deref(),
            display_name,
            display_name_lower: display_name.to_lowercase(),
            resource: prepared.resource.to_string(),
        }
    }
}

resource_table!(groups, GroupAttributes, GroupAttributes);

/// Inserts a new group at version 1 (members are written separately).
pub fn insert_group(
    conn: &mut DbConn,
    org: &OrgId,
    id: &GroupId,
    prepared: &Prepared,
    now: NaiveDateTime,
) -> Result<StoredResource> {
    groups::table::insert(conn, org, id.as_str(), GroupAttributes::of(prepared), now)?;
    Ok(StoredResource::inserted(
        id.as_str(),
        &prepared.resource,
        now,
    ))
}

pub fn find_group(conn: &mut DbConn, org: &OrgId, id: &GroupId) -> Result<Option<StoredResource>> {
    groups::table::find_by_id(conn, org, id.as_str())
}

/// A new version, with new attributes when `prepared`, else for a change that lives outside
/// the group row (its members).
fn write_version(
    conn: &mut DbConn,
    org: &OrgId,
    existing: StoredResource,
    prepared: Option<&Prepared>,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let attributes = prepared.map(GroupAttributes::of);
    if !groups::table::update(conn, org, &existing.id, existing.version, attributes, now)? {
        return Ok(None);
    }
    let resource = prepared.map(|prepared| &prepared.resource);
    Ok(Some(existing.updated(resource, now)))
}

/// A group with its members, or without them when the caller asked not to load them.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub stored: StoredResource,
    pub members: Option<Vec<MemberRef>>,
}

/// The Group resource type, for the code written once for Users and Groups.
pub struct Groups;

impl ResourceId for GroupId {
    type Kind = Groups;
    fn as_str(&self) -> &str {
        GroupId::as_str(self)
    }
}

impl ResourceKind for Groups {
    type Table = groups::table;
    type View = GroupView;
    type Computed = Vec<MemberRef>;
    const NOUN: &'static str = "group";
    const LOAD_COMPUTED: ComputedLoader<Self> = members::members_of_groups;

    fn view(stored: StoredResource, members: Option<Vec<MemberRef>>) -> GroupView {
        GroupView { stored, members }
    }

    /// Deletes the group's member rows, then the group as any resource (its own memberships in
    /// other groups, its row); the member users stay (RFC 7644 §3.6).
    ///
    /// The member rows go by group id alone, the primary key's prefix, apart from the
    /// memberships: SQLite answered `group_id = ? OR member_id = ?` by reading every
    /// membership of the organisation.
    fn delete(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<bool> {
        diesel::delete(group_members::table.filter(group_members::group_id.eq(id)))
            .execute(conn)?;
        groups::table::delete(conn, org, id)
    }

    /// Membership changes touch only the rows they name; the version changes when they or the
    /// attributes did.
    fn write(
        conn: &mut DbConn,
        org: &OrgId,
        existing: StoredResource,
        edit: Edit,
        now: NaiveDateTime,
    ) -> Result<StoredResource> {
        let id = GroupId::from_db(existing.id.clone());
        let members_changed = members::apply_member_changes(conn, org, &id, &edit.member_changes)?;
        if edit.prepared.is_none() && !members_changed {
            return Ok(existing);
        }
        write_version(conn, org, existing, edit.prepared.as_ref(), now)?.ok_or(Error::Conflict)
    }
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
    kind::view::<Groups>(conn, org, stored, true)
}
