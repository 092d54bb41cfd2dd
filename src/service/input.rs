//! What the front ends receive, parsed once for all of them: a value of these types is valid
//! by construction. The management API and the CLI word their own messages around the
//! errors (a JSON field or a `--flag`), never re-check what these functions accept.

use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use ipnet::IpNet;

use crate::auth::lifecycle::{
    MAX_ALLOWED_CIDRS, MAX_RATE_LIMIT, Network, Restrictions, Sources, ZONE_PREFIX,
};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::store::audit::EventKind;

/// Longest token name accepted.
pub const MAX_NAME_LEN: usize = 100;
/// Longest token description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 1000;
/// Longest expiry and inactivity policy, in days: ten years.
pub const MAX_DAYS: i64 = 3650;
/// How long a rotated token keeps working after its successor's first use, unless told.
pub const DEFAULT_GRACE_SECONDS: i64 = 3600;
/// The longest grace period a rotation may ask for: seven days.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

/// A token's name: 1 to [`MAX_NAME_LEN`] characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(text: &str) -> Result<TokenName> {
        let name = text.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(ProtocolError::invalid_value(format!(
                "a token name must be 1 to {MAX_NAME_LEN} characters"
            ))
            .into());
        }
        Ok(TokenName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A token's description: at most [`MAX_DESCRIPTION_LEN`] characters, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(text: String) -> Result<Description> {
        if text.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(ProtocolError::invalid_value(format!(
                "a token description has at most {MAX_DESCRIPTION_LEN} characters"
            ))
            .into());
        }
        Ok(Description(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date (the start of that day, UTC) or an RFC 3339 time.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(NaiveTime::MIN))
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.naive_utc())
        })
}

/// A token's expiry, which must lie in the future.
pub struct Expiry;

impl Expiry {
    /// From the management API's `expires_at` (a date or an RFC 3339 time) or
    /// `expires_in_days`; neither means never.
    pub fn from_fields(
        at: Option<&str>,
        in_days: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<Option<NaiveDateTime>, String> {
        let expiry = match (at, in_days) {
            (Some(_), Some(_)) => {
                return Err("give expires_at or expires_in_days, not both".to_owned());
            }
            (None, None) => return Ok(None),
            (None, Some(days)) => {
                days_from(now, days).ok_or_else(|| "expires_in_days is 1 to 3650".to_owned())?
            }
            (Some(text), None) => parse_time(text).ok_or_else(|| {
                format!("'{text}' is not a date (2027-01-31) or an RFC 3339 time")
            })?,
        };
        if expiry <= now {
            return Err("the expiry must lie in the future".to_owned());
        }
        Ok(Some(expiry))
    }

    /// From one text: a date, an RFC 3339 time, or a [duration](parse_duration) from now.
    pub fn parse(text: &str, now: NaiveDateTime) -> Result<NaiveDateTime, String> {
        let text = text.trim();
        let expiry = match parse_time(text) {
            Some(time) => time,
            None => {
                let length = parse_duration(text).map_err(|_| {
                    format!(
                        "'{text}' is not a date (2027-01-31), an RFC 3339 time or a duration (90d, 12h, 90)"
                    )
                })?;
                if length > TimeDelta::days(MAX_DAYS) {
                    return Err(format!("'{text}' is longer than {MAX_DAYS} days"));
                }
                now + length
            }
        };
        if expiry <= now {
            return Err(format!("'{text}' lies in the past"));
        }
        Ok(expiry)
    }
}

/// The one duration rule of every flag that takes one (`--expires`, `--grace`, `audit
/// --since`): a number with a unit (`90d`, `12h`, `30m`, `45s`), or a plain number of days.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let not_a_duration = || format!("'{text}' is not a duration like 90d, 12h, 30m or 90 (days)");
    let number: i64 = number.parse().map_err(|_| not_a_duration())?;
    let unit_seconds: i64 = match unit.trim() {
        "" | "d" | "day" | "days" => 86400,
        "h" | "hour" | "hours" => 3600,
        "m" | "min" | "minutes" => 60,
        "s" | "seconds" => 1,
        _ => return Err(not_a_duration()),
    };
    // An overflowing product is a very long time, not a wrapped-around small number.
    let seconds = number.checked_mul(unit_seconds).unwrap_or(i64::MAX);
    Ok(TimeDelta::try_seconds(seconds).unwrap_or(TimeDelta::MAX))
}

/// `audit --since`: a date, an RFC 3339 time, or a [duration](parse_duration) ago.
pub fn parse_since(text: &str, now: NaiveDateTime) -> Result<NaiveDateTime, String> {
    parse_time(text)
        .or_else(|| {
            parse_duration(text)
                .ok()
                .and_then(|length| now.checked_sub_signed(length))
        })
        .ok_or_else(|| {
            format!(
                "'{}' is not a date, an RFC 3339 time or a duration ago (7d, 12h, 90)",
                text.trim()
            )
        })
}

