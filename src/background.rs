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

/// How much of a busy CPU a background thread takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Nice 10, as [`lower_priority`]: a tenth of a busy core's share, so it never starves.
    Low,
    /// Linux's `SCHED_IDLE`: only CPU time no other thread wants, given up the moment one
    /// wakes. At nice 10 a background thread still takes turns from the threads requests wait
    /// for: with the push deliverer at nice 10, `POST /Users` kept about 80% of its throughput
    /// on two cores; idle unless late, about 84% (`benches/events_push.rs`). A thread that
    /// would starve under a CPU busy for long must go back to [`Share::Low`] when it falls
    /// behind, as the deliverer does.
    Idle,
}

thread_local! {
    static SHARE: std::cell::Cell<Option<Share>> = const { std::cell::Cell::new(None) };
}

/// Gives the calling thread `share` (nothing to do when it has it already). Where the platform
/// refuses, the thread runs as it was; where a thread could not come back from
/// [`Share::Idle`], it gets [`Share::Low`] instead.
pub fn set_share(share: Share) {
    let share = if share == Share::Idle && !idle_is_reversible() {
        Share::Low
    } else {
        share
    };
    if SHARE.get() == Some(share) {
        return;
    }
    SHARE.set(Some(share));
    #[cfg(target_os = "linux")]
    if !set_policy(share) {
        log::debug!("cannot give a background thread the scheduling policy for {share:?}");
    }
    if share == Share::Low {
        lower_priority();
    }
}

/// Whether a thread of this process may leave `SCHED_IDLE` again. An unprivileged one may not
/// unless `RLIMIT_NICE` lets it have nice 10 (its default, 0, does not): a late deliverer
/// would stay idle, so such a process keeps its background threads at nice 10. Tried once, on
/// a thread of its own.
fn idle_is_reversible() -> bool {
    static REVERSIBLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    #[cfg(target_os = "linux")]
    return *REVERSIBLE.get_or_init(|| {
        std::thread::spawn(|| set_policy(Share::Idle) && set_policy(Share::Low))
            .join()
            .unwrap_or(false)
    });
    #[cfg(not(target_os = "linux"))]
    return false;
}

/// Sets the calling thread's scheduling policy for `share`; answers whether it has it now.
#[cfg(target_os = "linux")]
fn set_policy(share: Share) -> bool {
    use thread_priority::ThreadPriority;
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id, thread_schedule_policy,
    };
    let policy = ThreadSchedulePolicy::Normal(match share {
        Share::Low => NormalThreadSchedulePolicy::Other,
        Share::Idle => NormalThreadSchedulePolicy::Idle,
    });
    if thread_schedule_policy().is_ok_and(|now| now == policy) {
        // Setting it again would set the nice value to the policy's lowest (19), from which
        // an unprivileged thread may not come back to 10.
        return true;
    }
    if share == Share::Idle {
        // Leaving SCHED_IDLE later is allowed only to a thread whose nice value its
        // RLIMIT_NICE permits: 10 needs `LimitNICE=+10`, where 0 would need privileges.
        lower_priority();
    }
    // It also sets the nice value, which may be refused (raising it) after the policy was set:
    // what counts is the policy the thread has afterwards.
    let _ = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, policy);
    thread_schedule_policy().is_ok_and(|now| now == policy)
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
    };

    use super::{Share, idle_is_reversible, set_share};

    fn policy() -> NormalThreadSchedulePolicy {
        match thread_schedule_policy().unwrap() {
            ThreadSchedulePolicy::Normal(policy) => policy,
            other => panic!("a background thread runs under {other:?}"),
        }
    }

    /// Idle when the process may come back from it, and back at nice 10 when late.
    #[test]
    fn a_background_thread_goes_idle_and_comes_back_at_nice_10() {
        std::thread::spawn(|| {
            set_share(Share::Idle);
            let expected = if idle_is_reversible() {
                NormalThreadSchedulePolicy::Idle
            } else {
                NormalThreadSchedulePolicy::Other
            };
            assert_eq!(policy(), expected);
            set_share(Share::Low);
            assert_eq!(policy(), NormalThreadSchedulePolicy::Other);
            let nice =
                rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
            assert_eq!(nice, 10);
        })
        .join()
        .unwrap();
    }
}
