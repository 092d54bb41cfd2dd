//! Users: one row each, their e-mail addresses as rows of their own for indexed lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::members;
use super::resources::{Edit, Locked, StoredResource, check_if_match, lock_row};
use super::schema::{group_members, user_emails, users};
use super::{DbConn, OrgId, UserId};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::resource::{GroupRef, Prepared};

type UserColumns = (
    users::id,
    users::resource,
    users::version,
    users::created_at,
    users::last_modified,
);
const USER_COLUMNS: UserColumns = (
    users::id,
    users::resource,
    users::version,
    users::created_at,
    users::last_modified,
);
type UserRow = (String, String, i64, NaiveDateTime, NaiveDateTime);

fn to_stored(row: UserRow) -> Result<StoredResource> {
    let (id, resource, version, created_at, last_modified) = row;
    StoredResource::from_row(id, &resource, version, created_at, last_modified)
}

/// Inserts a new user at version 1.
pub fn insert_user(
    conn: &mut DbConn,
    org: &OrgId,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<StoredResource> {
    let id = UserId::generate();
    let user_name = prepared.user_name.clone().unwrap_or_default();
    let resource = prepared.resource.to_string();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id.as_str()),
            users::org_id.eq(org.as_str()),
            users::user_name_lower.eq(user_name.to_lowercase()),
            users::user_name.eq(&user_name),
            users::external_id.eq(prepared.external_id.as_deref()),
            users::display_name.eq(prepared.display_name.as_deref()),
            users::display_name_lower.eq(prepared.display_name.as_deref().map(str::to_lowercase)),
            users::active.eq(prepared.active),
            users::resource.eq(&resource),
            users::password_hash.eq(password_hash),
            users::version.eq(1_i64),
            users::created_at.eq(now),
            users::last_modified.eq(now),
        ))
        .execute(conn)?;
    write_emails(conn, org, &id, prepared)?;
    Ok(StoredResource {
        id: id.as_str().to_owned(),
        resource: prepared.resource.clone(),
        version: 1,
        created_at: now,
        last_modified: now,
    })
}

pub fn find_user(conn: &mut DbConn, org: &OrgId, id: &UserId) -> Result<Option<StoredResource>> {
    users::table
        .filter(users::org_id.eq(org.as_str()))
        .filter(users::id.eq(id.as_str()))
        .select(USER_COLUMNS)
        .get_result::<UserRow>(conn)
        .optional()?
        .map(to_stored)
        .transpose()
}

/// Replaces a user's attributes if it is still at `expected_version`; answers `None` when a
/// concurrent writer got there first. A `None` password hash keeps the stored one: clients
/// never send passwords back, so a PUT without one must not erase it.
pub fn update_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    expected_version: i64,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let user_name = prepared.user_name.clone().unwrap_or_default();
    let resource = prepared.resource.to_string();
    let target = users::table
        .filter(users::org_id.eq(org.as_str()))
        .filter(users::id.eq(id.as_str()))
        .filter(users::version.eq(expected_version));
    let changes = (
        users::user_name_lower.eq(user_name.to_lowercase()),
        users::user_name.eq(&user_name),
        users::external_id.eq(prepared.external_id.as_deref()),
        users::display_name.eq(prepared.display_name.as_deref()),
        users::display_name_lower.eq(prepared.display_name.as_deref().map(str::to_lowercase)),
        users::active.eq(prepared.active),
        users::resource.eq(&resource),
        users::version.eq(expected_version + 1),
        users::last_modified.eq(now),
    );
    let updated = match password_hash {
        Some(hash) => diesel::update(target)
            .set((changes, users::password_hash.eq(hash)))
            .execute(conn)?,
        None => diesel::update(target).set(changes).execute(conn)?,
    };
    if updated == 0 {
        return Ok(None);
    }
    diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id.as_str())))
        .execute(conn)?;
    write_emails(conn, org, id, prepared)?;
    find_user(conn, org, id)
}

