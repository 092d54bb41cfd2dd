//! The first start's token when stdout is not a terminal (systemd, containers): there the
//! banner would land in a journal or a log collector that keeps it for good, so the secret
//! goes to a file only this user can read, and the file goes once the token has been used.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::store::{DatabaseUrl, Store, TokenId};

/// How often the server looks whether the token was used: the file outlives the first use by
/// at most this long while someone is likely setting up an IdP (the first [`EAGER_FOR`]), and
/// by at most [`POLL_LATER`] after that, so a token nobody uses costs one lookup a minute. A
/// poll instead of a hook in the authenticator, because the first use may reach another
/// instance sharing the database.
const POLL: Duration = Duration::from_secs(1);
const EAGER_FOR: Duration = Duration::from_secs(15 * 60);
const POLL_LATER: Duration = Duration::from_secs(60);

/// Beside the SQLite file (the data directory, which the operator already protects and backs
/// up), named after it so two databases in one directory do not share a file. PostgreSQL has
/// no data directory of ours: the working directory is where systemd's `WorkingDirectory=`
/// or a container's volume points, and where the operator starts scimd from by hand.
pub fn path_for(url: &DatabaseUrl) -> PathBuf {
    beside_database(url, ".first-token")
}

/// The SQLite file's name plus `suffix`, or `scimd` plus `suffix` in the working directory.
fn beside_database(url: &DatabaseUrl, suffix: &str) -> PathBuf {
    match url.sqlite_path() {
        Some(database) => {
            let mut name = database
                .file_name()
                .map(|name| name.to_os_string())
                .unwrap_or_default();
            name.push(suffix);
            database.with_file_name(name)
        }
        None => PathBuf::from(format!("scimd{suffix}")),
    }
}

/// Where the first start leaves the console set-up link off a terminal: beside the token's
/// file, for the same reasons.
pub fn setup_link_path_for(url: &DatabaseUrl) -> PathBuf {
    beside_database(url, ".setup-link")
}

/// Writes the secret (a token, a link), readable and writable by this user only: mode 0600 from the moment the
/// file exists, and a new file, so neither a leftover file's wider mode nor a symlink planted
/// in its place is reused.
pub fn write(path: &Path, token: &SecretString) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{}", token.expose_secret())?;
    file.sync_all()
}

/// Deletes `path` once the token `id` has been used or can no longer be (revoked, expired,
/// rotated away, deleted); runs until then.
pub async fn remove_after_first_use(store: Store, id: TokenId, path: PathBuf) {
    let started = std::time::Instant::now();
    loop {
        let lookup_id = id.clone();
        let pending = store
            .read(move |conn| super::pending_first_use(conn, &lookup_id))
            .await;
        match pending {
            Ok(Some(_)) => {}
            Ok(None) => {
                remove(&path);
                return;
            }
            // The database may be restarting: keep the file and look again.
            Err(error) => log::debug!("cannot check the first-start token: {error}"),
        }
        let wait = if started.elapsed() < EAGER_FOR {
            POLL
        } else {
            POLL_LATER
        };
        actix_web::rt::time::sleep(wait).await;
    }
}

/// Removes the file, saying so; a file already gone is fine.
pub fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => log::info!(
            "the first-start token has been used (or revoked): deleted {}",
            path.display()
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => log::warn!("cannot delete {}: {error}", path.display()),
    }
}
