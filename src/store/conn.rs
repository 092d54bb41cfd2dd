//! One connection type for both backends, and the pool that hands it out.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::backend::Backend;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

/// A connection to whichever backend `DATABASE_URL` names; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl DbConn {
    pub fn backend(&self) -> BackendKind {
        match self {
            DbConn::Sqlite(_) => BackendKind::Sqlite,
            DbConn::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Runs `f` in a transaction that holds the write lock from its first statement.
    ///
    /// SQLite's default deferred transaction takes the write lock only at the first write and
    /// fails at once with SQLITE_BUSY when another writer got there first (busy_timeout does
    /// not apply to that upgrade); `BEGIN IMMEDIATE` queues behind the busy timeout instead.
    pub fn write_transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        match self {
            DbConn::Sqlite(inner) => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            }
            DbConn::Postgres(_) => DbConn::begin_transaction(self)?,
        }
        match f(self) {
            Ok(value) => {
                DbConn::commit_transaction(self)?;
                Ok(value)
            }
            Err(error) => {
                // The original error matters more than a failed rollback, which leaves the
                // connection marked broken so the pool discards it.
                let _ = DbConn::rollback_transaction(self);
                Err(error)
            }
        }
    }
}

/// A statement that PostgreSQL plans anew on every run, with the values bound: see
/// [`DbConn::planned_per_run`].
#[derive(Debug, Clone, Copy)]
pub struct PlannedPerRun<Q> {
    query: Q,
    per_run: bool,
}

impl DbConn {
    /// Wraps a statement whose best plan depends on the values bound to it: an array's length
    /// (`= ANY($1)`), a `LIMIT`/`OFFSET`, or an organization's size.
    ///
    /// diesel prepares statements once per connection, and after five runs PostgreSQL may
    /// switch a prepared statement to a generic plan that sees none of its values. For
    /// `group_id = $1 AND member_id = ANY($2)` that plan read all 100,000 members of a large
    /// group (550 ms) instead of probing the 256 named ones. On PostgreSQL this statement is
    /// sent unprepared instead (one round trip, planned with its values), while primary-key
    /// and unique lookups keep their prepared generic plans: forcing custom plans on every
    /// statement cost a third of the throughput of `GET /Users/{id}`. On SQLite the statement
    /// runs as it would unwrapped.
    pub fn planned_per_run<Q>(&self, query: Q) -> PlannedPerRun<Q> {
        PlannedPerRun {
            query,
            per_run: self.backend() == BackendKind::Postgres,
        }
    }
}

impl<Q: QueryId> QueryId for PlannedPerRun<Q> {
    type QueryId = Q::QueryId;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: Query> Query for PlannedPerRun<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for PlannedPerRun<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        if self.per_run {
            pass.unsafe_to_cache_prepared();
        }
        self.query.walk_ast(pass)
    }
}

impl<Q, C> RunQueryDsl<C> for PlannedPerRun<Q> {}

