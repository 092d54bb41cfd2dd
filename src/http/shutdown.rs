//! That the server has begun to stop. A graceful stop waits for the requests in flight, and a
//! long poll may wait for events for half a minute: told, it answers at once with what there
//! is, and the stop is not held up by requests that have nothing to finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// One server's stop, shared by its handlers (as app data) and the code that stops it.
#[derive(Clone, Default)]
pub struct Stopping(Arc<State>);

#[derive(Default)]
struct State {
    begun: AtomicBool,
    notify: Notify,
}

impl Stopping {
    /// The stop has begun: every [`Stopping::wait`] returns, now and later.
    pub fn begin(&self) {
        self.0.begun.store(true, Ordering::Release);
        self.0.notify.notify_waiters();
    }

    pub fn has_begun(&self) -> bool {
        self.0.begun.load(Ordering::Acquire)
    }

    /// Returns once the stop has begun.
    pub async fn wait(&self) {
        let notified = self.0.notify.notified();
        let mut notified = std::pin::pin!(notified);
        // Armed before the look, so that a stop beginning in between is not missed.
        notified.as_mut().enable();
        if self.has_begun() {
            return;
        }
        notified.await;
    }
}
