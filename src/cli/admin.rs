//! Token and organization commands of the CLI: each parses its flags with
//! `crate::service::input`, calls the use cases as an administrator and prints through
//! [`output`]: a table for people, or with `--json` the management API's own views.

use anyhow::anyhow;
use chrono::NaiveDateTime;
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;

use super::lookup::{find_any, find_org};
use super::output::{self, Format};
use super::tables::{self, column, network_text};
use super::zones::{EditTokenArgs, NetworkArgs};
use crate::auth::Scopes;
use crate::auth::bounds::Permissions;
use crate::service::audit::Actor;
use crate::service::input::{self, Description, Expiry, Grace, TokenName};
use crate::service::orgs::{self, SettingsEdit};
use crate::service::tokens::{self, Caller, TokenListQuery, TokenRequest, TokenSort};
use crate::service::views::{OrgView, TokenView};
use crate::store::tokens::TokenRecord;
use crate::store::{self, Store};

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
    /// Allow its tokens without a rate limit of their own N requests per minute, or `off`
    /// for the server's --rate-limit
    SetRateLimit {
        /// The organization's name
        name: String,
        /// Requests per minute (1 to 1,000,000), or `off`
        per_minute: String,
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
    /// Only tokens that are active, disabled, inactive (revoked or expired) or suspicious
    #[arg(long)]
    status: Option<String>,
    /// At most this many tokens (1 to 1,000)
    #[arg(long, default_value_t = tokens::MAX_PAGE)]
    limit: i64,
    /// Skip this many tokens first
    #[arg(long, default_value_t = 0)]
    offset: i64,
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
            let org = store.write_blocking(|conn| orgs::create(conn, &name, store::now()))?;
            output::line(format_args!(
                "created organization '{}' ({})",
                org.name, org.id
            ))
        }
        OrgCommand::List { format } => list_orgs(store, format),
        OrgCommand::SetInactivity { name, days } => set_inactivity(store, &name, &days),
        OrgCommand::SetRateLimit { name, per_minute } => set_rate_limit(store, &name, &per_minute),
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

fn list_orgs(store: &Store, format: Format) -> anyhow::Result<()> {
    let list = store.run_blocking(orgs::list)?;
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
                org.default_rate_limit_per_minute
                    .map_or_else(|| "server's".to_owned(), |n| format!("{n}/minute")),
            ]
        })
        .collect();
    let columns = [
        column("ID", tables::SHORT_ID),
        column("NAME", 34),
        column("CREATED", 14),
        column("INACTIVITY", 14),
        column("RATE LIMIT", 14),
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
        let record = tokens::show(conn, &org.id, &issued.id, now)?.record;
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
    let query = TokenListQuery {
        sort: TokenSort::parse(args.sort.as_deref(), None).map_err(|error| anyhow!(error))?,
        status: tokens::parse_status_filter(args.status.as_deref())
            .map_err(|e| anyhow!("--status {e}"))?,
        name_contains: args.name,
        limit: args.limit,
        offset: args.offset,
    };
    let now = store::now();
    let page = store.run_blocking(|conn| tokens::list(conn, &org.id, &query, now))?;
    let shown = i64::try_from(page.tokens.len()).unwrap_or(i64::MAX);
    if query.offset.saturating_add(shown) < page.total {
        eprintln!(
            "showing {shown} of {} tokens; see --limit and --offset",
            page.total
        );
    }
    let format = args.format;
    if format.json {
        let views: Vec<TokenView> = page
            .tokens
            .into_iter()
            .map(|shown| TokenView::new(shown, now))
            .collect();
        return output::json(&serde_json::json!({ "tokens": views, "total": page.total }));
    }
    let days = page.tokens.first().and_then(|shown| shown.inactivity_days);
    let list: Vec<TokenRecord> = page.tokens.into_iter().map(|shown| shown.record).collect();
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
    let edit = SettingsEdit {
        inactivity_days: Some(days.map(i64::from)),
        ..SettingsEdit::default()
    };
    store.write_blocking(|conn| {
        orgs::update_settings(conn, &org.id, &Actor::Cli, &edit, store::now())
    })?;
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

fn set_rate_limit(store: &Store, name: &str, per_minute: &str) -> anyhow::Result<()> {
    let org = find_org(store, name)?;
    let limit = input::parse_rate_limit_setting(per_minute).map_err(|error| anyhow!(error))?;
    let edit = SettingsEdit {
        default_rate_limit_per_minute: Some(limit.map(i64::from)),
        ..SettingsEdit::default()
    };
    store.write_blocking(|conn| {
        orgs::update_settings(conn, &org.id, &Actor::Cli, &edit, store::now())
    })?;
    match limit {
        Some(limit) => output::line(format_args!(
            "tokens of '{}' without a rate limit of their own may now make {limit} requests per minute",
            org.name
        )),
        None => output::line(format_args!(
            "tokens of '{}' without a rate limit of their own now get the server's --rate-limit",
            org.name
        )),
    }
}

fn show_token(store: &Store, id: &str, format: Format) -> anyhow::Result<()> {
    let token = find_any(store, id)?;
    let now = store::now();
    let (org, shown) = store.run_blocking(|conn| {
        let org = orgs::show(conn, &token.org_id)?;
        let shown = tokens::show(conn, &token.org_id, &token.id, now)?;
        Ok((org, shown))
    })?;
    if format.json {
        return output::json(&TokenView::new(shown, now));
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