/// Runs a diesel query on the concrete connection inside a [`DbConn`]: the same code, compiled
/// once per backend. The multi-backend wrapper serialises every statement's SQL again and
/// copies its binds on each execution (measured: 8 µs against 4 µs for the token lookup on
/// SQLite), which matters on the per-request path and nowhere else.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$inner:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($inner) => $body,
            $crate::store::DbConn::Postgres($inner) => $body,
        }
    };
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` (`sqlite:///var/lib/scimd/scimd.db` for an absolute path),
    /// `postgres://…` and `postgresql://…`, and nothing else.
    ///
    /// The scheme decides the backend: trying backends in turn would let a mistyped PostgreSQL
    /// URL silently become an SQLite file of that name. The grammar is strict for the same
    /// reason: `sqlite:/x` once created `/x` at the filesystem root, where `sqlite://x` (a file
    /// in the working directory) was as likely meant.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("DATABASE_URL 'sqlite://' names no file; use sqlite://PATH".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let relative = path.trim_start_matches('/');
            return Err(format!(
                "DATABASE_URL 'sqlite:{path}' is ambiguous: write sqlite://{relative} for a file \
                 relative to the working directory, or sqlite:///{relative} for the absolute path"
            ));
        }
        let Some((scheme, _)) = url.split_once(':') else {
            // A path can be shown back; libpq's `key=value` form has no scheme either, and may
            // hold a password.
            if url.contains('=') || url.contains(char::is_whitespace) {
                return Err("DATABASE_URL has no scheme and is not a path: write \
                     postgres://USER:PASSWORD@HOST:PORT/DB or sqlite://PATH"
                    .to_owned());
            }
            return Err(format!(
                "DATABASE_URL '{url}' has no scheme: did you mean sqlite://{url}? \
                 (sqlite://PATH or postgres://USER@HOST/DB)"
            ));
        };
        let lower = scheme.to_ascii_lowercase();
        let suggestion = if lower.starts_with("postg") || lower.starts_with("pg") {
            "; did you mean postgres://?"
        } else if lower.starts_with("sqlit") {
            "; did you mean sqlite://?"
        } else {
            ""
        };
        Err(format!(
            "DATABASE_URL has an unsupported scheme '{scheme}'{suggestion} \
             (sqlite://PATH or postgres://USER@HOST/DB)"
        ))
    }

    pub fn backend(&self) -> BackendKind {
        match self {
            DatabaseUrl::Sqlite(_) => BackendKind::Sqlite,
            DatabaseUrl::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Opens one connection, configured as every pooled connection is, waiting at most the
    /// default connect timeout for PostgreSQL.
    pub fn establish(&self) -> Result<DbConn, r2d2::Error> {
        self.establish_within(DEFAULT_CONNECT_TIMEOUT)
    }

    /// Opens one connection; PostgreSQL must answer within `timeout` (libpq's own
    /// `connect_timeout`, which covers the whole connection phase, unless the URL sets it).
    pub fn establish_within(&self, timeout: Duration) -> Result<DbConn, r2d2::Error> {
        let mut conn = match self {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(diesel::ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                DbConn::Sqlite(
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?,
                )
            }
            DatabaseUrl::Postgres(url) => DbConn::Postgres(
                PgConnection::establish(&with_libpq_defaults(url, timeout))
                    .map_err(r2d2::Error::ConnectionError)?,
            ),
        };
        ConnectionOptions.on_acquire(&mut conn)?;
        Ok(conn)
    }

    /// The activity log's own database, where it has one: an SQLite file beside this one,
    /// named after it (`scimd.db`: `scimd-activity.db`; see [`super::activity::open_log`]).
    /// PostgreSQL keeps the log in the database itself: `None`.
    pub fn activity_log(&self) -> Option<DatabaseUrl> {
        let path = self.sqlite_path()?;
        let stem = path.file_stem()?.to_string_lossy();
        let name = match path.extension() {
            Some(extension) => format!("{stem}-activity.{}", extension.to_string_lossy()),
            None => format!("{stem}-activity"),
        };
        Some(DatabaseUrl::Sqlite(path.with_file_name(name)))
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }
}

/// Shows the URL without its password, so it can go into logs and error messages.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The URL with every password replaced by `***`: the userinfo's (`USER:PASSWORD@`) and the
/// `password` and `sslpassword` query parameters, which libpq accepts too. The userinfo ends at
/// the last `@` before the query, so that a password with an unencoded `@` is hidden whole.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let mut redacted = format!("{scheme}://");
    let host_and_path = match before_query.rsplit_once('@') {
        Some((userinfo, host_and_path)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    redacted.push_str(user);
                    redacted.push_str(":***@");
                }
                None => {
                    redacted.push_str(userinfo);
                    redacted.push('@');
                }
            }
            host_and_path
        }
        None => before_query,
    };
    redacted.push_str(host_and_path);
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((key, _)) if is_password_key(key) => format!("{key}=***"),
                _ => parameter.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&parameters.join("&"));
    }
    redacted
}

/// libpq percent-decodes parameter names, so `pass%77ord` is a password too.
fn is_password_key(key: &str) -> bool {
    let key = percent_decoded(key);
    ["password", "sslpassword"]
        .iter()
        .any(|name| key.trim().eq_ignore_ascii_case(name))
}

