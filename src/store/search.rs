//! Filtered, sorted, paged listing of Users and Groups (RFC 7644 §3.4.2).
//!
//! Filters that compile exactly to SQL (see `filter_sql`) run entirely in the database:
//! one count and one page query over indexes. Others select a superset in SQL, bounded by
//! `max_scan`, and are finished in memory with the same evaluator PATCH uses, so every valid
//! filter answers correctly and none costs more than the limit allows.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::filter_sql::{self, Compiled, Predicate};
use super::groups::GroupView;
use super::resources::StoredResource;
use super::schema::{groups, users};
use super::users::UserView;
use super::{DbConn, OrgId, members};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{ResolvedFilter, ResolvedTarget, ResolvedValue, matches};
use crate::scim::resource::{self, Meta, RenderExtras};
use crate::scim::schema::{GROUP_RESOURCE_TYPE, ResourceTypeDef, USER_RESOURCE_TYPE};

/// What to list.
#[derive(Debug, Clone)]
pub struct Search {
    pub filter: Option<ResolvedFilter>,
    pub sort: Option<Sort>,
    pub window: Window,
    /// Most candidate rows a filter that SQL cannot answer exactly may examine.
    pub max_scan: i64,
}

/// `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone)]
pub struct Sort {
    pub target: ResolvedTarget,
    pub descending: bool,
}

/// Which slice of the ordered results to return.
#[derive(Debug, Clone)]
pub enum Window {
    /// `startIndex`/`count`: skip `offset` results.
    Index { offset: i64, limit: i64 },
    /// RFC 9865: continue after the position a previous page's `nextCursor` encoded.
    Cursor { after: Option<Cursor>, limit: i64 },
}

impl Window {
    fn limit(&self) -> i64 {
        match self {
            Window::Index { limit, .. } | Window::Cursor { limit, .. } => *limit,
        }
    }
}

