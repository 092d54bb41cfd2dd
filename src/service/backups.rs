//! Scheduled backups of the embedded SQLite database (`serve --backup-every`), on top of the
//! one-off `scimd backup` ([`crate::store::backup`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::store::backup::{self, BackupError};
use crate::store::{BackendKind, Store};

/// What `--backup-every`, `--backup-dir` and `--backup-keep` ask for.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub every: Duration,
    pub dir: PathBuf,
    /// How many of the newest scheduled backups stay; older ones are deleted.
    pub keep: usize,
}

/// Every scheduled backup is named `scimd-<UTC time>.db`, so names sort by age and pruning
/// never touches a file it did not make.
const PREFIX: &str = "scimd-";
const SUFFIX: &str = ".db";

/// Runs backups while the returned guard lives (the server holds it), from a thread of its
/// own: `VACUUM INTO` blocks its connection for as long as the copy takes.
#[must_use = "the schedule stops when the guard is dropped"]
#[derive(Debug)]
pub struct ScheduleGuard {
    _alive: Arc<()>,
}

/// Checks the schedule can work (SQLite, a writable directory), then starts it.
pub fn start(store: &Store, schedule: BackupSchedule) -> anyhow::Result<ScheduleGuard> {
    anyhow::ensure!(
        store.backend() == BackendKind::Sqlite,
        "--backup-every is for the embedded SQLite database; for PostgreSQL schedule pg_dump \
         (README: Operations, Backups)"
    );
    anyhow::ensure!(schedule.keep >= 1, "--backup-keep must be at least 1");
    std::fs::create_dir_all(&schedule.dir).map_err(|error| {
        anyhow::anyhow!(
            "cannot create the backup directory {}: {error}",
            schedule.dir.display()
        )
    })?;
    log::info!(
        "backing up every {} s to {}, keeping the newest {}",
        schedule.every.as_secs(),
        schedule.dir.display(),
        schedule.keep
    );
    let alive = Arc::new(());
    let weak = Arc::downgrade(&alive);
    let store = store.clone();
    std::thread::Builder::new()
        .name("scimd-backups".to_owned())
        .spawn(move || run(&store, &schedule, &weak))
        .map_err(|error| anyhow::anyhow!("cannot start the backup schedule: {error}"))?;
    Ok(ScheduleGuard { _alive: alive })
}

fn run(store: &Store, schedule: &BackupSchedule, alive: &Weak<()>) {
    // Checked this often for the server's end, so a stopped server's thread does not keep the
    // database open until the next backup is due.
    let tick = schedule.every.min(Duration::from_millis(500));
    let mut due = Instant::now() + schedule.every;
    loop {
        std::thread::sleep(tick);
        if alive.strong_count() == 0 {
            return;
        }
        if Instant::now() < due {
            continue;
        }
        due = Instant::now() + schedule.every;
        match back_up_now(store, &schedule.dir) {
            Ok((path, size)) => log::info!("backup {} written ({size} bytes)", path.display()),
            // The next one is tried on time: a full disk may have been cleared by then.
            Err(error) => log::error!("scheduled backup failed: {error}"),
        }
        if let Err(error) = prune(&schedule.dir, schedule.keep) {
            log::warn!("cannot delete old backups: {error}");
        }
    }
}

fn back_up_now(store: &Store, dir: &Path) -> Result<(PathBuf, u64), BackupError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let path = dir.join(format!("{PREFIX}{stamp}{SUFFIX}"));
    let size = backup::backup(store, &path)?;
    Ok((path, size))
}

/// Deletes all but the newest `keep` scheduled backups in `dir`.
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
        })
        .collect();
    ours.sort();
    let excess = ours.len().saturating_sub(keep);
    for old in ours.into_iter().take(excess) {
        std::fs::remove_file(&old)?;
        log::info!("deleted the old backup {}", old.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files_alone() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for name in [
            "scimd-20260101T000000000Z.db",
            "scimd-20260102T000000000Z.db",
            "scimd-20260103T000000000Z.db",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"")?;
        }
        prune(dir.path(), 2)?;
        let mut left: Vec<String> = std::fs::read_dir(dir.path())?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "scimd-20260102T000000000Z.db",
                "scimd-20260103T000000000Z.db"
            ]
        );
        Ok(())
    }
}
