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
//! PostgreSQL has no equivalent that another instance could read without a round trip: there
//! the version counts notices of token changes instead ([`super::token_listener`]).

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::RunQueryDsl;

use super::DatabaseUrl;
use super::DbConn;

/// One copy of the wal-index header (`WalIndexHdr`, 48 bytes). The `-shm` file starts with
/// two copies; a commit writes the second, then the first.
const HEADER_LEN: usize = 48;
/// `iChange`, the commit counter: 1 or more once anything was committed; 0 in a header that
/// was just rebuilt from the WAL (recovery), where two rebuilds of an empty WAL look the same.
const CHANGE_COUNTER: std::ops::Range<usize> = 8..12;
/// Offset of `isInit` in the header: zero until a connection initialised the wal-index.
const IS_INIT_OFFSET: usize = 12;

/// The state of the database at one moment: equal versions mean that nothing was committed
/// in between (on PostgreSQL: nothing that [`super::token_listener`] is told of). Compared for
/// equality, never ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Version(Stamp);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// SQLite's wal-index header, byte for byte.
    WalIndex([u8; HEADER_LEN]),
    /// PostgreSQL: notices and (re)connections the listener saw, and this process's commits.
    Notified { notices: u64, local_commits: u64 },
}

impl Version {
    /// Whether every commit moves this version, whatever it changed (SQLite's), rather than
    /// only the changes a listener is told of (PostgreSQL's token notices).
    pub fn moves_with_every_commit(&self) -> bool {
        matches!(self.0, Stamp::WalIndex(_))
    }

    pub(super) fn notified(notices: u64, local_commits: u64) -> Version {
        Version(Stamp::Notified {
            notices,
            local_commits,
        })
    }
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Version(..)")
    }
}

/// How often a running server checks again that a commit moves the version it reads.
const RECHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Reads the data version of one SQLite database. Meant to live as long as the process: the
/// server opens one.
///
/// A version that stays put while commits happen would keep every cached value forever (a
/// revoked token would keep working), so it is answered only while a probe has shown that a
/// commit moves it: once at start-up and every [`RECHECK_INTERVAL`] after.
pub struct DataVersion {
    reader: Arc<Reader>,
}

struct Reader {
    /// Never closed. POSIX releases every lock a process holds on a file when it closes any
    /// descriptor of that file, and SQLite's connections in this process hold theirs on the
    /// `-shm` file: closing this one would let another process truncate and rebuild the
    /// wal-index under them. One descriptor per server is the price.
    shm: ManuallyDrop<File>,
    /// Keeps the `-shm` file this descriptor reads from being deleted, and writes the probes.
    /// SQLite deletes the file when the last connection to the database closes (a later one
    /// creates a new file, and `shm` would keep reading the deleted file's frozen header). In
    /// WAL mode a connection holds a shared lock on the database for as long as it is open, so
    /// while this one is, no connection of any process is the last.
    connection: Mutex<DbConn>,
    /// Whether the last probe saw a commit move the version; `current` answers `None` until
    /// one has.
    trusted: AtomicBool,
    shm_path: PathBuf,
}

/// What a probe saw of its own commit.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    Moved,
    /// The version stayed put: `shm` is not the wal-index SQLite writes.
    Unmoved,
    /// The probe could not write, or the header stayed unsettled.
    Unknown,
}

impl DataVersion {
    /// Opens the data version of an SQLite database in WAL mode, or `None` (PostgreSQL, an
    /// SQLite database whose wal-index cannot be read, or one where a commit does not move
    /// it): then callers query every time.
    pub fn open(url: &DatabaseUrl) -> Option<DataVersion> {
        let path = url.sqlite_path().filter(|_| READS_WAL_INDEX)?;
        let mut connection = url.establish().ok()?;
        // The first read opens the WAL and the wal-index, and takes the shared lock.
        let DbConn::Sqlite(sqlite) = &mut connection else {
            return None;
        };
        diesel::sql_query("SELECT 1 FROM sqlite_schema LIMIT 1")
            .execute(sqlite)
            .ok()?;
        // SQLite follows symbolic links and keeps its `-shm` beside the real file; one beside
        // a link is a leftover that never changes.
        let real_path = std::fs::canonicalize(path).ok()?;
        DataVersion::reading(connection, shm_path(&real_path))
    }

