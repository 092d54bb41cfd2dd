//! The `scimd` command line: serve, migrate, and organization and token administration.

use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::password::{self, HashLimits};
use crate::bootstrap::{self, FirstStart, token_file};
use crate::config::{self, Config};
use crate::logging::{self, LogFormat};
use crate::service::input;
use crate::service::push::PushSettings;
use crate::startup::Application;
use crate::store::{self, Store, migrate};

mod activity;
mod admin;
mod audit;
mod events;
mod lookup;
mod ops;
mod output;
mod people;
mod tables;
mod zones;

/// The heading the options every command takes come under, after the command's own: clap
/// shows global options among a subcommand's otherwise.
const GLOBAL: &str = "Global options";

/// scimd: a SCIM 2.0 provisioning server for Okta, Microsoft Entra ID and scripts.
///
/// Identity providers push users and groups to /scim/v2 with an organization's API token.
/// Data lives in an embedded SQLite file by default, or in PostgreSQL shared by any number
/// of scimd instances.
#[derive(Debug, Parser)]
#[command(name = "scimd", version, max_term_width = 100)]
pub struct Cli {
    /// Database: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB [default: sqlite://scimd.db]
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub database_url: Option<String>,

    /// Keep the embedded SQLite database (scimd.db) in this directory instead; only serve
    /// and migrate create a missing one
    #[arg(
        long,
        env = "SCIMD_DATA_DIR",
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub data_dir: Option<PathBuf>,

    /// Seconds PostgreSQL has to answer a connection attempt before the command gives up
    #[arg(
        long,
        env = "SCIMD_CONNECT_TIMEOUT",
        default_value_t = 10,
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub connect_timeout: u64,

    /// Log filter: error, warn, info, debug, or per module (scimd=debug,actix_web=warn)
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info",
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub log: String,

    /// How log lines are written: readable text, or one JSON object per line for log
    /// shippers
    #[arg(
        long,
        env = "SCIMD_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (applies pending migrations first)
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit
    Migrate(ops::MigrateArgs),
    /// Copy the SQLite database, while it serves, to a file (PostgreSQL: use pg_dump)
    Backup(ops::BackupArgs),
    /// Replace the SQLite database with a backup, with every server on it stopped
    Restore(ops::RestoreArgs),
    /// Copy every table of one database into another (SQLite to PostgreSQL, or back)
    Copy(ops::CopyArgs),
    /// Manage organizations (tenants)
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Manage named network zones, which token network rules name as zone:NAME
    #[command(subcommand)]
    Zone(zones::ZoneCommand),
    /// Show the audit log, newest first
    Audit(audit::AuditArgs),
    /// Show an organization's activity log (SCIM requests), newest first
    Activity(activity::ActivityArgs),
    /// Manage the people who sign in to the console
    #[command(subcommand)]
    Admin(people::AdminCommand),
    /// Manage the change feed: event streams and SET signing keys
    #[command(subcommand)]
    Events(events::EventsCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(
        long,
        env = "SCIMD_BIND",
        default_value = "127.0.0.1:8080",
        hide_env_values = true
    )]
    pub bind: String,

    /// Shared bearer secret for on-prem installs (prefer the environment variable:
    /// command lines are visible to other users)
    #[arg(long, env = "AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,

    /// The shared secret being rotated out: accepted beside AUTH_SECRET while set
    #[arg(long, env = "AUTH_SECRET_PREVIOUS", hide_env_values = true)]
    pub auth_secret_previous: Option<String>,

    /// Start even if AUTH_SECRET or AUTH_SECRET_PREVIOUS is shorter than 32 characters
    /// (with a warning) instead of refusing to
    #[arg(
        long,
        env = "SCIMD_ALLOW_WEAK_AUTH_SECRET",
        hide_env_values = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_weak_auth_secret: bool,

