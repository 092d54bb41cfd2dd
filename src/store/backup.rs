//! Backups of the embedded SQLite database while it serves, restores with it stopped, and the
//! lock that tells the two apart. PostgreSQL has `pg_dump` for this (README, Operations).

use std::fs::File;
use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use super::{BackendKind, DatabaseUrl, DbConn, Store, migrate};

/// Why a backup or restore was refused or failed; each says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore are for the embedded SQLite database; for PostgreSQL use pg_dump \
         and pg_restore (README: Operations, Backups)"
    )]
    Postgres,
    #[error("{0} already exists: choose a new file name (a backup never overwrites one)")]
    TargetExists(String),
    #[error("{0} already exists: add --force to replace it with the backup")]
    WouldOverwrite(String),
    #[error(
        "a scimd server is running on {0}: stop every `scimd serve` on it first (restoring \
         under a running server would mix two databases)"
    )]
    InUse(String),
    #[error("{path} is not a usable scimd backup: {reason}")]
    NotABackup { path: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::error::Error),
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

/// Copies the database into `to` (which must not exist) as one consistent snapshot.
///
/// `VACUUM INTO` reads in one read transaction: under WAL, writers go on committing while it
/// runs and the copy holds exactly what was committed when it began. It writes a compacted
/// file beside `to` that is synced and renamed into place only when whole, so an interrupted
/// backup never leaves a file that looks like one.
pub fn backup(store: &Store, to: &Path) -> Result<u64, BackupError> {
    if store.backend() == BackendKind::Postgres {
        return Err(BackupError::Postgres);
    }
    if to.exists() {
        return Err(BackupError::TargetExists(to.display().to_string()));
    }
    let partial = sibling(to, "partial");
    let _ = std::fs::remove_file(&partial);
    let copied = store.run_blocking(|conn| {
        let partial = partial.to_string_lossy().into_owned();
        match conn {
            DbConn::Sqlite(inner) => diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(partial)
                .execute(inner)
                .map(|_| ())
                .map_err(Into::into),
            DbConn::Postgres(_) => Ok(()),
        }
    });
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into());
    }
    let size = settle(&partial, to)?;
    Ok(size)
}

/// Replaces the database at `url` with the backup `from`, with no server running on it.
///
/// The backup is copied beside the database and checked there (SQLite's `quick_check`, a
/// scimd schema no newer than this binary's), so the file given is never written to and a
/// damaged one never replaces a good database.
pub fn restore(url: &DatabaseUrl, from: &Path, force: bool) -> Result<(), BackupError> {
    let Some(target) = url.sqlite_path() else {
        return Err(BackupError::Postgres);
    };
    // Held until the restore is done, so no server starts on a half-restored database.
    let _exclusive = ServeLock::exclusive(target)?;
    if target.exists() && !force {
        return Err(BackupError::WouldOverwrite(target.display().to_string()));
    }
    if !from.is_file() {
        return Err(BackupError::NotABackup {
            path: from.display().to_string(),
            reason: "no such file".to_owned(),
        });
    }
    let partial = sibling(target, "restoring");
    let result = copy_and_check(from, &partial).and_then(|()| {
        // A log left by the replaced database would be replayed into the restored one.
        remove_logs(target)?;
        settle(&partial, target).map(|_| ())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
        let _ = remove_logs(&partial);
    }
    result
}

fn copy_and_check(from: &Path, partial: &Path) -> Result<(), BackupError> {
    std::fs::copy(from, partial).map_err(io(format!(
        "cannot copy {} to {}",
        from.display(),
        partial.display()
    )))?;
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: from.display().to_string(),
        reason,
    };
    let url = DatabaseUrl::Sqlite(partial.to_owned());
    let options = super::OpenOptions {
        create: false,
        ..super::OpenOptions::new(1)
    };
    let store = Store::open_with(&url, &options).map_err(|e| not_a_backup(e.to_string()))?;
    let rows = store
        .run_blocking(|conn| match conn {
            DbConn::Sqlite(inner) => diesel::sql_query("PRAGMA quick_check")
                .load::<QuickCheck>(inner)
                .map_err(Into::into),
            DbConn::Postgres(_) => Ok(Vec::new()),
        })
        .map_err(|e| not_a_backup(e.to_string()))?;
    if rows.iter().any(|row| row.quick_check != "ok") {
        let found: Vec<_> = rows.into_iter().map(|row| row.quick_check).collect();
        return Err(not_a_backup(format!(
            "SQLite finds it damaged ({})",
            found.join("; ")
        )));
    }
    let pending = migrate::pending(&store).map_err(|e| not_a_backup(e.to_string()))?;
    if pending.len() == migrate::known_versions(BackendKind::Sqlite)?.len() {
        return Err(not_a_backup("it holds no scimd schema".to_owned()));
    }
    // Closing the last connection folds the copy's WAL back into it.
    drop(store);
    remove_logs(partial)
}

