//! What a token's record says about its use: its restrictions, whether it may be used now
//! and why not, and when it stops working on its own. Pure rules over a stored token; the
//! use cases that change tokens are in `crate::service::tokens`.

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::store::tokens::TokenRecord;
use crate::store::zones::ZoneRule;

/// At most this many networks in one allowlist, deny list or zone.
pub const MAX_ALLOWED_CIDRS: usize = 100;
/// At most this many zones in one token's rule.
pub const MAX_RULE_ZONES: usize = 20;
/// The highest per-token rate limit, in requests per minute.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;
/// Responses to a token that stops working within this many days carry `Sunset`.
pub const EXPIRY_WARNING_DAYS: i64 = 14;
/// How a zone is written in a rule's list of networks: `zone:Office`.
pub const ZONE_PREFIX: &str = "zone:";

/// The networks a rule names: CIDRs, and zones of the token's organization by name (unique
/// in it, ignoring case).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    pub cidrs: Vec<IpNet>,
    pub zones: Vec<String>,
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.cidrs.is_empty() && self.zones.is_empty()
    }

    /// As the API and the CLI write them: CIDRs, then `zone:NAME`.
    pub fn entries(&self) -> Vec<String> {
        self.cidrs
            .iter()
            .map(ToString::to_string)
            .chain(self.zones.iter().map(|name| format!("{ZONE_PREFIX}{name}")))
            .collect()
    }

    /// Whether the rule names the zone called `name`.
    pub fn names_zone(&self, name: &str) -> bool {
        self.zones
            .iter()
            .any(|zone| zone.to_lowercase() == name.to_lowercase())
    }
}

/// Where a token may be used from (Okta's model): anywhere, only from some networks, or from
/// anywhere but some networks.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Network {
    #[default]
    Any,
    OnlyFrom(Sources),
    NotFrom(Sources),
}

impl Network {
    /// `any`, `only_from` or `not_from`.
    pub fn rule(&self) -> &'static str {
        match self {
            Network::Any => "any",
            Network::OnlyFrom(_) => "only_from",
            Network::NotFrom(_) => "not_from",
        }
    }

    /// The networks an only-from rule names.
    pub fn only_from(&self) -> Option<&Sources> {
        match self {
            Network::OnlyFrom(sources) => Some(sources),
            _ => None,
        }
    }

    /// The networks a not-from rule names.
    pub fn not_from(&self) -> Option<&Sources> {
        match self {
            Network::NotFrom(sources) => Some(sources),
            _ => None,
        }
    }

    /// Only from `cidrs`, or anywhere when there are none: the older allowlist's meaning.
    pub fn allowlist(cidrs: Vec<IpNet>) -> Network {
        if cidrs.is_empty() {
            Network::Any
        } else {
            Network::OnlyFrom(Sources {
                cidrs,
                zones: Vec::new(),
            })
        }
    }

    /// The network rule of a stored token.
    pub fn of(record: &TokenRecord) -> Network {
        let named = |rule: ZoneRule| {
            record
                .zones
                .iter()
                .filter(|zone| zone.rule == rule)
                .map(|zone| zone.name.clone())
                .collect()
        };
        let allowed = Sources {
            cidrs: stored_cidrs(record.allowed_cidrs.as_deref()),
            zones: named(ZoneRule::OnlyFrom),
        };
        let denied = Sources {
            cidrs: stored_cidrs(record.denied_cidrs.as_deref()),
            zones: named(ZoneRule::NotFrom),
        };
        if !allowed.is_empty() {
            Network::OnlyFrom(allowed)
        } else if !denied.is_empty() {
            Network::NotFrom(denied)
        } else {
            Network::Any
        }
    }
}

/// Where a token may be used from and how often.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restrictions {
    pub network: Network,
    pub rate_limit_per_minute: Option<u32>,
}