/// The one list rule of every flag that takes several values (`--scope`, `--allow-ip`,
/// `--type`): repeated, comma-separated or space-separated, in any mix.
pub fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|value| value.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A per-token rate limit, in requests per minute.
pub fn parse_rate_limit(text: &str) -> Result<u32, String> {
    let range = format!(
        "a rate limit is 1 to {} requests per minute",
        thousands(MAX_RATE_LIMIT)
    );
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(|limit| u32::try_from(limit).ok())
        .filter(|limit| (1..=MAX_RATE_LIMIT).contains(limit))
        .ok_or(range)
}

/// An organization's default rate limit: requests per minute, or `off` for the server's.
pub fn parse_rate_limit_setting(text: &str) -> Result<Option<u32>, String> {
    match text.trim() {
        "off" | "default" | "none" => Ok(None),
        text => parse_rate_limit(text)
            .map(Some)
            .map_err(|range| format!("'{text}' is not a number or 'off': {range}")),
    }
}

/// `1000000` as `1,000,000`.
fn thousands(number: u32) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Audit event types, each one the log knows, else an error listing them all.
pub fn parse_event_kinds(values: &[String]) -> Result<Vec<EventKind>, String> {
    split_list(values)
        .iter()
        .map(|text| {
            EventKind::parse(text).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
                format!("unknown event type '{text}' (known: {})", known.join(", "))
            })
        })
        .collect()
}

fn days_from(now: NaiveDateTime, days: i64) -> Option<NaiveDateTime> {
    (1..=MAX_DAYS)
        .contains(&days)
        .then(|| now + TimeDelta::days(days))
}

/// Parses one allowlist entry: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
/// A CIDR with host bits set (`10.0.0.1/24`) is refused rather than silently widened or
/// narrowed: the writer meant either the address or the network, and only they know which.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        let network = net.trunc();
        if network != net {
            return Err(format!(
                "'{text}' has host bits set: write the network {network}, or the address {} alone",
                net.addr()
            ));
        }
        return Ok(net);
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("'{text}' is neither an IP address nor a CIDR"))
}

/// An allowlist, entry by entry; the first bad entry's error.
pub fn parse_networks(texts: &[String]) -> Result<Vec<IpNet>, String> {
    texts.iter().map(|text| parse_network(text)).collect()
}

/// The entries of a network rule: CIDRs or addresses, and zones as `zone:NAME`. Duplicates
/// are dropped (zones ignoring case), so a list means the same however often it names one.
pub fn parse_sources(texts: &[String]) -> Result<Sources, String> {
    let mut sources = Sources::default();
    for text in texts {
        match text.trim().strip_prefix(ZONE_PREFIX) {
            Some(name) => {
                let name = ZoneName::parse(name)?;
                if !sources.names_zone(name.as_str()) {
                    sources.zones.push(name.as_str().to_owned());
                }
            }
            None => {
                let net = parse_network(text)?;
                if !sources.cidrs.contains(&net) {
                    sources.cidrs.push(net);
                }
            }
        }
    }
    Ok(sources)
}

/// A token's network rule from its two lists, either of which may be absent: neither (or
/// only empty ones) is anywhere; both is refused, since "only from A" and "not from B" at
/// once is two rules, and Okta's model has one.
pub fn parse_network_rule(
    only_from: Option<&[String]>,
    not_from: Option<&[String]>,
) -> Result<Network, String> {
    let only_from = only_from
        .map(parse_sources)
        .transpose()?
        .unwrap_or_default();
    let not_from = not_from.map(parse_sources).transpose()?.unwrap_or_default();
    match (only_from.is_empty(), not_from.is_empty()) {
        (true, true) => Ok(Network::Any),
        (false, true) => Ok(Network::OnlyFrom(only_from)),
        (true, false) => Ok(Network::NotFrom(not_from)),
        (false, false) => Err(
            "a token is either used only from some networks or not from some networks, \
             not both"
                .to_owned(),
        ),
    }
}

/// A network rule and a rate limit, within their limits.
pub fn restrictions(network: Network, rate_limit_per_minute: Option<u32>) -> Result<Restrictions> {
    let restrictions = Restrictions {
        network,
        rate_limit_per_minute,
    };
    restrictions.validate()?;
    Ok(restrictions)
}

/// Longest zone name accepted.
pub const MAX_ZONE_NAME_LEN: usize = 64;

