//! The SQL side of a search: counting, ordering, windowing and loading rows.

use diesel::prelude::*;

use super::Window;
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::scim::filter::ResolvedTarget;
use crate::store::conn::MultiBackend;
use crate::store::filter_sql::Predicate;
use crate::store::resource_table::{ResourceRow, ResourceSqlType, ResourceTable};
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

/// The statements of a search, for a table of resources.
pub(super) trait SearchTable: ResourceTable + Sized {
    fn count_matching(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self>>,
    ) -> Result<i64>;

    /// Orders, windows and loads one page; with a cursor, fetches one row more to learn
    /// whether another page follows.
    fn page(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self>>,
        order: Option<(SortColumn, bool)>,
        window: &Window,
    ) -> Result<(Vec<StoredResource>, bool)>;

    /// Ids of the rows the SQL superset selects, in creation order; more than `max_scan` is
    /// `tooMany` rather than an unbounded scan.
    fn candidates(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self>>,
        max_scan: i64,
    ) -> Result<Vec<String>>;

    /// Rows by primary key alone, the organisation checked after loading (see
    /// `resource_table::in_org`), in creation order.
    fn load(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>>;
}

/// Orders a boxed query by a column that always has a value.
macro_rules! by {
    ($query:expr, $column:expr, $descending:expr) => {
        if $descending {
            $query.order_by($column.desc())
        } else {
            $query.order_by($column.asc())
        }
    };
}

/// Orders a boxed query by a nullable column. Absent values sort last in both directions, the
/// same on both backends (they disagree on where NULL goes by default).
macro_rules! nulls_last {
    ($query:expr, $column:expr, $descending:expr) => {{
        let query = $query.order_by($column.is_null().asc());
        if $descending {
            query.then_order_by($column.desc())
        } else {
            query.then_order_by($column.asc())
        }
    }};
}

/// Implements [`SearchTable`] for the `diesel::table!` named `$table`, given how it sorts by
/// the columns only some tables have.
macro_rules! search_table {
    ($table:ident { $($sort:ident => $how:ident!($column:ident)),* $(,)? }) => {
        impl SearchTable for $table::table {
            fn count_matching(
                conn: &mut DbConn,
                org: &OrgId,
                predicate: Option<Predicate<Self>>,
            ) -> Result<i64> {
                let mut query = $table::table
                    .filter($table::org_id.eq(org.as_str()))
                    .into_boxed();
                if let Some(predicate) = predicate {
                    query = query.filter(predicate);
                }
                Ok(conn.planned_per_run(query.count()).get_result(conn)?)
            }

            fn page(
                conn: &mut DbConn,
                org: &OrgId,
                predicate: Option<Predicate<Self>>,
                order: Option<(SortColumn, bool)>,
                window: &Window,
            ) -> Result<(Vec<StoredResource>, bool)> {
                let mut query: $table::BoxedQuery<'_, MultiBackend, ResourceSqlType> =
                    $table::table
                        .filter($table::org_id.eq(org.as_str()))
                        .select(Self::COLUMNS)
                        .into_boxed();
                if let Some(predicate) = predicate {
                    query = query.filter(predicate);
                }
                if let Some((column, descending)) = order {
                    query = match column {
                        $(SortColumn::$sort => $how!(query, $table::$column, descending),)*
                        SortColumn::ExternalId => {
                            nulls_last!(query, $table::external_id, descending)
                        }
                        SortColumn::Id => by!(query, $table::id, descending),
                        SortColumn::Created => by!(query, $table::created_at, descending),
                        SortColumn::LastModified => by!(query, $table::last_modified, descending),
                        #[allow(unreachable_patterns, reason = "where a table sorts by every column")]
                        _ => query,
                    };
                }
                query = query
                    .then_order_by($table::created_at.asc())
                    .then_order_by($table::id.asc());
                let rows: Vec<ResourceRow> = match window {
                    Window::Index { offset, limit } => conn
                        .planned_per_run(query.offset(*offset).limit(*limit))
                        .load(conn)?,
                    Window::Cursor { after, limit } => {
                        if let Some(after) = after {
                            // `created_at >= c AND (created_at > c OR id > i)`: the same rows
                            // as `(created_at, id) > (c, i)`, in a form whose first term is a
                            // range on the (org_id, created_at, id) index, so deep pages start
                            // where they should instead of walking from the first row.
                            query = query.filter(
                                $table::created_at.ge(after.created_at).and(
                                    $table::created_at
                                        .gt(after.created_at)
                                        .or($table::id.gt(after.id.clone())),
                                ),
                            );
                        }
                        conn.planned_per_run(query.limit(limit + 1)).load(conn)?
                    }
                };
                into_page(rows, window)
            }

            fn candidates(
                conn: &mut DbConn,
                org: &OrgId,
                predicate: Option<Predicate<Self>>,
                max_scan: i64,
            ) -> Result<Vec<String>> {
                let mut query = $table::table
                    .filter($table::org_id.eq(org.as_str()))
                    .select($table::id)
                    .order(($table::created_at.asc(), $table::id.asc()))
                    .into_boxed();
                if let Some(predicate) = predicate {
                    query = query.filter(predicate);
                }
                let ids = conn.planned_per_run(query.limit(max_scan + 1)).load(conn)?;
                within_scan(ids, max_scan)
            }

            fn load(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>> {
                let rows = conn
                    .planned_per_run(
                        $table::table
                            .filter($table::id.eq_any(ids))
                            .select(($table::org_id, Self::COLUMNS)),
                    )
                    .load(conn)?;
                in_creation_order(rows, org)
            }
        }
    };
}

search_table!(users {
    UserName => by!(user_name_lower),
    DisplayName => nulls_last!(display_name_lower),
});
search_table!(groups {
    DisplayName => by!(display_name_lower),
});

/// A page's rows, with whether another page follows: a cursor page loads one row more than
/// it returns to tell.
fn into_page(rows: Vec<ResourceRow>, window: &Window) -> Result<(Vec<StoredResource>, bool)> {
    let mut stored: Vec<StoredResource> = rows
        .into_iter()
        .map(ResourceRow::into_stored)
        .collect::<Result<_>>()?;
    let more = match window {
        Window::Cursor { limit, .. }
            if i64::try_from(stored.len()).unwrap_or(i64::MAX) > *limit =>
        {
            stored.truncate(usize::try_from(*limit).unwrap_or(0));
            true
        }
        _ => false,
    };
    Ok((stored, more))
}

fn within_scan(ids: Vec<String>, max_scan: i64) -> Result<Vec<String>> {
    if i64::try_from(ids.len()).unwrap_or(i64::MAX) > max_scan {
        return Err(ProtocolError::too_many(format!(
            "this filter cannot be answered from an index and would examine more than {max_scan} resources; \
             add a condition on userName, externalId, id, displayName, emails or members"
        ))
        .into());
    }
    Ok(ids)
}

fn in_creation_order(rows: Vec<(String, ResourceRow)>, org: &OrgId) -> Result<Vec<StoredResource>> {
    let mut stored: Vec<StoredResource> = rows
        .into_iter()
        .filter(|(owner, _)| owner == org.as_str())
        .map(|(_, row)| row.into_stored())
        .collect::<Result<_>>()?;
    stored.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(stored)
}
