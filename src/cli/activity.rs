//! `scimd activity` (an organization's SCIM requests, through the same use case as the
//! management API and the console) and `serve`'s `--activity-*` settings.

use std::time::Duration;

use anyhow::anyhow;
use clap::Args;

use super::lookup::find_org;
use super::output::{self, Format};
use super::tables::{self, column};
use crate::service::activity::{
    self, ActivityFilter, ActivitySettings, ActivityView, StatusFilter, describe::Idp,
};
use crate::service::input;
use crate::store::Store;

/// `serve`'s activity log settings.
#[derive(Debug, Args)]
pub struct ActivityServeArgs {
    /// Record successful SCIM reads in the activity log too (writes and failed requests
    /// always are)
    #[arg(
        long,
        env = "SCIMD_ACTIVITY_READS",
        hide_env_values = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    activity_reads: bool,

    /// How long activity log entries are kept: 30d, 12h, or a number of days
    #[arg(
        long,
        env = "SCIMD_ACTIVITY_RETENTION",
        default_value = "30d",
        hide_env_values = true
    )]
    activity_retention: String,

    /// The most activity log entries kept per organization; the oldest go first
    #[arg(
        long,
        env = "SCIMD_ACTIVITY_MAX_ROWS",
        default_value_t = 100_000,
        hide_env_values = true,
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    activity_max_rows: i64,

    /// Entries waiting to be written at most; more are dropped and counted (for tests)
    #[arg(
        long,
        env = "SCIMD_ACTIVITY_QUEUE",
        default_value_t = 10_000,
        hide = true
    )]
    activity_queue: usize,
}

impl ActivityServeArgs {
    pub fn settings(&self) -> anyhow::Result<ActivitySettings> {
        let retention = input::parse_duration(&self.activity_retention)
            .map_err(|e| anyhow!("--activity-retention {e}"))?
            .to_std()
            .map_err(|_| anyhow!("--activity-retention must be positive"))?;
        anyhow::ensure!(
            retention >= Duration::from_secs(60),
            "--activity-retention must be at least a minute"
        );
        Ok(ActivitySettings {
            reads: self.activity_reads,
            retention,
            max_rows: self.activity_max_rows,
            queue: self.activity_queue,
            ..ActivitySettings::default()
        })
    }
}

/// `scimd activity`: filters, all optional but the organization.
#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// The organization whose requests to show
    #[arg(long)]
    org: String,
    /// Only failed requests (4xx and 5xx)
    #[arg(long)]
    failed: bool,
    /// Only requests about this User or Group: its userName, displayName or id
    #[arg(long)]
    user: Option<String>,
    /// Only requests from this IdP: okta, entra or other
    #[arg(long)]
    idp: Option<String>,
    /// Only requests since this date, RFC 3339 time, or this long ago (7d, 12h, 90 for days)
    #[arg(long)]
    since: Option<String>,
    /// At most this many entries (1 to 1,000)
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[command(flatten)]
    format: Format,
}

/// Lists `log`'s entries (see [`crate::store::activity::open_log`]) of an organization of `store`.
pub(super) fn run_activity(store: &Store, log: &Store, args: &ActivityArgs) -> anyhow::Result<()> {
    if !(1..=activity::MAX_LIMIT).contains(&args.limit) {
        return Err(anyhow!("--limit is 1 to 1,000"));
    }
    let org = find_org(store, &args.org)?;
    let since = args
        .since
        .as_deref()
        .map(|text| input::parse_since(text, crate::store::now()))
        .transpose()
        .map_err(|e| anyhow!("--since {e}"))?;
    let idp = args
        .idp
        .as_deref()
        .map(|text| Idp::parse(text).ok_or_else(|| anyhow!("--idp is okta, entra or other")))
        .transpose()?;
    let filter = ActivityFilter {
        status: args.failed.then_some(StatusFilter::Failed),
        resource: args.user.clone(),
        idp,
        since,
        ..ActivityFilter::of(org.id)
    };
    let page = log.run_blocking(|conn| activity::search(conn, &filter, None, args.limit))?;
    let views: Vec<ActivityView> = page.entries.into_iter().map(ActivityView::from).collect();
    if args.format.json {
        return output::json(&serde_json::json!({ "activity": views }));
    }
    let wide = args.format.wide;
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|view| {
            let mut row = vec![
                view.time.clone(),
                view.status.to_string(),
                view.method.clone(),
                view.summary.clone(),
            ];
            if wide {
                row.push(view.path.clone());
                row.push(view.id.clone());
            }
            row
        })
        .collect();
    let mut columns = vec![
        column("TIME", 24),
        column("STATUS", 6),
        column("METHOD", 6),
        column("SUMMARY", 38),
    ];
    if wide {
        columns.push(column("PATH", 0));
        columns.push(column("ID", 0));
    }
    output::line(tables::render(&columns, &rows, wide))
}
