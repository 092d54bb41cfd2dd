//! Threads whose work no request waits for: the activity log's redaction and its writer, and
//! the push deliverer (whose SETs go out within a second at 1,000 writes/s all the same:
//! `benches/events_push.rs`).
//!
//! They lower their own scheduling priority, so that under full load the kernel hands the
//! CPU to the threads that answer requests first and the log catches up in the gaps. At the
//! same priority, on two cores, the log's bursts (a batch every 200 ms) took turns from the
//! SCIM writer and the workers: `POST /Users` kept 86–91% of its throughput with the log on
//! (three runs); niced, 92% on average over eight runs, single runs from 84% to 97% on a noisy
//! virtual machine (`benches/activity_overhead.rs`, which also checks that every entry was
//! still written). A nice of 10 still gets a tenth of a busy core's share, so the log never
//! starves; when it cannot keep up at all, its bounded queue drops and counts entries, as it
//! always did.

/// Lowers the calling thread's priority (nice 10) where the platform lets one thread do that
/// (Linux); elsewhere, or when refused (a sandbox), the thread runs as it was.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        log::debug!("cannot lower a background thread's priority: {error}");
    }
}
