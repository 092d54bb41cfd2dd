//! A token's life after it is minted: status, restrictions, disable/enable, edits, rotation
//! and leak reports. Shared by the CLI and the management API; each function runs inside the
//! caller's write transaction and records its audit event there.

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;
use serde_json::json;

use super::Scopes;
use super::issue::{IssuedToken, TokenRequest, invalid, issue_restricted_token};
use super::token::TokenDigest;
use crate::error::{Error, Result};
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::tokens::{self, TokenChanges, TokenRecord};
use crate::store::{DbConn, OrgId, TokenId};

/// At most this many networks in one allowlist.
pub const MAX_ALLOWED_CIDRS: usize = 100;
/// The highest per-token rate limit, in requests per minute.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;
/// How long a rotated token keeps working after its successor's first use, unless told.
pub const DEFAULT_GRACE_SECONDS: i64 = 3600;
/// The longest grace period a rotation may ask for: seven days.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;
/// Responses to a token that stops working within this many days carry `Sunset`.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// Where a token may be used from and how often.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restrictions {
    /// Empty: from anywhere.
    pub allowed_cidrs: Vec<IpNet>,
    pub rate_limit_per_minute: Option<u32>,
}

impl Restrictions {
    pub fn validate(&self) -> Result<()> {
        if self.allowed_cidrs.len() > MAX_ALLOWED_CIDRS {
            return Err(invalid(format!(
                "an allowlist holds at most {MAX_ALLOWED_CIDRS} networks"
            )));
        }
        if self
            .rate_limit_per_minute
            .is_some_and(|limit| !(1..=MAX_RATE_LIMIT).contains(&limit))
        {
            return Err(invalid(format!(
                "a rate limit is 1 to {MAX_RATE_LIMIT} requests per minute"
            )));
        }
        Ok(())
    }

    /// As stored: space-separated networks, or `None` for no allowlist.
    pub fn allowed_cidrs_text(&self) -> Option<String> {
        cidrs_text(&self.allowed_cidrs)
    }

    pub fn rate_limit_i32(&self) -> Option<i32> {
        self.rate_limit_per_minute
            .and_then(|limit| i32::try_from(limit).ok())
    }

    /// The restrictions a stored token carries.
    pub fn of(record: &TokenRecord) -> Restrictions {
        Restrictions {
            allowed_cidrs: stored_cidrs(record.allowed_cidrs.as_deref()),
            rate_limit_per_minute: record
                .rate_limit_per_minute
                .and_then(|limit| u32::try_from(limit).ok()),
        }
    }
}

pub(crate) fn cidrs_text(cidrs: &[IpNet]) -> Option<String> {
    (!cidrs.is_empty()).then(|| {
        cidrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Parses one allowlist entry: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{text}' is neither an IP address nor a CIDR"))
}

/// The networks of a stored allowlist. Entries were validated when written.
pub fn stored_cidrs(text: Option<&str>) -> Vec<IpNet> {
    text.unwrap_or_default()
        .split_whitespace()
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// Answers whether `address` may use a token with this stored allowlist. A token with an
/// allowlist is refused when the client address is unknown.
pub fn address_allowed(allowed_cidrs: Option<&str>, address: Option<IpAddr>) -> bool {
    let Some(text) = allowed_cidrs.filter(|text| !text.trim().is_empty()) else {
        return true;
    };
    let Some(address) = address.map(|a| a.to_canonical()) else {
        return false;
    };
    stored_cidrs(Some(text))
        .iter()
        .any(|net| net.contains(&address))
}

/// Why a stored token may not be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Revoked,
    Disabled,
    Expired,
    /// Rotated, and the grace period after its successor's first use is over.
    Superseded,
    /// Unused for longer than its organization's inactivity policy allows.
    Inactive,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Revoked => "revoked",
            Refusal::Disabled => "disabled",
            Refusal::Expired => "expired",
            Refusal::Superseded => "superseded",
            Refusal::Inactive => "inactive",
        }
    }

    /// The status shown for a token refused for this reason: expiry, the end of a rotation's
    /// grace period and inactivity all read `expired`.
    pub fn status(self) -> &'static str {
        match self {
            Refusal::Revoked => "revoked",
            Refusal::Disabled => "disabled",
            Refusal::Expired | Refusal::Superseded | Refusal::Inactive => "expired",
        }
    }
}

/// Why `record` may not be used at `now`, if it may not.
pub fn refusal(
    record: &TokenRecord,
    inactivity_days: Option<i32>,
    now: NaiveDateTime,
) -> Option<Refusal> {
    if record.revoked_at.is_some() {
        Some(Refusal::Revoked)
    } else if record.disabled_at.is_some() {
        Some(Refusal::Disabled)
    } else if record.expires_at.is_some_and(|expiry| expiry <= now) {
        Some(Refusal::Expired)
    } else if record.grace_until.is_some_and(|end| end <= now) {
        Some(Refusal::Superseded)
    } else if inactivity_days.is_some_and(|days| {
        let last = record
            .last_used_at
            .or(record.first_used_at)
            .unwrap_or(record.created_at);
        last + TimeDelta::days(i64::from(days)) <= now
    }) {
        Some(Refusal::Inactive)
    } else {
        None
    }
}

