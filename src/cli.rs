//! The `scimd` command line: serve, migrate, and organization and token administration.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{self, Config};
use crate::service::input;
use crate::startup::Application;
use crate::store::{self, Store, migrate};

mod admin;
mod output;
mod tables;

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

    /// Keep the embedded SQLite database (scimd.db) in this directory instead
    #[arg(
        long,
        env = "SCIMD_DATA_DIR",
        global = true,
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub data_dir: Option<PathBuf>,

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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (applies pending migrations first)
    Serve(ServeArgs),
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage organizations (tenants)
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Show the audit log, newest first
    Audit(admin::AuditArgs),
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
    #[arg(long, env = "SCIMD_RATE_LIMIT", hide_env_values = true)]
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
}

/// Initialises the logger on stderr. Secrets never go through it.
pub fn init_logging(cli: &Cli) {
    env_logger::Builder::new()
        .parse_filters(&cli.log)
        .target(env_logger::Target::Stderr)
        .init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url =
        config::resolve_database_url(cli.database_url.as_deref(), cli.data_dir.as_deref())
            .map_err(|error| anyhow!(error))?;
    match cli.command {
        Command::Serve(args) => {
            let trusted_proxies = args
                .trusted_proxies
                .iter()
                .map(|text| input::parse_network(text).map_err(|e| anyhow!("--trusted-proxy {e}")))
                .collect::<anyhow::Result<_>>()?;
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
                max_write: (args.max_write_ms > 0)
                    .then(|| std::time::Duration::from_millis(args.max_write_ms)),
                ..Config::new(database_url)
            };
            actix_web::rt::System::new().block_on(serve(config))
        }
        Command::Migrate => {
            let store = Store::open(&database_url, 1)?;
            let applied = migrate::run_pending(&store)?;
            if applied.is_empty() {
                println!("{database_url}: schema is up to date");
            } else {
                println!("{database_url}: applied {}", applied.join(", "));
            }
            Ok(())
        }
        Command::Org(command) => {
            let store = open_migrated(&database_url)?;
            output::quiet_on_closed_pipe(admin::run_org(&store, command))
        }
        Command::Token(command) => {
            let store = open_migrated(&database_url)?;
            output::quiet_on_closed_pipe(admin::run_token(&store, command))
        }
        Command::Audit(args) => {
            let store = open_migrated(&database_url)?;
            output::quiet_on_closed_pipe(admin::run_audit(&store, &args))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let application = Application::build(config)?;
    if let Some(first) = application.first_start() {
        print_first_start_banner(&first.org_name, &first.token.plain, application.base_url());
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

fn open_migrated(url: &store::DatabaseUrl) -> anyhow::Result<Store> {
    let store = Store::open(url, 2)?;
    migrate::run_pending(&store)?;
    Ok(store)
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