impl Restrictions {
    pub fn validate(&self) -> Result<()> {
        if let Network::OnlyFrom(sources) | Network::NotFrom(sources) = &self.network {
            if sources.is_empty() {
                return Err(ProtocolError::invalid_value(
                    "a network rule names at least one network or zone",
                )
                .into());
            }
            if sources.cidrs.len() > MAX_ALLOWED_CIDRS {
                return Err(ProtocolError::invalid_value(format!(
                    "a network rule holds at most {MAX_ALLOWED_CIDRS} networks"
                ))
                .into());
            }
            if sources.zones.len() > MAX_RULE_ZONES {
                return Err(ProtocolError::invalid_value(format!(
                    "a network rule names at most {MAX_RULE_ZONES} zones"
                ))
                .into());
            }
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

    pub fn rate_limit_i32(&self) -> Option<i32> {
        self.rate_limit_per_minute
            .and_then(|limit| i32::try_from(limit).ok())
    }

    /// The restrictions a stored token carries.
    pub fn of(record: &TokenRecord) -> Restrictions {
        Restrictions {
            network: Network::of(record),
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

/// The networks of a stored list. Entries were validated when written.
pub fn stored_cidrs(text: Option<&str>) -> Vec<IpNet> {
    text.unwrap_or_default()
        .split_whitespace()
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// Answers whether `address` may use the stored token, with the networks its zones have now.
/// Fails closed: a token with any network rule is refused when the client address is
/// unknown, and an only-from rule whose networks are all gone allows nothing. Checks both
/// lists, although a token has only one, so a row written otherwise is never more open.
pub fn address_allowed(record: &TokenRecord, address: Option<IpAddr>) -> bool {
    let has_text = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.trim().is_empty());
    let uses = |rule: ZoneRule| record.zones.iter().filter(move |zone| zone.rule == rule);
    let only_rule = has_text(&record.allowed_cidrs) || uses(ZoneRule::OnlyFrom).next().is_some();
    let not_rule = has_text(&record.denied_cidrs) || uses(ZoneRule::NotFrom).next().is_some();
    if !only_rule && !not_rule {
        return true;
    }
    let Some(address) = address.map(|a| a.to_canonical()) else {
        return false;
    };
    let networks = |own: &Option<String>, rule: ZoneRule| {
        stored_cidrs(own.as_deref())
            .into_iter()
            .chain(uses(rule).flat_map(|zone| stored_cidrs(Some(&zone.cidrs))))
    };
    let inside =
        |mut nets: Box<dyn Iterator<Item = IpNet> + '_>| nets.any(|net| net.contains(&address));
    let allowed = !only_rule
        || inside(Box::new(networks(
            &record.allowed_cidrs,
            ZoneRule::OnlyFrom,
        )));
    allowed && !inside(Box::new(networks(&record.denied_cidrs, ZoneRule::NotFrom)))
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

    use crate::store::zones::ZoneUse;
    use crate::store::{OrgId, TokenId, ZoneId};

    fn token(
        allowed: Option<&str>,
        denied: Option<&str>,
        zones: &[(ZoneRule, &str)],
    ) -> TokenRecord {
        TokenRecord {
            id: TokenId::from_db("t".to_owned()),
            org_id: OrgId::from_db("o".to_owned()),
            name: "t".to_owned(),
            description: None,
            display_prefix: "wxt_".to_owned(),
            scopes: "scim:read".to_owned(),
            created_at: NaiveDateTime::default(),
            created_by: "cli".to_owned(),
            expires_at: None,
            disabled_at: None,
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
            allowed_cidrs: allowed.map(str::to_owned),
            denied_cidrs: denied.map(str::to_owned),
            zones: zones
                .iter()
                .enumerate()
                .map(|(n, (rule, cidrs))| ZoneUse {
                    zone_id: ZoneId::from_db(n.to_string()),
                    name: format!("zone{n}"),
                    rule: *rule,
                    cidrs: (*cidrs).to_owned(),
                })
                .collect(),
            rate_limit_per_minute: None,
            first_used_at: None,
            rotated_from: None,
            superseded_by: None,
            rotation_grace_seconds: None,
            grace_until: None,
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn allowlists_match_ipv4_ipv6_and_mapped_addresses() {
        let list = token(Some("10.0.0.0/8 2001:db8::/32"), None, &[]);
        assert!(address_allowed(&list, ip("10.1.2.3")));
        assert!(address_allowed(&list, ip("::ffff:10.1.2.3")));
        assert!(address_allowed(&list, ip("2001:db8::1")));
        assert!(!address_allowed(&list, ip("192.0.2.1")));
        assert!(!address_allowed(&list, None));
        assert!(address_allowed(&token(None, None, &[]), None));
    }

    #[test]
    fn zones_and_deny_lists_decide_with_the_networks_they_have_now() {
        let only_zone = token(None, None, &[(ZoneRule::OnlyFrom, "192.0.2.0/24")]);
        assert!(address_allowed(&only_zone, ip("192.0.2.9")));
        assert!(!address_allowed(&only_zone, ip("198.51.100.1")));
        let emptied = token(None, None, &[(ZoneRule::OnlyFrom, "")]);
        assert!(!address_allowed(&emptied, ip("192.0.2.9")), "fails closed");

        let not_from = token(
            None,
            Some("10.0.0.0/8"),
            &[(ZoneRule::NotFrom, "2001:db8::/32")],
        );
        assert!(address_allowed(&not_from, ip("192.0.2.9")));
        assert!(!address_allowed(&not_from, ip("10.9.9.9")));
        assert!(!address_allowed(&not_from, ip("2001:db8::7")));
        assert!(
            !address_allowed(&not_from, None),
            "unknown address: refused"
        );

        let both = token(Some("10.0.0.0/8"), Some("10.1.0.0/16"), &[]);
        assert!(address_allowed(&both, ip("10.2.0.1")));
        assert!(!address_allowed(&both, ip("10.1.0.1")));
        assert_eq!(
            Network::of(&not_from).not_from().map(Sources::entries),
            Some(vec!["10.0.0.0/8".to_owned(), "zone:zone0".to_owned()])
        );
    }
}
