//! An organization's tokens as the console and the management API page through them:
//! filtered, sorted and counted in SQL, so that 10,000 tokens cost one page of rows.

use std::collections::HashSet;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::{TokenRecord, TokenRow, with_zones};
use crate::error::Result;
use crate::store::audit::{EventKind, not_a_scim_write};
use crate::store::conn::MultiBackend;
use crate::store::schema::{api_tokens, audit_events};
use crate::store::{DbConn, OrgId};

diesel::define_sql_function! {
    /// Both backends have it; an index on it serves the name order.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Compares a token's last activity (its last use, else its first, else its creation: what
/// inactivity counts from) with `$cutoff`. A macro because each comparison is its own diesel
/// expression type.
macro_rules! last_activity {
    ($compare:ident, $cutoff:expr) => {
        api_tokens::last_used_at
            .$compare($cutoff)
            .or(api_tokens::last_used_at.is_null().and(
                api_tokens::first_used_at
                    .$compare($cutoff)
                    .or(api_tokens::first_used_at
                        .is_null()
                        .and(api_tokens::created_at.$compare($cutoff))),
            ))
    };
}

/// Which tokens, by what they can do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Neither revoked, disabled, expired nor retired by rotation or inactivity.
    Active,
    /// Disabled and not revoked.
    Disabled,
    /// Active or disabled: neither revoked nor expired.
    Current,
    /// Revoked, expired, retired by rotation or by inactivity.
    Inactive,
    /// With a suspicious event since [`TokenSearch::suspicious`]'s time, whatever its state.
    Suspicious,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Name,
    LastUsed,
    Expires,
}

/// Suspicious events: which kinds, since when.
#[derive(Debug, Clone)]
pub struct Suspicion {
    pub kinds: Vec<EventKind>,
    pub since: NaiveDateTime,
}

/// One page of an organization's tokens.
#[derive(Debug, Clone)]
pub struct TokenSearch {
    pub org: OrgId,
    /// Case-insensitive; `%`, `_` and `\` match only themselves.
    pub name_contains: Option<String>,
    pub status: Option<StatusFilter>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
    /// What "now" is for expiry, and the organization's inactivity policy.
    pub now: NaiveDateTime,
    pub inactivity_days: Option<i32>,
    pub suspicion: Suspicion,
}

type Filtered<'a> = api_tokens::BoxedQuery<'a, MultiBackend>;

/// The tokens of the search's page, in its order, and how many match in all.
pub fn search_tokens(conn: &mut DbConn, search: &TokenSearch) -> Result<(Vec<TokenRecord>, i64)> {
    let total = filtered(search)
        .select(count_star())
        .get_result::<i64>(conn)?;
    let mut page = filtered(search);
    // Tokens without a last use or an expiry come last in both directions, and the id breaks
    // ties, so that pages neither repeat nor skip a token.
    page = match (search.sort, search.descending) {
        (SortKey::Created, false) => page.order_by(api_tokens::created_at.asc()),
        (SortKey::Created, true) => page.order_by(api_tokens::created_at.desc()),
        (SortKey::Name, false) => page.order_by(lower(api_tokens::name).asc()),
        (SortKey::Name, true) => page.order_by(lower(api_tokens::name).desc()),
        (SortKey::LastUsed, descending) => {
            let page = page.order_by(api_tokens::last_used_at.is_null().asc());
            if descending {
                page.then_order_by(api_tokens::last_used_at.desc())
            } else {
                page.then_order_by(api_tokens::last_used_at.asc())
            }
        }
        (SortKey::Expires, descending) => {
            let page = page.order_by(api_tokens::expires_at.is_null().asc());
            if descending {
                page.then_order_by(api_tokens::expires_at.desc())
            } else {
                page.then_order_by(api_tokens::expires_at.asc())
            }
        }
    };
    page = if search.descending {
        page.then_order_by(api_tokens::id.desc())
    } else {
        page.then_order_by(api_tokens::id.asc())
    };
    let page = page
        .limit(search.limit)
        .offset(search.offset)
        .select(TokenRow::as_select());
    let rows = conn.planned_per_run(page).load::<TokenRow>(conn)?;
    Ok((with_zones(conn, rows)?, total))
}