/// Removes SQLite's `-wal`, `-shm` and `-journal` files beside `database`.
fn remove_logs(database: &Path) -> Result<(), BackupError> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(format!("cannot remove {}", path.display()))(error));
            }
            _ => {}
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct QuickCheck {
    #[diesel(sql_type = Text)]
    quick_check: String,
}

/// Syncs `partial` and renames it to `to`, then syncs the directory so the name survives a
/// power loss too; answers the size.
fn settle(partial: &Path, to: &Path) -> Result<u64, BackupError> {
    let file = File::open(partial).map_err(io(format!("cannot open {}", partial.display())))?;
    file.sync_all()
        .map_err(io(format!("cannot sync {}", partial.display())))?;
    let size = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    drop(file);
    std::fs::rename(partial, to).map_err(io(format!(
        "cannot rename {} to {}",
        partial.display(),
        to.display()
    )))?;
    if let Some(directory) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Not every filesystem syncs a directory; the file itself is synced already.
        let _ = File::open(directory).and_then(|dir| dir.sync_all());
    }
    Ok(size)
}

/// `FILE.NAME` beside `FILE`, for a copy in progress: the same directory, so the final
/// rename is atomic.
fn sibling(path: &Path, name: &str) -> PathBuf {
    let mut sibling = path.as_os_str().to_owned();
    sibling.push(format!(".{name}"));
    PathBuf::from(sibling)
}

/// An advisory lock on `DATABASE.lock` beside an SQLite database: every `scimd serve` holds
/// it shared (several instances may share one file), `scimd restore` takes it exclusively,
/// so a restore refuses while any server runs, and a server refuses to start mid-restore.
///
/// A file of its own, not the database: SQLite's POSIX locks on the database are dropped by
/// closing any descriptor of it in the process, which this lock's file would be. The lock
/// goes with the process, whatever way it ends; the empty file stays, harmlessly.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    /// Taken by a server for as long as it runs.
    pub fn shared(database: &Path) -> Result<ServeLock, BackupError> {
        let (file, path) = open_lock_file(database)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::Io {
                context: format!("{} is being restored", database.display()),
                source: std::io::Error::other("wait until `scimd restore` has finished"),
            }),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(io(format!("cannot lock {}", path.display()))(error))
            }
        }
    }

    fn exclusive(database: &Path) -> Result<ServeLock, BackupError> {
        let (file, path) = open_lock_file(database)?;
        match file.try_lock() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(BackupError::InUse(database.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(error)) => {
                Err(io(format!("cannot lock {}", path.display()))(error))
            }
        }
    }
}

fn open_lock_file(database: &Path) -> Result<(File, PathBuf), BackupError> {
    let path = sibling(database, "lock");
    if let Some(directory) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory)
            .map_err(io(format!("cannot create {}", directory.display())))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("cannot open {}", path.display())))?;
    Ok((file, path))
}
