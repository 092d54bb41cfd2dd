//! Token, organization and audit commands of the CLI: each parses its flags with
//! `crate::service::input`, calls the use cases as an administrator and prints through
//! [`output`]: a table for people, or with `--json` the management API's own views.

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use chrono::NaiveDateTime;
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;

use super::output::{self, Format};
use super::tables::{self, column};
use super::zones::{EditTokenArgs, NetworkArgs};
use crate::auth::Scopes;
use crate::auth::bounds::Permissions;
use crate::auth::lifecycle::Network;
use crate::service::audit::Actor;
use crate::service::input::{self, Description, Expiry, Grace, TokenName};
use crate::service::tokens::{self, Caller, TokenRequest, TokenSort};
use crate::service::views::{EventView, OrgView, TokenView};
use crate::store::audit::{AuditQuery, search_audit_events};
use crate::store::tokens::TokenRecord;
use crate::store::{self, Store, orgs};

/// The CLI acts as an administrator: not bounded by any token.
const CLI: Caller = Caller::Admin(Actor::Cli);

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization
    Create {
        /// Its name: letters, digits, '-', '_' and '.', at most 64 characters
        name: String,
    },
    /// List organizations
    List {
        #[command(flatten)]
        format: Format,
    },
    /// Make tokens unused for DAYS days stop working (Okta uses 30), or `off`
    SetInactivity {
        /// The organization's name
        name: String,
        /// Days, or `off`
        days: String,
    },
}

/// A token named by its id, or any unique prefix of it.
#[derive(Debug, Args)]
pub struct TokenIdArg {
    /// The token's id as `token list` shows it: the first 8 or more characters will do
    id: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once (on stdout; its settings go to stderr)
    Create(CreateTokenArgs),
    /// List an organization's tokens, newest first (the secret is never shown again)
    List(ListTokensArgs),
    /// Show one token
    Show {
        #[command(flatten)]
        id: TokenIdArg,
        #[command(flatten)]
        format: Format,
    },
    /// Disable a token (reversible with `enable`)
    Disable(TokenIdArg),
    /// Enable a disabled token
    Enable(TokenIdArg),
    /// Mint a successor with the same name, scopes, restrictions and expiry; the old token
    /// works until the successor is first used, then for the grace period
    Rotate {
        #[command(flatten)]
        id: TokenIdArg,
        /// Grace period after the successor's first use: 90s, 30m, 1h, 7d or a number of
        /// days, at most 7 days
        #[arg(long, default_value = "1h")]
        grace: String,
    },
    /// Revoke a token immediately and for good
    #[command(visible_alias = "delete")]
    Revoke(TokenIdArg),
    /// Change where a token may be used from: --only-from, --not-from or --anywhere
    Edit(EditTokenArgs),
}

/// `scimd token list`.
#[derive(Debug, Args)]
pub struct ListTokensArgs {
    /// The organization whose tokens to list (see `scimd org list`)
    #[arg(long)]
    org: String,
    /// Only tokens whose name contains this (ignoring case)
    #[arg(long)]
    name: Option<String>,
    /// created (newest first), name, last_used (most recent first; `last-used` works too)
    /// or expires (soonest first): the management API's spelling
    #[arg(long)]
    sort: Option<String>,
    #[command(flatten)]
    format: Format,
}

/// `scimd audit`: filters, all optional.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this organization's events [default: all, including server-wide ones]
    #[arg(long)]
    org: Option<String>,
    /// Event types, repeatable, comma- or space-separated: token.created, token.updated,
    /// token.disabled, token.enabled, token.rotated, token.revoked, token.revoked_as_leaked,
    /// token.expired_use, token.stale_use, auth.failed, auth.ip_denied, scim.write,
    /// zone.created, zone.updated, zone.deleted
    #[arg(long = "type")]
    event_types: Vec<String>,
    /// Only events since this date, RFC 3339 time, or this long ago (7d, 12h, 90 for days)
    #[arg(long)]
    since: Option<String>,
    /// Only events about this token or made with it: its id or a prefix of 8 characters or more
    #[arg(long)]
    token: Option<String>,
    /// At most this many events (1 to 10,000)
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[command(flatten)]
    format: Format,
}

