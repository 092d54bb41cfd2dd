//! How long one request may hold the database writer (`--max-write-ms`).
//!
//! SQLite has one writer for every organization: a request that keeps it for seconds makes
//! every other tenant's writes queue behind it until their busy timeout. Write transactions
//! run under a deadline, and long loops in the store call [`check`] between batches; past the
//! deadline the transaction rolls back and the client gets 503 with `Retry-After`.
//!
//! The deadline lives in a thread-local because a write transaction runs start to end on the
//! one blocking thread that called [`within`], and passing it through every store function
//! would thread a parameter through callers that never loop.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

thread_local! {
    static DEADLINE: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
}

/// Why a write was rolled back; logged, never shown to the client.
#[derive(Debug, thiserror::Error)]
#[error("the request held the database writer longer than {} ms (--max-write-ms)", .limit.as_millis())]
pub struct WriteTooLong {
    limit: Duration,
}

/// Runs `f` with writes on this thread limited to `limit` from now (`None`: unlimited).
pub(crate) fn within<T>(limit: Option<Duration>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let Some(limit) = limit else {
        return f();
    };
    let _restore = Restore(DEADLINE.replace(Some((Instant::now() + limit, limit))));
    f()
}

/// Puts the previous deadline back even if the write unwinds, so that a reused blocking
/// thread never carries a stale one into the next request.
struct Restore(Option<(Instant, Duration)>);

impl Drop for Restore {
    fn drop(&mut self) {
        DEADLINE.set(self.0);
    }
}

/// Fails with [`Error::Unavailable`] once the running write transaction is past its deadline.
/// Called at points where stopping leaves nothing half done: the transaction rolls back.
pub fn check() -> Result<()> {
    match DEADLINE.get() {
        Some((deadline, limit)) if Instant::now() >= deadline => {
            Err(Error::Unavailable(Box::new(WriteTooLong { limit })))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_write_past_its_deadline_fails_its_checks() {
        assert!(check().is_ok(), "no deadline outside a write");
        let within_limit = within(Some(Duration::from_secs(60)), check);
        assert!(within_limit.is_ok());
        let past = within(Some(Duration::ZERO), check);
        assert!(matches!(past, Err(Error::Unavailable(_))), "{past:?}");
        assert!(check().is_ok(), "the deadline ends with its write");
        assert!(within(None, check).is_ok());
    }
}
