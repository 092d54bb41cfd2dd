//! Users: one row each, their e-mail addresses as rows of their own for indexed lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::kind::{ComputedLoader, ResourceId, ResourceKind};
use super::members;
use super::resource_table::{ResourceTable, resource_table};
use super::resources::{Edit, StoredResource};
use super::schema::{user_emails, users};
use super::{DbConn, OrgId, UserId};
use crate::error::{Error, Result};
use crate::scim::resource::{GroupRef, Prepared, stored_emails};

/// What a user row holds besides the columns every resource row has, written whole on insert.
#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserAttributes<'a> {
    user_name: &'a str,
    user_name_lower: String,
    external_id: Option<&'a str>,
    display_name: Option<&'a str>,
    display_name_lower: Option<String>,
    active: bool,
    resource: String,
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

/// What an update writes of a user row: the resource, and of the indexed columns only those
/// whose value changed (`None`: left as stored). SQLite rewrites the entries of every index on
/// a column an UPDATE sets, changed or not: setting them all made an IdP's PATCH of one
/// attribute also delete and re-insert the user's entries in the `userName` and `externalId`
/// indexes, each at a random page, in the writer every SCIM write waits for.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    user_name: Option<&'a str>,
    user_name_lower: Option<String>,
    external_id: Option<Option<&'a str>>,
    display_name: Option<Option<&'a str>>,
    display_name_lower: Option<Option<String>>,
    active: Option<bool>,
    resource: String,
    /// `None` keeps the stored hash: clients never send passwords back, so a PUT without one
    /// must not erase it.
    password_hash: Option<&'a str>,
}

impl<'a> UserChanges<'a> {
    /// The changes from `stored` (the resource as the row holds it) to `prepared`. Every write
    /// sets the columns from the attributes of the resource it stores (see [`Prepared`]), so a
    /// column holds what the stored resource shows: NULL where it shows no such string, and
    /// `active` where it shows that boolean (otherwise the column is written).
    fn between(stored: &Value, prepared: &'a Prepared, password_hash: Option<&'a str>) -> Self {
        let changed =
            |name: &str, new: Option<&str>| stored.get(name).and_then(Value::as_str) != new;
        let user_name = prepared.user_name.as_deref().unwrap_or_default();
        let display_name = prepared.display_name.as_deref();
        let external_id = prepared.external_id.as_deref();
        let user_name_changed = changed("userName", Some(user_name));
        let display_name_changed = changed("displayName", display_name);
        UserChanges {
            user_name: user_name_changed.then_some(user_name),
            user_name_lower: user_name_changed.then(|| user_name.to_lowercase()),
            external_id: changed("externalId", external_id).then_some(external_id),
            display_name: display_name_changed.then_some(display_name),
            display_name_lower: display_name_changed.then(|| display_name.map(str::to_lowercase)),
            active: (stored.get("active").and_then(Value::as_bool) != Some(prepared.active))
                .then_some(prepared.active),
            resource: prepared.resource.to_string(),
            password_hash,
        }
    }
}

resource_table!(users, UserAttributes, UserChanges);

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

fn update(
    conn: &mut DbConn,
    org: &OrgId,
    existing: StoredResource,
    prepared: &Prepared,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<StoredResource>> {
    let id = existing.id.as_str();
    let changes = UserChanges::between(&existing.resource, prepared, password_hash);
    if !users::table::update(conn, org, id, existing.version, Some(changes), now)? {
        return Ok(None);
    }
    // Most updates leave the addresses alone (an IdP's PATCH of one attribute): rewriting their
    // rows anyway cost two B-tree deletes and two inserts in the writer every SCIM write waits
    // for. The rows are made from this list alone, so an equal list means equal rows.
    if stored_emails(&existing.resource) != prepared.emails {
        diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id))).execute(conn)?;
        write_emails(conn, org, id, prepared)?;
    }
    Ok(Some(existing.updated(Some(&prepared.resource), now)))
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

impl ResourceId for UserId {
    type Kind = Users;
    fn as_str(&self) -> &str {
        UserId::as_str(self)
    }
}

impl ResourceKind for Users {
    type Table = users::table;
    type View = UserView;
    type Computed = Vec<GroupRef>;
    const NOUN: &'static str = "user";
    const LOAD_COMPUTED: ComputedLoader<Self> = members::groups_of_users;

    fn view(stored: StoredResource, groups: Option<Vec<GroupRef>>) -> UserView {
        UserView {
            stored,
            groups: groups.unwrap_or_default(),
        }
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
        update(conn, org, existing, prepared, password_hash, now)?.ok_or(Error::Conflict)
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
