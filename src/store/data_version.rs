//! Whether anything was committed to the database since an earlier look, answered without a
//! query, so a copy of rows kept in memory can be reused for exactly as long as it is current.
//!
//! SQLite in WAL mode keeps the wal-index header at the start of the `-shm` file beside the
//! database. Every connection of every process reads it before each read transaction, and
//! every commit rewrites it: its change counter, last WAL frame and salts. Its layout is part
//! of SQLite's file format (<https://sqlite.org/walformat.html>, "The WAL-Index Header"),
//! since processes running different SQLite versions share it. Reading it costs one `pread`,
//! where the cheapest query costs a read transaction: about 10 µs under load.
//!
//! PostgreSQL has no equivalent that another instance could read without a round trip, so
//! there is no data version there and every check is a query.

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::path::Path;
use std::sync::{Arc, Mutex};

use diesel::RunQueryDsl;

use super::DatabaseUrl;
use super::DbConn;

/// One copy of the wal-index header (`WalIndexHdr`, 48 bytes). The `-shm` file starts with
/// two copies; a commit writes the second, then the first.
const HEADER_LEN: usize = 48;
/// Offset of `isInit` in the header: zero until a connection initialised the wal-index.
const IS_INIT_OFFSET: usize = 12;

/// The state of the database at one moment: equal versions mean that nothing was committed
/// in between. Compared byte for byte, never ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Version([u8; HEADER_LEN]);

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Version(..)")
    }
}

/// Reads the data version of one SQLite database.
pub struct DataVersion {
    shm: File,
    /// Held open for the life of the process: SQLite deletes the `-shm` file when the last
    /// connection to the database closes, and a later one creates a new file. `shm` would then
    /// keep reading the deleted file's frozen header and report "unchanged" forever. While
    /// this connection is open (it holds its shared lock in WAL mode), no connection of any
    /// process is the last one.
    _keeps_shm_alive: Mutex<DbConn>,
}

impl DataVersion {
    /// Opens the data version of an SQLite database in WAL mode, or `None` (PostgreSQL, or an
    /// SQLite database whose wal-index cannot be read): then callers query every time.
    pub fn open(url: &DatabaseUrl) -> Option<DataVersion> {
        let path = url.sqlite_path()?;
        let mut connection = url.establish().ok()?;
        // The first read opens the WAL and the wal-index, and takes the shared lock.
        let DbConn::Sqlite(sqlite) = &mut connection else {
            return None;
        };
        diesel::sql_query("SELECT 1 FROM sqlite_schema LIMIT 1")
            .execute(sqlite)
            .ok()?;
        let shm = File::open(shm_path(path)).ok()?;
        let data_version = DataVersion {
            shm,
            _keeps_shm_alive: Mutex::new(connection),
        };
        data_version.current()?;
        Some(data_version)
    }

    /// The current version, or `None` if it cannot be told right now (a commit is rewriting
    /// the header at this instant, or the file cannot be read): then callers query.
    pub fn current(&self) -> Option<Version> {
        let mut copies = [0u8; 2 * HEADER_LEN];
        read_at(&self.shm, &mut copies)?;
        let (first, second) = copies.split_at(HEADER_LEN);
        // SQLite's own readers use the same test: the two copies differ while a commit is
        // rewriting them.
        if first != second || first.get(IS_INIT_OFFSET).is_none_or(|init| *init == 0) {
            return None;
        }
        first.try_into().ok().map(Version)
    }
}

/// Values read from the database, kept for exactly as long as the database is unchanged.
///
/// Every entry belongs to one [`Version`]. Any commit, from this process, another instance or
/// the CLI, makes a new version, and the next reader misses and reads again: nothing is served
/// from a version older than the current one. Bounded: it starts over when full.
pub struct VersionedCache<K, V> {
    capacity: usize,
    state: Mutex<CacheState<K, V>>,
}

struct CacheState<K, V> {
    version: Option<Version>,
    entries: HashMap<K, Arc<V>>,
}