    /// A data version read from `shm_path`, trusted only once a probe moved it.
    fn reading(connection: DbConn, shm_path: PathBuf) -> Option<DataVersion> {
        // Wrapped at once, so that not even a failed first read closes it.
        let shm = ManuallyDrop::new(File::open(&shm_path).ok()?);
        read_at(&shm, &mut [0u8; 2 * HEADER_LEN])?;
        let reader = Arc::new(Reader {
            shm,
            connection: Mutex::new(connection),
            trusted: AtomicBool::new(false),
            shm_path,
        });
        if !reader.recheck() {
            return None;
        }
        let weak = Arc::downgrade(&reader);
        let rechecks = std::thread::Builder::new()
            .name("scimd-data-version".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(RECHECK_INTERVAL);
                    match weak.upgrade() {
                        Some(reader) if reader.recheck() => {}
                        _ => return,
                    }
                }
            });
        if let Err(error) = rechecks {
            log::warn!("cannot start checking SQLite's commit counter: {error}");
            return None;
        }
        Some(DataVersion { reader })
    }

    /// The current version, or `None` if it cannot be told right now: then callers query.
    pub fn current(&self) -> Option<Version> {
        if !self.reader.trusted.load(Ordering::Acquire) {
            return None;
        }
        self.reader.read()
    }
}

impl Reader {
    fn read(&self) -> Option<Version> {
        let mut copies = [0u8; 2 * HEADER_LEN];
        read_at(&self.shm, &mut copies)?;
        version_of(&copies)
    }

    /// Probes and trusts the version as far as the probe allows; answers `false`, with a
    /// warning, when the version is never to be trusted again.
    fn recheck(&self) -> bool {
        let probe = self.probe();
        self.trusted.store(probe == Probe::Moved, Ordering::Release);
        if probe == Probe::Unmoved {
            log::warn!(
                "a commit did not change SQLite's commit counter read from {}; the token cache \
                 is off and every request looks its token up in the database",
                self.shm_path.display()
            );
            return false;
        }
        true
    }

    /// Commits a change to the scratch row and looks whether the version moved.
    fn probe(&self) -> Probe {
        let before = self.read();
        if let Err(error) = self.write_probe() {
            log::debug!("cannot write the commit probe: {error}");
            return Probe::Unknown;
        }
        // Another connection's commit may be rewriting the header at this instant.
        for _ in 0..3 {
            match self.read() {
                Some(after) if Some(after) == before => return Probe::Unmoved,
                Some(_) => return Probe::Moved,
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        Probe::Unknown
    }

    fn write_probe(&self) -> Result<(), Box<dyn std::error::Error + '_>> {
        let mut connection = self.connection.lock()?;
        let DbConn::Sqlite(sqlite) = &mut *connection else {
            return Err("not an SQLite connection".into());
        };
        // A new value each time, so the commit always rewrites a page.
        let nonce = uuid::Uuid::new_v4().to_string();
        sqlite.immediate_transaction(|sqlite| {
            diesel::sql_query(
                "INSERT INTO commit_probe (id, nonce) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET nonce = excluded.nonce",
            )
            .bind::<diesel::sql_types::Text, _>(&nonce)
            .execute(sqlite)
        })?;
        Ok(())
    }
}

/// The version the two header copies show, unless a commit is rewriting them at this instant
/// (SQLite writes the second copy, then the first, so the two differ meanwhile; a read that
/// catches a copy half-written sees a mixture that never recurs, at worst a needless query),
/// the wal-index is not initialised, or it was just rebuilt and nothing committed since.
fn version_of(copies: &[u8; 2 * HEADER_LEN]) -> Option<Version> {
    let (first, second) = copies.split_at(HEADER_LEN);
    let initialised = first.get(IS_INIT_OFFSET).is_some_and(|init| *init != 0);
    let committed = first
        .get(CHANGE_COUNTER)
        .is_some_and(|counter| counter.iter().any(|byte| *byte != 0));
    if first != second || !initialised || !committed {
        return None;
    }
    first
        .try_into()
        .ok()
        .map(|header| Version(Stamp::WalIndex(header)))
}

/// Values read from the database, kept for exactly as long as the database is unchanged.
///
/// Every entry belongs to one [`Version`]. Any commit, from this process, another instance or
/// the CLI, makes a new version, and the next reader misses and reads again: nothing is served
/// from a version older than the current one. Bounded by a budget of weight (one per entry,
/// unless [`VersionedCache::weighed`] says otherwise): it starts over when full.
pub struct VersionedCache<K, V> {
    budget: usize,
    weigh: fn(&V) -> usize,
    state: Mutex<CacheState<K, V>>,
}

struct CacheState<K, V> {
    version: Option<Version>,
    entries: HashMap<K, Arc<V>>,
    weight: usize,
}

impl<K: Hash + Eq, V> VersionedCache<K, V> {
    /// At most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        VersionedCache::weighed(capacity, |_| 1)
    }