    /// Requests per minute allowed to each token without a limit of its own [default: no limit]
    #[arg(
        long,
        env = "SCIMD_RATE_LIMIT",
        hide_env_values = true,
        value_parser = input::parse_rate_limit
    )]
    pub rate_limit: Option<u32>,

    /// Organization that AUTH_SECRET authenticates as (created if missing)
    #[arg(
        long,
        env = "AUTH_SECRET_ORG",
        default_value = "default",
        hide_env_values = true
    )]
    pub auth_secret_org: String,

    /// Database connections per instance
    #[arg(
        long,
        env = "SCIMD_POOL_SIZE",
        default_value_t = 10,
        hide_env_values = true
    )]
    pub pool_size: u32,

    /// HTTP worker threads [default: one per CPU core]
    #[arg(long, env = "SCIMD_WORKERS", hide_env_values = true)]
    pub workers: Option<usize>,

    /// MiB of read answers (`GET /Users/{id}`, `GET /Groups/{id}` without members, searches
    /// that find at most one resource) kept in memory on SQLite until the next commit; 0: none
    #[arg(
        long,
        env = "SCIMD_READ_CACHE_MIB",
        default_value_t = config::DEFAULT_READ_CACHE_MIB,
        value_parser = clap::value_parser!(u16),
        hide_env_values = true
    )]
    pub read_cache_mib: u16,

    /// Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For is believed for
    /// the client address (IP allowlists, throttling, audit) and whose X-Forwarded-Proto and
    /// X-Forwarded-Host are believed when building resource URLs
    #[arg(
        long = "trusted-proxy",
        env = "SCIMD_TRUSTED_PROXIES",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,

    /// Longest time in milliseconds one request may hold the database writer; a longer one
    /// is rolled back and answered 503 with Retry-After (0: no limit)
    #[arg(
        long,
        env = "SCIMD_MAX_WRITE_MS",
        default_value_t = config::DEFAULT_MAX_WRITE_MS,
        hide_env_values = true
    )]
    pub max_write_ms: u64,

    /// Serve Prometheus metrics at /metrics on the main listener to requests bearing this
    /// token (prefer the environment variable) [default: off]
    #[arg(long, env = "SCIMD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Serve Prometheus metrics at /metrics, without a token, on a listener of its own at this
    /// address (keep it private) [default: off]
    #[arg(
        long,
        env = "SCIMD_METRICS_BIND",
        value_name = "ADDR",
        hide_env_values = true
    )]
    pub metrics_bind: Option<String>,
    /// Password hashes (argon2id, about 19 MiB of memory each) that run at once
    /// [default: one per CPU core, at most 8]
    #[arg(long, env = "SCIMD_MAX_CONCURRENT_HASHES", hide_env_values = true)]
    pub max_concurrent_hashes: Option<NonZeroUsize>,

    /// Requests that may wait for a password hash; further ones are answered 503 with
    /// Retry-After
    #[arg(
        long,
        env = "SCIMD_MAX_HASH_QUEUE",
        default_value_t = password::DEFAULT_HASH_QUEUE,
        hide_env_values = true
    )]
    pub max_hash_queue: usize,

    #[command(flatten)]
    pub tls: ops::TlsArgs,

    #[command(flatten)]
    pub backups: ops::ScheduleArgs,

    /// How long a push event stream may keep failing (receiver down or refusing) before it
    /// is stopped as failed, e.g. `24h`, `90m`, `7d`
    #[arg(
        long,
        env = "SCIMD_EVENTS_PUSH_FAILURE_PERIOD",
        default_value = "24h",
        hide_env_values = true
    )]
    pub events_push_failure_period: String,

    #[command(flatten)]
    pub push_destinations: events::PushDestinationArgs,

    #[command(flatten)]
    pub events: events::EventArgs,

    #[command(flatten)]
    pub activity: activity::ActivityServeArgs,
}