/// A zone's name: 1 to [`MAX_ZONE_NAME_LEN`] characters, trimmed, without whitespace, commas
/// or control characters, so that `zone:NAME` stays one entry of a comma- or space-separated
/// list (`--only-from zone:Office,10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneName(String);

impl ZoneName {
    pub fn parse(text: &str) -> Result<ZoneName, String> {
        let name = text.trim();
        if name.is_empty() || name.chars().count() > MAX_ZONE_NAME_LEN {
            return Err(format!(
                "a zone name must be 1 to {MAX_ZONE_NAME_LEN} characters"
            ));
        }
        if name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(format!(
                "'{name}' is not a zone name: no spaces, commas or control characters \
                 (e.g. office-berlin)"
            ));
        }
        Ok(ZoneName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A zone's networks: 1 to [`MAX_ALLOWED_CIDRS`], duplicates dropped.
pub fn parse_zone_networks(texts: &[String]) -> Result<Vec<IpNet>, String> {
    let mut networks: Vec<IpNet> = Vec::new();
    for net in parse_networks(texts)? {
        if !networks.contains(&net) {
            networks.push(net);
        }
    }
    if networks.is_empty() || networks.len() > MAX_ALLOWED_CIDRS {
        return Err(format!(
            "a zone holds 1 to {MAX_ALLOWED_CIDRS} networks (CIDRs or addresses)"
        ));
    }
    Ok(networks)
}

/// How long a rotated token keeps working after its successor's first use: 0 to 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace(i64);

impl Default for Grace {
    fn default() -> Self {
        Grace(DEFAULT_GRACE_SECONDS)
    }
}

impl Grace {
    pub fn seconds(seconds: i64) -> Result<Grace> {
        if !(0..=MAX_GRACE_SECONDS).contains(&seconds) {
            return Err(ProtocolError::invalid_value(format!(
                "the grace period is 0 to {MAX_GRACE_SECONDS} seconds (7 days)"
            ))
            .into());
        }
        Ok(Grace(seconds))
    }

    /// A [duration](parse_duration): `90s`, `30m`, `1h`, `7d`.
    pub fn parse(text: &str) -> Result<Grace, String> {
        let seconds = parse_duration(text)?.num_seconds();
        Grace::seconds(seconds).map_err(|_| {
            format!(
                "'{}' is longer than 7 days, the longest grace period",
                text.trim()
            )
        })
    }

    pub fn as_seconds(self) -> i64 {
        self.0
    }
}

/// An organization's inactivity policy: a number of days (`30`, `30d`), or `off`/`never`.
pub fn parse_inactivity_days(text: &str) -> Result<Option<i32>, String> {
    match text.trim() {
        "off" | "never" => Ok(None),
        text => text
            .trim_end_matches('d')
            .parse::<i64>()
            .ok()
            .and_then(|days| inactivity_days(days).ok())
            .map(Some)
            .ok_or_else(|| format!("'{text}' is not a number of days (1-3650) or 'off'")),
    }
}

/// An inactivity policy's number of days, 1 to 3650.
pub fn inactivity_days(days: i64) -> Result<i32, String> {
    i32::try_from(days)
        .ok()
        .filter(|_| (1..=MAX_DAYS).contains(&days))
        .ok_or_else(|| format!("an inactivity policy is 1 to {MAX_DAYS} days"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noon() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn expiry_accepts_days_dates_and_times() {
        let parse = |text| Expiry::parse(text, noon());
        assert_eq!(parse("90d"), Ok(noon() + TimeDelta::days(90)));
        assert_eq!(parse("90"), Ok(noon() + TimeDelta::days(90)));
        assert_eq!(parse("12h"), Ok(noon() + TimeDelta::hours(12)));
        assert_eq!(parse("30 days"), Ok(noon() + TimeDelta::days(30)));
        assert_eq!(
            parse("2027-01-31").unwrap().to_string(),
            "2027-01-31 00:00:00"
        );
        assert_eq!(
            parse("2027-01-31T10:00:00+01:00").unwrap().to_string(),
            "2027-01-31 09:00:00"
        );
        assert_eq!(
            Expiry::from_fields(None, Some(90), noon()),
            Ok(Some(noon() + TimeDelta::days(90)))
        );
        assert_eq!(
            Expiry::from_fields(Some("2027-01-31"), None, noon()),
            Ok(parse_time("2027-01-31"))
        );
        assert_eq!(Expiry::from_fields(None, None, noon()), Ok(None));
    }

    #[test]
    fn expiry_in_the_past_or_garbage_is_refused() {
        assert!(
            Expiry::parse("2020-01-01", noon())
                .unwrap_err()
                .contains("past")
        );
        assert!(Expiry::parse("0d", noon()).is_err());
        assert!(
            Expiry::parse("soon", noon())
                .unwrap_err()
                .contains("not a date")
        );
        assert!(Expiry::from_fields(Some("2030-01-01"), Some(3), noon()).is_err());
        assert!(Expiry::from_fields(None, Some(3651), noon()).is_err());
        assert!(Expiry::from_fields(Some("90d"), None, noon()).is_err());
    }

    #[test]
    fn networks_are_parsed_and_normalised() {
        let net = |text| parse_network(text).map(|net| net.to_string());
        assert_eq!(net("10.0.0.0/8").unwrap(), "10.0.0.0/8");
        let host_bits = net("10.0.0.1/24").unwrap_err();
        assert!(host_bits.contains("10.0.0.0/24"), "{host_bits}");
        assert_eq!(net("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert!(net("10.0.0.0/33").is_err());
        assert!(net("example.com").is_err());
    }

    #[test]
    fn network_rules_take_cidrs_and_zones_in_one_list_but_not_both_rules() {
        let list = |texts: &[&str]| texts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        let sources = parse_sources(&list(&[
            "10.0.0.0/8",
            "zone:Office",
            "zone:office",
            "10.0.0.0/8",
        ]))
        .unwrap();
        assert_eq!(sources.entries(), ["10.0.0.0/8", "zone:Office"]);
        assert!(parse_sources(&list(&["zone:"])).is_err());
        assert!(parse_sources(&list(&["zone:a b"])).is_err());
        assert_eq!(parse_network_rule(None, Some(&[])), Ok(Network::Any));
        assert!(matches!(
            parse_network_rule(None, Some(&list(&["zone:x"]))),
            Ok(Network::NotFrom(_))
        ));
        assert!(
            parse_network_rule(Some(&list(&["zone:x"])), Some(&list(&["10.0.0.0/8"]))).is_err()
        );
        assert!(ZoneName::parse("<script>alert(1)</script>").is_ok());
        assert!(parse_zone_networks(&[]).is_err());
    }

    #[test]
    fn grace_periods_take_units_and_stop_at_seven_days() {
        let seconds = |text| Grace::parse(text).map(Grace::as_seconds);
        assert_eq!(seconds("90s"), Ok(90));
        assert_eq!(seconds("30m"), Ok(1800));
        assert_eq!(seconds("1h"), Ok(3600));
        assert_eq!(seconds("7d"), Ok(7 * 86400));
        assert_eq!(
            seconds("5"),
            Ok(5 * 86400),
            "a plain number is days everywhere"
        );
        assert!(seconds("8d").is_err());
        assert!(seconds("8").is_err());
        assert!(seconds("soon").is_err());
        assert!(
            seconds("999999999999999d").is_err(),
            "overflow is not wrapped"
        );
        assert!(Grace::seconds(MAX_GRACE_SECONDS + 1).is_err());
        assert!(Grace::seconds(-1).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse("  Okta ").unwrap().as_str(), "Okta");
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(Description::parse("d".repeat(MAX_DESCRIPTION_LEN + 1)).is_err());
    }

    #[test]
    fn inactivity_is_days_or_off() {
        assert_eq!(parse_inactivity_days("30"), Ok(Some(30)));
        assert_eq!(parse_inactivity_days("30d"), Ok(Some(30)));
        assert_eq!(parse_inactivity_days("off"), Ok(None));
        assert!(parse_inactivity_days("0").is_err());
    }

    #[test]
    fn one_rule_for_durations_lists_limits_and_event_types() {
        assert_eq!(parse_duration("90d"), Ok(TimeDelta::days(90)));
        assert_eq!(parse_duration("90"), Ok(TimeDelta::days(90)));
        assert_eq!(parse_duration("12h"), Ok(TimeDelta::hours(12)));
        assert!(parse_duration("-3d").is_err());
        assert_eq!(parse_since("7d", noon()), Ok(noon() - TimeDelta::days(7)));
        assert_eq!(
            split_list(&["a, b".to_owned(), "c d".to_owned()]),
            ["a", "b", "c", "d"]
        );
        assert_eq!(parse_rate_limit("1000000"), Ok(1_000_000));
        for bad in ["0", "1000001", "99999999999", "x"] {
            let error = parse_rate_limit(bad).unwrap_err();
            assert!(error.contains("1 to 1,000,000"), "{error}");
        }
        assert_eq!(
            parse_event_kinds(&["auth.failed,token.created".to_owned()]),
            Ok(vec![EventKind::AuthFailed, EventKind::TokenCreated])
        );
        let unknown = parse_event_kinds(&["auth.fail".to_owned()]).unwrap_err();
        assert!(unknown.contains("scim.write"), "{unknown}");
    }
}
