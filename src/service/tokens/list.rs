//! Listing an organization's tokens: filtered by name and status, sorted and paged, all in
//! the database, so that an organization with 10,000 tokens costs a page of rows.

use chrono::NaiveDateTime;

use std::collections::HashMap;

use super::health::{self, Health};
use super::inactivity_policy;
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::service::audit_log::Party;
use crate::store::tokens::{self as stored, SortKey, StatusFilter, TokenRecord, TokenSearch};
use crate::store::{DbConn, OrgId};

/// A token with what its organization and its audit trail say about it: what every front
/// end shows.
#[derive(Debug, Clone)]
pub struct ShownToken {
    pub record: TokenRecord,
    pub inactivity_days: Option<i32>,
    /// A suspicious event in the last [`health::SUSPICION_DAYS`] days.
    pub suspicious: bool,
    /// Who created it: a person, `cli`, the first start, or another token with its name.
    pub created_by: Party,
}

impl ShownToken {
    pub fn health(&self, now: NaiveDateTime) -> Health {
        Health::of(&self.record, self.inactivity_days, self.suspicious, now)
    }
}

/// How a token list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSort {
    pub key: TokenSortKey,
    pub descending: bool,
}

pub type TokenSortKey = SortKey;

impl TokenSort {
    /// Parses `created` (default, newest first), `name`, `last_used` (`last-used`) or
    /// `expires`, and `asc`/`desc`.
    pub fn parse(key: Option<&str>, order: Option<&str>) -> Result<TokenSort, String> {
        let key = match key.map(|k| k.trim().replace('-', "_")).as_deref() {
            None | Some("" | "created") => SortKey::Created,
            Some("name") => SortKey::Name,
            Some("last_used") => SortKey::LastUsed,
            Some("expires") => SortKey::Expires,
            Some(other) => {
                return Err(format!(
                    "cannot sort by '{other}': use created, name, last_used or expires"
                ));
            }
        };
        let descending = match order {
            None | Some("") => matches!(key, SortKey::Created | SortKey::LastUsed),
            Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(format!("order '{other}' is neither asc nor desc")),
        };
        Ok(TokenSort { key, descending })
    }

    pub fn key_str(self) -> &'static str {
        match self.key {
            SortKey::Created => "created",
            SortKey::Name => "name",
            SortKey::LastUsed => "last_used",
            SortKey::Expires => "expires",
        }
    }

    pub fn order_str(self) -> &'static str {
        if self.descending { "desc" } else { "asc" }
    }
}

/// Parses a status filter: `active`, `disabled`, `current` (active or disabled), `inactive`
/// (revoked or expired) or `suspicious`; empty: any.
pub fn parse_status_filter(text: Option<&str>) -> Result<Option<StatusFilter>, String> {
    match text.map(str::trim) {
        None | Some("" | "all") => Ok(None),
        Some("active") => Ok(Some(StatusFilter::Active)),
        Some("current") => Ok(Some(StatusFilter::Current)),
        Some("disabled") => Ok(Some(StatusFilter::Disabled)),
        Some("inactive") => Ok(Some(StatusFilter::Inactive)),
        Some("suspicious") => Ok(Some(StatusFilter::Suspicious)),
        Some(other) => Err(format!(
            "status '{other}' is none of active, disabled, current, inactive, suspicious"
        )),
    }
}

/// The most tokens one page may hold.
pub const MAX_PAGE: i64 = 1000;

/// Which page of which tokens.
#[derive(Debug, Clone)]
pub struct TokenListQuery {
    pub name_contains: Option<String>,
    pub status: Option<StatusFilter>,
    pub sort: TokenSort,
    /// 1 to [`MAX_PAGE`].
    pub limit: i64,
    pub offset: i64,
}

/// One page of tokens and how many match in all.
#[derive(Debug, Clone)]
pub struct TokenPage {
    pub tokens: Vec<ShownToken>,
    pub total: i64,
}

/// The page of `org`'s tokens `query` asks for: two queries for the page and its count, one
/// for the suspicion of the tokens on it.
pub fn list(
    conn: &mut DbConn,
    org: &OrgId,
    query: &TokenListQuery,
    now: NaiveDateTime,
) -> Result<TokenPage> {
    if !(1..=MAX_PAGE).contains(&query.limit) || query.offset < 0 {
        return Err(ProtocolError::invalid_value(format!(
            "limit is 1 to {MAX_PAGE} and offset not negative"
        ))
        .into());
    }
    let inactivity_days = inactivity_policy(conn, org)?;
    let search = TokenSearch {
        org: org.clone(),
        name_contains: query
            .name_contains
            .as_deref()
            .map(str::trim)
            .filter(|needle| !needle.is_empty())
            .map(str::to_owned),
        status: query.status,
        sort: query.sort.key,
        descending: query.sort.descending,
        limit: query.limit,
        offset: query.offset,
        now,
        inactivity_days,
        suspicion: health::suspicion(now),
    };
    let (records, total) = stored::search_tokens(conn, &search)?;
    let tokens = annotated(conn, org, records, inactivity_days, now)?;
    Ok(TokenPage { tokens, total })
}

/// `records` of `org` with whether each is suspicious and who created each: one query for
/// each, whatever the number of records.
pub(super) fn annotated(
    conn: &mut DbConn,
    org: &OrgId,
    records: Vec<TokenRecord>,
    inactivity_days: Option<i32>,
    now: NaiveDateTime,
) -> Result<Vec<ShownToken>> {
    let ids: Vec<String> = records.iter().map(|r| r.id.as_str().to_owned()).collect();
    let suspicious = stored::suspicious_among(conn, org, &ids, &health::suspicion(now))?;
    let mut creators: Vec<String> = records
        .iter()
        .filter_map(|r| r.created_by.strip_prefix("token:"))
        .map(str::to_owned)
        .collect();
    creators.sort_unstable();
    creators.dedup();
    let names: HashMap<String, String> = if creators.is_empty() {
        HashMap::new()
    } else {
        super::names_by_id(conn, Some(org), &creators)?
            .into_iter()
            .collect()
    };
    Ok(records
        .into_iter()
        .map(|record| ShownToken {
            suspicious: suspicious.contains(record.id.as_str()),
            created_by: Party::of_actor(&record.created_by, &names),
            record,
            inactivity_days,
        })
        .collect())
}