/// A position in creation order: the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    created_at: NaiveDateTime,
    id: String,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let micros = self.created_at.and_utc().timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}.{}", self.id))
    }

    /// Reads a `cursor` parameter; an empty one means the first page.
    pub fn decode(text: &str) -> Result<Option<Cursor>, ProtocolError> {
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            ProtocolError::invalid_value(format!("'{text}' is not a cursor issued by this server"))
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let decoded = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = decoded.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let created_at = chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(invalid)?
            .naive_utc();
        Ok(Some(Cursor {
            created_at,
            id: id.to_owned(),
        }))
    }

    fn of(stored: &StoredResource) -> Cursor {
        Cursor {
            created_at: stored.created_at,
            id: stored.id.clone(),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Found<V> {
    pub total: i64,
    pub items: Vec<V>,
    /// Set when cursor paging and more results follow.
    pub next_cursor: Option<String>,
}

/// Searches users; `with_groups` loads each user's groups for rendering.
pub fn search_users(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
    with_groups: bool,
) -> Result<Found<UserView>> {
    let attach =
        |conn: &mut DbConn, stored: Vec<StoredResource>, load: bool| -> Result<Vec<UserView>> {
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
        };
    let sort_column = search
        .sort
        .as_ref()
        .map(|sort| user_sort_column(&sort.target));
    let compiled = compile_users(conn, org, search)?;
    if compiled.exact && sort_column.as_ref().is_none_or(Option::is_some) {
        let order = sort_column
            .flatten()
            .map(|column| (column, descending(search)));
        let total = count_users(compiled_again(compile_users(conn, org, search)?), org, conn)?;
        let (stored, next_cursor) =
            page_users(conn, org, compiled.predicate, order, &search.window)?;
        let items = attach(conn, stored, with_groups)?;
        return Ok(Found {
            total,
            items,
            next_cursor,
        });
    }
    let candidates = candidate_users(conn, org, compiled.predicate, search.max_scan)?;
    let needs_groups = with_groups
        || search
            .filter
            .as_ref()
            .is_some_and(|f| mentions(f, "groups"));
    let mut matched = Vec::new();
    for chunk in candidates.chunks(super::resources::IN_LIST_CHUNK) {
        let stored = load_users(conn, org, chunk)?;
        for view in attach(conn, stored, needs_groups)? {
            let document = user_document(&view);
            if search
                .filter
                .as_ref()
                .is_none_or(|filter| matches(filter, &document))
            {
                matched.push((view, document));
            }
        }
    }
    finish_in_memory(matched, search)
}

/// Searches groups; `with_members` loads members (skip it for `excludedAttributes=members`).
pub fn search_groups(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
    with_members: bool,
) -> Result<Found<GroupView>> {
    let attach =
        |conn: &mut DbConn, stored: Vec<StoredResource>, load: bool| -> Result<Vec<GroupView>> {
            let mut members = if load {
                let ids: Vec<String> = stored.iter().map(|group| group.id.clone()).collect();
                Some(members::members_of_groups(conn, org, &ids)?)
            } else {
                None
            };
            Ok(stored
                .into_iter()
                .map(|stored| GroupView {
                    members: members
                        .as_mut()
                        .map(|members| members.remove(&stored.id).unwrap_or_default()),
                    stored,
                })
                .collect())
        };
    let sort_column = search
        .sort
        .as_ref()
        .map(|sort| group_sort_column(&sort.target));
    let compiled = compile_groups(conn, org, search)?;
    if compiled.exact && sort_column.as_ref().is_none_or(Option::is_some) {
        let order = sort_column
            .flatten()
            .map(|column| (column, descending(search)));
        let total = count_groups(
            compiled_again(compile_groups(conn, org, search)?),
            org,
            conn,
        )?;
        let (stored, next_cursor) =
            page_groups(conn, org, compiled.predicate, order, &search.window)?;
        let items = attach(conn, stored, with_members)?;
        return Ok(Found {
            total,
            items,
            next_cursor,
        });
    }
    let candidates = candidate_groups(conn, org, compiled.predicate, search.max_scan)?;
    let needs_members = with_members
        || search
            .filter
            .as_ref()
            .is_some_and(|f| mentions(f, "members"));
    let mut matched = Vec::new();
    for chunk in candidates.chunks(super::resources::IN_LIST_CHUNK) {
        let stored = load_groups(conn, org, chunk)?;
        for view in attach(conn, stored, needs_members)? {
            let document = group_document(&view);
            if search
                .filter
                .as_ref()
                .is_none_or(|filter| matches(filter, &document))
            {
                matched.push((view, document));
            }
        }
    }
    let mut found = finish_in_memory(matched, search)?;
    if !with_members {
        for view in &mut found.items {
            view.members = None;
        }
    }
    Ok(found)
}

fn descending(search: &Search) -> bool {
    search.sort.as_ref().is_some_and(|sort| sort.descending)
}

fn compiled_again<T>(compiled: Compiled<T>) -> Option<Predicate<T>> {
    compiled.predicate
}

fn compile_users(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
) -> Result<Compiled<users::table>> {
    match &search.filter {
        Some(filter) => filter_sql::users_filter(conn, org, filter),
        None => Ok(Compiled {
            predicate: None,
            exact: true,
        }),
    }
}

fn compile_groups(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
) -> Result<Compiled<groups::table>> {
    match &search.filter {
        Some(filter) => filter_sql::groups_filter(conn, org, filter),
        None => Ok(Compiled {
            predicate: None,
            exact: true,
        }),
    }
}

/// Sortable user columns; `None` for attributes sorted in memory.
#[derive(Debug, Clone, Copy)]
enum SortColumn {
    UserName,
    DisplayName,
    ExternalId,
    Id,
    Created,
    LastModified,
}

fn user_sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
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

fn group_sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
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

fn count_users(
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
    Ok(query.count().get_result(conn)?)
}

fn count_groups(
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
    Ok(query.count().get_result(conn)?)
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
            Window::Index { offset, limit } => query.offset(*offset).limit(*limit).load($conn)?,
            Window::Cursor { after, limit } => {
                if let Some(after) = after {
                    query = query.filter(
                        $table::created_at
                            .gt(after.created_at)
                            .or($table::created_at
                                .eq(after.created_at)
                                .and($table::id.gt(after.id.clone()))),
                    );
                }
                query.limit(limit + 1).load($conn)?
            }
        };
        let mut stored: Vec<StoredResource> =
            rows.into_iter().map(to_stored).collect::<Result<_>>()?;
        let next_cursor = match $window {
            Window::Cursor { .. } if i64::try_from(stored.len()).unwrap_or(i64::MAX) > limit => {
                stored.truncate(usize::try_from(limit).unwrap_or(0));
                stored.last().map(|last| Cursor::of(last).encode())
            }
            _ => None,
        };
        Ok((stored, next_cursor))
    }};
}

