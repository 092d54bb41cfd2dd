//! Group memberships as rows `(group, member, member type)`, indexed both ways, so a change
//! touches only the rows it names.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use diesel::prelude::*;

use super::resource_table::ResourceTable;
use super::resources::IN_LIST_CHUNK;
use super::schema::{group_members, groups, users};
use super::{DbConn, GroupId, OrgId, UserId, write_limit};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{CompareOp, ResolvedFilter, ResolvedValue, matches_element};
use crate::scim::patch::MemberChange;
use crate::scim::resource::{GroupRef, MemberRef, MemberType};

/// A member whose existence in the organization has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub member_type: MemberType,
}

/// Most unknown ids an error message lists.
const UNKNOWN_IDS_SHOWN: usize = 10;

/// Checks that every referenced member is a user or group of `org`, and answers their real
/// types (Okta sends no `type`). Unknown ids, including other organizations' ids, are one
/// `invalidValue` naming them, so nothing is written for a request that is partly wrong.
pub fn resolve_members(
    conn: &mut DbConn,
    org: &OrgId,
    group: &GroupId,
    refs: &[MemberRef],
) -> Result<Vec<Member>> {
    let mut wanted: Vec<String> = Vec::with_capacity(refs.len());
    let mut seen = HashSet::new();
    let mut unknown = Vec::new();
    for member in refs {
        match UserId::parse(&member.value) {
            Some(id) if seen.insert(id.as_str().to_owned()) => wanted.push(id.as_str().to_owned()),
            Some(_) => {}
            None => unknown.push(member.value.clone()),
        }
    }
    if wanted.iter().any(|id| id == group.as_str()) {
        return Err(ProtocolError::invalid_value("a group cannot be a member of itself").into());
    }
    let mut found: HashMap<String, MemberType> = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(IN_LIST_CHUNK) {
        write_limit::check()?;
        let users = users::table::ids_in_org(conn, org, chunk)?;
        found.extend(users.into_iter().map(|id| (id, MemberType::User)));
        let groups = groups::table::ids_in_org(conn, org, chunk)?;
        found.extend(groups.into_iter().map(|id| (id, MemberType::Group)));
    }
    unknown.extend(wanted.iter().filter(|id| !found.contains_key(*id)).cloned());
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown
            .iter()
            .take(UNKNOWN_IDS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = unknown.len().saturating_sub(UNKNOWN_IDS_SHOWN);
        let suffix = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        return Err(ProtocolError::invalid_value(format!(
            "no user or group with id {}{suffix} exists in this organization",
            shown.join(", ")
        ))
        .into());
    }
    Ok(wanted
        .into_iter()
        .filter_map(|id| {
            found.get(&id).map(|kind| Member {
                member_type: *kind,
                id,
            })
        })
        .collect())
}

/// Adds members that are not members yet; answers how many rows were written.
pub fn add_members(
    conn: &mut DbConn,
    org: &OrgId,
    group: &GroupId,
    members: &[Member],
) -> Result<usize> {
    let mut written = 0;
    for chunk in members.chunks(IN_LIST_CHUNK) {
        write_limit::check()?;
        let ids: Vec<&str> = chunk.iter().map(|m| m.id.as_str()).collect();
        let present: HashSet<String> = conn
            .planned_per_run(
                group_members::table
                    .filter(group_members::group_id.eq(group.as_str()))
                    .filter(group_members::member_id.eq_any(&ids))
                    .select(group_members::member_id),
            )
            .load::<String>(conn)?
            .into_iter()
            .collect();
        // One statement per row: the multi-backend connection cannot batch inserts, and the
        // statement cache makes each one cheap; the cost stays O(members added).
        for member in chunk.iter().filter(|member| !present.contains(&member.id)) {
            written += diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(group.as_str()),
                    group_members::member_id.eq(member.id.as_str()),
                    group_members::org_id.eq(org.as_str()),
                    group_members::member_type.eq(member.member_type.as_str()),
                ))
                .execute(conn)?;
        }
    }
    Ok(written)
}

/// Removes the given members; ids that are not members are ignored.
pub fn remove_members(conn: &mut DbConn, group: &GroupId, ids: &[String]) -> Result<usize> {
    let mut removed = 0;
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        write_limit::check()?;
        removed += conn
            .planned_per_run(diesel::delete(
                group_members::table
                    .filter(group_members::group_id.eq(group.as_str()))
                    .filter(group_members::member_id.eq_any(chunk)),
            ))
            .execute(conn)?;
    }
    Ok(removed)
}

