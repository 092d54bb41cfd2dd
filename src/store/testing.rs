//! What unit tests of the store and the services above it share: a migrated SQLite file, and
//! the statements diesel runs on a connection.

use std::sync::{Arc, Mutex};

use diesel::SqliteConnection;
use diesel::connection::{Connection, InstrumentationEvent};

use super::{DatabaseUrl, Store, migrate};

/// The SQLite database `name` in `dir`, migrated, with a store of `connections` on it.
pub(crate) fn migrated_sqlite(
    dir: &tempfile::TempDir,
    name: &str,
    connections: u32,
) -> (DatabaseUrl, Store) {
    let url = DatabaseUrl::Sqlite(dir.path().join(name));
    let store = Store::open(&url, connections).unwrap();
    migrate::run_pending(&store).unwrap();
    (url, store)
}

/// From now on, what `pick` makes of each of diesel's events on `sqlite` (a statement's SQL,
/// say), in order.
pub(crate) fn record_statements(
    sqlite: &mut SqliteConnection,
    pick: fn(InstrumentationEvent<'_>) -> Option<String>,
) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    sqlite.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let Some(picked) = pick(event) {
            sink.lock().unwrap().push(picked);
        }
    });
    seen
}