    /// Entries whose `weigh`ts add up to at most `budget`; a value heavier than the whole
    /// budget is not kept.
    pub fn weighed(budget: usize, weigh: fn(&V) -> usize) -> Self {
        VersionedCache {
            budget,
            weigh,
            state: Mutex::new(CacheState {
                version: None,
                entries: HashMap::new(),
                weight: 0,
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
        let weight = (self.weigh)(&value);
        if weight > self.budget {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.version != Some(version) || state.weight + weight > self.budget {
            state.entries.clear();
            state.weight = 0;
            state.version = Some(version);
        }
        if let Some(replaced) = state.entries.insert(key, value) {
            state.weight -= (self.weigh)(&replaced);
        }
        state.weight += weight;
    }
}

fn shm_path(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-shm");
    name.into()
}

/// SQLite writes the wal-index through a shared memory map; `pread` sees those writes where
/// the page cache is unified. SQLite itself distrusts that on OpenBSD and QNX. Elsewhere the
/// wal-index is not read, and every check is a query.
const READS_WAL_INDEX: bool = cfg!(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "freebsd"
));

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
fn read_at(file: &File, buffer: &mut [u8]) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, 0).ok()
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
fn read_at(_file: &File, _buffer: &mut [u8]) -> Option<()> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    /// A migrated database (the probe writes to its scratch table) with no connection open.
    fn sqlite(dir: &tempfile::TempDir) -> DatabaseUrl {
        crate::store::testing::migrated_sqlite(dir, "version.db", 1).0
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
        // The `-shm` file was made anew when the first connection closed; the start-up probe
        // committed since.
        let mut previous = data_version.current();
        assert!(previous.is_some());
        // Every other connection opens, writes and closes, each time. Were the `-shm` file
        // deleted and made anew in between, the handle would keep showing a frozen header and
        // the second round would look unchanged.
        for value in 0..3 {
            let mut connection = url.establish().unwrap();
            connection
                .batch_execute(&format!("INSERT INTO t VALUES ({value})"))
                .unwrap();
            drop(connection);
            let current = data_version.current();
            assert!(current.is_some() && current != previous, "round {value}");
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
    fn a_weighed_cache_keeps_what_fits_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let data_version = DataVersion::open(&url).unwrap();
        let version = data_version.current().unwrap();
        let cache: VersionedCache<&str, String> = VersionedCache::weighed(10, String::len);
        cache.insert("a", version, Arc::new("12345".to_owned()));
        cache.insert("a", version, Arc::new("1234".to_owned()));
        cache.insert("b", version, Arc::new("123456".to_owned()));
        assert_eq!(
            cache.get(&"a", version).as_deref().map(String::as_str),
            Some("1234")
        );
        assert!(
            cache.get(&"b", version).is_some(),
            "4 + 6 fit: a replaced value is not counted"
        );
        cache.insert("c", version, Arc::new("12345678901".to_owned()));
        assert!(
            cache.get(&"c", version).is_none(),
            "heavier than the budget: not kept"
        );
        assert!(
            cache.get(&"a", version).is_some(),
            "and nothing else was dropped for it"
        );
        cache.insert("d", version, Arc::new("1".to_owned()));
        assert!(cache.get(&"a", version).is_none(), "full: it started over");
        assert!(cache.get(&"d", version).is_some());
    }

    /// Runs SQL in another process, as the CLI or a second server would.
    fn sqlite3_process(database: &Path, sql: &str) -> String {
        let output = std::process::Command::new("sqlite3")
            .arg(database)
            .arg(sql)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run sqlite3 ({error}): install it, e.g. apt-get install sqlite3")
            });
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn dropping_a_data_version_leaves_sqlites_locks_alone() {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            revoked: i32,
        }
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let path = url.sqlite_path().unwrap().to_owned();
        let mut reader = url.establish().unwrap();
        reader
            .batch_execute("CREATE TABLE t (revoked INTEGER); INSERT INTO t VALUES (0);")
            .unwrap();
        // A read transaction holds its snapshot through a lock on the `-shm` file.
        reader.batch_execute("BEGIN; SELECT * FROM t;").unwrap();
        drop(DataVersion::open(&url).unwrap());
        // Had closing the extra descriptor released this process's locks, another process
        // could now checkpoint the WAL away under the open snapshot.
        sqlite3_process(&path, "UPDATE t SET revoked = 1");
        let checkpoint = sqlite3_process(&path, "PRAGMA wal_checkpoint(TRUNCATE)");
        assert!(
            checkpoint.starts_with("1|"),
            "busy while a reader holds a snapshot: {checkpoint}"
        );
        let rows: Vec<Row> = diesel::sql_query("SELECT revoked FROM t")
            .load(&mut reader)
            .unwrap();
        assert_eq!(
            rows.first().map(|row| row.revoked),
            Some(0),
            "the snapshot holds"
        );
        reader.batch_execute("COMMIT").unwrap();
    }