/// Makes the member list exactly `members`, writing only the difference; answers how many
/// rows changed.
pub fn set_members(
    conn: &mut DbConn,
    org: &OrgId,
    group: &GroupId,
    members: &[Member],
) -> Result<usize> {
    let current: HashSet<String> = group_members::table
        .filter(group_members::group_id.eq(group.as_str()))
        .select(group_members::member_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let wanted: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let stale: Vec<String> = current
        .iter()
        .filter(|id| !wanted.contains(id.as_str()))
        .cloned()
        .collect();
    let removed = remove_members(conn, group, &stale)?;
    let fresh: Vec<Member> = members
        .iter()
        .filter(|m| !current.contains(&m.id))
        .cloned()
        .collect();
    Ok(removed + add_members(conn, org, group, &fresh)?)
}

/// The members of each group, with display names, in a fixed number of queries per
/// [`IN_LIST_CHUNK`] groups (no query per member or per group).
pub fn members_of_groups(
    conn: &mut DbConn,
    org: &OrgId,
    group_ids: &[String],
) -> Result<HashMap<String, Vec<MemberRef>>> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for chunk in group_ids.chunks(IN_LIST_CHUNK) {
        // By group id alone, so the primary key (group_id, member_id) serves the lookup: with
        // org_id in the condition SQLite's planner walked the organisation's (org_id,
        // member_id) index instead. The ids come from the organisation's own group rows.
        rows.extend(
            conn.planned_per_run(
                group_members::table
                    .filter(group_members::group_id.eq_any(chunk))
                    .order((group_members::group_id, group_members::member_id))
                    .select((
                        group_members::group_id,
                        group_members::member_id,
                        group_members::member_type,
                    )),
            )
            .load::<(String, String, String)>(conn)?,
        );
    }
    let user_ids: Vec<String> = rows
        .iter()
        .filter(|(_, _, kind)| kind == MemberType::User.as_str())
        .map(|(_, id, _)| id.clone())
        .collect();
    let nested_ids: Vec<String> = rows
        .iter()
        .filter(|(_, _, kind)| kind == MemberType::Group.as_str())
        .map(|(_, id, _)| id.clone())
        .collect();
    let mut displays = user_displays(conn, org, &user_ids)?;
    displays.extend(group_displays(conn, org, &nested_ids)?);
    let mut members: HashMap<String, Vec<MemberRef>> = group_ids
        .iter()
        .map(|id| (id.clone(), Vec::new()))
        .collect();
    for (group, member, kind) in rows {
        members.entry(group).or_default().push(MemberRef {
            display: displays.get(&member).cloned(),
            member_type: MemberType::parse(&kind),
            value: member,
        });
    }
    Ok(members)
}

/// Each user's groups (RFC 7643 §4.1.2): direct memberships, and the groups that contain those
/// groups, transitively, as indirect ones. Cycles of nested groups end the walk, not the server.
pub fn groups_of_users(
    conn: &mut DbConn,
    org: &OrgId,
    user_ids: &[String],
) -> Result<HashMap<String, Vec<GroupRef>>> {
    if let [user] = user_ids {
        let groups = groups_of_user(conn, org, user)?;
        return Ok(if groups.is_empty() {
            HashMap::new()
        } else {
            HashMap::from([(user.clone(), groups)])
        });
    }
    let mut direct: HashMap<String, BTreeSet<String>> = HashMap::new();
    for chunk in user_ids.chunks(IN_LIST_CHUNK) {
        let memberships = group_members::table
            .filter(group_members::org_id.eq(org.as_str()))
            .select((group_members::member_id, group_members::group_id));
        let rows: Vec<(String, String)> = match chunk {
            // One user (a GET, or the answer to a write): an equality keeps the statement
            // prepared on PostgreSQL, where an array parameter is planned on every run.
            [user] => memberships
                .filter(group_members::member_id.eq(user))
                .load(conn)?,
            _ => conn
                .planned_per_run(memberships.filter(group_members::member_id.eq_any(chunk)))
                .load(conn)?,
        };
        for (user, group) in rows {
            direct.entry(user).or_default().insert(group);
        }
    }
    let parents = parent_groups(conn, org, direct.values().flatten().cloned().collect())?;
    let mut result = HashMap::with_capacity(direct.len());
    let mut every_group: BTreeSet<String> = BTreeSet::new();
    let mut memberships: Vec<(String, BTreeSet<String>, BTreeSet<String>)> = Vec::new();
    for (user, groups_direct) in direct {
        let mut indirect = BTreeSet::new();
        let mut frontier: Vec<String> = groups_direct.iter().cloned().collect();
        while let Some(group) = frontier.pop() {
            for parent in parents.get(&group).into_iter().flatten() {
                if !groups_direct.contains(parent) && indirect.insert(parent.clone()) {
                    frontier.push(parent.clone());
                }
            }
        }
        every_group.extend(groups_direct.iter().cloned());
        every_group.extend(indirect.iter().cloned());
        memberships.push((user, groups_direct, indirect));
    }
    let displays = group_displays(conn, org, &every_group.into_iter().collect::<Vec<_>>())?;
    for (user, groups_direct, indirect) in memberships {
        let refs = groups_direct
            .into_iter()
            .map(|group| (group, true))
            .chain(indirect.into_iter().map(|group| (group, false)))
            .map(|(group, is_direct)| GroupRef {
                display: displays.get(&group).cloned(),
                value: group,
                direct: is_direct,
            })
            .collect();
        result.insert(user, refs);
    }
    Ok(result)
}