/// The search's conditions, without order or paging: shared by the page and its count.
fn filtered(search: &TokenSearch) -> Filtered<'static> {
    let mut query = api_tokens::table
        .filter(api_tokens::org_id.eq(search.org.as_str().to_owned()))
        .into_boxed();
    if let Some(needle) = &search.name_contains {
        query = query.filter(
            lower(api_tokens::name)
                .like(format!("%{}%", escape_like(&needle.to_lowercase())))
                .escape('\\'),
        );
    }
    let now = search.now;
    match search.status {
        None => {}
        Some(StatusFilter::Disabled) => {
            query = query
                .filter(api_tokens::revoked_at.is_null())
                .filter(api_tokens::disabled_at.is_not_null());
        }
        Some(StatusFilter::Active) => {
            query = query
                .filter(api_tokens::revoked_at.is_null())
                .filter(api_tokens::disabled_at.is_null())
                .filter(
                    api_tokens::expires_at
                        .is_null()
                        .or(api_tokens::expires_at.gt(now)),
                )
                .filter(
                    api_tokens::grace_until
                        .is_null()
                        .or(api_tokens::grace_until.gt(now)),
                );
            if let Some(cutoff) = inactivity_cutoff(search) {
                query = query.filter(last_activity!(gt, cutoff));
            }
        }
        Some(StatusFilter::Current) => {
            let working = api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now))
                .and(
                    api_tokens::grace_until
                        .is_null()
                        .or(api_tokens::grace_until.gt(now)),
                );
            query = query.filter(api_tokens::revoked_at.is_null());
            query = match inactivity_cutoff(search) {
                None => query.filter(api_tokens::disabled_at.is_not_null().or(working)),
                Some(cutoff) => {
                    let used = last_activity!(gt, cutoff);
                    query.filter(api_tokens::disabled_at.is_not_null().or(working.and(used)))
                }
            };
        }
        Some(StatusFilter::Inactive) => {
            // The order of `lifecycle::refusal`: a disabled token reads disabled, not expired.
            let ended = api_tokens::expires_at
                .le(now)
                .or(api_tokens::grace_until.le(now));
            query = match inactivity_cutoff(search) {
                None => query.filter(
                    api_tokens::revoked_at
                        .is_not_null()
                        .or(api_tokens::disabled_at.is_null().and(ended)),
                ),
                Some(cutoff) => {
                    let unused = last_activity!(le, cutoff);
                    query.filter(
                        api_tokens::revoked_at
                            .is_not_null()
                            .or(api_tokens::disabled_at.is_null().and(ended.or(unused))),
                    )
                }
            };
        }
        Some(StatusFilter::Suspicious) => {
            let suspicion = &search.suspicion;
            let targets = audit_events::table
                .filter(audit_events::org_id.eq(search.org.as_str().to_owned()))
                .filter(audit_events::event_type.eq_any(kind_names(&suspicion.kinds)))
                .filter(audit_events::occurred_at.ge(suspicion.since))
                .select(audit_events::target);
            query = query.filter(api_tokens::id.nullable().eq_any(targets));
        }
    }
    query
}

fn inactivity_cutoff(search: &TokenSearch) -> Option<NaiveDateTime> {
    search
        .inactivity_days
        .map(|days| search.now - TimeDelta::days(i64::from(days)))
}

fn kind_names(kinds: &[EventKind]) -> Vec<String> {
    kinds.iter().map(|kind| kind.as_str().to_owned()).collect()
}

/// Which of `ids` (tokens of `org`) had a suspicious event: one query for a page of tokens,
/// over the `(org_id, target, occurred_at)` index.
pub fn suspicious_among(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
    suspicion: &Suspicion,
) -> Result<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let query = audit_events::table
        .filter(audit_events::org_id.eq(org.as_str().to_owned()))
        .filter(audit_events::target.eq_any(ids.to_vec()))
        .filter(not_a_scim_write())
        .filter(audit_events::event_type.eq_any(kind_names(&suspicion.kinds)))
        .filter(audit_events::occurred_at.ge(suspicion.since))
        .select(audit_events::target)
        .distinct();
    Ok(conn
        .planned_per_run(query)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

/// `text` for a `LIKE … ESCAPE '\\'` pattern: its wildcards match only themselves.
pub(crate) fn escape_like(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}
