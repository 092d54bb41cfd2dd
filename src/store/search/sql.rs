//! The SQL side of a search: counting, ordering, windowing and loading rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Window;
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::scim::filter::ResolvedTarget;
use crate::store::conn::MultiBackend;
use crate::store::filter_sql::Predicate;
use crate::store::resources::StoredResource;
use crate::store::schema::{groups, users};
use crate::store::{DbConn, OrgId};

/// Sortable user columns; `None` for attributes sorted in memory.
#[derive(Debug, Clone, Copy)]
pub(super) enum SortColumn {
    UserName,
    DisplayName,
    ExternalId,
    Id,
    Created,
    LastModified,
}

pub(super) fn user_sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
    if target.extension {
        return None;
    }
    match (target.attribute, target.sub_attribute) {
        ("userName", None) => Some(SortColumn::UserName),
        ("displayName", None) => Some(SortColumn::DisplayName),
        ("externalId", None) => Some(SortColumn::ExternalId),
        ("id", None) => Some(SortColumn::Id),
        ("meta", Some("created")) => Some(SortColumn::Created),
        ("meta", Some("lastModified")) => Some(SortColumn::LastModified),
        _ => None,
    }
}

pub(super) fn group_sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
    match user_sort_column(target) {
        Some(SortColumn::UserName) => None,
        other => other,
    }
}

type UserRow = (String, String, i64, NaiveDateTime, NaiveDateTime);

const USER_COLUMNS: (
    users::id,
    users::resource,
    users::version,
    users::created_at,
    users::last_modified,
) = (
    users::id,
    users::resource,
    users::version,
    users::created_at,
    users::last_modified,
);

const GROUP_COLUMNS: (
    groups::id,
    groups::resource,
    groups::version,
    groups::created_at,
    groups::last_modified,
) = (
    groups::id,
    groups::resource,
    groups::version,
    groups::created_at,
    groups::last_modified,
);

fn to_stored(row: UserRow) -> Result<StoredResource> {
    let (id, resource, version, created_at, last_modified) = row;
    StoredResource::from_row(id, &resource, version, created_at, last_modified)
}

pub(super) fn count_users(
    predicate: Option<Predicate<users::table>>,
    org: &OrgId,
    conn: &mut DbConn,
) -> Result<i64> {
    let mut query = users::table
        .filter(users::org_id.eq(org.as_str()))
        .into_boxed();
    if let Some(predicate) = predicate {
        query = query.filter(predicate);
    }
    Ok(conn.planned_per_run(query.count()).get_result(conn)?)
}

pub(super) fn count_groups(
    predicate: Option<Predicate<groups::table>>,
    org: &OrgId,
    conn: &mut DbConn,
) -> Result<i64> {
    let mut query = groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .into_boxed();
    if let Some(predicate) = predicate {
        query = query.filter(predicate);
    }
    Ok(conn.planned_per_run(query.count()).get_result(conn)?)
}

/// Orders, windows and loads one page; with a cursor, fetches one row more to learn whether
/// another page follows.
macro_rules! page_query {
    ($conn:expr, $org:expr, $table:ident, $columns:expr, $predicate:expr, $order:expr, $window:expr, $sorted:ident) => {{
        let mut query = $table::table
            .filter($table::org_id.eq($org.as_str()))
            .select($columns)
            .into_boxed();
        if let Some(predicate) = $predicate {
            query = query.filter(predicate);
        }
        query = $sorted(query, $order);
        query = query
            .then_order_by($table::created_at.asc())
            .then_order_by($table::id.asc());
        let limit = $window.limit();
        let rows: Vec<UserRow> = match $window {
            Window::Index { offset, limit } => $conn
                .planned_per_run(query.offset(*offset).limit(*limit))
                .load($conn)?,
            Window::Cursor { after, limit } => {
                if let Some(after) = after {
                    // `created_at >= c AND (created_at > c OR id > i)`: the same rows as
                    // `(created_at, id) > (c, i)`, in a form whose first term is a range on the
                    // (org_id, created_at, id) index, so deep pages start where they should
                    // instead of walking from the first row.
                    query = query.filter(
                        $table::created_at.ge(after.created_at).and(
                            $table::created_at
                                .gt(after.created_at)
                                .or($table::id.gt(after.id.clone())),
                        ),
                    );
                }
                $conn.planned_per_run(query.limit(limit + 1)).load($conn)?
            }
        };
        let mut stored: Vec<StoredResource> =
            rows.into_iter().map(to_stored).collect::<Result<_>>()?;
        let more = match $window {
            Window::Cursor { .. } if i64::try_from(stored.len()).unwrap_or(i64::MAX) > limit => {
                stored.truncate(usize::try_from(limit).unwrap_or(0));
                true
            }
            _ => false,
        };
        Ok((stored, more))
    }};
}

type UserQuery<'a> = users::BoxedQuery<
    'a,
    MultiBackend,
    (
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::BigInt,
        diesel::sql_types::Timestamp,
        diesel::sql_types::Timestamp,
    ),
>;
type GroupQuery<'a> = groups::BoxedQuery<
    'a,
    MultiBackend,
    (
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::BigInt,
        diesel::sql_types::Timestamp,
        diesel::sql_types::Timestamp,
    ),
>;

