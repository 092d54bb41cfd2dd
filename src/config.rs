//! Validated server configuration, built once from the command line and passed down.

use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

use crate::auth::password::HashLimits;
use crate::scim::limits::Limits;
use crate::store::DatabaseUrl;

/// The SQLite file used when neither `DATABASE_URL` nor `--data-dir` says otherwise.
pub const DEFAULT_SQLITE_FILE: &str = "scimd.db";

/// Everything `scimd serve` needs; tests build one directly (port 0, a fresh database).
#[derive(Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// `HOST:PORT` to listen on; port 0 picks a free one.
    pub bind: String,
    pub auth_secret: Option<SecretString>,
    /// `AUTH_SECRET_PREVIOUS`: also accepted while set, for rotating the shared secret.
    pub auth_secret_previous: Option<SecretString>,
    /// Requests per minute for each token without a limit of its own; `None`: unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// Start with a shared secret shorter than 32 characters (with a warning) instead of
    /// refusing to.
    pub allow_weak_auth_secret: bool,
    /// The organization `AUTH_SECRET` authenticates as; created at start-up if missing.
    pub auth_secret_org: String,
    pub pool_size: u32,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Bytes of read answers kept between requests on SQLite (`--read-cache-mib`); 0: none.
    pub read_cache_bytes: usize,
    /// Request limits, enforced and advertised in `/ServiceProviderConfig`.
    pub limits: Limits,
    /// Proxies whose `X-Forwarded-For`/`-Proto`/`-Host` are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// How long one request may hold the database writer; `None`: unlimited.
    pub max_write: Option<Duration>,
    /// How many password hashes run and wait at once.
    pub password_hashing: HashLimits,
    /// How long PostgreSQL has to answer a connection attempt.
    pub connect_timeout: Duration,
    /// Serve HTTPS with this certificate; `None`: plain HTTP (behind a TLS-terminating proxy).
    pub tls: Option<crate::tls::TlsSource>,
    /// `--backup-every`: scheduled SQLite backups while serving.
    pub backups: Option<crate::service::backups::BackupSchedule>,
    /// Push delivery of event streams: failure period, lease, timeout.
    pub push: crate::service::push::PushSettings,
    /// How often expiring tokens and uses after rotation are looked for (token notices).
    pub token_notice_scan_every: Duration,
    /// `--metrics-token`: `/metrics` on the main listener, for requests bearing it.
    pub metrics_token: Option<SecretString>,
    /// `--metrics-bind`: `/metrics` on a listener of its own, without a token.
    pub metrics_bind: Option<String>,
    /// `--events-retention`, `--events-long-poll`: the change feed.
    pub events: crate::service::events::EventSettings,
    /// The activity log's `--activity-*` settings.
    pub activity: crate::service::activity::ActivitySettings,
}

/// The default `--read-cache-mib`: a few thousand answers, small next to a server's memory.
pub const DEFAULT_READ_CACHE_MIB: u16 = 32;

/// The default `--max-write-ms`: well under SQLite's 5 s busy timeout, so another tenant's
/// write queued behind the longest allowed one still gets through, and long enough for the
/// largest valid request (a 1,000-operation PATCH of a large group took about 0.1 s in a
/// debug build).
pub const DEFAULT_MAX_WRITE_MS: u64 = 2000;

impl Config {
    /// A configuration for `url` with every other setting at its default.
    pub fn new(database_url: DatabaseUrl) -> Self {
        Config {
            database_url,
            bind: "127.0.0.1:8080".to_owned(),
            auth_secret: None,
            auth_secret_previous: None,
            allow_weak_auth_secret: false,
            rate_limit_per_minute: None,
            auth_secret_org: "default".to_owned(),
            pool_size: 10,
            workers: None,
            read_cache_bytes: usize::from(DEFAULT_READ_CACHE_MIB) << 20,
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            max_write: Some(Duration::from_millis(DEFAULT_MAX_WRITE_MS)),
            password_hashing: HashLimits::default(),
            connect_timeout: crate::store::conn::DEFAULT_CONNECT_TIMEOUT,
            tls: None,
            backups: None,
            push: crate::service::push::PushSettings::default(),
            token_notice_scan_every: crate::service::push::notices::DEFAULT_SCAN_EVERY,
            metrics_token: None,
            metrics_bind: None,
            events: crate::service::events::EventSettings::default(),
            activity: crate::service::activity::ActivitySettings::default(),
        }
    }
}

/// Decides the database from `DATABASE_URL` or `--data-dir`, defaulting to `scimd.db` in the
/// working directory.
pub fn resolve_database_url(
    database_url: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<DatabaseUrl, String> {
    match (database_url, data_dir) {
        (Some(_), Some(_)) => Err(
            "give either DATABASE_URL (--database-url) or --data-dir (SCIMD_DATA_DIR), not both"
                .to_owned(),
        ),
        (Some(url), None) => DatabaseUrl::parse(url),
        (None, Some(dir)) => Ok(DatabaseUrl::Sqlite(dir.join(DEFAULT_SQLITE_FILE))),
        (None, None) => Ok(DatabaseUrl::Sqlite(DEFAULT_SQLITE_FILE.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_a_file_in_the_working_directory() {
        assert_eq!(
            resolve_database_url(None, None),
            Ok(DatabaseUrl::Sqlite("scimd.db".into()))
        );
        assert_eq!(
            resolve_database_url(None, Some(Path::new("/var/lib/scimd"))),
            Ok(DatabaseUrl::Sqlite("/var/lib/scimd/scimd.db".into()))
        );
    }

    #[test]
    fn url_and_data_dir_together_are_refused() {
        assert!(resolve_database_url(Some("sqlite://x.db"), Some(Path::new("/tmp"))).is_err());
    }
}
