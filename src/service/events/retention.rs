//! The retention sweep: events older than the retention period that no stream still waits
//! for are deleted, a small batch per transaction, by a background thread that stops with the
//! server.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::TimeDelta;

use crate::store::{self, Store, events as stored};

/// Events looked at per step, and at most deleted per transaction: short enough never to
/// hold the writer long.
pub const BATCH: i64 = 500;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(60);

/// Keeps the sweep running; dropped with the server, it ends the thread.
pub struct RetentionGuard {
    _alive: Arc<()>,
}

/// Starts the sweep of events older than `retention`.
pub fn start(store: &Store, retention: Duration) -> anyhow::Result<RetentionGuard> {
    let retention = TimeDelta::from_std(retention)
        .map_err(|_| anyhow::anyhow!("--events-retention is too long"))?;
    let alive = Arc::new(());
    let weak = Arc::downgrade(&alive);
    let store = store.clone();
    std::thread::Builder::new()
        .name("scimd-events-retention".to_owned())
        .spawn(move || run(&store, retention, &weak))
        .map_err(|error| anyhow::anyhow!("cannot start the event retention sweep: {error}"))?;
    Ok(RetentionGuard { _alive: alive })
}

fn run(store: &Store, retention: TimeDelta, alive: &Weak<()>) {
    // Checked this often for the server's end, as the backup schedule does.
    let tick = Duration::from_millis(500);
    let mut due = Instant::now();
    loop {
        if alive.strong_count() == 0 {
            return;
        }
        if Instant::now() >= due {
            due = Instant::now() + EVERY;
            if let Err(error) = sweep(store, retention) {
                log::warn!("event retention sweep: {error}");
            }
        }
        std::thread::sleep(tick);
    }
}

/// Deletes every expired event, [`BATCH`] at a time; answers how many.
pub fn sweep(store: &Store, retention: TimeDelta) -> crate::error::Result<usize> {
    sweep_in_batches(store, retention, BATCH)
}

/// [`sweep`], `batch` events per step. Each step reads what may go, and takes the writer
/// only when something does: events a stopped stream still waits for are looked at every
/// run, and that costs reads, not write locks.
pub fn sweep_in_batches(
    store: &Store,
    retention: TimeDelta,
    batch: i64,
) -> crate::error::Result<usize> {
    let before = store::now() - retention;
    let (mut total, mut after) = (0, 0);
    loop {
        let expired =
            store.run_blocking(|conn| stored::expired_unwanted(conn, before, after, batch))?;
        if !expired.by_org.is_empty() {
            let by_org = expired.by_org;
            total += store.write_queued_blocking(move |conn| {
                let mut deleted = 0;
                for of_org in &by_org {
                    deleted += stored::delete_events(conn, of_org)?;
                }
                Ok(deleted)
            })?;
        }
        match expired.next {
            Some(next) => after = next,
            None => return Ok(total),
        }
    }
}