/// One user's groups as [`groups_of_users`] answers them, in one statement (two on SQLite for
/// a user in nested groups) where the walk below takes four for such a user (three of them
/// `IN` lists that are prepared anew each time): the read behind every `GET /Users/{id}`.
fn groups_of_user(conn: &mut DbConn, org: &OrgId, user: &str) -> Result<Vec<GroupRef>> {
    if let DbConn::Sqlite(sqlite) = conn {
        // Most groups an IdP pushes are not inside other groups. SQLite runs the recursive
        // statement below with two temporary B-trees (its queue and the `UNION`'s), opened and
        // closed on every run: about a tenth of this read, which under `PATCH /Users` (its
        // answer shows the user's groups) was a third of an HTTP worker's time (issue 15).
        // The direct groups, each with whether it has a parent, come without them; only a
        // user with a nested group needs the walk. (On PostgreSQL that would be a second
        // round trip for such a user.)
        let direct: Vec<(String, Option<String>, bool)> = DirectGroupsOfUser {
            org: org.as_str(),
            user,
            group_type: MemberType::Group.as_str(),
        }
        .load(sqlite)?;
        if !direct.iter().any(|(_, _, nested)| *nested) {
            let direct = direct
                .into_iter()
                .map(|(group, display, _)| (group, display))
                .collect();
            return Ok(group_refs(direct, BTreeMap::new()));
        }
    }
    let query = GroupsOfUser {
        org: org.as_str(),
        user,
        group_type: MemberType::Group.as_str(),
    };
    let rows: Vec<(String, i32, Option<String>)> = match conn {
        DbConn::Sqlite(c) => query.load(c)?,
        DbConn::Postgres(c) => query.load(c)?,
    };
    let mut direct = BTreeMap::new();
    let mut indirect = BTreeMap::new();
    for (group_id, is_direct, display_name) in rows {
        if is_direct == 1 {
            direct.insert(group_id, display_name);
        } else {
            indirect.insert(group_id, display_name);
        }
    }
    Ok(group_refs(direct, indirect))
}

/// A user's groups as the resource shows them, from group id to display name: the direct ones
/// by id, then the indirect ones that are not also direct.
fn group_refs(
    direct: BTreeMap<String, Option<String>>,
    mut indirect: BTreeMap<String, Option<String>>,
) -> Vec<GroupRef> {
    indirect.retain(|group, _| !direct.contains_key(group));
    direct
        .into_iter()
        .map(|group| (group, true))
        .chain(indirect.into_iter().map(|group| (group, false)))
        .map(|((value, display), direct)| GroupRef {
            value,
            display,
            direct,
        })
        .collect()
}

/// [`groups_of_user`]'s statement: `(group id, 1 when direct, display name)` per group
/// reached, prepared once per connection (see [`super::statement`]). `UNION` drops repeated
/// rows, so a cycle of nested groups ends the recursion.
#[derive(Debug, Clone, Copy)]
struct GroupsOfUser<'a> {
    org: &'a str,
    user: &'a str,
    group_type: &'a str,
}

super::statement::cached_statement!(GroupsOfUser);