/// `active`, `disabled`, `expired` or `revoked`.
pub fn status(
    record: &TokenRecord,
    inactivity_days: Option<i32>,
    now: NaiveDateTime,
) -> &'static str {
    refusal(record, inactivity_days, now).map_or("active", Refusal::status)
}

/// When the token stops working on its own: its expiry, or the end of its rotation grace.
pub fn end_of_life(record: &TokenRecord) -> Option<NaiveDateTime> {
    match (record.expires_at, record.grace_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Loads a token of `org`, or 404.
pub fn load_token(conn: &mut DbConn, org: &OrgId, id: &TokenId) -> Result<TokenRecord> {
    tokens::find_token(conn, org, id)?.ok_or_else(|| Error::not_found(format_args!("token {id}")))
}

/// Disables or re-enables a token (reversible); records `token.disabled` or `token.enabled`
/// when it changed. A revoked token stays revoked.
pub fn set_token_enabled(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    enabled: bool,
    actor: &str,
    now: NaiveDateTime,
) -> Result<TokenRecord> {
    let record = load_token(conn, org, id)?;
    if record.revoked_at.is_some() {
        return Err(invalid(format!(
            "token {id} is revoked; revocation cannot be undone"
        )));
    }
    let changed = tokens::set_token_disabled(conn, org, id, (!enabled).then_some(now))?;
    if changed {
        let event_type = if enabled {
            "token.enabled"
        } else {
            "token.disabled"
        };
        record_event(conn, org, event_type, actor, id, json!({}), now)?;
    }
    load_token(conn, org, id)
}

/// Edits name, description, allowlist and rate limit; records `token.updated`.
pub fn update_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    changes: &TokenChanges,
    actor: &str,
    now: NaiveDateTime,
) -> Result<TokenRecord> {
    load_token(conn, org, id)?;
    super::issue::check_labels(
        changes.name.as_deref(),
        changes.description.as_ref().and_then(Option::as_deref),
    )?;
    let changes = TokenChanges {
        name: changes.name.as_deref().map(str::trim).map(str::to_owned),
        ..changes.clone()
    };
    tokens::update_token(conn, org, id, &changes)?;
    let fields: Vec<&str> = [
        changes.name.as_ref().map(|_| "name"),
        changes.description.as_ref().map(|_| "description"),
        changes.allowed_cidrs.as_ref().map(|_| "allowed_cidrs"),
        changes
            .rate_limit_per_minute
            .as_ref()
            .map(|_| "rate_limit_per_minute"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !fields.is_empty() {
        record_event(
            conn,
            org,
            "token.updated",
            actor,
            id,
            json!({ "fields": fields }),
            now,
        )?;
    }
    load_token(conn, org, id)
}

/// Mints a successor with the predecessor's name, scopes, restrictions and expiry: the same
/// moment, not the same length from now, or a token could live forever by rotating itself.
/// Both work until the successor is first used; the predecessor then keeps `grace_seconds`
/// and dies. Records `token.rotated`.
pub fn rotate_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    grace_seconds: i64,
    actor: &str,
    now: NaiveDateTime,
) -> Result<(IssuedToken, TokenRecord)> {
    if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
        return Err(invalid(format!(
            "the grace period is 0 to {MAX_GRACE_SECONDS} seconds (7 days)"
        )));
    }
    let predecessor = load_token(conn, org, id)?;
    if let Some(reason) = refusal(&predecessor, None, now) {
        return Err(invalid(format!(
            "token {id} is {}; only a working token can be rotated",
            reason.as_str()
        )));
    }
    if let Some(successor) = &predecessor.superseded_by {
        return Err(invalid(format!(
            "token {id} was already rotated; rotate its successor {successor}"
        )));
    }
    let request = TokenRequest {
        name: predecessor.name.clone(),
        description: predecessor.description.clone(),
        scopes: Scopes::parse(&predecessor.scopes).map_err(Error::internal)?,
        expires_at: predecessor.expires_at,
        created_by: actor.to_owned(),
    };
    let issued = issue_restricted_token(
        conn,
        org,
        &request,
        &Restrictions::of(&predecessor),
        Some(id),
        now,
    )?;
    tokens::mark_superseded(conn, org, id, &issued.id, grace_seconds)?;
    record_event(
        conn,
        org,
        "token.rotated",
        actor,
        id,
        json!({
            "successor": issued.id,
            "successor_prefix": issued.display_prefix,
            "grace_period_seconds": grace_seconds,
        }),
        now,
    )?;
    Ok((issued, predecessor))
}

/// Revokes each reported token that is live, recording `token.revoked_as_leaked`; answers
/// how many were. Unknown and already revoked tokens are skipped silently.
pub fn revoke_leaked_tokens(
    conn: &mut DbConn,
    digests: &[TokenDigest],
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize> {
    let mut revoked = 0;
    for digest in digests {
        let Some(record) = tokens::find_token_by_digest(conn, digest.as_str())? else {
            continue;
        };
        if tokens::revoke_token(conn, &record.org_id, &record.id, now)? {
            revoked += 1;
            insert_audit_event(
                conn,
                &NewAuditEvent {
                    org_id: Some(&record.org_id),
                    event_type: "token.revoked_as_leaked",
                    actor: Some("leak-report"),
                    target: Some(record.id.as_str()),
                    remote_addr,
                    details: json!({ "prefix": record.display_prefix }),
                },
                now,
            )?;
        }
    }
    Ok(revoked)
}

/// The organization's tokens (newest first) and its inactivity policy.
pub fn list_tokens(conn: &mut DbConn, org: &OrgId) -> Result<(Vec<TokenRecord>, Option<i32>)> {
    let days = inactivity_policy(conn, org)?;
    Ok((tokens::list_tokens(conn, org)?, days))
}

/// One token of `org` (or 404) and the organization's inactivity policy.
pub fn load_token_with_policy(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
) -> Result<(TokenRecord, Option<i32>)> {
    let record = load_token(conn, org, id)?;
    Ok((record, inactivity_policy(conn, org)?))
}

fn inactivity_policy(conn: &mut DbConn, org: &OrgId) -> Result<Option<i32>> {
    Ok(crate::store::orgs::find_org(conn, org)?.and_then(|org| org.inactivity_days))
}

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

/// Filters by a name substring (ignoring case) and sorts; tokens without a last use or an
/// expiry come last in both directions, ties keep newest first. Organizations have few
/// tokens, so this runs in memory, alike on both backends.
pub fn arrange(
    mut records: Vec<TokenRecord>,
    name_contains: Option<&str>,
    sort: TokenSort,
) -> Vec<TokenRecord> {
    if let Some(needle) = name_contains.map(str::to_lowercase) {
        records.retain(|record| record.name.to_lowercase().contains(&needle));
    }
    let optional = |a: Option<NaiveDateTime>, b: Option<NaiveDateTime>| match (a, b) {
        (Some(a), Some(b)) if sort.descending => b.cmp(&a),
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    records.sort_by(|a, b| {
        let primary = match sort.key {
            TokenSortKey::Created => {
                let order = a.created_at.cmp(&b.created_at);
                if sort.descending {
                    order.reverse()
                } else {
                    order
                }
            }
            TokenSortKey::Name => {
                let order = a.name.to_lowercase().cmp(&b.name.to_lowercase());
                if sort.descending {
                    order.reverse()
                } else {
                    order
                }
            }
            TokenSortKey::LastUsed => optional(a.last_used_at, b.last_used_at),
            TokenSortKey::Expires => optional(a.expires_at, b.expires_at),
        };
        primary.then_with(|| b.created_at.cmp(&a.created_at))
    });
    records
}

/// A token's expiry from `expires_at` (a date or an RFC 3339 time) or `expires_in_days`;
/// neither means never. It must lie in the future.
pub fn expiry(
    at: Option<&str>,
    in_days: Option<i64>,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, String> {
    let expiry = match (at, in_days) {
        (Some(_), Some(_)) => {
            return Err("give expires_at or expires_in_days, not both".to_owned());
        }
        (None, None) => return Ok(None),
        (None, Some(days)) if (1..=3650).contains(&days) => now + TimeDelta::days(days),
        (None, Some(_)) => return Err("expires_in_days is 1 to 3650".to_owned()),
        (Some(text), None) => parse_time(text)
            .ok_or_else(|| format!("'{text}' is not a date (2027-01-31) or an RFC 3339 time"))?,
    };
    if expiry <= now {
        return Err("the expiry must lie in the future".to_owned());
    }
    Ok(Some(expiry))
}

/// A date (the start of that day, UTC) or an RFC 3339 time.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN))
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.naive_utc())
        })
}

fn record_event(
    conn: &mut DbConn,
    org: &OrgId,
    event_type: &str,
    actor: &str,
    target: &TokenId,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> Result<()> {
    insert_audit_event(
        conn,
        &NewAuditEvent {
            org_id: Some(org),
            event_type,
            actor: Some(actor),
            target: Some(target.as_str()),
            remote_addr: None,
            details,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists_match_ipv4_ipv6_and_mapped_addresses() {
        let list = Some("10.0.0.0/8 2001:db8::/32");
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        assert!(address_allowed(list, ip("10.1.2.3")));
        assert!(address_allowed(list, ip("::ffff:10.1.2.3")));
        assert!(address_allowed(list, ip("2001:db8::1")));
        assert!(!address_allowed(list, ip("192.0.2.1")));
        assert!(!address_allowed(list, None));
        assert!(address_allowed(None, None));
    }

    #[test]
    fn cidrs_are_parsed_and_normalised() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("example.com").is_err());
    }
}
