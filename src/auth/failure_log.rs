//! The info-level log line of each failed authentication, with a global budget: a flood of
//! bad requests costs a few lines a minute, not a full disk. What is not logged is counted
//! and reported with the next line that is.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lines written per [`WINDOW`], across all clients.
pub const LINES_PER_WINDOW: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);

/// Where the budget of the current window stands.
#[derive(Debug)]
struct Budget {
    window_start: Instant,
    written: u32,
    suppressed: u64,
}

/// Decides which failures get a log line.
#[derive(Debug)]
pub struct FailureLog {
    budget: Mutex<Budget>,
}

/// What to do with one failure.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `suppressed_before` failures went unlogged since the last line.
    Write {
        suppressed_before: u64,
    },
    /// Log it, then say that the rest of the window is counted, not logged.
    WriteLast,
    Suppress,
}

impl FailureLog {
    pub fn new(now: Instant) -> Self {
        FailureLog {
            budget: Mutex::new(Budget {
                window_start: now,
                written: 0,
                suppressed: 0,
            }),
        }
    }

    /// Takes one line from the budget, if there is one left.
    pub fn verdict(&self, now: Instant) -> Verdict {
        let Ok(mut budget) = self.budget.lock() else {
            return Verdict::Suppress;
        };
        let mut suppressed_before = 0;
        if now.duration_since(budget.window_start) >= WINDOW {
            suppressed_before = budget.suppressed;
            *budget = Budget {
                window_start: now,
                written: 0,
                suppressed: 0,
            };
        }
        if budget.written >= LINES_PER_WINDOW {
            budget.suppressed += 1;
            return Verdict::Suppress;
        }
        budget.written += 1;
        if budget.written == LINES_PER_WINDOW {
            Verdict::WriteLast
        } else {
            Verdict::Write { suppressed_before }
        }
    }

    /// Logs `line` at info level if the budget allows.
    pub fn log(&self, line: std::fmt::Arguments<'_>) {
        match self.verdict(Instant::now()) {
            Verdict::Write { suppressed_before } => {
                if suppressed_before > 0 {
                    log::info!(
                        "{suppressed_before} further authentication failures were not logged \
                         (suppressed={suppressed_before}); see `scimd audit --type auth.failed`"
                    );
                }
                log::info!("{line}");
            }
            Verdict::WriteLast => {
                log::info!("{line}");
                log::info!(
                    "more than {LINES_PER_WINDOW} authentication failures in {} s: the rest \
                     are counted, not logged, until the minute is over",
                    WINDOW.as_secs()
                );
            }
            Verdict::Suppress => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gets_a_bounded_number_of_lines_and_a_count() {
        let start = Instant::now();
        let log = FailureLog::new(start);
        let verdicts: Vec<Verdict> = (0..100).map(|_| log.verdict(start)).collect();
        let written = verdicts
            .iter()
            .filter(|verdict| **verdict != Verdict::Suppress)
            .count();
        assert_eq!(written, LINES_PER_WINDOW as usize);
        assert_eq!(
            verdicts.get(LINES_PER_WINDOW as usize - 1),
            Some(&Verdict::WriteLast)
        );
        assert_eq!(
            log.verdict(start + WINDOW),
            Verdict::Write {
                suppressed_before: 100 - u64::from(LINES_PER_WINDOW)
            }
        );
        assert_eq!(
            log.verdict(start + WINDOW),
            Verdict::Write {
                suppressed_before: 0
            }
        );
    }
}