impl diesel::query_builder::Query for GroupsOfUser<'_> {
    type SqlType = (
        diesel::sql_types::Text,
        diesel::sql_types::Integer,
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    );
}

impl<DB> diesel::query_builder::QueryFragment<DB> for GroupsOfUser<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        out.push_sql(
            "WITH RECURSIVE reached(group_id, direct) AS (\
             SELECT group_id, 1 FROM group_members WHERE org_id = ",
        );
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" AND member_id = ");
        out.push_bind_param::<Text, str>(self.user)?;
        // CROSS JOIN: SQLite then keeps `reached` the outer loop and probes the
        // (org_id, member_id) index for each group reached; left to choose, it scanned the
        // organization's memberships instead.
        out.push_sql(
            " UNION SELECT parent.group_id, 0 FROM reached CROSS JOIN group_members parent \
             WHERE parent.member_id = reached.group_id AND parent.org_id = ",
        );
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" AND parent.member_type = ");
        out.push_bind_param::<Text, str>(self.group_type)?;
        out.push_sql(
            ") SELECT reached.group_id, reached.direct, groups.display_name FROM reached \
             LEFT JOIN groups ON groups.id = reached.group_id AND groups.org_id = ",
        );
        out.push_bind_param::<Text, str>(self.org)?;
        Ok(())
    }
}

/// A user's direct groups: `(group id, display name, whether the group is itself a member of
/// a group)`, prepared once per connection.
#[derive(Debug, Clone, Copy)]
struct DirectGroupsOfUser<'a> {
    org: &'a str,
    user: &'a str,
    group_type: &'a str,
}

super::statement::cached_statement!(DirectGroupsOfUser);

impl diesel::query_builder::Query for DirectGroupsOfUser<'_> {
    type SqlType = (
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
        diesel::sql_types::Bool,
    );
}

impl<DB> diesel::query_builder::QueryFragment<DB> for DirectGroupsOfUser<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        out.push_sql(
            "SELECT membership.group_id, groups.display_name, EXISTS (\
             SELECT 1 FROM group_members parent WHERE parent.org_id = ",
        );
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" AND parent.member_id = membership.group_id AND parent.member_type = ");
        out.push_bind_param::<Text, str>(self.group_type)?;
        out.push_sql(
            ") FROM group_members membership \
             LEFT JOIN groups ON groups.id = membership.group_id AND groups.org_id = ",
        );
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" WHERE membership.org_id = ");
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" AND membership.member_id = ");
        out.push_bind_param::<Text, str>(self.user)?;
        Ok(())
    }
}

/// The groups that contain each group as a member, for every group reachable upwards from
/// `start`, one query per level of nesting.
fn parent_groups(
    conn: &mut DbConn,
    org: &OrgId,
    start: BTreeSet<String>,
) -> Result<HashMap<String, Vec<String>>> {
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    let mut visited: HashSet<String> = start.iter().cloned().collect();
    let mut frontier: Vec<String> = start.into_iter().collect();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for chunk in frontier.chunks(IN_LIST_CHUNK) {
            let rows: Vec<(String, String)> = conn
                .planned_per_run(
                    group_members::table
                        .filter(group_members::org_id.eq(org.as_str()))
                        .filter(group_members::member_type.eq(MemberType::Group.as_str()))
                        .filter(group_members::member_id.eq_any(chunk))
                        .select((group_members::member_id, group_members::group_id)),
                )
                .load(conn)?;
            for (child, parent) in rows {
                if visited.insert(parent.clone()) {
                    next.push(parent.clone());
                }
                parents.entry(child).or_default().push(parent);
            }
        }
        frontier = next;
    }
    Ok(parents)
}

/// How users appear as members: their displayName, else their userName.
pub(super) fn user_displays(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
) -> Result<HashMap<String, String>> {
    let mut displays = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        let rows: Vec<(String, String, String, Option<String>)> = conn
            .planned_per_run(users::table.filter(users::id.eq_any(chunk)).select((
                users::id,
                users::org_id,
                users::user_name,
                users::display_name,
            )))
            .load(conn)?;
        displays.extend(
            rows.into_iter()
                .filter(|row| row.1 == org.as_str())
                .map(|(id, _, user_name, display_name)| (id, display_name.unwrap_or(user_name))),
        );
    }
    Ok(displays)
}

