//! Token, organization policy and audit commands of the CLI: each parses its flags with
//! `crate::service::input`, calls `crate::service::tokens` as an administrator and prints.

use anyhow::{Context, anyhow};
use clap::Args;
use secrecy::ExposeSecret;

use super::{find_org, format_time};
use crate::auth::Scopes;
use crate::auth::bounds::Permissions;
use crate::auth::lifecycle;
use crate::service::audit::Actor;
use crate::service::input::{self, Description, Expiry, Grace, TokenName};
use crate::service::tokens::{self, Caller, TokenRequest, TokenSort};
use crate::store::audit::{AuditQuery, search_audit_events};
use crate::store::tokens::TokenRecord;
use crate::store::{self, Store, TokenId, orgs};

/// The CLI acts as an administrator: not bounded by any token.
const CLI: Caller = Caller::Admin(Actor::Cli);

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

/// `scimd token create`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// Organization the token belongs to
    #[arg(long)]
    org: String,
    /// A name that says where the token is used, e.g. "Okta production"
    #[arg(long)]
    name: String,
    /// What the token is for
    #[arg(long)]
    description: Option<String>,
    /// Scopes, repeatable or space-separated: scim:read scim:write scim:delete tokens:manage
    /// [default: scim:read scim:write scim:delete]
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Expiry: a date (2027-01-31), an RFC 3339 time, or a number of days (90d) [default: never]
    #[arg(long)]
    expires: Option<String>,
    /// Only accept the token from these networks (CIDRs or addresses, IPv4 or IPv6),
    /// repeatable or comma-separated [default: anywhere]
    #[arg(long = "allow-ip", value_delimiter = ',')]
    allow_ip: Vec<String>,
    /// Requests per minute this token may make [default: the server's --rate-limit]
    #[arg(long)]
    rate_limit: Option<u32>,
}

pub(super) fn create_token(store: &Store, args: CreateTokenArgs) -> anyhow::Result<()> {
    let now = store::now();
    let scopes = if args.scopes.is_empty() {
        Scopes::SCIM
    } else {
        Scopes::parse(&args.scopes.join(" ")).map_err(|error| anyhow!(error))?
    };
    let expires_at = args
        .expires
        .map(|text| Expiry::parse(&text, now))
        .transpose()
        .map_err(|e| anyhow!("--expires {e}"))?;
    let org = find_org(store, &args.org)?;
    let allowed_cidrs =
        input::parse_networks(&args.allow_ip).map_err(|e| anyhow!("--allow-ip {e}"))?;
    let request = TokenRequest {
        permissions: Permissions {
            scopes,
            expires_at,
            restrictions: input::restrictions(allowed_cidrs, args.rate_limit)?,
        },
        name: TokenName::parse(&args.name)?,
        description: args.description.map(Description::parse).transpose()?,
    };
    let issued = store.write_blocking(|conn| tokens::create(conn, &org.id, &CLI, &request, now))?;
    println!("{}", issued.plain.expose_secret());
    eprintln!(
        "created token '{}' (id {}, {}…) for organization '{}' with scopes '{}', expires {}.\n\
         Copy it now: it will not be shown again.",
        request.name.as_str(),
        issued.id,
        issued.display_prefix,
        org.name,
        scopes,
        format_time(expires_at),
    );
    Ok(())
}

pub(super) fn list_tokens(
    store: &Store,
    org: &str,
    name: Option<String>,
    sort: Option<String>,
) -> anyhow::Result<()> {
    let org = find_org(store, org)?;
    let sort = TokenSort::parse(sort.as_deref(), None).map_err(|error| anyhow!(error))?;
    let (list, days) =
        store.run_blocking(|conn| tokens::list(conn, &org.id, name.as_deref(), sort))?;
    let now = store::now();
    println!(
        "{:<36}  {:<24}  {:<14}  {:<8}  {:<20}  {:<20}  {:<20}  SCOPES",
        "ID", "NAME", "PREFIX", "STATUS", "CREATED", "EXPIRES", "LAST USED"
    );
    for token in list {
        println!(
            "{:<36}  {:<24}  {:<14}  {:<8}  {:<20}  {:<20}  {:<20}  {}",
            token.id,
            token.name,
            format!("{}…", token.display_prefix),
            lifecycle::status(&token, days, now),
            format_time(Some(token.created_at)),
            format_time(token.expires_at),
            format_time(token.last_used_at),
            token.scopes,
        );
    }
    Ok(())
}

pub(super) fn set_inactivity(store: &Store, name: &str, days: &str) -> anyhow::Result<()> {
    let org = find_org(store, name)?;
    let days = input::parse_inactivity_days(days).map_err(|error| anyhow!(error))?;
    store.write_blocking(|conn| tokens::set_inactivity_policy(conn, &org.id, days))?;
    match days {
        Some(days) => println!(
            "tokens of '{}' unused for {days} days now stop working",
            org.name
        ),
        None => println!("tokens of '{}' no longer expire from inactivity", org.name),
    }
    Ok(())
}

/// The operator names a token by its id alone, whatever its organization.
fn find_any(store: &Store, id: &str) -> anyhow::Result<TokenRecord> {
    let id = TokenId::parse(id).ok_or_else(|| anyhow!("'{id}' is not a token id"))?;
    store
        .run_blocking(|conn| tokens::find_in_any_org(conn, &id))?
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
        tokens::set_enabled(conn, &token.org_id, &CLI, &token.id, enabled, store::now())
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
    let grace = Grace::parse(grace).map_err(|e| anyhow!("--grace {e}"))?;
    let rotation = store.write_blocking(|conn| {
        tokens::rotate(conn, &token.org_id, &CLI, &token.id, grace, store::now())
    })?;
    let issued = &rotation.issued;
    println!("{}", issued.plain.expose_secret());
    eprintln!(
        "rotated token '{}' ({}…): successor {} ({}…). The old token keeps working until the \
         successor is first used, then for {}s more.\nCopy the new token now: it will not be shown again.",
        token.name,
        token.display_prefix,
        issued.id,
        issued.display_prefix,
        grace.as_seconds(),
    );
    Ok(())
}

pub(super) fn revoke(store: &Store, id: &str) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let revoked = store.write_blocking(|conn| {
        tokens::revoke(conn, &token.org_id, &CLI, &token.id, store::now())
    })?;
    if revoked {
        println!("revoked token '{}' ({}…)", token.name, token.display_prefix);
    } else {
        println!(
            "token '{}' ({}…) was already revoked",
            token.name, token.display_prefix
        );
    }
    Ok(())
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
            input::parse_time(text)
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
