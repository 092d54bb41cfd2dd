//! Token lifecycle, organization policy and audit commands of the CLI.

use anyhow::{Context, anyhow};
use chrono::TimeDelta;
use clap::Args;
use secrecy::ExposeSecret;

use super::{find_org, format_time};
use crate::auth::lifecycle::{self, Restrictions};
use crate::store::audit::{AuditQuery, search_audit_events};
use crate::store::tokens::{self, TokenRecord};
use crate::store::{self, Store, TokenId, orgs};

/// `scimd audit`: filters, all optional.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this organization's events [default: all, including server-wide ones]
    #[arg(long)]
    org: Option<String>,
    /// Event types, repeatable or comma-separated (token.created, auth.failed, scim.write, …)
    #[arg(long = "type", value_delimiter = ',')]
    event_types: Vec<String>,
    /// Only events at or after this date or RFC 3339 time
    #[arg(long)]
    since: Option<String>,
    /// Only events about this token id or made with it
    #[arg(long)]
    token: Option<String>,
    /// At most this many events
    #[arg(long, default_value_t = 50)]
    limit: i64,
}

pub(super) fn restrictions(
    allow_ip: &[String],
    rate_limit: Option<u32>,
) -> anyhow::Result<Restrictions> {
    let allowed_cidrs = allow_ip
        .iter()
        .map(|text| lifecycle::parse_cidr(text).map_err(|e| anyhow!("--allow-ip {e}")))
        .collect::<anyhow::Result<_>>()?;
    Ok(Restrictions {
        allowed_cidrs,
        rate_limit_per_minute: rate_limit,
    })
}

pub(super) fn set_inactivity(store: &Store, name: &str, days: &str) -> anyhow::Result<()> {
    let org = find_org(store, name)?;
    let days = match days.trim() {
        "off" | "never" => None,
        text => Some(
            text.trim_end_matches('d')
                .parse::<i32>()
                .ok()
                .filter(|days| (1..=3650).contains(days))
                .ok_or_else(|| anyhow!("'{text}' is not a number of days (1-3650) or 'off'"))?,
        ),
    };
    store.write_blocking(|conn| orgs::set_inactivity_days(conn, &org.id, days))?;
    match days {
        Some(days) => println!(
            "tokens of '{}' unused for {days} days now stop working",
            org.name
        ),
        None => println!("tokens of '{}' no longer expire from inactivity", org.name),
    }
    Ok(())
}

fn find_any(store: &Store, id: &str) -> anyhow::Result<TokenRecord> {
    let id = TokenId::parse(id).ok_or_else(|| anyhow!("'{id}' is not a token id"))?;
    store
        .run_blocking(|conn| tokens::find_token_any_org(conn, &id))?
        .ok_or_else(|| anyhow!("no token with id {id}"))
}

pub(super) fn show_token(store: &Store, id: &str) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let org = store
        .run_blocking(|conn| orgs::find_org(conn, &token.org_id))?
        .context("the token's organization is gone")?;
    let now = store::now();
    let rows = [
        ("id", token.id.to_string()),
        ("organization", org.name.clone()),
        ("name", token.name.clone()),
        ("description", token.description.clone().unwrap_or_default()),
        ("prefix", format!("{}…", token.display_prefix)),
        (
            "status",
            lifecycle::status(&token, org.inactivity_days, now).to_owned(),
        ),
        ("scopes", token.scopes.clone()),
        ("created", format_time(Some(token.created_at))),
        ("created by", token.created_by.clone()),
        ("expires", format_time(token.expires_at)),
        ("last used", format_time(token.last_used_at)),
        (
            "last used from",
            token.last_used_ip.clone().unwrap_or_default(),
        ),
        (
            "allowed from",
            token
                .allowed_cidrs
                .clone()
                .unwrap_or_else(|| "anywhere".to_owned()),
        ),
        (
            "rate limit",
            token
                .rate_limit_per_minute
                .map_or_else(|| "server default".to_owned(), |n| format!("{n}/minute")),
        ),
        (
            "rotated from",
            token
                .rotated_from
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        (
            "superseded by",
            token
                .superseded_by
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        (
            "grace until",
            token
                .grace_until
                .map(|t| format_time(Some(t)))
                .unwrap_or_default(),
        ),
    ];
    for (label, value) in rows {
        if !value.is_empty() {
            println!("{label:<15} {value}");
        }
    }
    Ok(())
}

pub(super) fn set_enabled(store: &Store, id: &str, enabled: bool) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let updated = store.write_blocking(|conn| {
        lifecycle::set_token_enabled(conn, &token.org_id, &token.id, enabled, "cli", store::now())
    })?;
    let state = if updated.disabled_at.is_some() {
        "disabled"
    } else {
        "enabled"
    };
    println!(
        "token '{}' ({}…) is {state}",
        updated.name, updated.display_prefix
    );
    Ok(())
}