type UserQuery<'a> = users::BoxedQuery<
    'a,
    super::conn::MultiBackend,
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
    super::conn::MultiBackend,
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

fn page_users(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<users::table>>,
    order: Option<(SortColumn, bool)>,
    window: &Window,
) -> Result<(Vec<StoredResource>, Option<String>)> {
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

fn page_groups(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<groups::table>>,
    order: Option<(SortColumn, bool)>,
    window: &Window,
) -> Result<(Vec<StoredResource>, Option<String>)> {
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
        let ids: Vec<String> = query.limit($max_scan + 1).load($conn)?;
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

fn candidate_users(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<users::table>>,
    max_scan: i64,
) -> Result<Vec<String>> {
    candidates!(conn, org, users, predicate, max_scan)
}

fn candidate_groups(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Option<Predicate<groups::table>>,
    max_scan: i64,
) -> Result<Vec<String>> {
    candidates!(conn, org, groups, predicate, max_scan)
}

fn load_users(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>> {
    users::table
        .filter(users::org_id.eq(org.as_str()))
        .filter(users::id.eq_any(ids))
        .order((users::created_at.asc(), users::id.asc()))
        .select(USER_COLUMNS)
        .load::<UserRow>(conn)?
        .into_iter()
        .map(to_stored)
        .collect()
}

fn load_groups(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>> {
    groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .filter(groups::id.eq_any(ids))
        .order((groups::created_at.asc(), groups::id.asc()))
        .select(GROUP_COLUMNS)
        .load::<UserRow>(conn)?
        .into_iter()
        .map(to_stored)
        .collect()
}

/// The resource as a filter sees it (attributes, `id`, `meta`, computed attributes).
fn document(rt: &ResourceTypeDef, stored: &StoredResource, extras: RenderExtras) -> Value {
    let meta = Meta {
        created: stored.created_at.and_utc(),
        last_modified: stored.last_modified.and_utc(),
        version: stored.version,
        location: String::new(),
    };
    resource::render(rt, &stored.resource, &stored.id, &meta, extras)
}

fn user_document(view: &UserView) -> Value {
    let extras = RenderExtras {
        members: None,
        groups: Some(view.groups.clone()),
    };
    document(&USER_RESOURCE_TYPE, &view.stored, extras)
}

fn group_document(view: &GroupView) -> Value {
    let extras = RenderExtras {
        members: view.members.clone(),
        groups: None,
    };
    document(&GROUP_RESOURCE_TYPE, &view.stored, extras)
}

/// Whether the filter reads `attribute` anywhere (to load computed attributes only then).
fn mentions(filter: &ResolvedFilter, attribute: &str) -> bool {
    match filter {
        ResolvedFilter::And(a, b) | ResolvedFilter::Or(a, b) => {
            mentions(a, attribute) || mentions(b, attribute)
        }
        ResolvedFilter::Not(inner) => mentions(inner, attribute),
        ResolvedFilter::Compare { target, .. }
        | ResolvedFilter::Present { target }
        | ResolvedFilter::ValuePath { target, .. } => target.attribute == attribute,
    }
}

/// Sorts (when asked) and windows matches found in memory.
fn finish_in_memory<V>(mut matched: Vec<(V, Value)>, search: &Search) -> Result<Found<V>> {
    if let Some(sort) = &search.sort {
        matched.sort_by(|(_, a), (_, b)| {
            compare_sort_values(
                sort_value(a, &sort.target),
                sort_value(b, &sort.target),
                sort.descending,
            )
        });
    }
    let total = i64::try_from(matched.len()).unwrap_or(i64::MAX);
    let (offset, limit) = match &search.window {
        Window::Index { offset, limit } => (*offset, *limit),
        Window::Cursor { .. } => {
            return Err(ProtocolError::invalid_value(
                "cursor paging needs a filter and sort order the database can answer (indexed attributes)",
            )
            .into());
        }
    };
    let items = matched
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(view, _)| view)
        .collect();
    Ok(Found {
        total,
        items,
        next_cursor: None,
    })
}

/// The value a resource sorts by: for a multi-valued attribute the primary value, else the
/// first (RFC 7644 §3.4.2.3).
fn sort_value<'a>(document: &'a Value, target: &ResolvedTarget) -> Option<&'a Value> {
    let container = if target.extension {
        document.get(target.urn)?
    } else {
        document
    };
    let value = container.get(target.attribute)?;
    let value = match value {
        Value::Array(items) => items
            .iter()
            .find(|item| item.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| items.first())?,
        other => other,
    };
    match target.sub_attribute {
        Some(sub) => value.get(sub),
        None => Some(value),
    }
    .filter(|value| !value.is_null())
}

/// Orders two sort values; absent ones come last whichever the direction.
fn compare_sort_values(a: Option<&Value>, b: Option<&Value>, descending: bool) -> Ordering {
    let ordering = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(Value::String(a)), Some(Value::String(b))) => a.to_lowercase().cmp(&b.to_lowercase()),
        (Some(Value::Number(a)), Some(Value::Number(b))) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(a), Some(b)) => a.to_string().cmp(&b.to_string()),
    };
    if descending {
        ordering.reverse()
    } else {
        ordering
    }
}