pub(super) fn group_displays(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
) -> Result<HashMap<String, String>> {
    let mut displays = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        let rows: Vec<(String, String, String)> = conn
            .planned_per_run(groups::table.filter(groups::id.eq_any(chunk)).select((
                groups::id,
                groups::org_id,
                groups::display_name,
            )))
            .load(conn)?;
        displays.extend(
            rows.into_iter()
                .filter(|row| row.1 == org.as_str())
                .map(|(id, _, display)| (id, display)),
        );
    }
    Ok(displays)
}

/// Applies a PATCH's membership changes in request order (RFC 7644 §3.5.2), touching only the
/// rows they name. Removals commute, so each run of consecutive ones is done in one pass:
/// member ids and display names become indexed lookups, and only a filter that needs the
/// member list to evaluate loads it, at most once per request. A request of N removals of a
/// group of any size thus costs O(N + members removed). Answers whether any row changed.
pub fn apply_member_changes(
    conn: &mut DbConn,
    org: &OrgId,
    group: &GroupId,
    changes: &[MemberChange],
) -> Result<bool> {
    let mut changed = false;
    let mut removals = Removals::default();
    let mut listed: Option<MemberList> = None;
    for change in changes {
        write_limit::check()?;
        if !matches!(
            change,
            MemberChange::Remove(_) | MemberChange::RemoveMatching(_)
        ) {
            changed |= removals.apply(conn, org, group, &mut listed)?;
        }
        let touched = match change {
            MemberChange::Remove(ids) => {
                removals
                    .ids
                    .extend(ids.iter().filter_map(|id| member_id(id)));
                0
            }
            MemberChange::RemoveMatching(filter) => {
                removals.add_filter(filter);
                0
            }
            MemberChange::Add(refs) => {
                let resolved = resolve_members(conn, org, group, refs)?;
                let added = add_members(conn, org, group, &resolved)?;
                if let Some(list) = &mut listed {
                    list.extend(listed_members(conn, org, &resolved)?);
                }
                added
            }
            MemberChange::RemoveAll => {
                listed = Some(MemberList::new());
                diesel::delete(
                    group_members::table.filter(group_members::group_id.eq(group.as_str())),
                )
                .execute(conn)?
            }
            MemberChange::ReplaceAll(refs) => {
                let resolved = resolve_members(conn, org, group, refs)?;
                let touched = set_members(conn, org, group, &resolved)?;
                if listed.is_some() {
                    listed = Some(listed_members(conn, org, &resolved)?.into_iter().collect());
                }
                touched
            }
        };
        changed |= touched > 0;
    }
    changed |= removals.apply(conn, org, group, &mut listed)?;
    Ok(changed)
}

/// A group's members as PATCH value filters see them, by id: loaded once per request, and
/// kept current as the request changes the group.
type MemberList = HashMap<String, serde_json::Value>;

/// A run of consecutive removals, waiting to be applied together.
#[derive(Default)]
struct Removals<'f> {
    ids: HashSet<String>,
    /// Lowercased: `display` is not caseExact, and the display columns are kept lowercased.
    displays: Vec<String>,
    /// Filters that only the in-memory evaluator can answer.
    filters: Vec<&'f ResolvedFilter>,
}

impl<'f> Removals<'f> {
    fn add_filter(&mut self, filter: &'f ResolvedFilter) {
        let mut named = Vec::new();
        if collect_named(filter, &mut named) {
            for name in named {
                match name {
                    Named::Id(id) => self.ids.extend(member_id(id)),
                    Named::Display(display) => self.displays.push(display.to_lowercase()),
                }
            }
        } else {
            self.filters.push(filter);
        }
    }

    /// Removes every member named so far and starts a new run; answers whether any was.
    fn apply(
        &mut self,
        conn: &mut DbConn,
        org: &OrgId,
        group: &GroupId,
        listed: &mut Option<MemberList>,
    ) -> Result<bool> {
        let Removals {
            ids: mut doomed,
            displays,
            filters,
        } = std::mem::take(self);
        if doomed.is_empty() && displays.is_empty() && filters.is_empty() {
            return Ok(false);
        }
        doomed.extend(members_displayed_as(conn, org, &displays)?);
        if !filters.is_empty() {
            let list = match listed {
                Some(list) => list,
                None => listed.insert(load_member_list(conn, org, group)?),
            };
            for (index, (id, element)) in list.iter().enumerate() {
                if index.is_multiple_of(IN_LIST_CHUNK) {
                    write_limit::check()?;
                }
                if filters
                    .iter()
                    .any(|filter| matches_element(filter, element))
                {
                    doomed.insert(id.clone());
                }
            }
        }
        let doomed: Vec<String> = doomed.into_iter().collect();
        let removed = remove_members(conn, group, &doomed)?;
        if let Some(list) = listed {
            for id in &doomed {
                list.remove(id);
            }
        }
        Ok(removed > 0)
    }
}

