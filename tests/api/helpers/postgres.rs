//! A throwaway PostgreSQL cluster started by the tests themselves: initdb + pg_ctl in a temp
//! directory on a free port, stopped when the test process exits. Tests get their database
//! as a copy of one migrated once per cluster (as crates.io's test harness does), not by
//! running every migration again for each of some two hundred tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use diesel::{Connection, PgConnection, RunQueryDsl};
use scimd::store::{DatabaseUrl, Store, migrate};
use tempfile::TempDir;

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl) are needed for the \
    PostgreSQL half of the test suite. Install them with `apt-get install -y postgresql` \
    (Debian/Ubuntu) or put a PostgreSQL bin directory on PATH.";

/// The database every migrated test database is copied from.
const TEMPLATE: &str = "scimd_template";

/// A running cluster owned by this test process.
pub struct PgCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    template: OnceLock<()>,
    // Dropping (or the process exiting) closes this pipe, and the reaper stops the cluster.
    _reaper: Mutex<(Child, ChildStdin)>,
}

static SHARED: OnceLock<PgCluster> = OnceLock::new();

impl PgCluster {
    /// The cluster shared by every test of this process, started on first use.
    pub fn shared() -> &'static PgCluster {
        SHARED.get_or_init(|| PgCluster::start().unwrap_or_else(|error| panic!("{error}")))
    }

    /// Starts a new cluster (tests that stop and restart PostgreSQL want their own).
    pub fn start() -> Result<PgCluster, String> {
        let bin = find_bin_dir().ok_or_else(|| INSTALL_HINT.to_owned())?;
        let run_as = if is_root() { Some("postgres") } else { None };
        let dir = tempfile::Builder::new()
            .prefix("scimd-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir for PostgreSQL: {e}"))?;
        if let Some(user) = run_as {
            // initdb refuses to run as root, so the cluster belongs to an unprivileged user.
            run(Command::new("chown").arg("-R").arg(user).arg(dir.path())).map_err(|e| {
                format!("{e}\n{INSTALL_HINT} (the 'postgres' user is needed when testing as root)")
            })?;
        }
        let data = dir.path().join("data");
        let mut initdb = command(run_as, &bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]);
        run(&mut initdb)?;
        let port = free_port()?;
        let cluster = PgCluster {
            _reaper: Mutex::new(spawn_reaper(&bin, &data, dir.path(), run_as)?),
            dir,
            bin,
            port,
            run_as,
            template: OnceLock::new(),
        };
        cluster.start_server()?;
        Ok(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the server process (again).
    pub fn start_server(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.path().display()
        );
        let mut pg_ctl = command(self.run_as, &self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "30", "-o", &options, "start"]);
        run(&mut pg_ctl)
    }

    /// Stops the server fast, dropping open connections (for fault-injection tests).
    pub fn stop_server(&self) -> Result<(), String> {
        let mut pg_ctl = command(self.run_as, &self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .args(["-w", "-m", "fast", "stop"]);
        run(&mut pg_ctl)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database with a unique name and answers its URL.
    pub fn create_database(&self) -> String {
        self.create_database_from("template1")
    }

    /// Creates a database with a unique name holding what a fresh scimd's migrations leave,
    /// and answers its URL: a copy of a template migrated on first use.
    pub fn create_migrated_database(&self) -> String {
        self.template.get_or_init(|| self.migrate_template());
        self.create_database_from(TEMPLATE)
    }

    fn create_database_from(&self, template: &str) -> String {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("scimd_test_{}_{n}", std::process::id());
        self.execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"));
        self.url(&name)
    }

    /// Runs the migrations on a new database `TEMPLATE` and closes every connection to it,
    /// since PostgreSQL copies only a database no session is connected to.
    fn migrate_template(&self) {
        self.execute(&format!("CREATE DATABASE {TEMPLATE} TEMPLATE template1"));
        let url = DatabaseUrl::parse(&self.url(TEMPLATE))
            .unwrap_or_else(|e| panic!("template database URL: {e}"));
        let store = Store::open(&url, 1).unwrap_or_else(|e| panic!("open {TEMPLATE}: {e}"));
        migrate::run_pending(&store).unwrap_or_else(|e| panic!("migrate {TEMPLATE}: {e}"));
        drop(store);
        // Nothing may connect to it from now on; a copy waits for the closed sessions above
        // to end.
        self.execute(&format!(
            "ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        ));
    }

    fn execute(&self, sql: &str) {
        let mut admin = PgConnection::establish(&self.url("postgres"))
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
        diesel::sql_query(sql)
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Path of a PostgreSQL client program of the same installation (pg_dump, psql).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }
}

fn command(run_as: Option<&str>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A shell that waits for its stdin to close (this process exiting), then stops the cluster
/// and removes its files, so no run leaves a postmaster behind.
fn spawn_reaper(
    bin: &Path,
    data: &Path,
    dir: &Path,
    run_as: Option<&str>,
) -> Result<(Child, ChildStdin), String> {
    let stop = format!(
        "{} '{}' -D '{}' -m immediate stop",
        run_as.map_or(String::new(), |user| format!("runuser -u {user} --")),
        bin.join("pg_ctl").display(),
        data.display()
    );
    let script = format!(
        "cat >/dev/null; {stop} >/dev/null 2>&1; rm -rf '{}'",
        dir.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the PostgreSQL reaper: {e}"))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| "the reaper has no stdin".to_owned())?;
    stdin.flush().map_err(|e| e.to_string())?;
    Ok((child, stdin))
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                // Follow symlinks to the real installation, where pg_dump and psql live too.
                return std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
                    .or(Some(dir));
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("no free port: {e}"))
}