/// Initialises the logger on stderr. Secrets never go through it.
pub fn init_logging(cli: &Cli) {
    logging::init(&cli.log, cli.log_format);
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url =
        config::resolve_database_url(cli.database_url.as_deref(), cli.data_dir.as_deref())
            .map_err(|error| anyhow!(error))?;
    let connect_timeout = std::time::Duration::from_secs(cli.connect_timeout);
    match cli.command {
        Command::Serve(args) => {
            let trusted_proxies = networks("--trusted-proxy", &args.trusted_proxies)?;
            let config = Config {
                trusted_proxies,
                bind: args.bind,
                auth_secret: args.auth_secret.map(SecretString::from),
                auth_secret_previous: args.auth_secret_previous.map(SecretString::from),
                allow_weak_auth_secret: args.allow_weak_auth_secret,
                rate_limit_per_minute: args.rate_limit,
                auth_secret_org: args.auth_secret_org,
                pool_size: args.pool_size,
                workers: args.workers,
                read_cache_bytes: usize::from(args.read_cache_mib) << 20,
                max_write: (args.max_write_ms > 0)
                    .then(|| std::time::Duration::from_millis(args.max_write_ms)),
                password_hashing: HashLimits {
                    concurrent: args
                        .max_concurrent_hashes
                        .unwrap_or(HashLimits::default().concurrent),
                    queue: args.max_hash_queue,
                },
                connect_timeout,
                tls: args.tls.source(),
                backups: args.backups.schedule()?,
                push: PushSettings {
                    failure_period: input::parse_duration(&args.events_push_failure_period)
                        .ok()
                        .and_then(|period| period.to_std().ok())
                        .filter(|period| !period.is_zero())
                        .ok_or_else(|| {
                            anyhow!(
                                "--events-push-failure-period: a duration such as 24h, 90m or 7d"
                            )
                        })?,
                    destinations: args.push_destinations.rule()?,
                    ..PushSettings::default()
                },
                metrics_token: args.metrics_token.map(SecretString::from),
                metrics_bind: args.metrics_bind,
                events: args.events.settings()?,
                activity: args.activity.settings()?,
                ..Config::new(database_url)
            };
            actix_web::rt::System::new().block_on(serve(config))
        }
        Command::Migrate(args) => ops::run_migrate(&database_url, connect_timeout, &args),
        Command::Backup(args) => ops::run_backup(&database_url, connect_timeout, &args),
        Command::Restore(args) => ops::run_restore(&database_url, &args),
        Command::Copy(args) => ops::run_copy(connect_timeout, &args),
        Command::Org(command) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(admin::run_org(&store, command))
        }
        Command::Token(command) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(admin::run_token(&store, command))
        }
        Command::Events(command) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(events::run_events(&store, command))
        }
        Command::Zone(command) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(zones::run_zone(&store, command))
        }
        Command::Audit(args) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(audit::run_audit(&store, &args))
        }
        Command::Activity(args) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            let log = open_activity_log(&store, &database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(activity::run_activity(&store, &log, &args))
        }
        Command::Admin(command) => {
            let store = open_migrated(&database_url, connect_timeout)?;
            output::quiet_on_closed_pipe(people::run(&store, command))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let token_file = token_file::path_for(&config.database_url);
    let link_file = token_file::setup_link_path_for(&config.database_url);
    let application = Application::build(config)?;
    if let Some(first) = application.first_start() {
        let setup_url = SecretString::from(format!(
            "{}{}",
            application.base_url(),
            first.setup_link.path()
        ));
        if std::io::stdout().is_terminal() {
            print_first_start_banner(&first.org_name, &first.token.plain, application.base_url());
            print_setup_link(&setup_url);
        } else {
            leave_first_token_in_file(&application, first, token_file);
            leave_setup_link_in_file(&setup_url, &link_file);
        }
    } else {
        remind_of_unused_first_token(&application, token_file)?;
        remind_of_setup_link(&application, &link_file)?;
    }
    log::info!("scimd listening on {}", application.base_url());
    application.run_until_stopped().await?;
    log::info!("scimd stopped");
    Ok(())
}

/// Printed straight to stdout, never through the logger: the token must not reach log files.
fn print_first_start_banner(org: &str, token: &SecretString, base_url: &str) {
    let token = token.expose_secret();
    println!(
        "\nFirst start: created organization '{org}' and its first API token.\n\
         Copy it now; it will not be shown again:\n\n    {token}\n\n\
         Try it:\n    curl -H 'Authorization: Bearer {token}' {base_url}/scim/v2/ServiceProviderConfig\n"
    );
}

/// Printed like the token, and for the same reason.
fn print_setup_link(url: &SecretString) {
    println!(
        "Console: open this one-time link within 24 hours to become the first owner:\n\n    {}\n",
        url.expose_secret()
    );
}

