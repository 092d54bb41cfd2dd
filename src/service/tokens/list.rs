//! Listing an organization's tokens: filtered by name and sorted.

use chrono::NaiveDateTime;

use super::inactivity_policy;
use crate::error::Result;
use crate::store::tokens::{self as stored, TokenRecord};
use crate::store::{DbConn, OrgId};

/// How a token list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSort {
    pub key: TokenSortKey,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSortKey {
    Created,
    Name,
    LastUsed,
    Expires,
}

impl TokenSort {
    /// Parses `created` (default, newest first), `name`, `last_used` (`last-used`) or
    /// `expires`, and `asc`/`desc`.
    pub fn parse(key: Option<&str>, order: Option<&str>) -> Result<TokenSort, String> {
        let key = match key.map(|k| k.trim().replace('-', "_")).as_deref() {
            None | Some("created") => TokenSortKey::Created,
            Some("name") => TokenSortKey::Name,
            Some("last_used") => TokenSortKey::LastUsed,
            Some("expires") => TokenSortKey::Expires,
            Some(other) => {
                return Err(format!(
                    "cannot sort by '{other}': use created, name, last_used or expires"
                ));
            }
        };
        let descending = match order {
            None => matches!(key, TokenSortKey::Created | TokenSortKey::LastUsed),
            Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(format!("order '{other}' is neither asc nor desc")),
        };
        Ok(TokenSort { key, descending })
    }
}

/// The tokens of `org` whose name contains `name_contains` (ignoring case), sorted, and the
/// organization's inactivity policy.
pub fn list(
    conn: &mut DbConn,
    org: &OrgId,
    name_contains: Option<&str>,
    sort: TokenSort,
) -> Result<(Vec<TokenRecord>, Option<i32>)> {
    let days = inactivity_policy(conn, org)?;
    let records = stored::list_tokens(conn, org)?;
    Ok((arrange(records, name_contains, sort), days))
}

/// Filters and sorts; tokens without a last use or an expiry come last in both directions,
/// ties keep newest first. Organizations have few tokens, so this runs in memory, alike on
/// both backends.
fn arrange(
    mut records: Vec<TokenRecord>,
    name_contains: Option<&str>,
    sort: TokenSort,
) -> Vec<TokenRecord> {
    if let Some(needle) = name_contains.map(str::to_lowercase) {
        records.retain(|record| record.name.to_lowercase().contains(&needle));
    }
    let directed = |order: std::cmp::Ordering| {
        if sort.descending {
            order.reverse()
        } else {
            order
        }
    };
    let optional = |a: Option<NaiveDateTime>, b: Option<NaiveDateTime>| match (a, b) {
        (Some(a), Some(b)) => directed(a.cmp(&b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    records.sort_by(|a, b| {
        let primary = match sort.key {
            TokenSortKey::Created => directed(a.created_at.cmp(&b.created_at)),
            TokenSortKey::Name => directed(a.name.to_lowercase().cmp(&b.name.to_lowercase())),
            TokenSortKey::LastUsed => optional(a.last_used_at, b.last_used_at),
            TokenSortKey::Expires => optional(a.expires_at, b.expires_at),
        };
        primary.then_with(|| b.created_at.cmp(&a.created_at))
    });
    records
}