fn percent_decoded(text: &str) -> String {
    let mut decoded = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let escaped = tail
            .get(..2)
            .filter(|_| byte == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(escaped) => {
                decoded.push(escaped);
                rest = tail.get(2..).unwrap_or_default();
            }
            None => {
                decoded.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// How long a PostgreSQL server has to answer a connection attempt unless told otherwise
/// (`--connect-timeout`): without one, a server that accepts the TCP connection but never
/// answers hangs every command for minutes.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds, for each libpq parameter below that the URL does not set itself:
/// - `connect_timeout` (whole seconds, at least 1);
/// - `gssencmode=disable`. libpq's default (`prefer`) looks for Kerberos credentials on every
///   connection attempt through libkrb5, whose exit-time finalizer destroys the mutexes that
///   look-up takes: a CLI command that ended while the pool's background thread was still
///   connecting aborted in `k5_mutex_lock` (seen once in CI). Password, certificate and trust
///   authentication need no GSSAPI; a deployment that encrypts with it says so in its URL.
fn with_libpq_defaults(url: &str, timeout: Duration) -> String {
    let query = url.split_once('?').map(|(_, query)| query);
    let sets = |name: &str| {
        query.is_some_and(|query| {
            query.split('&').any(|parameter| {
                parameter
                    .trim_start()
                    .split_once('=')
                    .is_some_and(|(key, _)| key == name)
            })
        })
    };
    let mut added = Vec::new();
    if !sets("connect_timeout") {
        added.push(format!("connect_timeout={}", timeout.as_secs().max(1)));
    }
    if !sets("gssencmode") {
        added.push("gssencmode=disable".to_owned());
    }
    if added.is_empty() {
        return url.to_owned();
    }
    let separator = if query.is_some() { '&' } else { '?' };
    format!("{url}{separator}{}", added.join("&"))
}

/// Per-connection settings, applied to every new connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionOptions;

impl CustomizeConnection<DbConn, r2d2::Error> for ConnectionOptions {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        match conn {
            // synchronous=FULL: in WAL mode NORMAL may lose the last acknowledged commits on
            // power loss; every write here is an IdP's provisioning call that must stick.
            // case_sensitive_like: LIKE must treat case as PostgreSQL does, so that `co`, `sw`
            // and `ew` on caseExact attributes (externalId) answer the same on both backends;
            // case-insensitive attributes are compared on lowercased columns.
            DbConn::Sqlite(inner) => {
                const SETTINGS: &str = "PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA case_sensitive_like = ON;";
                // Turning a new database's journal into WAL takes an exclusive lock and fails
                // at once, without the busy timeout, while another connection holds any lock:
                // instances starting together on a new file hit that ("database is locked",
                // issue 16's roll-out test). The settings are idempotent, so wait as the busy
                // timeout would, then give up.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                loop {
                    match inner.batch_execute(SETTINGS) {
                        Err(diesel::result::Error::DatabaseError(_, info))
                            if info.message().starts_with("database is locked")
                                && std::time::Instant::now() < deadline =>
                        {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        other => break other.map_err(r2d2::Error::QueryError),
                    }
                }
            }
            // Statements whose plan depends on their values run as `PlannedPerRun`.
            DbConn::Postgres(inner) => inner
                .batch_execute("SET TIME ZONE 'UTC'")
                .map_err(r2d2::Error::QueryError),
        }
    }
}

/// Opens connections for the pool, each of the backend the URL names.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    connect_timeout: Duration,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        self.url.establish_within(self.connect_timeout)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The pool type every store call checks connections out of.
pub type Pool = r2d2::Pool<ConnectionManager>;

/// Builds the pool once one connection has proven the URL works, so a wrong URL fails with
/// the database's own message instead of a pool timeout.
pub fn build_pool(url: &DatabaseUrl, options: &super::OpenOptions) -> Result<Pool, r2d2::Error> {
    let connect_timeout = options.connect_timeout;
    drop(url.establish_within(connect_timeout)?);
    Ok(r2d2::Pool::builder()
        .max_size(options.max_connections)
        // `None` would mean `max_size`: every connection opened up front.
        .min_idle(Some(u32::from(options.keep_idle)))
        // No ping before every checkout: it doubled the round trips of the cheapest requests.
        // A connection that broke (database restarted) fails its next query, is reported
        // broken by `has_broken` and replaced, so readiness recovers without a restart.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(5))
        .connection_customizer(Box::new(ConnectionOptions))
        .build_unchecked(ConnectionManager {
            url: url.clone(),
            connect_timeout,
        }))
}

/// How many transactions and savepoints `conn` has open.
pub(super) fn transaction_depth(conn: &mut DbConn) -> u32 {
    DbConn::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .map_or(0, std::num::NonZeroU32::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activity_log_lies_beside_an_sqlite_database_and_in_postgresql() {
        let log = |url: &str| DatabaseUrl::parse(url).unwrap().activity_log();
        let file = |path: &str| Some(DatabaseUrl::Sqlite(path.into()));
        assert_eq!(log("sqlite://scimd.db"), file("scimd-activity.db"));
        assert_eq!(
            log("sqlite:///var/lib/scimd/db.sqlite"),
            file("/var/lib/scimd/db-activity.sqlite")
        );
        assert_eq!(log("sqlite://data/scimd"), file("data/scimd-activity"));
        assert_eq!(log("sqlite://.hidden.db"), file(".hidden-activity.db"));
        assert_eq!(log("postgres://u@h/db"), None);
    }

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://scimd.db"),
            Ok(DatabaseUrl::Sqlite("scimd.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/scimd/db.sqlite"),
            Ok(DatabaseUrl::Sqlite("/var/lib/scimd/db.sqlite".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").map(|u| u.backend()),
            Ok(BackendKind::Postgres)
        );
    }

    #[test]
    fn unknown_scheme_is_refused_with_a_hint() {
        let error = DatabaseUrl::parse("postgress://u:hunter2@h/db").unwrap_err();
        assert!(error.contains("'postgress'"), "{error}");
        assert!(error.contains("did you mean postgres://?"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        let error = DatabaseUrl::parse("sqlite3://scimd.db").unwrap_err();
        assert!(error.contains("did you mean sqlite://?"), "{error}");
        let error = DatabaseUrl::parse("mysql://root@h/db").unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
    }

    #[test]
    fn a_bare_path_or_a_single_slash_is_refused_with_the_url_to_write() {
        let error = DatabaseUrl::parse("scimd.db").unwrap_err();
        assert!(error.contains("did you mean sqlite://scimd.db?"), "{error}");
        // libpq's key=value form has no scheme either, and is never shown back.
        let error =
            DatabaseUrl::parse("host=db user=scim password=hunter2 dbname=scimd").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(
            error.contains("postgres://USER:PASSWORD@HOST:PORT/DB"),
            "{error}"
        );
        for url in ["sqlite:/x", "sqlite:x"] {
            let error = DatabaseUrl::parse(url).unwrap_err();
            assert!(error.contains("sqlite://x for a file relative"), "{error}");
            assert!(
                error.contains("sqlite:///x for the absolute path"),
                "{error}"
            );
        }
    }

    #[test]
    fn connect_timeout_and_gssencmode_are_added_unless_the_url_sets_them() {
        let ten = Duration::from_secs(10);
        assert_eq!(
            with_libpq_defaults("postgres://u@h/db", ten),
            "postgres://u@h/db?connect_timeout=10&gssencmode=disable"
        );
        assert_eq!(
            with_libpq_defaults("postgres://u@h/db?sslmode=require", ten),
            "postgres://u@h/db?sslmode=require&connect_timeout=10&gssencmode=disable"
        );
        assert_eq!(
            with_libpq_defaults("postgres://u@h/db?connect_timeout=3", ten),
            "postgres://u@h/db?connect_timeout=3&gssencmode=disable"
        );
        assert_eq!(
            with_libpq_defaults(
                "postgres://u@h/db?gssencmode=require&connect_timeout=3",
                ten
            ),
            "postgres://u@h/db?gssencmode=require&connect_timeout=3"
        );
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://scim:hunter2@db:5432/scimd").unwrap();
        assert_eq!(url.to_string(), "postgres://scim:***@db:5432/scimd");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[test]
    fn every_form_of_password_is_hidden() {
        for (url, shown) in [
            (
                "postgres://scim:p@ss@w0rd@db:5432/scimd",
                "postgres://scim:***@db:5432/scimd",
            ),
            (
                "postgres://scim@db/scimd?password=hunter2&sslmode=require",
                "postgres://scim@db/scimd?password=***&sslmode=require",
            ),
            (
                "postgresql://db/scimd?user=scim&PASSWORD=hunter2",
                "postgresql://db/scimd?user=scim&PASSWORD=***",
            ),
            (
                "postgres://db/scimd?sslpassword=hunter2&pass%77ord=hunter2",
                "postgres://db/scimd?sslpassword=***&pass%77ord=***",
            ),
            (
                "postgres://scim:hunter2@db/scimd?user=a@b.example",
                "postgres://scim:***@db/scimd?user=a@b.example",
            ),
            (
                "postgres://scim:hunter2@[::1]:5432/scimd",
                "postgres://scim:***@[::1]:5432/scimd",
            ),
            ("postgres://db/scimd", "postgres://db/scimd"),
            ("postgres://scim@db/scimd", "postgres://scim@db/scimd"),
        ] {
            let url = DatabaseUrl::parse(url).unwrap();
            assert_eq!(url.to_string(), shown);
            assert!(!url.to_string().contains("hunter2"));
            assert!(!url.to_string().contains("w0rd"));
        }
    }
}
