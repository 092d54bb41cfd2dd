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
use serde_json::Value;

mod sql;

use super::filter_sql::{self, Compiled, Predicate};
use super::groups::GroupView;
use super::render::ResourceView;
use super::resources::StoredResource;
use super::schema::{groups, users};
use super::users::UserView;
use super::{DbConn, OrgId, members};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{ResolvedFilter, ResolvedTarget, ResolvedValue, matches};
use sql::{
    SortColumn, candidate_groups, candidate_users, count_groups, count_users, group_sort_column,
    load_groups, load_users, page_groups, page_users, user_sort_column,
};

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
    /// `totalResults` as counted for the first page. Counting again on every page would cost
    /// a walk over the organisation's index per page (about 100 ms at a million users), so a
    /// cursor walk reports the total it started with.
    total: i64,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let micros = self.created_at.and_utc().timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}.{}.{}", self.total, self.id))
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
        let mut parts = decoded.splitn(3, '.');
        let (Some(micros), Some(total), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let total: i64 = total.parse().map_err(|_| invalid())?;
        let created_at = chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(invalid)?
            .naive_utc();
        Ok(Some(Cursor {
            created_at,
            id: id.to_owned(),
            total,
        }))
    }

    fn of(stored: &StoredResource, total: i64) -> Cursor {
        Cursor {
            created_at: stored.created_at,
            id: stored.id.clone(),
            total,
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
    run::<Users>(conn, org, search, with_groups)
}

/// Searches groups; `with_members` loads members (skip it for `excludedAttributes=members`).
pub fn search_groups(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
    with_members: bool,
) -> Result<Found<GroupView>> {
    run::<Groups>(conn, org, search, with_members)
}

/// The table-specific steps of a search.
trait Source {
    type Table;
    type View;
    /// The computed attribute a filter on this type may read: a user's `groups`, a group's
    /// `members`.
    const COMPUTED: &'static str;
    fn compile(conn: &mut DbConn, org: &OrgId, search: &Search) -> Result<Compiled<Self::Table>>;
    fn sort_column(target: &ResolvedTarget) -> Option<SortColumn>;
    fn count(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self::Table>>,
    ) -> Result<i64>;
    fn page(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self::Table>>,
        order: Option<(SortColumn, bool)>,
        window: &Window,
    ) -> Result<(Vec<StoredResource>, bool)>;
    fn candidates(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<Self::Table>>,
        max_scan: i64,
    ) -> Result<Vec<String>>;
    fn load(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>>;
    /// Adds the computed attribute when `load` is set.
    fn attach(
        conn: &mut DbConn,
        org: &OrgId,
        stored: Vec<StoredResource>,
        load: bool,
    ) -> Result<Vec<Self::View>>;
    fn document(view: &Self::View) -> Value;
    fn forget_computed(view: &mut Self::View);
}

/// Exact filters and indexed sorts run as one count and one page query; anything else is
/// finished in memory over the candidates SQL selects.
fn run<S: Source>(
    conn: &mut DbConn,
    org: &OrgId,
    search: &Search,
    with_computed: bool,
) -> Result<Found<S::View>> {
    let sort_column = search
        .sort
        .as_ref()
        .map(|sort| S::sort_column(&sort.target));
    let compiled = S::compile(conn, org, search)?;
    if compiled.exact && sort_column.as_ref().is_none_or(Option::is_some) {
        let order = sort_column
            .flatten()
            .map(|column| (column, descending(search)));
        let (stored, more) = S::page(conn, org, compiled.predicate, order, &search.window)?;
        let total = match known_total(&search.window, stored.len(), more) {
            Some(total) => total,
            None => {
                // Compiled again: a boxed predicate is consumed by the query it goes into.
                let again = S::compile(conn, org, search)?.predicate;
                S::count(conn, org, again)?
            }
        };
        let next_cursor = more
            .then(|| stored.last().map(|last| Cursor::of(last, total).encode()))
            .flatten();
        let items = S::attach(conn, org, stored, with_computed)?;
        return Ok(Found {
            total,
            items,
            next_cursor,
        });
    }
    let candidates = S::candidates(conn, org, compiled.predicate, search.max_scan)?;
    let filter_reads_computed = search
        .filter
        .as_ref()
        .is_some_and(|f| mentions(f, S::COMPUTED));
    let mut matched = Vec::new();
    for chunk in candidates.chunks(super::resources::IN_LIST_CHUNK) {
        let stored = S::load(conn, org, chunk)?;
        for view in S::attach(conn, org, stored, with_computed || filter_reads_computed)? {
            let document = S::document(&view);
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
    if !with_computed {
        found.items.iter_mut().for_each(S::forget_computed);
    }
    Ok(found)
}

struct Users;
struct Groups;

impl Source for Users {
    type Table = users::table;
    type View = UserView;
    const COMPUTED: &'static str = "groups";

    fn compile(conn: &mut DbConn, org: &OrgId, search: &Search) -> Result<Compiled<users::table>> {
        compile_users(conn, org, search)
    }
    fn sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
        user_sort_column(target)
    }
    fn count(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<users::table>>,
    ) -> Result<i64> {
        count_users(predicate, org, conn)
    }
    fn page(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<users::table>>,
        order: Option<(SortColumn, bool)>,
        window: &Window,
    ) -> Result<(Vec<StoredResource>, bool)> {
        page_users(conn, org, predicate, order, window)
    }
    fn candidates(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<users::table>>,
        max_scan: i64,
    ) -> Result<Vec<String>> {
        candidate_users(conn, org, predicate, max_scan)
    }
    fn load(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>> {
        load_users(conn, org, ids)
    }
    fn attach(
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
    fn document(view: &UserView) -> Value {
        view.render(None)
    }
    fn forget_computed(view: &mut UserView) {
        view.groups.clear();
    }
}

impl Source for Groups {
    type Table = groups::table;
    type View = GroupView;
    const COMPUTED: &'static str = "members";

    fn compile(conn: &mut DbConn, org: &OrgId, search: &Search) -> Result<Compiled<groups::table>> {
        compile_groups(conn, org, search)
    }
    fn sort_column(target: &ResolvedTarget) -> Option<SortColumn> {
        group_sort_column(target)
    }
    fn count(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<groups::table>>,
    ) -> Result<i64> {
        count_groups(predicate, org, conn)
    }
    fn page(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<groups::table>>,
        order: Option<(SortColumn, bool)>,
        window: &Window,
    ) -> Result<(Vec<StoredResource>, bool)> {
        page_groups(conn, org, predicate, order, window)
    }
    fn candidates(
        conn: &mut DbConn,
        org: &OrgId,
        predicate: Option<Predicate<groups::table>>,
        max_scan: i64,
    ) -> Result<Vec<String>> {
        candidate_groups(conn, org, predicate, max_scan)
    }
    fn load(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<StoredResource>> {
        load_groups(conn, org, ids)
    }
    fn attach(
        conn: &mut DbConn,
        org: &OrgId,
        stored: Vec<StoredResource>,
        load: bool,
    ) -> Result<Vec<GroupView>> {
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
    }
    fn document(view: &GroupView) -> Value {
        view.render(None)
    }
    fn forget_computed(view: &mut GroupView) {
        view.members = None;
    }
}

/// The total a page already implies, so no count is needed: a cursor carries it, and a page
/// that ends before its limit (the usual answer to an IdP's `userName eq` lookup) shows where
/// the results end. `None` when only counting can tell.
fn known_total(window: &Window, returned: usize, more: bool) -> Option<i64> {
    let returned = i64::try_from(returned).ok()?;
    match window {
        Window::Cursor {
            after: Some(cursor),
            ..
        } => Some(cursor.total),
        Window::Cursor { after: None, .. } if !more => Some(returned),
        Window::Index { offset, limit } if returned < *limit && (*offset == 0 || returned > 0) => {
            Some(offset + returned)
        }
        _ => None,
    }
}

fn descending(search: &Search) -> bool {
    search.sort.as_ref().is_some_and(|sort| sort.descending)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index(offset: i64, limit: i64) -> Window {
        Window::Index { offset, limit }
    }

    #[test]
    fn a_short_page_implies_the_total_and_anything_else_needs_a_count() {
        assert_eq!(
            known_total(&index(0, 100), 1, false),
            Some(1),
            "userName eq lookup"
        );
        assert_eq!(known_total(&index(0, 100), 0, false), Some(0), "no match");
        assert_eq!(
            known_total(&index(200, 100), 7, false),
            Some(207),
            "last page"
        );
        assert_eq!(
            known_total(&index(200, 100), 0, false),
            None,
            "past the end"
        );
        assert_eq!(known_total(&index(0, 100), 100, false), None, "a full page");
        assert_eq!(
            known_total(&index(0, 0), 0, false),
            None,
            "count=0 still reports the total"
        );
        let first = Window::Cursor {
            after: None,
            limit: 2,
        };
        assert_eq!(known_total(&first, 2, true), None);
        assert_eq!(known_total(&first, 1, false), Some(1));
        let later = Window::Cursor {
            after: Cursor::decode(
                &Cursor {
                    created_at: NaiveDateTime::default(),
                    id: "x".into(),
                    total: 42,
                }
                .encode(),
            )
            .ok()
            .flatten(),
            limit: 2,
        };
        assert_eq!(known_total(&later, 2, true), Some(42));
    }
}
