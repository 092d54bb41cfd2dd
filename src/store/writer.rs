//! Group commit on SQLite: one thread runs every write of the process, several requests' writes
//! to one transaction and one fsync.
//!
//! With `synchronous=FULL` each commit waits for the WAL to reach the disk. One transaction per
//! request made that wait the cost of every write (about 1,700 `POST /Users` per second with
//! 32 clients, issue 15); SQLite has one writer anyway, so requests queued behind it lose
//! nothing by sharing its transaction. Each job still runs alone inside its own savepoint: a
//! job that fails is rolled back to it and answered with its own error, the others go on. No
//! job is answered before the COMMIT that makes it durable has returned, so an acknowledged
//! write survives a crash as before; when that COMMIT fails every job of the batch is told so.
//!
//! The writer is a thread of its own rather than a task on the blocking pool: a request waits
//! for its answer on a oneshot channel, holding no thread, and the writer never waits for a
//! free blocking thread. It has a connection of its own (replaced when it breaks), which
//! checkpoints the WAL itself between batches (see [`checkpoint`]), and whose savepoint
//! journals stay in memory: in temporary files they cost a file created, written
//! page by page and deleted per batch, most of the writer's time (measured: 11,700 `pwrite`s a
//! second to `/var/tmp` at 1,200 creates a second). It stops when the last handle to the store
//! is dropped.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use tokio::sync::oneshot;

use super::conn::transaction_depth;
use super::outbox::Deferral;
use super::{DatabaseUrl, DbConn, write_limit};
use crate::error::{Error, Result};

/// The most jobs one transaction takes: enough that 32 clients share a commit, few enough that
/// the last of them does not wait long behind the others.
const MAX_JOBS: usize = 64;
/// No more jobs join a transaction that has been running this long: under a steady stream of
/// writes the commit must still come.
const MAX_BATCH_TIME: Duration = Duration::from_millis(5);

/// The writer of one database, started by the first write (CLI commands never start one).
pub(super) struct LazyWriter {
    url: DatabaseUrl,
    /// Runs at a lower priority (see [`crate::background`]): the activity log's.
    background: bool,
    started: OnceLock<std::io::Result<Writer>>,
}

impl LazyWriter {
    pub(super) fn new(url: DatabaseUrl) -> Self {
        LazyWriter {
            url,
            background: false,
            started: OnceLock::new(),
        }
    }

    /// A writer of the same database that no request waits for.
    pub(super) fn in_background(&self) -> Self {
        LazyWriter {
            background: true,
            ..LazyWriter::new(self.url.clone())
        }
    }

    /// The running writer, started now if need be; each job may hold it for `max_write`
    /// (see [`write_limit`]).
    pub(super) fn get(&self, max_write: Option<Duration>) -> Result<&Writer> {
        self.started
            .get_or_init(|| Writer::start(self.url.clone(), max_write, self.background))
            .as_ref()
            .map_err(|error| Error::internal(format!("cannot start the database writer: {error}")))
    }
}

/// The handle requests give their writes to.
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    fn start(
        url: DatabaseUrl,
        max_write: Option<Duration>,
        background: bool,
    ) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        // Named apart, so that `top -H` and a profile tell the one requests wait for.
        let name = if background {
            "scimd-bg-writer"
        } else {
            "scimd-writer"
        };
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if background {
                    crate::background::lower_priority();
                }
                serve(&url, max_write, &queue);
            })?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in the writer's next transaction and answers once that transaction committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f)?.await.map_err(|_| dropped())?
    }

    /// [`Writer::write`] for a thread outside the async runtime, which it blocks until the
    /// answer comes (inside the runtime this would panic: use [`Writer::write`] there).
    pub(super) fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f)?.blocking_recv().map_err(|_| dropped())?
    }

    /// Queues `f` for the writer; the receiver gets its outcome after the commit.
    fn submit<T, F>(&self, f: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(f),
            outcome: None,
            answer,
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::internal("the database writer has stopped"))?;
        Ok(answered)
    }
}

fn dropped() -> Error {
    Error::internal("the database writer dropped a write")
}

/// One request's write, run in a batch and answered after its commit.
trait Job: Send {
    /// Runs the write (once), keeping its outcome; answers whether it succeeded.
    fn run(&mut self, conn: &mut DbConn, max_write: Option<Duration>) -> bool;
    /// Replaces a success whose changes were rolled back after all.
    fn overrule(&mut self, error: Error);
    /// Answers the request: its own outcome once the batch committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<&BatchFailed>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    answer: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    F: FnOnce(&mut DbConn) -> Result<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut DbConn, max_write: Option<Duration>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            write_limit::within(max_write, || work(conn))
        }))
        .unwrap_or_else(|panic| Err(Error::internal(JobPanicked::from(panic))));
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn overrule(&mut self, error: Error) {
        self.outcome = Some(Err(error));
    }

    fn answer(self: Box<Self>, failed: Option<&BatchFailed>) {
        let outcome = match (failed, self.outcome) {
            (None, Some(outcome)) => outcome,
            (Some(failed), _) => Err(Error::Unavailable(Box::new(failed.clone()))),
            (None, None) => Err(Error::internal("the write never ran")),
        };
        // A request that stopped waiting (its client hung up) needs no answer.
        let _ = self.answer.send(outcome);
    }
}

