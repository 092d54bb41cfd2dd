//! Persistence: the only module that speaks diesel. Every call takes an explicit organization
//! where the data is tenant-owned, so an unscoped query cannot be written by accident.

pub mod activity;
pub mod audit;
pub mod backup;
pub mod conn;
pub mod copy;
pub mod data_version;
pub mod error;
pub mod events;
pub mod filter_sql;
pub mod freshness;
pub mod groups;
pub mod ids;
pub mod kind;
pub mod members;
pub mod members_page;
pub mod migrate;
pub mod orgs;
pub mod outbox;
pub mod people;
pub mod push;
pub mod render;
pub mod resource_table;
pub mod resources;
pub mod schema;
pub mod search;
pub mod state;
mod statement;
#[cfg(test)]
pub(crate) mod testing;
pub mod token_listener;
pub mod token_notices;
pub mod token_stats;
pub mod tokens;
pub mod users;
pub mod write_limit;
mod writer;
pub mod zones;

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::r2d2;

pub use conn::{BackendKind, DatabaseUrl, DbConn};
pub use ids::{GroupId, OrgId, PersonId, SessionId, StreamId, TokenId, UserId, ZoneId};

use crate::auth::password::{HashLimits, PasswordHasher};
use crate::error::{Error, Result};
use crate::metrics::{self, QueryKind};

/// Runs `f`, reporting how long it took as a query of `kind`.
fn timed<T>(kind: QueryKind, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = f();
    metrics::query_took(kind, started.elapsed());
    result
}

/// Handle to the database: cheap to clone, safe to share across workers.
#[derive(Clone)]
pub struct Store {
    pool: conn::Pool,
    backend: BackendKind,
    /// How long one write transaction may run (see [`write_limit`]); `None`: unlimited.
    max_write: Option<Duration>,
    /// SQLite's group-committing writer (see [`writer`]), started by the first write.
    writer: Arc<writer::LazyWriter>,
    /// The bound on password hashing, which travels with the store because every use case
    /// that hashes (before its write transaction) already holds it.
    passwords: Arc<PasswordHasher>,
    /// Write transactions this process committed: what a cache of rows must know at once,
    /// before any notice from the database could arrive (see [`Store::local_commits`]).
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects (creating an SQLite file where there is none) and builds the pool, with every
    /// other option at its default.
    pub fn open(url: &DatabaseUrl, max_connections: u32) -> Result<Self, OpenError> {
        Store::open_with(url, &OpenOptions::new(max_connections))
    }

    /// Connects as `options` say and builds the pool.
    pub fn open_with(url: &DatabaseUrl, options: &OpenOptions) -> Result<Self, OpenError> {
        let mut announce = None;
        if let Some(path) = url.sqlite_path() {
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            if options.create {
                let state = if path.exists() { "existing" } else { "created" };
                prepare_sqlite_directory(path)?;
                announce = Some(format!(
                    "{}: sqlite://{} ({state})",
                    options.label,
                    shown.display()
                ));
            } else if !path.is_file() {
                return Err(OpenError::Missing {
                    path: shown.display().to_string(),
                });
            }
        } else {
            // A network round trip that may hang until the timeout: say what is awaited.
            log::info!("connecting to {url}");
        }
        let pool =
            conn::build_pool(url, options).map_err(|error| connect_error(url, options, &error))?;
        if let Some(line) = announce {
            log::info!("{line}");
        }
        Ok(Store {
            pool,
            backend: url.backend(),
            max_write: None,
            writer: Arc::new(writer::LazyWriter::new(url.clone())),
            passwords: Arc::default(),
            commits: std::sync::Arc::default(),
        })
    }

    /// Rolls back every write transaction still running after `limit` at its next check
    /// (see [`write_limit`]), answering 503: the server's `--max-write-ms`.
    pub fn with_max_write(mut self, limit: Option<Duration>) -> Self {
        self.max_write = limit;
        self
    }

    /// Makes this store's writer a background thread ([`crate::background`]): for a database
    /// no request waits to write, the activity log's.
    pub fn in_background(mut self) -> Self {
        self.writer = Arc::new(self.writer.in_background());
        self
    }

