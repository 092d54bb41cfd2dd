//! What a token's record says about its use: its restrictions, whether it may be used now
//! and why not, and when it stops working on its own. Pure rules over a stored token; the
//! use cases that change tokens are in `crate::service::tokens`.

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::store::tokens::TokenRecord;

/// At most this many networks in one allowlist.
pub const MAX_ALLOWED_CIDRS: usize = 100;
/// The highest per-token rate limit, in requests per minute.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;
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
            return Err(ProtocolError::invalid_value(format!(
                "an allowlist holds at most {MAX_ALLOWED_CIDRS} networks"
            ))
            .into());
        }
        if self
            .rate_limit_per_minute
            .is_some_and(|limit| !(1..=MAX_RATE_LIMIT).contains(&limit))
        {
            return Err(ProtocolError::invalid_value(format!(
                "a rate limit is 1 to {MAX_RATE_LIMIT} requests per minute"
            ))
            .into());
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
}