/// Why a whole batch was not committed; every job of it gets a copy (503: retry).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared write transaction failed: {0}")]
struct BatchFailed(String);

/// A job that panicked; it is answered 500 and the writer goes on.
#[derive(Debug, thiserror::Error)]
#[error("a write panicked: {0}")]
struct JobPanicked(String);

impl From<Box<dyn Any + Send>> for JobPanicked {
    fn from(panic: Box<dyn Any + Send>) -> Self {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        JobPanicked(message)
    }
}

/// How often the writer copies the WAL back into the database file, between batches.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The writer thread: a batch at a time until every handle is gone.
fn serve(url: &DatabaseUrl, max_write: Option<Duration>, queue: &mpsc::Receiver<Box<dyn Job>>) {
    let mut connection = None;
    let mut checkpointed = Instant::now();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        let failed = match connected(url, &mut connection) {
            Ok(conn) => run_batch(conn, max_write, queue, &mut batch).err(),
            Err(error) => Some(error),
        };
        if connection.as_mut().is_some_and(R2D2Connection::is_broken) {
            connection = None;
        }
        if let Some(failed) = &failed {
            log::error!("{} writes were not committed: {failed}", batch.len());
        }
        for job in batch {
            job.answer(failed.as_ref());
        }
        if checkpointed.elapsed() >= CHECKPOINT_EVERY {
            checkpointed = Instant::now();
            if let Some(conn) = connection.as_mut() {
                checkpoint(conn);
            }
        }
    }
}

/// Copies what the WAL holds into the database file, once the batch's requests have their
/// answers. SQLite's own checkpoint (every 1,000 WAL pages, off on this connection) runs inside
/// a COMMIT: every request of that batch waited for it, and it was a fifth of the writer's time.
/// Here it runs between batches, at most every [`CHECKPOINT_EVERY`], so a page written by many
/// commits meanwhile is copied once; with no other writer running, it copies the whole WAL, and
/// the next transaction starts the WAL over instead of growing it. PASSIVE: it never waits for
/// readers, whose snapshots keep the frames they still need.
fn checkpoint(conn: &mut DbConn) {
    if let DbConn::Sqlite(sqlite) = conn
        && let Err(error) = sqlite.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
    {
        log::warn!("WAL checkpoint failed (retried after the next writes): {error}");
    }
}

/// The writer's connection, opened (configured as every connection is) when there is none.
fn connected<'a>(
    url: &DatabaseUrl,
    connection: &'a mut Option<DbConn>,
) -> Result<&'a mut DbConn, BatchFailed> {
    if connection.is_none() {
        let mut conn = url
            .establish()
            .map_err(|error| BatchFailed(error.to_string()))?;
        conn.batch_execute("PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0")
            .map_err(|error| BatchFailed(error.to_string()))?;
        *connection = Some(conn);
    }
    connection
        .as_mut()
        .ok_or_else(|| BatchFailed("no connection".to_owned()))
}

/// Opens one transaction, runs `batch`'s job and every job that queues meanwhile (within the
/// bounds) each in its own savepoint, and commits.
fn run_batch(
    conn: &mut DbConn,
    max_write: Option<Duration>,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    batch: &mut Vec<Box<dyn Job>>,
) -> Result<(), BatchFailed> {
    let failed = |error: diesel::result::Error| BatchFailed(error.to_string());
    let DbConn::Sqlite(sqlite) = conn else {
        return Err(BatchFailed("the writer runs on SQLite only".to_owned()));
    };
    // Waits behind other processes' writers (the CLI, a backup) for the busy timeout.
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE").map_err(failed)?;
    let outbox = Deferral::begin(conn);
    let started = Instant::now();
    let mut next = 0;
    let outcome = loop {
        let Some(job) = batch.get_mut(next) else {
            if batch.len() >= MAX_JOBS || started.elapsed() >= MAX_BATCH_TIME {
                break Ok(());
            }
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break Ok(()),
            }
            continue;
        };
        next += 1;
        let mark = outbox.mark();
        match run_in_savepoint(conn, job.as_mut(), max_write) {
            Ok(true) => {}
            Ok(false) => outbox.discard_since(mark),
            Err(error) => break Err(failed(error)),
        }
    };
    let outcome = outcome
        .and_then(|()| {
            outbox
                .flush(conn)
                .map_err(|error| BatchFailed(format!("appending its events: {error}")))
        })
        .and_then(|()| DbConn::commit_transaction(conn).map_err(failed));
    if outcome.is_err() && in_transaction(conn) {
        // Leaves the connection marked broken if even this fails; the pool then drops it.
        let _ = DbConn::rollback_transaction(conn);
    }
    outcome
}