    /// Starts the SQLite writer now, from the calling thread (a server calls this at start).
    /// A thread inherits its creator's scheduling priority: started lazily by the first write,
    /// the writer every request waits for could be born of a background thread at nice 10
    /// (the push deliverer writes its leases before any request may arrive) and keep it for
    /// good. PostgreSQL has no writer thread.
    pub fn start_writer(&self) -> Result<()> {
        if self.backend == BackendKind::Sqlite {
            self.writer.get(self.max_write)?;
        }
        Ok(())
    }

    /// Bounds password hashing as `limits` say (`--max-concurrent-hashes`, `--max-hash-queue`).
    pub fn with_password_limits(mut self, limits: HashLimits) -> Self {
        self.passwords = Arc::new(PasswordHasher::new(limits));
        self
    }

    /// The gate every argon2 hash and verification of this server goes through.
    pub fn passwords(&self) -> &Arc<PasswordHasher> {
        &self.passwords
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Counts this process's committed write transactions, moved before the committing call
    /// returns: a cache that compares it before and after a read knows of its own process's
    /// changes at once (PostgreSQL's notices arrive a moment later).
    pub fn local_commits(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        std::sync::Arc::clone(&self.commits)
    }

    /// A pooled connection, for work that spans more than one closure (migrations).
    pub(crate) fn connection(&self) -> Result<r2d2::PooledConnection<conn::ConnectionManager>> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` on a pooled connection, on the calling thread: for the CLI and for code
    /// already on the blocking pool.
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let mut conn = self.checkout()?;
        timed(QueryKind::Read, || f(&mut conn))
    }

    /// Runs `f` in one write transaction (see [`DbConn::write_transaction`]), on the calling
    /// thread. The time limit starts once the transaction holds the writer: waiting for it is
    /// bounded by the busy timeout instead.
    pub fn write_blocking<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let mut conn = self.checkout()?;
        let written = timed(QueryKind::Write, || {
            conn.write_transaction(|conn| write_limit::within(self.max_write, || f(conn)))
        });
        // Also after a failure: a commit whose answer was lost may still have happened.
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        written
    }

    /// [`Store::write`] for a background thread outside the async runtime (it blocks until
    /// the commit). On SQLite `f` joins the group-committing writer's next transaction: in a
    /// transaction of its own, on another connection, it held the write lock while the writer
    /// waited in SQLite's busy handler (sleeps of 1 ms, then 2, 5, …) and paid a commit and an
    /// fsync of its own, which cost `POST /Users` a quarter of its throughput with the
    /// activity log on (issue 13). PostgreSQL: [`Store::write_blocking`].
    pub fn write_queued_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == BackendKind::Sqlite {
            return self.writer.get(self.max_write)?.write_blocking(f);
        }
        self.write_blocking(f)
    }

    /// A connection from the pool, the wait for it measured (see [`crate::metrics`]).
    fn checkout(&self) -> Result<r2d2::PooledConnection<conn::ConnectionManager>> {
        let started = Instant::now();
        let conn = self.pool.get()?;
        metrics::pool_waited(started.elapsed());
        Ok(conn)
    }

    /// (connections in use, idle connections) of the pool now.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.connections.saturating_sub(state.idle_connections),
            state.idle_connections,
        )
    }

    /// Runs `f` on the blocking pool: diesel is synchronous and must not stall the workers
    /// that serve other requests.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        actix_web::web::block(move || store.run_blocking(f)).await?
    }

    /// Runs `f` in a write transaction and answers once it is committed.
    ///
    /// On SQLite `f` joins the writes of other requests in one transaction (see [`writer`]),
    /// inside a savepoint of its own: its failure undoes only its own changes, and a failed
    /// commit fails all of them. PostgreSQL handles concurrent writers itself: one transaction
    /// per call, on the blocking pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == BackendKind::Sqlite {
            return self.writer.get(self.max_write)?.write(f).await;
        }
        let store = self.clone();
        actix_web::web::block(move || store.write_blocking(f)).await?
    }

    /// Runs a short read on the calling (async) thread when that is cheaper than the hop to the
    /// blocking pool: on SQLite, a local index probe with a connection that is free right
    /// now. Otherwise (PostgreSQL's network round trip, or a busy pool) it is [`Store::read`].
    /// Meant for the one query every request makes, the token lookup.
    pub async fn read_quick<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == BackendKind::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return timed(QueryKind::Read, || f(&mut conn));
        }
        self.read(f).await
    }

    /// Like [`Store::write`], but runs `f` again in a fresh transaction when it fails with
    /// [`Error::Conflict`]: an optimistic update lost a race (PostgreSQL lets two transactions
    /// read the same version; SQLite's IMMEDIATE transactions never conflict).
    pub async fn write_retrying<T, F>(&self, f: F) -> Result<T>
    where
        F: Fn(&mut DbConn) -> Result<T> + Send + Sync + 'static,
        T: Send + 'static,
    {
        const ATTEMPTS: usize = 5;
        let f = std::sync::Arc::new(f);
        let mut attempt = 1;
        loop {
            let f = std::sync::Arc::clone(&f);
            match self.write(move |conn| f(conn)).await {
                Err(Error::Conflict) if attempt < ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// Answers whether the database takes queries now, waiting at most `timeout` for a
    /// connection so a readiness probe never hangs.
    pub async fn ping(&self, timeout: Duration) -> Result<()> {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get_timeout(timeout)?;
            diesel::connection::SimpleConnection::batch_execute(&mut *conn, "SELECT 1")
                .map_err(|error| Error::Unavailable(Box::new(error)))
        })
        .await?
    }
}

/// How a command opens the database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub max_connections: u32,
    /// How long PostgreSQL has to answer a connection attempt (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// Create a missing SQLite database and its directory (saying which), as only `serve` and
    /// `migrate` may: elsewhere a missing file is a typo in a path, a `--data-dir` or the
    /// working directory, and an empty new database would answer it with empty listings.
    pub create: bool,
    /// What the log line that names an opened SQLite file calls it.
    pub label: &'static str,
    /// Keep a connection open and ready, replaced on a pool thread after each checkout: what a
    /// server wants. A command about to exit does not: its exit can meet a connection still
    /// being made on that thread, which libkrb5 (through libpq's GSSAPI look-up) answered by
    /// aborting the process after the command had printed its output (stop 19).
    pub keep_idle: bool,
}

impl OpenOptions {
    pub fn new(max_connections: u32) -> Self {
        OpenOptions {
            max_connections,
            connect_timeout: conn::DEFAULT_CONNECT_TIMEOUT,
            create: true,
            label: "database",
            keep_idle: false,
        }
    }
}

/// libpq says only "timeout expired": name the limit and where to change it.
fn connect_error(url: &DatabaseUrl, options: &OpenOptions, error: &r2d2::Error) -> OpenError {
    let mut reason = error.to_string();
    if reason.contains("timeout expired") {
        reason = format!(
            "no answer within {} s (--connect-timeout, SCIMD_CONNECT_TIMEOUT)",
            options.connect_timeout.as_secs().max(1)
        );
    }
    OpenError::Connect {
        url: url.to_string(),
        reason,
    }
}

/// Why the store could not be opened; each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "no database at {path}: check the working directory, --data-dir or DATABASE_URL \
         (only `scimd serve` and `scimd migrate` create one)"
    )]
    Missing { path: String },
    #[error("cannot create the data directory {path}: {reason}")]
    CreateDirectory { path: String, reason: String },
    #[error("the data directory {path} is not writable: {reason}")]
    NotWritable { path: String, reason: String },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
}

fn prepare_sqlite_directory(path: &std::path::Path) -> Result<(), OpenError> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&directory).map_err(|error| OpenError::CreateDirectory {
        path: directory.display().to_string(),
        reason: error.to_string(),
    })?;
    // SQLite needs to create its -wal and -shm files beside the database, so a read-only
    // directory would fail later, on the first write, with a vaguer message.
    tempfile_probe(&directory).map_err(|error| OpenError::NotWritable {
        path: directory.display().to_string(),
        reason: error.to_string(),
    })
}

fn tempfile_probe(directory: &std::path::Path) -> std::io::Result<()> {
    // Unique per call, not per process: stores opened together in one process (an embedding
    // application, the tests) must not remove each other's probe.
    let probe = directory.join(format!(
        ".scimd-write-probe-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// The current time, truncated to microseconds: both backends store that precision, so a
/// value read back compares equal to the one written.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
        .naive_utc()
}
