//! Writing the activity log without slowing or failing a request: the middleware hands each
//! captured request to a bounded queue and moves on (a full queue drops the entry and counts
//! it); a thread of its own turns the queue into rows, one transaction per batch. Another
//! thread trims the log by age and by a per-organization cap, in small batches. Queue depth
//! and drops go to `/metrics` ([`crate::metrics`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Captured, Parsed, entry_of};
use crate::error::Result;
use crate::metrics;
use crate::store::activity::{
    ActivityRow, activity_orgs, delete_activity_before, delete_activity_beyond, insert_activity,
};
use crate::store::{self, OrgId, Store};

/// Rows per insert transaction: large enough that a busy second costs a handful of writer
/// turns, small enough that one never holds the SQLite writer for long.
const INSERT_BATCH: usize = 500;
/// Rows per delete transaction, with [`SWEEP_PAUSE`] between, so trimming a large backlog
/// never holds the writer for long.
const DELETE_BATCH: i64 = 1000;
const SWEEP_PAUSE: Duration = Duration::from_millis(50);

/// `serve`'s `--activity-*` settings.
#[derive(Debug, Clone)]
pub struct ActivitySettings {
    /// Record anything at all: off only to measure what recording costs.
    pub enabled: bool,
    /// Record successful reads too (writes and failures always are).
    pub reads: bool,
    /// How long entries are kept.
    pub retention: Duration,
    /// The most entries kept per organization; older ones go first.
    pub max_rows: i64,
    /// Entries waiting to be written at most; more are dropped and counted.
    pub queue: usize,
    /// How often the queue is written out.
    pub flush_every: Duration,
    /// How often old entries are deleted (and once at start).
    pub sweep_every: Duration,
}

impl Default for ActivitySettings {
    fn default() -> Self {
        ActivitySettings {
            enabled: true,
            reads: false,
            retention: Duration::from_secs(30 * 86_400),
            max_rows: 100_000,
            queue: 10_000,
            flush_every: Duration::from_millis(200),
            sweep_every: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    waiting: AtomicUsize,
    dropped: AtomicU64,
}

/// The sending end, shared by every worker: cheap to clone, never blocks.
#[derive(Clone)]
pub struct ActivityLog {
    sender: SyncSender<Captured>,
    /// Where the log is kept (see [`crate::store::activity::open_log`]).
    store: Store,
    counters: Arc<Counters>,
    enabled: bool,
    reads: bool,
}

/// Keeps the sweeper running; the writer runs until every [`ActivityLog`] is gone, then
/// writes what is left and stops.
#[must_use = "the retention sweep stops when the guard is dropped"]
#[derive(Debug)]
pub struct ActivityWorkers {
    _alive: Option<Arc<()>>,
}

impl ActivityLog {
    /// Starts the writer and the sweeper threads, which write to `log` (opened by
    /// [`crate::store::activity::open_log`]) and look names up in `store`.
    pub fn start(
        store: &Store,
        log: &Store,
        settings: &ActivitySettings,
    ) -> anyhow::Result<(ActivityLog, ActivityWorkers)> {
        let (sender, receiver) = sync_channel(settings.queue);
        let counters = Arc::new(Counters::default());
        if !settings.enabled {
            let log = ActivityLog {
                sender,
                store: log.clone(),
                counters,
                enabled: false,
                reads: false,
            };
            return Ok((log, ActivityWorkers { _alive: None }));
        }
        let writer = Writer {
            store: store.clone(),
            log: log.clone(),
            receiver,
            counters: Arc::clone(&counters),
            flush_every: settings.flush_every,
        };
        std::thread::Builder::new()
            .name("scimd-activity".to_owned())
            .spawn(move || writer.run())
            .map_err(|error| anyhow::anyhow!("cannot start the activity log writer: {error}"))?;
        let alive = Arc::new(());
        let sweeper = Sweeper {
            log: log.clone(),
            retention: chrono::TimeDelta::from_std(settings.retention)
                .unwrap_or(chrono::TimeDelta::MAX),
            max_rows: settings.max_rows,
            every: settings.sweep_every,
            alive: Arc::downgrade(&alive),
        };
        std::thread::Builder::new()
            .name("scimd-activity-sweep".to_owned())
            .spawn(move || sweeper.run())
            .map_err(|error| anyhow::anyhow!("cannot start the activity log sweep: {error}"))?;
        let log = ActivityLog {
            sender,
            store: log.clone(),
            counters,
            enabled: true,
            reads: settings.reads,
        };
        Ok((
            log,
            ActivityWorkers {
                _alive: Some(alive),
            },
        ))
    }

    /// The store the log is read from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether anything is recorded.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether successful reads are recorded.
    pub fn records_reads(&self) -> bool {
        self.reads
    }

    /// Queues `entry`, or drops and counts it when the queue is full: never waits.
    pub fn offer(&self, entry: Captured) {
        match self.sender.try_send(entry) {
            Ok(()) => {
                let waiting = self.counters.waiting.fetch_add(1, Ordering::Relaxed) + 1;
                metrics::activity_queue(waiting);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::activity_dropped();
            }
        }
    }

    /// Entries queued and not yet written.
    pub fn queue_depth(&self) -> usize {
        self.counters.waiting.load(Ordering::Relaxed)
    }

    /// Entries dropped since start: the queue was full, or their batch failed to write.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }
}

struct Writer {
    /// The database the names of tokens and resources are looked up in.
    store: Store,
    log: Store,
    receiver: Receiver<Captured>,
    counters: Arc<Counters>,
    flush_every: Duration,
}

impl Writer {
    fn run(self) {
        crate::background::lower_priority();
        loop {
            std::thread::sleep(self.flush_every);
            let mut batch = Vec::new();
            let stopping = loop {
                match self.receiver.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(TryRecvError::Empty) => break false,
                    Err(TryRecvError::Disconnected) => break true,
                }
            };
            let waiting = self
                .counters
                .waiting
                .fetch_sub(batch.len(), Ordering::Relaxed)
                .saturating_sub(batch.len());
            metrics::activity_queue(waiting);
            while !batch.is_empty() {
                let rest = batch.split_off(batch.len().min(INSERT_BATCH));
                self.write(std::mem::replace(&mut batch, rest));
            }
            if stopping {
                return;
            }
        }
    }

    fn write(&self, captured: Vec<Captured>) {
        let count = captured.len();
        // Parsed before the look-ups, which then ask only for the names no body carries.
        let parsed: Vec<Parsed> = captured.into_iter().map(Parsed::of).collect();
        let written = self.store.run_blocking(|conn| {
            let names = token_names(conn, &parsed)?;
            let resources = resource_names(conn, &parsed)?;
            let rows: Vec<ActivityRow> = parsed
                .into_iter()
                .map(|entry| {
                    let name = entry
                        .token()
                        .and_then(|token| names.get(token.as_str()).cloned());
                    let stored = entry
                        .unnamed_resource()
                        .and_then(|id| resources.get(&(entry.org().clone(), id.to_owned())))
                        .cloned();
                    entry_of(entry, name, stored)
                })
                .collect();
            Ok(rows)
        });
        let written = written.and_then(|rows| {
            self.log
                .write_queued_blocking(move |conn| insert_activity(conn, &rows))
        });
        if let Err(error) = written {
            self.counters
                .dropped
                .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
            (0..count).for_each(|_| metrics::activity_dropped());
            log::error!("activity log: {count} entries lost: {error}");
        }
    }
}

/// The names of the tokens the batch was sent with, by id.
fn token_names(conn: &mut store::DbConn, parsed: &[Parsed]) -> Result<HashMap<String, String>> {
    let mut ids: Vec<String> = parsed
        .iter()
        .filter_map(|entry| entry.token().map(ToString::to_string))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store::tokens::token_names(conn, None, &ids)?
        .into_iter()
        .collect())
}