/// Deletes a user and its memberships (RFC 7644 §3.6); answers whether it existed.
pub fn delete_user(conn: &mut DbConn, org: &OrgId, id: &UserId) -> Result<bool> {
    diesel::delete(
        group_members::table
            .filter(group_members::org_id.eq(org.as_str()))
            .filter(group_members::member_id.eq(id.as_str())),
    )
    .execute(conn)?;
    let deleted = diesel::delete(
        users::table
            .filter(users::org_id.eq(org.as_str()))
            .filter(users::id.eq(id.as_str())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

fn write_emails(conn: &mut DbConn, org: &OrgId, id: &UserId, prepared: &Prepared) -> Result<()> {
    for (position, (value, kind)) in prepared.emails.iter().enumerate() {
        diesel::insert_into(user_emails::table)
            .values((
                user_emails::user_id.eq(id.as_str()),
                user_emails::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                user_emails::org_id.eq(org.as_str()),
                user_emails::value_lower.eq(value.to_lowercase()),
                user_emails::type_lower.eq(kind.as_deref().map(str::to_lowercase)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A user with what its rendering needs besides the row: its groups.
#[derive(Debug, Clone)]
pub struct UserView {
    pub stored: StoredResource,
    pub groups: Vec<GroupRef>,
}

fn view_of(conn: &mut DbConn, org: &OrgId, stored: StoredResource) -> Result<UserView> {
    let mut groups = members::groups_of_users(conn, org, std::slice::from_ref(&stored.id))?;
    Ok(UserView {
        groups: groups.remove(&stored.id).unwrap_or_default(),
        stored,
    })
}

/// Creates a user (POST /Users).
pub fn create_user(
    conn: &mut DbConn,
    org: &OrgId,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<UserView> {
    let stored = insert_user(conn, org, prepared, password_hash, now)?;
    Ok(UserView {
        stored,
        groups: Vec::new(),
    })
}

/// Reads a user; `with_groups` false skips computing its groups.
pub fn get_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    with_groups: bool,
) -> Result<UserView> {
    let stored = find_user(conn, org, id)?.ok_or_else(|| user_not_found(id))?;
    if with_groups {
        view_of(conn, org, stored)
    } else {
        Ok(UserView {
            stored,
            groups: Vec::new(),
        })
    }
}

/// Replaces a user (PUT /Users/{id}): reads it, lets `prepare` build the new state from the
/// stored one, checks `If-Match`, and writes only if nobody changed it meanwhile.
pub fn replace_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
    prepare: impl FnOnce(&serde_json::Value) -> Result<Prepared, ProtocolError>,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<UserView> {
    let existing = locked_for_write(conn, org, id, if_match)?;
    let prepared = prepare(&existing.resource)?;
    let stored = update_user(
        conn,
        org,
        id,
        existing.version,
        &prepared,
        password_hash,
        now,
    )?
    .ok_or(Error::Conflict)?;
    view_of(conn, org, stored)
}

/// Deletes a user (DELETE /Users/{id}) after checking `If-Match`.
pub fn remove_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
) -> Result<()> {
    locked_for_write(conn, org, id, if_match)?;
    delete_user(conn, org, id)?;
    Ok(())
}

/// The user a read-modify-write is about to change: its row locked for the transaction
/// (see [`lock_row`]) and `If-Match` checked against the version read under that lock.
fn locked_for_write(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
) -> Result<StoredResource> {
    lock_row(conn, Locked::User, org, id.as_str())?;
    let existing = find_user(conn, org, id)?.ok_or_else(|| user_not_found(id))?;
    check_if_match(if_match, existing.version)?;
    Ok(existing)
}

fn user_not_found(id: &UserId) -> Error {
    Error::not_found(format_args!("user {id}"))
}

/// Patches a user (PATCH /Users/{id}, RFC 7644 §3.5.2) in one transaction: `edit` works out
/// the change from the stored resource, and the version changes only when something did.
pub fn patch_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
    edit: impl FnOnce(&StoredResource) -> Result<Edit>,
    with_groups: bool,
    now: NaiveDateTime,
) -> Result<UserView> {
    let existing = locked_for_write(conn, org, id, if_match)?;
    let edit = edit(&existing)?;
    let stored = match &edit.prepared {
        Some(prepared) => update_user(
            conn,
            org,
            id,
            existing.version,
            prepared,
            edit.password_hash.as_deref(),
            now,
        )?
        .ok_or(Error::Conflict)?,
        None => existing,
    };
    if with_groups {
        view_of(conn, org, stored)
    } else {
        Ok(UserView {
            stored,
            groups: Vec::new(),
        })
    }
}
