//! `scimd audit`: the audit log, through the same use case as the management API and the
//! console's System log, printed as a table or as the API's JSON.

use anyhow::anyhow;
use clap::Args;

use super::lookup::{find_any, find_org};
use super::output::{self, Format};
use super::tables::{self, column};
use crate::service::audit_log::{self, AuditFilter, Party};
use crate::service::input;
use crate::service::views::EventView;
use crate::store::{self, Store};

/// `scimd audit`: filters, all optional.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this organization's events [default: all, including server-wide ones]
    #[arg(long)]
    org: Option<String>,
    /// Event types, repeatable, comma- or space-separated: token.created, token.updated,
    /// token.disabled, token.enabled, token.rotated, token.revoked, token.revoked_as_leaked,
    /// token.expired_use, token.stale_use, auth.failed, auth.ip_denied, scim.write,
    /// org.updated, console.sign_in, console.sign_in_failed, console.sign_out,
    /// person.invited, person.role_changed, person.removed, person.password_set
    #[arg(long = "type")]
    event_types: Vec<String>,
    /// Only events since this date, RFC 3339 time, or this long ago (7d, 12h, 90 for days)
    #[arg(long)]
    since: Option<String>,
    /// Only events about this token or made with it: its id or a prefix of 8 characters or more
    #[arg(long)]
    token: Option<String>,
    /// Only events by this actor, as the log names it: cli, token:ID, person:EMAIL…
    #[arg(long)]
    actor: Option<String>,
    /// At most this many events (1 to 10,000)
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[command(flatten)]
    format: Format,
}

pub(super) fn run_audit(store: &Store, args: &AuditArgs) -> anyhow::Result<()> {
    let now = store::now();
    let kinds = input::parse_event_kinds(&args.event_types).map_err(|e| anyhow!("--type {e}"))?;
    let since = args
        .since
        .as_deref()
        .map(|text| input::parse_since(text, now))
        .transpose()
        .map_err(|e| anyhow!("--since {e}"))?;
    if !(1..=audit_log::MAX_LIMIT).contains(&args.limit) {
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
    let filter = AuditFilter {
        org: org.map(|org| org.id),
        kinds,
        actor: args.actor.clone(),
        token: token.map(|token| token.id.to_string()),
        since,
        until: None,
    };
    let page = store.run_blocking(|conn| audit_log::search(conn, &filter, None, args.limit))?;
    let events = page.events;
    if args.format.json {
        let views: Vec<EventView> = events.into_iter().map(EventView::from).collect();
        return output::json(&serde_json::json!({ "events": views }));
    }
    let wide = args.format.wide;
    // A token is shown by name, with its short id (all of it with --wide) to tell namesakes
    // apart; anything else (a User's id, `cli`) as it is.
    let shown = |party: Option<&Party>, stored: Option<&str>| match party {
        Some(Party::Token {
            id,
            name: Some(name),
        }) if wide => format!("{name} ({id})"),
        Some(Party::Token {
            name: Some(name), ..
        }) => name.clone(),
        Some(Party::Token { id, name: None } | Party::Resource { id }) => tables::id(id, wide),
        _ => stored.unwrap_or("-").to_owned(),
    };
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|named| {
            let event = &named.event;
            let actor = shown(named.actor.as_ref(), event.actor.as_deref());
            let actor = match named.actor {
                Some(Party::Token { .. }) => format!("token {actor}"),
                _ => actor,
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
                shown(named.target.as_ref(), event.target.as_deref()),
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
