//! One page of a group's members, for the console's group page: a group of 100,000 members is
//! read a page at a time, never whole (its SCIM rendering reads every member).

use diesel::prelude::*;

use super::members::{group_displays, user_displays};
use super::schema::group_members;
use super::{DbConn, GroupId, OrgId};
use crate::error::Result;
use crate::scim::resource::{MemberRef, MemberType};

/// How many members the group has, and those from `offset` on (at most `limit`), in a fixed
/// order (member id, the primary key's second column, so the page is an index range).
/// `group` must be a group of `org`: the caller has found it there.
pub fn members_page(
    conn: &mut DbConn,
    org: &OrgId,
    group: &GroupId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<MemberRef>)> {
    let total: i64 = group_members::table
        .filter(group_members::group_id.eq(group.as_str()))
        .count()
        .get_result(conn)?;
    let rows: Vec<(String, String)> = group_members::table
        .filter(group_members::group_id.eq(group.as_str()))
        .order(group_members::member_id)
        .offset(offset.max(0))
        .limit(limit.max(0))
        .select((group_members::member_id, group_members::member_type))
        .load(conn)?;
    let ids_of = |wanted: MemberType| -> Vec<String> {
        rows.iter()
            .filter(|(_, kind)| kind == wanted.as_str())
            .map(|(id, _)| id.clone())
            .collect()
    };
    let mut displays = user_displays(conn, org, &ids_of(MemberType::User))?;
    displays.extend(group_displays(conn, org, &ids_of(MemberType::Group))?);
    let members = rows
        .into_iter()
        .map(|(id, kind)| MemberRef {
            display: displays.get(&id).cloned(),
            member_type: MemberType::parse(&kind),
            value: id,
        })
        .collect();
    Ok((total, members))
}