pub(super) fn rotate(store: &Store, id: &str, grace: &str) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let grace = parse_duration(grace).map_err(|e| anyhow!("--grace {e}"))?;
    let (issued, _) = store.write_blocking(|conn| {
        lifecycle::rotate_token(
            conn,
            &token.org_id,
            &token.id,
            grace.num_seconds(),
            "cli",
            store::now(),
        )
    })?;
    println!("{}", issued.plain.expose_secret());
    eprintln!(
        "rotated token '{}' ({}…): successor {} ({}…). The old token keeps working until the \
         successor is first used, then for {}s more.\nCopy the new token now: it will not be shown again.",
        token.name,
        token.display_prefix,
        issued.id,
        issued.display_prefix,
        grace.num_seconds(),
    );
    Ok(())
}

/// `90s`, `30m`, `1h`, `7d`, or plain seconds.
fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| text.split_at(at));
    let number: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 30m, 1h or 7d"))?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "'{text}' is not a duration like 90s, 30m, 1h or 7d"
            ));
        }
    };
    // An overflowing product is longer than 7 days too, not a wrapped-around small number.
    let seconds = number.checked_mul(unit_seconds).unwrap_or(i64::MAX);
    if !(0..=lifecycle::MAX_GRACE_SECONDS).contains(&seconds) {
        return Err(format!("'{text}' is longer than 7 days"));
    }
    Ok(TimeDelta::seconds(seconds))
}

pub(super) fn run_audit(store: &Store, args: &AuditArgs) -> anyhow::Result<()> {
    let org = args
        .org
        .as_deref()
        .map(|name| find_org(store, name))
        .transpose()?;
    let since = args
        .since
        .as_deref()
        .map(|text| {
            lifecycle::parse_time(text)
                .ok_or_else(|| anyhow!("--since '{text}' is not a date or an RFC 3339 time"))
        })
        .transpose()?;
    let query = AuditQuery {
        org: org.map(|org| org.id),
        event_types: args.event_types.clone(),
        since,
        until: None,
        token: args.token.clone(),
        before: None,
        limit: args.limit.clamp(1, 10_000),
    };
    let events = store.run_blocking(|conn| search_audit_events(conn, &query))?;
    println!(
        "{:<26}  {:<24}  {:<42}  {:<36}  {:<15}  DETAILS",
        "TIME", "TYPE", "ACTOR", "TARGET", "REMOTE"
    );
    for event in events {
        println!(
            "{:<26}  {:<24}  {:<42}  {:<36}  {:<15}  {}",
            event.occurred_at.format("%Y-%m-%d %H:%M:%S%.3f"),
            event.event_type,
            event.actor.unwrap_or_else(|| "-".to_owned()),
            event.target.unwrap_or_else(|| "-".to_owned()),
            event.remote_addr.unwrap_or_else(|| "-".to_owned()),
            event.details,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_periods_take_units_and_stop_at_seven_days() {
        assert_eq!(parse_duration("90s"), Ok(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_duration("1h"), Ok(TimeDelta::hours(1)));
        assert_eq!(parse_duration("7d"), Ok(TimeDelta::days(7)));
        assert_eq!(parse_duration("5"), Ok(TimeDelta::seconds(5)));
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(
            parse_duration("999999999999999d").is_err(),
            "overflow is not wrapped"
        );
    }
}