    /// Makes `link` a symbolic link to the database behind `url`, with beside it a copy of
    /// the database's `-shm` taken now: what a database moved away from a path and linked
    /// back leaves behind.
    fn link_with_stale_shm(url: &DatabaseUrl, link: &Path) {
        let real = url.sqlite_path().unwrap();
        std::fs::copy(shm_path(real), shm_path(link)).unwrap();
        std::os::unix::fs::symlink(real, link).unwrap();
    }

    #[test]
    fn through_a_symbolic_link_the_version_is_read_beside_the_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let mut writer = url.establish().unwrap();
        writer.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let link = DatabaseUrl::Sqlite(dir.path().join("link.db"));
        link_with_stale_shm(&url, link.sqlite_path().unwrap());

        let data_version = DataVersion::open(&link).unwrap();
        let before = data_version.current().unwrap();
        writer.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        assert_ne!(data_version.current(), Some(before));
    }

    #[test]
    fn a_version_that_a_commit_does_not_move_is_never_answered() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite(&dir);
        let mut writer = url.establish().unwrap();
        writer.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let stale = dir.path().join("stale-shm");
        std::fs::copy(shm_path(url.sqlite_path().unwrap()), &stale).unwrap();

        assert!(
            DataVersion::reading(url.establish().unwrap(), stale.clone()).is_none(),
            "refused at start-up"
        );

        // Trusted once, as if the file went stale while the server ran: the next recheck
        // turns it off for good.
        let reader = Reader {
            shm: ManuallyDrop::new(File::open(&stale).unwrap()),
            connection: Mutex::new(url.establish().unwrap()),
            trusted: AtomicBool::new(true),
            shm_path: stale,
        };
        let data_version = DataVersion {
            reader: Arc::new(reader),
        };
        assert!(data_version.current().is_some());
        assert!(!data_version.reader.recheck(), "no more rechecks");
        assert_eq!(data_version.current(), None);
    }

    #[test]
    fn only_a_settled_initialised_header_with_commits_is_a_version() {
        let mut header = [0u8; HEADER_LEN];
        header[0] = 7; // iVersion
        header[CHANGE_COUNTER.start] = 3;
        header[IS_INIT_OFFSET] = 1;
        header[20] = 42; // mxFrame
        let both = |first: [u8; HEADER_LEN], second: [u8; HEADER_LEN]| {
            let mut copies = [0u8; 2 * HEADER_LEN];
            copies[..HEADER_LEN].copy_from_slice(&first);
            copies[HEADER_LEN..].copy_from_slice(&second);
            copies
        };
        assert_eq!(
            version_of(&both(header, header)),
            Some(Version(Stamp::WalIndex(header)))
        );

        let mut rewritten = header;
        rewritten[CHANGE_COUNTER.start] = 4;
        assert_eq!(version_of(&both(header, rewritten)), None, "mid-commit");
        assert_ne!(
            version_of(&both(rewritten, rewritten)),
            Some(Version(Stamp::WalIndex(header)))
        );

        let mut uninitialised = header;
        uninitialised[IS_INIT_OFFSET] = 0;
        assert_eq!(version_of(&both(uninitialised, uninitialised)), None);

        let mut rebuilt = header;
        rebuilt[CHANGE_COUNTER].fill(0);
        assert_eq!(version_of(&both(rebuilt, rebuilt)), None);
    }
}