impl<K: Hash + Eq, V> VersionedCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        VersionedCache {
            capacity,
            state: Mutex::new(CacheState {
                version: None,
                entries: HashMap::new(),
            }),
        }
    }

    /// The value kept for `key`, if it was read at `version`, the current one.
    pub fn get(&self, key: &K, version: Version) -> Option<Arc<V>> {
        let state = self.state.lock().ok()?;
        if state.version != Some(version) {
            return None;
        }
        state.entries.get(key).cloned()
    }

    /// Keeps `value`, read at `version` or later. `version` must be taken before the read
    /// starts: a commit in between then makes the entry look stale, never the other way round.
    pub fn insert(&self, key: K, version: Version, value: Arc<V>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.version != Some(version) || state.entries.len() >= self.capacity {
            state.entries.clear();
            state.version = Some(version);
        }
        state.entries.insert(key, value);
    }
}

fn shm_path(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-shm");
    name.into()
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8]) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, 0).ok()
}

/// Elsewhere the wal-index is not read: every check is a query.
#[cfg(not(unix))]
fn read_at(_file: &File, _buffer: &mut [u8]) -> Option<()> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    fn sqlite(dir: &tempfile::TempDir) -> DatabaseUrl {
        DatabaseUrl::Sqlite(dir.path().join("version.db"))
    }

    #[test]
    fn a_commit_on_another_connection_changes_the_version_and_a_read_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let mut other = url.establish().unwrap();
        other
            .batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let data_version = DataVersion::open(&url).unwrap();
        let before = data_version.current().unwrap();
        other.batch_execute("SELECT count(*) FROM t").unwrap();
        assert_eq!(data_version.current(), Some(before));
        other.batch_execute("INSERT INTO t VALUES (2)").unwrap();
        let after = data_version.current().unwrap();
        assert_ne!(after, before);
        // A transaction that changes nothing may or may not count; one that changes a row
        // always does.
        other.batch_execute("UPDATE t SET x = x + 1").unwrap();
        assert_ne!(data_version.current(), Some(after));
    }

    #[test]
    fn the_wal_index_outlives_every_other_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        url.establish()
            .unwrap()
            .batch_execute("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let data_version = DataVersion::open(&url).unwrap();
        let mut previous = data_version.current().unwrap();
        // Every other connection opens, writes and closes, each time. Were the `-shm` file
        // deleted and made anew in between, the handle would keep showing a frozen header and
        // the second round would look unchanged.
        for value in 0..3 {
            let mut connection = url.establish().unwrap();
            connection
                .batch_execute(&format!("INSERT INTO t VALUES ({value})"))
                .unwrap();
            drop(connection);
            let current = data_version.current().unwrap();
            assert_ne!(current, previous, "round {value}");
            previous = current;
        }
    }

    #[test]
    fn a_cached_value_is_served_only_at_the_version_it_was_read_at() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let mut writer = url.establish().unwrap();
        writer.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let data_version = DataVersion::open(&url).unwrap();
        let cache = VersionedCache::new(2);
        let read_at = data_version.current().unwrap();
        cache.insert("a", read_at, Arc::new(1));
        assert_eq!(cache.get(&"a", read_at).as_deref(), Some(&1));
        assert_eq!(cache.get(&"b", read_at), None);

        writer.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        let now = data_version.current().unwrap();
        assert_eq!(cache.get(&"a", now), None, "a commit outdates every entry");
        cache.insert("b", now, Arc::new(2));
        assert_eq!(cache.get(&"a", now), None);
        assert_eq!(cache.get(&"b", now).as_deref(), Some(&2));

        cache.insert("c", now, Arc::new(3));
        cache.insert("d", now, Arc::new(4));
        assert_eq!(cache.get(&"b", now), None, "full: it started over");
        assert_eq!(cache.get(&"d", now).as_deref(), Some(&4));
    }

    #[test]
    fn postgres_has_no_data_version() {
        let url = DatabaseUrl::Postgres("postgres://nobody@localhost:1/none".into());
        assert!(DataVersion::open(&url).is_none());
    }
}