/// A member a removal filter names by a column that has an index.
enum Named<'f> {
    Id(&'f str),
    Display(&'f str),
}

/// Collects the names of `value eq "…"` and `display eq "…"` comparisons joined by `or`, and
/// answers whether that is all the filter is.
fn collect_named<'f>(filter: &'f ResolvedFilter, named: &mut Vec<Named<'f>>) -> bool {
    match filter {
        ResolvedFilter::Or(left, right) => {
            collect_named(left, named) && collect_named(right, named)
        }
        ResolvedFilter::Compare {
            target,
            op: CompareOp::Eq,
            value: ResolvedValue::String(text),
        } => match target.sub_attribute {
            Some("value") => {
                named.push(Named::Id(text));
                true
            }
            Some("display") if !target.case_exact => {
                named.push(Named::Display(text));
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// A member id as the rows store it; anything else names no member.
fn member_id(id: &str) -> Option<String> {
    UserId::parse(id).map(|id| id.as_str().to_owned())
}

/// The users and groups of `org` whose member `display` is one of `displays` (lowercased): a
/// user's displayName, or its userName when it has none; a group's displayName. Each lookup
/// runs on an index of the organisation, so the group's size does not matter.
fn members_displayed_as(
    conn: &mut DbConn,
    org: &OrgId,
    displays: &[String],
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for chunk in displays.chunks(IN_LIST_CHUNK) {
        write_limit::check()?;
        let by_display_name = users::table
            .filter(users::org_id.eq(org.as_str()))
            .filter(users::display_name_lower.eq_any(chunk))
            .select(users::id);
        ids.extend(conn.planned_per_run(by_display_name).load::<String>(conn)?);
        let by_user_name = users::table
            .filter(users::org_id.eq(org.as_str()))
            .filter(users::user_name_lower.eq_any(chunk))
            .filter(users::display_name.is_null())
            .select(users::id);
        ids.extend(conn.planned_per_run(by_user_name).load::<String>(conn)?);
        let groups_named = groups::table
            .filter(groups::org_id.eq(org.as_str()))
            .filter(groups::display_name_lower.eq_any(chunk))
            .select(groups::id);
        ids.extend(conn.planned_per_run(groups_named).load::<String>(conn)?);
    }
    Ok(ids)
}

fn load_member_list(conn: &mut DbConn, org: &OrgId, group: &GroupId) -> Result<MemberList> {
    let members = members_of_groups(conn, org, &[group.as_str().to_owned()])?;
    Ok(members
        .into_values()
        .flatten()
        .map(|member| (member.value.clone(), member_element(&member)))
        .collect())
}

/// `members` with their displays, as [`MemberList`] entries.
fn listed_members(
    conn: &mut DbConn,
    org: &OrgId,
    members: &[Member],
) -> Result<Vec<(String, serde_json::Value)>> {
    let ids_of = |kind: MemberType| -> Vec<String> {
        members
            .iter()
            .filter(|member| member.member_type == kind)
            .map(|member| member.id.clone())
            .collect()
    };
    let mut displays = user_displays(conn, org, &ids_of(MemberType::User))?;
    displays.extend(group_displays(conn, org, &ids_of(MemberType::Group))?);
    Ok(members
        .iter()
        .map(|member| MemberRef {
            value: member.id.clone(),
            display: displays.get(&member.id).cloned(),
            member_type: Some(member.member_type),
        })
        .map(|member| (member.value.clone(), member_element(&member)))
        .collect())
}

/// A member as a PATCH value filter sees it.
fn member_element(member: &MemberRef) -> serde_json::Value {
    let mut element = serde_json::Map::new();
    element.insert("value".into(), member.value.clone().into());
    if let Some(display) = &member.display {
        element.insert("display".into(), display.clone().into());
    }
    if let Some(kind) = member.member_type {
        element.insert("type".into(), kind.as_str().into());
    }
    serde_json::Value::Object(element)
}