/// Rewrites comparisons with resource ids (`id`, `members.value`, `groups.value`,
/// `manager.value`) to the lowercase form ids are stored in. IdPs send UUIDs in either case
/// (Entra's examples are uppercase), and `id` is caseExact, so without this an uppercase id
/// would match in SQL but not in the in-memory check.
pub fn canonical_ids(filter: ResolvedFilter) -> ResolvedFilter {
    match filter {
        ResolvedFilter::And(a, b) => {
            ResolvedFilter::And(Box::new(canonical_ids(*a)), Box::new(canonical_ids(*b)))
        }
        ResolvedFilter::Or(a, b) => {
            ResolvedFilter::Or(Box::new(canonical_ids(*a)), Box::new(canonical_ids(*b)))
        }
        ResolvedFilter::Not(inner) => ResolvedFilter::Not(Box::new(canonical_ids(*inner))),
        ResolvedFilter::ValuePath { target, filter } => ResolvedFilter::ValuePath {
            target,
            filter: Box::new(canonical_ids(*filter)),
        },
        ResolvedFilter::Compare {
            target,
            op,
            value: ResolvedValue::String(text),
        } if names_an_id(&target) => {
            let text = uuid::Uuid::parse_str(&text).map_or(text, |id| id.to_string());
            ResolvedFilter::Compare {
                target,
                op,
                value: ResolvedValue::String(text),
            }
        }
        other => other,
    }
}

fn names_an_id(target: &ResolvedTarget) -> bool {
    matches!(
        (target.attribute, target.sub_attribute),
        ("id", None) | ("members" | "groups" | "manager", Some("value"))
    )
}
