//! The two resource kinds: what differs between Users and Groups above the store.

use super::Kind;
use crate::error::{Error, Result};
use crate::scim::projection::Projection;
use crate::scim::resource::Prepared;
use crate::store::groups::{self, GroupView};
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
    const SHORT_COMPUTED: bool = true;
    const WRITES_CHANGE_COMPUTED: bool = false;
    const UNIQUE_ATTRIBUTES: &'static [&'static str] = &["id", "userName"];

    fn parse_id(text: &str) -> Result<UserId> {
        UserId::parse(text).ok_or_else(|| Error::not_found(format_args!("user {text}")))
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_groups()
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
}

impl Kind for Groups {
    type Id = GroupId;
    type View = GroupView;

    const HAS_PASSWORD: bool = false;
    /// Membership changes cost O(changes); echoing a large member list would not, and Entra
    /// advises against it.
    const PATCH_ANSWERS_NO_CONTENT: bool = true;
    const SHORT_COMPUTED: bool = false;
    const WRITES_CHANGE_COMPUTED: bool = true;
    const UNIQUE_ATTRIBUTES: &'static [&'static str] = &["id", "displayName"];

    fn parse_id(text: &str) -> Result<GroupId> {
        GroupId::parse(text).ok_or_else(|| Error::not_found(format_args!("group {text}")))
    }

    fn shows_memberships(projection: &Projection) -> bool {
        projection.needs_members()
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
}