/// Runs one job inside a savepoint, released when it succeeded and rolled back when it failed
/// or panicked; answers whether its changes stay. An error here is the shared transaction's,
/// not the job's.
fn run_in_savepoint(
    conn: &mut DbConn,
    job: &mut dyn Job,
    max_write: Option<Duration>,
) -> diesel::QueryResult<bool> {
    DbConn::begin_transaction(conn)?;
    let depth = transaction_depth(conn);
    let succeeded = job.run(conn, max_write);
    if transaction_depth(conn) == depth {
        if succeeded {
            return DbConn::commit_transaction(conn).map(|()| true);
        }
    } else if succeeded {
        job.overrule(Error::internal(
            "a write left a transaction of its own open",
        ));
    }
    // A job that panicked inside a nested transaction of its own left it open: those
    // savepoints go first, then the job's.
    while transaction_depth(conn) > depth {
        DbConn::rollback_transaction(conn)?;
    }
    DbConn::rollback_transaction(conn).map(|()| false)
}

fn in_transaction(conn: &mut DbConn) -> bool {
    transaction_depth(conn) > 0
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel::{QueryableByName, RunQueryDsl};

    use crate::error::Error;
    use crate::store::{DatabaseUrl, DbConn, Store};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn insert(conn: &mut DbConn, name: &str) -> crate::error::Result<()> {
        conn.batch_execute(&format!("INSERT INTO t VALUES ('{name}')"))?;
        Ok(())
    }

    fn count(conn: &mut DbConn, filter: &str) -> i64 {
        diesel::sql_query(format!("SELECT count(*) AS n FROM t {filter}"))
            .get_result::<Count>(conn)
            .unwrap()
            .n
    }

    /// The writer's connection does not checkpoint inside its commits: unless it checkpoints
    /// between batches, the WAL keeps every page ever written and the file only grows.
    #[test]
    fn the_writer_checkpoints_so_the_wal_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("w.db")), 3).unwrap();
        store
            .run_blocking(|conn| Ok(conn.batch_execute("CREATE TABLE t (name TEXT)")?))
            .unwrap();
        // 4 MB written over at least a second: ten checkpoint intervals or more.
        let payload = "x".repeat(8192);
        for n in 0..500 {
            let row = format!("{n}{payload}");
            store
                .write_queued_blocking(move |conn| insert(conn, &row))
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal < 2_000_000,
            "the WAL grew to {wal} bytes for 4 MB written: it is never checkpointed"
        );
        let rows = store.run_blocking(|conn| Ok(count(conn, ""))).unwrap();
        assert_eq!(rows, 500);
    }

    #[tokio::test]
    async fn jobs_queued_together_share_one_transaction_and_fail_or_panic_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("w.db")), 3).unwrap();
        store
            .run_blocking(|conn| Ok(conn.batch_execute("CREATE TABLE t (name TEXT)")?))
            .unwrap();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let reader = store.clone();
        // Each write is handed to the writer when first polled: the first one holds the
        // writer until the others are queued behind it, so they make the next batch together.
        let (blocker, first, failed, last, panicked, ()) = tokio::join!(
            store.write(move |_| {
                released.recv().unwrap();
                Ok(())
            }),
            store.write(|conn| insert(conn, "first")),
            store.write(|conn| {
                insert(conn, "failed")?;
                Err::<(), _>(Error::Conflict)
            }),
            store.write(move |conn| {
                insert(conn, "last")?;
                // Another connection does not see the first job's row yet: not committed.
                reader.run_blocking(|other| Ok(count(other, "")))
            }),
            store.write(|conn| -> crate::error::Result<()> {
                insert(conn, "panicked")?;
                panic!("a bug in one write");
            }),
            async { release.send(()).unwrap() },
        );
        blocker.unwrap();
        assert!(first.is_ok(), "{first:?}");
        assert!(matches!(panicked, Err(Error::Internal(_))), "{panicked:?}");
        assert!(matches!(failed, Err(Error::Conflict)), "{failed:?}");
        assert_eq!(
            last.unwrap(),
            0,
            "the jobs queued together shared one uncommitted transaction"
        );
        let stored = store
            .run_blocking(|conn| {
                Ok([
                    count(conn, "WHERE name IN ('first', 'last')"),
                    count(conn, ""),
                ])
            })
            .unwrap();
        assert_eq!(stored, [2, 2], "only the jobs that succeeded are stored");
        // The writer survived the panic.
        store.write(|conn| insert(conn, "after")).await.unwrap();
    }
}
