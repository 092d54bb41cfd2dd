//! The two resource kinds: which store functions read and write each.

use serde_json::Value;

use super::Kind;
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::projection::Projection;
use crate::scim::resource::Prepared;
use crate::store::groups::{self, GroupView};
use crate::store::resources::{Edit, StoredResource};
use crate::store::search::{self, Found, Search};
use crate::store::users::{self, UserView};
use crate::store::{DbConn, GroupId, OrgId, UserId};

/// `/Users`.
pub struct Users;

/// `/Groups`.
pub struct Groups;

impl Kind for Users {
    type Id = UserId;
    type View = UserView;

    const HAS_PASSWORD: bool = true;
    const PATCH_ANSWERS_NO_CONTENT: bool = false;

    fn parse_id(text: &str) -> Result<UserId> {
        UserId::parse(text).ok_or_else(|| Error::not_found(format_args!("user {text}")))
    }

    fn id_str(id: &UserId) -> &str {
        id.as_str()
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_groups()
    }

    fn find(conn: &mut DbConn, org: &OrgId, id: &UserId, with_groups: bool) -> Result<UserView> {
        users::get_user(conn, org, id, with_groups)
    }

    fn search(
        conn: &mut DbConn,
        org: &OrgId,
        search: &Search,
        with_groups: bool,
    ) -> Result<Found<UserView>> {
        search::search_users(conn, org, search, with_groups)
    }

    fn insert(
        conn: &mut DbConn,
        org: &OrgId,
        prepared: &Prepared,
        password_hash: Option<&str>,
        now: chrono::NaiveDateTime,
    ) -> Result<UserView> {
        users::create_user(conn, org, prepared, password_hash, now)
    }

    fn replace(
        conn: &mut DbConn,
        org: &OrgId,
        id: &UserId,
        if_match: Option<&Precondition>,
        prepare: impl FnOnce(&Value) -> Result<Prepared, ProtocolError>,
        password_hash: Option<&str>,
        now: chrono::NaiveDateTime,
    ) -> Result<UserView> {
        users::replace_user(conn, org, id, if_match, prepare, password_hash, now)
    }

    fn patch(
        conn: &mut DbConn,
        org: &OrgId,
        id: &UserId,
        if_match: Option<&Precondition>,
        edit: impl FnOnce(&StoredResource) -> Result<Edit>,
        with_groups: bool,
        now: chrono::NaiveDateTime,
    ) -> Result<UserView> {
        users::patch_user(conn, org, id, if_match, edit, with_groups, now)
    }

    fn remove(
        conn: &mut DbConn,
        org: &OrgId,
        id: &UserId,
        if_match: Option<&Precondition>,
    ) -> Result<()> {
        users::remove_user(conn, org, id, if_match)
    }
}

impl Kind for Groups {
    type Id = GroupId;
    type View = GroupView;

    const HAS_PASSWORD: bool = false;
    /// Membership changes cost O(changes); echoing a large member list would not, and Entra
    /// advises against it.
    const PATCH_ANSWERS_NO_CONTENT: bool = true;

    fn parse_id(text: &str) -> Result<GroupId> {
        GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
    }

    fn id_str(id: &GroupId) -> &str {
        id.as_str()
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_members()
    }

    fn find(conn: &mut DbConn, org: &OrgId, id: &GroupId, with_members: bool) -> Result<GroupView> {
        groups::get_group(conn, org, id, with_members)
    }

    fn search(
        conn: &mut DbConn,
        org: &OrgId,
        search: &Search,
        with_members: bool,
    ) -> Result<Found<GroupView>> {
        search::search_groups(conn, org, search, with_members)
    }

    /// Groups have no password: `prepare` never finds one.
    fn insert(
        conn: &mut DbConn,
        org: &OrgId,
        prepared: &Prepared,
        _password_hash: Option<&str>,
        now: chrono::NaiveDateTime,
    ) -> Result<GroupView> {
        groups::create_group(conn, org, prepared, now)
    }

    fn replace(
        conn: &mut DbConn,
        org: &OrgId,
        id: &GroupId,
        if_match: Option<&Precondition>,
        prepare: impl FnOnce(&Value) -> Result<Prepared, ProtocolError>,
        _password_hash: Option<&str>,
        now: chrono::NaiveDateTime,
    ) -> Result<GroupView> {
        groups::replace_group(conn, org, id, if_match, prepare, now)
    }

    fn patch(
        conn: &mut DbConn,
        org: &OrgId,
        id: &GroupId,
        if_match: Option<&Precondition>,
        edit: impl FnOnce(&StoredResource) -> Result<Edit>,
        with_members: bool,
        now: chrono::NaiveDateTime,
    ) -> Result<GroupView> {
        groups::patch_group(conn, org, id, if_match, edit, with_members, now)
    }

    fn remove(
        conn: &mut DbConn,
        org: &OrgId,
        id: &GroupId,
        if_match: Option<&Precondition>,
    ) -> Result<()> {
        groups::remove_group(conn, org, id, if_match)
    }
}