/// `scimd token create`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// Organization the token belongs to (see `scimd org list`)
    #[arg(long)]
    org: String,
    /// A name that says where the token is used, e.g. "Okta production"
    #[arg(long)]
    name: String,
    /// What the token is for
    #[arg(long)]
    description: Option<String>,
    /// Scopes, repeatable, comma- or space-separated: scim:read scim:write scim:delete
    /// tokens:manage [default: scim:read scim:write scim:delete]
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Expiry: a date (2027-01-31), an RFC 3339 time, or a duration from now (90d, 12h, or
    /// 90 for days) [default: never]
    #[arg(long)]
    expires: Option<String>,
    /// Only accept the token from these networks (CIDRs or addresses, IPv4 or IPv6),
    /// repeatable, comma- or space-separated [default: anywhere]; --only-from also takes zones
    #[arg(long = "allow-ip", conflicts_with = "not_from")]
    allow_ip: Vec<String>,
    #[command(flatten)]
    network: NetworkArgs,
    /// Requests per minute this token may make, 1 to 1,000,000 [default: the server's
    /// --rate-limit]
    #[arg(long, value_parser = input::parse_rate_limit)]
    rate_limit: Option<u32>,
}

pub(super) fn run_org(store: &Store, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create { name } => {
            let org = store.write_blocking(|conn| orgs::insert_org(conn, &name, store::now()))?;
            output::line(format_args!(
                "created organization '{}' ({})",
                org.name, org.id
            ))
        }
        OrgCommand::List { format } => list_orgs(store, format),
        OrgCommand::SetInactivity { name, days } => set_inactivity(store, &name, &days),
    }
}

pub(super) fn run_token(store: &Store, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create(args) => create_token(store, args),
        TokenCommand::List(args) => list_tokens(store, args),
        TokenCommand::Show { id, format } => show_token(store, &id.id, format),
        TokenCommand::Disable(id) => set_enabled(store, &id.id, false),
        TokenCommand::Enable(id) => set_enabled(store, &id.id, true),
        TokenCommand::Rotate { id, grace } => rotate(store, &id.id, &grace),
        TokenCommand::Revoke(id) => revoke(store, &id.id),
        TokenCommand::Edit(args) => super::zones::edit_token(store, &args),
    }
}

pub(super) fn find_org(store: &Store, name: &str) -> anyhow::Result<orgs::Organization> {
    store
        .run_blocking(|conn| orgs::find_org_by_name(conn, name))?
        .with_context(|| format!("no organization named '{name}' (see `scimd org list`)"))
}

fn list_orgs(store: &Store, format: Format) -> anyhow::Result<()> {
    let list = store.run_blocking(orgs::list_orgs)?;
    if format.json {
        let views: Vec<OrgView> = list.into_iter().map(OrgView::from).collect();
        return output::json(&serde_json::json!({ "organizations": views }));
    }
    let now = store::now();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|org| {
            vec![
                tables::id(org.id.as_str(), format.wide),
                org.name.clone(),
                tables::when(Some(org.created_at), now, format.wide),
                org.inactivity_days
                    .map_or_else(|| "off".to_owned(), |days| format!("{days} days")),
            ]
        })
        .collect();
    let columns = [
        column("ID", tables::SHORT_ID),
        column("NAME", 34),
        column("CREATED", 14),
        column("INACTIVITY", 14),
    ];
    output::line(tables::render(&columns, &rows, format.wide))
}