/// The stored names of the resources the batch's entries need one for (see
/// [`Parsed::unnamed_resource`]), by organization and id: one query per organization in the
/// batch, none when every body named its resource.
fn resource_names(
    conn: &mut store::DbConn,
    parsed: &[Parsed],
) -> Result<HashMap<(OrgId, String), String>> {
    let mut wanted: HashMap<&OrgId, Vec<String>> = HashMap::new();
    for entry in parsed {
        if let Some(id) = entry.unnamed_resource() {
            wanted.entry(entry.org()).or_default().push(id.to_owned());
        }
    }
    let mut names = HashMap::new();
    for (org, mut ids) in wanted {
        ids.sort_unstable();
        ids.dedup();
        for (id, name) in store::activity::resource_names(conn, org, &ids)? {
            names.insert((org.clone(), id), name);
        }
    }
    Ok(names)
}

struct Sweeper {
    log: Store,
    retention: chrono::TimeDelta,
    max_rows: i64,
    every: Duration,
    alive: Weak<()>,
}

impl Sweeper {
    fn run(self) {
        // Checked this often for the server's end, as the backup schedule does.
        let tick = self.every.min(Duration::from_millis(500));
        let mut due = Instant::now();
        loop {
            if self.alive.strong_count() == 0 {
                return;
            }
            if Instant::now() >= due {
                due = Instant::now() + self.every;
                if let Err(error) = self.sweep() {
                    log::error!("activity log retention sweep failed: {error}");
                }
            }
            std::thread::sleep(tick);
        }
    }

    /// Deletes entries past the retention, then each organization's beyond the cap.
    fn sweep(&self) -> Result<()> {
        let mut deleted = 0;
        // A retention too long to subtract keeps everything.
        while let Some(cutoff) = store::now().checked_sub_signed(self.retention) {
            let gone = self.log.write_queued_blocking(move |conn| {
                delete_activity_before(conn, cutoff, DELETE_BATCH)
            })?;
            deleted += gone;
            if i64::try_from(gone).unwrap_or(i64::MAX) < DELETE_BATCH || self.stopped() {
                break;
            }
            std::thread::sleep(SWEEP_PAUSE);
        }
        let orgs = self.log.run_blocking(activity_orgs)?;
        for org in orgs {
            loop {
                let (org, max_rows) = (org.clone(), self.max_rows);
                let gone = self.log.write_queued_blocking(move |conn| {
                    delete_activity_beyond(conn, &org, max_rows, DELETE_BATCH)
                })?;
                deleted += gone;
                if i64::try_from(gone).unwrap_or(i64::MAX) < DELETE_BATCH || self.stopped() {
                    break;
                }
                std::thread::sleep(SWEEP_PAUSE);
            }
        }
        if deleted > 0 {
            log::info!("activity log: deleted {deleted} old entries");
        }
        Ok(())
    }

    fn stopped(&self) -> bool {
        self.alive.strong_count() == 0
    }
}
