//! Process-wide counters that parts of the server without a request at hand report to, read
//! when `/metrics` is scraped. Each report is one atomic operation.

use std::sync::atomic::{AtomicU64, Ordering};

static ACTIVITY_QUEUE_DEPTH: AtomicU64 = AtomicU64::new(0);
static ACTIVITY_DROPPED: AtomicU64 = AtomicU64::new(0);

/// The activity log's queue now holds `depth` entries waiting to be written.
pub fn activity_queue(depth: usize) {
    ACTIVITY_QUEUE_DEPTH.store(u64::try_from(depth).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// One activity entry was dropped because the queue was full.
pub fn activity_dropped() {
    ACTIVITY_DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// (queue depth, entries dropped since start) of the activity log.
pub fn activity_log_figures() -> (u64, u64) {
    (
        ACTIVITY_QUEUE_DEPTH.load(Ordering::Relaxed),
        ACTIVITY_DROPPED.load(Ordering::Relaxed),
    )
}