/// Off a terminal the link goes to a private file, as the token does.
fn leave_setup_link_in_file(url: &SecretString, path: &std::path::Path) {
    match token_file::write(path, url) {
        Ok(()) => log::info!(
            "first start: the one-time console set-up link for the first owner is in {} \
             (readable by this user only; it expires in 24 hours)",
            path.display()
        ),
        Err(error) => log::error!(
            "first start: cannot write the console set-up link to {}: {error}; create the \
             first owner with `scimd admin create --org {} --email EMAIL --role owner`",
            path.display(),
            bootstrap::DEFAULT_ORG
        ),
    }
}

/// Once the first owner's link is used or expired, its file has nothing worth keeping.
fn remind_of_setup_link(application: &Application, path: &std::path::Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if bootstrap::first_setup_link_pending(application.store())? {
        log::info!(
            "the one-time console set-up link is in {} until it is used",
            path.display()
        );
    } else if let Err(error) = std::fs::remove_file(path) {
        log::warn!("cannot delete {}: {error}", path.display());
    }
    Ok(())
}

/// Nobody reads a non-terminal stdout as it is written, and a journal keeps it for good: the
/// secret goes to a 0600 file that disappears once the token has been used.
fn leave_first_token_in_file(application: &Application, first: &FirstStart, path: PathBuf) {
    let org = &first.org_name;
    if let Err(error) = token_file::write(&path, &first.token.plain) {
        log::error!(
            "first start: created organization '{org}' and its first API token, but cannot \
             write it to {}: {error}; create a token with `scimd token create --org {org} \
             --name NAME`",
            path.display()
        );
        return;
    }
    log::info!(
        "first start: created organization '{org}' and its first API token; stdout is not a \
         terminal, so the token is in {} (readable by this user only, deleted once the token \
         is used)",
        path.display()
    );
    actix_web::rt::spawn(token_file::remove_after_first_use(
        application.store().clone(),
        first.token.id.clone(),
        path,
    ));
}

/// A first-start token that was never used may never have been seen (the process died before
/// printing it): say where it is, or how to get another.
fn remind_of_unused_first_token(application: &Application, path: PathBuf) -> anyhow::Result<()> {
    let store = application.store();
    match bootstrap::unused_first_token(store)? {
        Some(token) if path.exists() => {
            log::info!(
                "the first-start token ({}…) is in {} until it is used",
                token.display_prefix,
                path.display()
            );
            actix_web::rt::spawn(token_file::remove_after_first_use(
                store.clone(),
                token.id,
                path,
            ));
        }
        Some(token) => log::info!(
            "the first-start token ({}…) has never been used; if it was not kept, create \
             another with `scimd token create --org {} --name NAME`",
            token.display_prefix,
            bootstrap::DEFAULT_ORG
        ),
        None => token_file::remove(&path),
    }
    Ok(())
}

pub(crate) fn open(
    url: &store::DatabaseUrl,
    max_connections: u32,
    connect_timeout: std::time::Duration,
    create: bool,
) -> anyhow::Result<Store> {
    let options = store::OpenOptions {
        connect_timeout,
        create,
        ..store::OpenOptions::new(max_connections)
    };
    Ok(Store::open_with(url, &options)?)
}

/// The activity log of the database `store` opened at `url`, migrated (and on SQLite its own
/// file created, earlier entries moved in): see [`store::activity::open_log`].
pub(crate) fn open_activity_log(
    store: &Store,
    url: &store::DatabaseUrl,
    connect_timeout: std::time::Duration,
) -> anyhow::Result<Store> {
    let options = store::OpenOptions {
        connect_timeout,
        ..store::OpenOptions::new(1)
    };
    Ok(store::activity::open_log(store, url, &options)?)
}

fn open_migrated(
    url: &store::DatabaseUrl,
    connect_timeout: std::time::Duration,
) -> anyhow::Result<Store> {
    // Administration works on a database that serve or migrate created.
    let store = open(url, 2, connect_timeout, false)?;
    migrate::run_pending(&store)?;
    Ok(store)
}

/// A flag's list of networks (`10.0.0.0/8`, `192.0.2.1`), or an error naming the flag.
fn networks(flag: &str, texts: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    texts
        .iter()
        .map(|text| input::parse_network(text).map_err(|e| anyhow!("{flag} {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
