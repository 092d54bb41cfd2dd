//! Users: one row each, their e-mail addresses as rows of their own for indexed lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::members;
use super::resource_table::ResourceTable;
use super::resources::{self, Edit, ResourceKind, StoredResource};
use super::schema::{user_emails, users};
use super::{DbConn, OrgId, UserId};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::resource::{GroupRef, Prepared};

/// What a user row holds besides the columns every resource row has: written whole on insert,
/// and as the changes of an update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct UserAttributes<'a> {
    user_name: &'a str,
    user_name_lower: String,
    external_id: Option<&'a str>,
    display_name: Option<&'a str>,
    display_name_lower: Option<String>,
    active: bool,
    resource: String,
    /// `None` keeps the stored hash on an update: clients never send passwords back, so a PUT
    /// without one must not erase it.
    #[diesel(treat_none_as_null = false)]
    password_hash: Option<&'a str>,
}

impl<'a> UserAttributes<'a> {
    fn of(prepared: &'a Prepared, password_hash: Option<&'a str>) -> Self {
        let user_name = prepared.user_name.as_deref().unwrap_or_default();
        let display_name = prepared.display_name.as_deref();
        UserAttributes {
            user_name,
            user_name_lower: user_name.to_lowercase(),
            external_id: prepared.external_id.as_deref(),
            display_name,
            display_name_lower: display_name.map(str::to_lowercase),
            active: prepared.active,
            resource: prepared.resource.to_string(),
            password_hash,
        }
    }
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
    let attributes = UserAttributes::of(prepared, password_hash);
    users::table::insert(conn, org, id.as_str(), attributes, now)?;
    write_emails(conn, org, id.as_str(), prepared)?;
    Ok(StoredResource::inserted(
        id.as_str(),
        &prepared.resource,
        now,
    ))
}

pub fn find_user(conn: &mut DbConn, org: &OrgId, id: &UserId) -> Result<Option<StoredResource>> {
    users::table::find_by_id(conn, org, id.as_str())
}

/// Replaces a user's attributes if it is still at `expected_version`; answers `None` when a
/// concurrent writer got there first. A `None` password hash keeps the stored one.
pub fn update_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    expected_version: i64,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    update(
        conn,
        org,
        id.as_str(),
        expected_version,
        prepared,
        password_hash,
        now,
    )
}

fn update(
    conn: &mut DbConn,
    org: &OrgId,
    id: &str,
    expected_version: i64,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let attributes = UserAttributes::of(prepared, password_hash);
    if !users::table::update(conn, org, id, expected_version, Some(attributes), now)? {
        return Ok(None);
    }
    diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id))).execute(conn)?;
    write_emails(conn, org, id, prepared)?;
    users::table::find_by_id(conn, org, id)
}

/// Deletes a user and its memberships (RFC 7644 §3.6); answers whether it existed.
pub fn delete_user(conn: &mut DbConn, org: &OrgId, id: &UserId) -> Result<bool> {
    users::table::delete(conn, org, id.as_str())
}

fn write_emails(conn: &mut DbConn, org: &OrgId, id: &str, prepared: &Prepared) -> Result<()> {
    for (position, (value, kind)) in prepared.emails.iter().enumerate() {
        diesel::insert_into(user_emails::table)
            .values((
                user_emails::user_id.eq(id),
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

/// The User resource type, for the code written once for Users and Groups.
pub struct Users;

impl ResourceKind for Users {
    type Table = users::table;
    type View = UserView;
    const NOUN: &'static str = "user";

    fn views(
        conn: &mut DbConn,
        org: &OrgId,
        stored: Vec<StoredResource>,
        load: bool,
    ) -> Result<Vec<UserView>> {
        let mut groups = if load {
            let ids: Vec<String> = stored.iter().map(|user| user.id.clone()).collect();
            members::groups_of_users(conn, org, &ids)?
        } else {
            Default::default()
        };
        Ok(stored
            .into_iter()
            .map(|stored| UserView {
                groups: groups.remove(&stored.id).unwrap_or_default(),
                stored,
            })
            .collect())
    }

    fn delete(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<bool> {
        users::table::delete(conn, org, id)
    }

    /// A new password without other changes is not written: a PATCH always comes with the
    /// attributes it changed.
    fn write(
        conn: &mut DbConn,
        org: &OrgId,
        existing: StoredResource,
        edit: Edit,
        now: NaiveDateTime,
    ) -> Result<StoredResource> {
        let Some(prepared) = &edit.prepared else {
            return Ok(existing);
        };
        let password_hash = edit.password_hash.as_deref();
        update(
            conn,
            org,
            &existing.id,
            existing.version,
            prepared,
            password_hash,
            now,
        )?
        .ok_or(Error::Conflict)
    }
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
    resources::get::<Users>(conn, org, id.as_str(), with_groups)
}

/// Replaces a user (PUT /Users/{id}) (see [`resources::replace`]).
pub fn replace_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
    prepare: impl FnOnce(&serde_json::Value) -> Result<Prepared, ProtocolError>,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<UserView> {
    resources::replace::<Users>(
        conn,
        org,
        id.as_str(),
        if_match,
        prepare,
        password_hash,
        now,
    )
}

/// Deletes a user (DELETE /Users/{id}) after checking `If-Match`.
pub fn remove_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
) -> Result<()> {
    resources::remove::<Users>(conn, org, id.as_str(), if_match)
}

/// Patches a user (PATCH /Users/{id}) (see [`resources::patch`]).
pub fn patch_user(
    conn: &mut DbConn,
    org: &OrgId,
    id: &UserId,
    if_match: Option<&Precondition>,
    edit: impl FnOnce(&StoredResource) -> Result<Edit>,
    with_groups: bool,
    now: NaiveDateTime,
) -> Result<UserView> {
    resources::patch::<Users>(conn, org, id.as_str(), if_match, edit, with_groups, now)
}