/// Absent values sort last in both directions, the same on both backends (they disagree on
/// where NULL goes by default).
fn sort_users(query: UserQuery<'_>, order: Option<(SortColumn, bool)>) -> UserQuery<'_> {
    macro_rules! by {
        ($column:expr, $descending:expr) => {
            if $descending {
                query.order_by($column.desc())
            } else {
                query.order_by($column.asc())
            }
        };
    }
    match order {
        None => query,
        Some((SortColumn::UserName, d)) => by!(users::user_name_lower, d),
        Some((SortColumn::DisplayName, d)) => {
            let query = query.order_by(users::display_name_lower.is_null().asc());
            if d {
                query.then_order_by(users::display_name_lower.desc())
            } else {
                query.then_order_by(users::display_name_lower.asc())
            }
        }
        Some((SortColumn::ExternalId, d)) => {
            let query = query.order_by(users::external_id.is_null().asc());
            if d {
                query.then_order_by(users::external_id.desc())
            } else {
                query.then_order_by(users::external_id.asc())
            }
        }
        Some((SortColumn::Id, d)) => by!(users::id, d),
        Some((SortColumn::Created, d)) => by!(users::created_at, d),
        Some((SortColumn::LastModified, d)) => by!(users::last_modified, d),
    }
}

fn sort_groups(query: GroupQuery<'_>, order: Option<(SortColumn, bool)>) -> GroupQuery<'_> {
    macro_rules! by {
        ($column:expr, $descending:expr) => {
            if $descending {
                query.order_by($column.desc())
            } else {
                query.order_by($column.asc())
            }
        };
    }
    match order {
        None | Some((SortColumn::UserName, _)) => query,
        Some((SortColumn::DisplayName, d)) => by!(groups::display_name_lower, d),
        Some((SortColumn::ExternalId, d)) => {
            let query = query.order_by(groups::external_id.is_null().asc());
            if d {
                query.then_order_by(groups::external_id.desc())
            } else {
                query.then_order_by(groups::external_id.asc())
            }
        }
        Some((SortColumn::Id, d)) => by!(groups::id, d),
        Some((SortColumn::Created, d)) => by!(groups::created_at, d),
        Some((SortColumn::LastModified, d)) => by!(groups::last_modified, d),
    }
}

pub(super) fn page_users(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<users::table>>,
    order: Option<(SortColumn, bool)>,
    window: &Window,
) -> Result<(Vec<StoredResource>, bool)> {
    page_query!(
        conn,
        org,
        users,
        USER_COLUMNS,
        predicate,
        order,
        window,
        sort_users
    )
}

pub(super) fn page_groups(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<groups::table>>,
    order: Option<(SortColumn, bool)>,
    window: &Window,
) -> Result<(Vec<StoredResource>, bool)> {
    page_query!(
        conn,
        org,
        groups,
        GROUP_COLUMNS,
        predicate,
        order,
        window,
        sort_groups
    )
}

/// Ids of the rows the SQL superset selects, in creation order; more than `max_scan` is
/// `tooMany` rather than an unbounded scan.
macro_rules! candidates {
    ($conn:expr, $org:expr, $table:ident, $predicate:expr, $max_scan:expr) => {{
        let mut query = $table::table
            .filter($table::org_id.eq($org.as_str()))
            .select($table::id)
            .order(($table::created_at.asc(), $table::id.asc()))
            .into_boxed();
        if let Some(predicate) = $predicate {
            query = query.filter(predicate);
        }
        let ids: Vec<String> = $conn.planned_per_run(query.limit($max_scan + 1)).load($conn)?;
        if i64::try_from(ids.len()).unwrap_or(i64::MAX) > $max_scan {
            return Err(ProtocolError::too_many(format!(
                "this filter cannot be answered from an index and would examine more than {} resources; \
                 add a condition on userName, externalId, id, displayName, emails or members",
                $max_scan
            ))
            .into());
        }
        Ok(ids)
    }};
}

pub(super) fn candidate_users(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<users::table>>,
    max_scan: i64,
) -> Result<Vec<String>> {
    candidates!(conn, org, users, predicate, max_scan)
}

pub(super) fn candidate_groups(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<groups::table>>,
    max_scan: i64,
) -> Result<Vec<String>> {
    candidates!(conn, org, groups, predicate, max_scan)
}

/// Rows by primary key alone, the organisation checked after loading (see
/// `members::in_org`), in creation order.
macro_rules! load_by_ids {
    ($conn:expr, $org:expr, $table:ident, $columns:expr, $ids:expr) => {{
        let rows: Vec<(String, UserRow)> = $conn
            .planned_per_run(
                $table::table
                    .filter($table::id.eq_any($ids))
                    .select(($table::org_id, $columns)),
            )
            .load($conn)?;
        in_creation_order(rows, $org)
    }};
}

pub(super) fn load_users(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
) -> Result<Vec<StoredResource>> {
    load_by_ids!(conn, org, users, USER_COLUMNS, ids)
}

pub(super) fn load_groups(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
) -> Result<Vec<StoredResource>> {
    load_by_ids!(conn, org, groups, GROUP_COLUMNS, ids)
}

fn in_creation_order(rows: Vec<(String, UserRow)>, org: &OrgId) -> Result<Vec<StoredResource>> {
    let mut stored: Vec<StoredResource> = rows
        .into_iter()
        .filter(|(owner, _)| owner == org.as_str())
        .map(|(_, row)| to_stored(row))
        .collect::<Result<_>>()?;
    stored.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(stored)
}