fn create_token(store: &Store, args: CreateTokenArgs) -> anyhow::Result<()> {
    let now = store::now();
    let scopes = match input::split_list(&args.scopes) {
        list if list.is_empty() => Scopes::SCIM,
        list => Scopes::parse(&list.join(" ")).map_err(|error| anyhow!(error))?,
    };
    let expires_at = args
        .expires
        .map(|text| Expiry::parse(&text, now))
        .transpose()
        .map_err(|e| anyhow!("--expires {e}"))?;
    let org = find_org(store, &args.org)?;
    let network = args.network.rule(&args.allow_ip)?.unwrap_or_default();
    let request = TokenRequest {
        permissions: Permissions {
            scopes,
            expires_at,
            restrictions: input::restrictions(network, args.rate_limit)?,
        },
        name: TokenName::parse(&args.name)?,
        description: args.description.map(Description::parse).transpose()?,
    };
    let (issued, namesakes, record) = store.write_blocking(|conn| {
        let namesakes = tokens::active_namesakes(conn, &org.id, &request.name, now)?;
        let issued = tokens::create(conn, &org.id, &CLI, &request, now)?;
        let (record, _) = tokens::show(conn, &org.id, &issued.id)?;
        Ok((issued, namesakes, record))
    })?;
    output::secret(issued.plain.expose_secret(), &issued.id)?;
    for namesake in &namesakes {
        eprintln!(
            "warning: organization '{}' already has an active token named '{}' (id {}); \
             tell them apart by id, or revoke the old one",
            org.name,
            namesake.name,
            tables::id(namesake.id.as_str(), false),
        );
    }
    eprintln!(
        "created token '{}' for organization '{}':\n{}\n\
         Copy it now: it will not be shown again.",
        record.name,
        org.name,
        settings(&record, None, now)
            .iter()
            .map(|(label, value)| format!("  {label:<15} {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    Ok(())
}

/// Where a token may be used from, in words.
pub(super) fn network_text(token: &TokenRecord) -> String {
    match Network::of(token) {
        Network::Any => "from anywhere".to_owned(),
        Network::OnlyFrom(sources) => format!("only from {}", sources.entries().join(" ")),
        Network::NotFrom(sources) => format!("not from {}", sources.entries().join(" ")),
    }
}

/// Every setting of a token, as `token show` and `token create` print them.
fn settings(
    token: &TokenRecord,
    inactivity_days: Option<i32>,
    now: NaiveDateTime,
) -> Vec<(&'static str, String)> {
    let optional_time = |at: Option<NaiveDateTime>| {
        at.map_or_else(
            || "never".to_owned(),
            |at| {
                format!(
                    "{} ({})",
                    tables::time(at),
                    tables::when(Some(at), now, false)
                )
            },
        )
    };
    let optional_id =
        |id: &Option<store::TokenId>| id.as_ref().map(ToString::to_string).unwrap_or_default();
    vec![
        ("id", token.id.to_string()),
        ("name", token.name.clone()),
        ("description", token.description.clone().unwrap_or_default()),
        ("prefix", format!("{}…", token.display_prefix)),
        ("status", tables::token_status(token, inactivity_days, now)),
        ("scopes", token.scopes.clone()),
        ("created", optional_time(Some(token.created_at))),
        ("created by", token.created_by.clone()),
        ("expires", optional_time(token.expires_at)),
        (
            "last used",
            token
                .last_used_at
                .map(|at| optional_time(Some(at)))
                .unwrap_or_else(|| "never".to_owned()),
        ),
        (
            "last used from",
            token.last_used_ip.clone().unwrap_or_default(),
        ),
        ("network", network_text(token)),
        (
            "rate limit",
            token
                .rate_limit_per_minute
                .map_or_else(|| "server default".to_owned(), |n| format!("{n}/minute")),
        ),
        ("rotated from", optional_id(&token.rotated_from)),
        ("superseded by", optional_id(&token.superseded_by)),
        (
            "grace until",
            token
                .grace_until
                .map(|at| optional_time(Some(at)))
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect()
}

fn list_tokens(store: &Store, args: ListTokensArgs) -> anyhow::Result<()> {
    let org = find_org(store, &args.org)?;
    let sort = TokenSort::parse(args.sort.as_deref(), None).map_err(|error| anyhow!(error))?;
    let (list, days) =
        store.run_blocking(|conn| tokens::list(conn, &org.id, args.name.as_deref(), sort))?;
    let now = store::now();
    let format = args.format;
    if format.json {
        let views: Vec<TokenView> = list
            .into_iter()
            .map(|record| TokenView::new(record, days, now))
            .collect();
        return output::json(&serde_json::json!({ "tokens": views }));
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|token| {
            let mut row = vec![
                tables::id(token.id.as_str(), format.wide),
                token.name.clone(),
                format!("{}…", token.display_prefix),
                tables::token_status(token, days, now),
                tables::when(token.last_used_at, now, format.wide),
            ];
            if format.wide {
                row.extend([
                    tables::when(Some(token.created_at), now, true),
                    tables::when(token.expires_at, now, true),
                    token.scopes.clone(),
                ]);
            }
            row
        })
        .collect();
    let mut columns = vec![
        column("ID", tables::SHORT_ID),
        column("NAME", 20),
        column("PREFIX", 13),
        column("STATUS", 14),
        column("LAST USED", 14),
    ];
    if format.wide {
        columns.extend([
            column("CREATED", 0),
            column("EXPIRES", 0),
            column("SCOPES", 0),
        ]);
    }
    output::line(tables::render(&columns, &rows, format.wide))
}

fn set_inactivity(store: &Store, name: &str, days: &str) -> anyhow::Result<()> {
    let org = find_org(store, name)?;
    let days = input::parse_inactivity_days(days).map_err(|error| anyhow!(error))?;
    store.write_blocking(|conn| tokens::set_inactivity_policy(conn, &org.id, days))?;
    match days {
        Some(days) => output::line(format_args!(
            "tokens of '{}' unused for {days} days now stop working",
            org.name
        )),
        None => output::line(format_args!(
            "tokens of '{}' no longer expire from inactivity",
            org.name
        )),
    }
}

/// The operator names a token by its id, or a unique prefix of it, whatever its organization.
pub(super) fn find_any(store: &Store, id: &str) -> anyhow::Result<TokenRecord> {
    Ok(store.run_blocking(|conn| tokens::find_by_id_prefix(conn, id))?)
}

fn show_token(store: &Store, id: &str, format: Format) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let org = store
        .run_blocking(|conn| orgs::find_org(conn, &token.org_id))?
        .context("the token's organization is gone")?;
    let now = store::now();
    if format.json {
        return output::json(&TokenView::new(token, org.inactivity_days, now));
    }
    let mut rows = settings(&token, org.inactivity_days, now);
    rows.insert(1, ("organization", org.name.clone()));
    output::line(
        rows.iter()
            .map(|(label, value)| format!("{label:<15} {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn set_enabled(store: &Store, id: &str, enabled: bool) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let updated = store.write_blocking(|conn| {
        tokens::set_enabled(conn, &token.org_id, &CLI, &token.id, enabled, store::now())
    })?;
    let state = if updated.disabled_at.is_some() {
        "disabled"
    } else {
        "enabled"
    };
    output::line(format_args!(
        "token '{}' ({}…) is {state}",
        updated.name, updated.display_prefix
    ))
}

fn rotate(store: &Store, id: &str, grace: &str) -> anyhow::Result<()> {
    let grace = Grace::parse(grace).map_err(|e| anyhow!("--grace {e}"))?;
    let token = find_any(store, id)?;
    let rotation = store.write_blocking(|conn| {
        tokens::rotate(conn, &token.org_id, &CLI, &token.id, grace, store::now())
    })?;
    let issued = &rotation.issued;
    output::secret(issued.plain.expose_secret(), &issued.id)?;
    eprintln!(
        "rotated token '{}' ({}…): successor {} ({}…). The old token keeps working until the \
         successor is first used, then for {} more.\nCopy the new token now: it will not be shown again.",
        token.name,
        token.display_prefix,
        issued.id,
        issued.display_prefix,
        tables::span(chrono::TimeDelta::seconds(grace.as_seconds())),
    );
    Ok(())
}

fn revoke(store: &Store, id: &str) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let revoked = store.write_blocking(|conn| {
        tokens::revoke(conn, &token.org_id, &CLI, &token.id, store::now())
    })?;
    if revoked {
        output::line(format_args!(
            "revoked token '{}' ({}…)",
            token.name, token.display_prefix
        ))
    } else {
        output::line(format_args!(
            "token '{}' ({}…) was already revoked",
            token.name, token.display_prefix
        ))
    }
}

pub(super) fn run_audit(store: &Store, args: &AuditArgs) -> anyhow::Result<()> {
    let now = store::now();
    let event_types =
        input::parse_event_kinds(&args.event_types).map_err(|e| anyhow!("--type {e}"))?;
    let since = args
        .since
        .as_deref()
        .map(|text| input::parse_since(text, now))
        .transpose()
        .map_err(|e| anyhow!("--since {e}"))?;
    if !(1..=10_000).contains(&args.limit) {
        return Err(anyhow!("--limit is 1 to 10,000"));
    }
    let org = args
        .org
        .as_deref()
        .map(|name| find_org(store, name))
        .transpose()?;
    let token = args
        .token
        .as_deref()
        .map(|id| find_any(store, id))
        .transpose()?;
    let query = AuditQuery {
        org: org.map(|org| org.id),
        event_types: event_types
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect(),
        since,
        until: None,
        token: token.map(|token| token.id.to_string()),
        before: None,
        limit: args.limit,
    };
    let events = store.run_blocking(|conn| search_audit_events(conn, &query))?;
    if args.format.json {
        let views: Vec<EventView> = events.into_iter().map(EventView::from).collect();
        return output::json(&serde_json::json!({ "events": views }));
    }
    let ids: Vec<String> = events
        .iter()
        .flat_map(|event| {
            let actor = event
                .actor
                .as_deref()
                .and_then(|actor| actor.strip_prefix("token:"));
            [actor, event.target.as_deref()]
        })
        .flatten()
        .map(str::to_owned)
        .collect();
    let names: HashMap<String, String> = store
        .run_blocking(|conn| tokens::names_by_id(conn, &ids))?
        .into_iter()
        .collect();
    let wide = args.format.wide;
    // A token is shown by name, with its short id (all of it with --wide) to tell namesakes
    // apart; anything else (a User's id, `cli`) as it is.
    let name = |id: &str| match names.get(id) {
        Some(name) if wide => format!("{name} ({id})"),
        Some(name) => name.clone(),
        None => tables::id(id, wide),
    };
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|event| {
            let actor = match event.actor.as_deref() {
                Some(actor) => match actor.strip_prefix("token:") {
                    Some(id) => format!("token {}", name(id)),
                    None => actor.to_owned(),
                },
                None => "-".to_owned(),
            };
            let mut row = vec![
                if wide {
                    event
                        .occurred_at
                        .format("%Y-%m-%d %H:%M:%S%.3f UTC")
                        .to_string()
                } else {
                    tables::time(event.occurred_at)
                },
                event.event_type.clone(),
                actor,
                event.target.as_deref().map_or_else(|| "-".to_owned(), name),
            ];
            if wide {
                row.push(event.remote_addr.clone().unwrap_or_else(|| "-".to_owned()));
            }
            row.push(tables::details(&event.details));
            row
        })
        .collect();
    let mut columns = vec![
        column("TIME", 20),
        column("TYPE", 14),
        column("ACTOR", 12),
        column("TARGET", 12),
    ];
    if wide {
        columns.push(column("REMOTE", 0));
    }
    columns.push(column("DETAILS", 14));
    output::line(tables::render(&columns, &rows, wide))
}
