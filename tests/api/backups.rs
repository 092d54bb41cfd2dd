//! Backups of a running SQLite database, restores, scheduled backups (issue 16); PostgreSQL is
//! pointed to pg_dump.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use scimd::service::backups::BackupSchedule;

use crate::helpers::cli::{ServeProcess, scimd, stderr, stdout};
use crate::helpers::scim::USER_URN;
use crate::helpers::{Backend, TestApp, TestDatabase};

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn new_user(name: &str) -> serde_json::Value {
    json!({"schemas": [USER_URN], "userName": name})
}

/// Every userName the server holds, page by page.
async fn user_names(app: &TestApp) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut start = 1;
    loop {
        let page = app
            .list(&format!(
                "/scim/v2/Users?attributes=userName&count=100&startIndex={start}"
            ))
            .await;
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        if resources.is_empty() {
            return names;
        }
        start += resources.len();
        names.extend(
            resources
                .iter()
                .filter_map(|user| user["userName"].as_str().map(str::to_owned)),
        );
    }
}

/// Starts scimd on a restored database, answering to the original database's token.
async fn serve_restored(url: String, dir: tempfile::TempDir, token: &str) -> TestApp {
    let database = TestDatabase {
        backend: Backend::Sqlite,
        url,
        dir,
    };
    let mut app = TestApp::spawn_on(database, |_| {}).await;
    assert!(
        app.token.is_empty(),
        "a restored database is no first start"
    );
    app.token = token.to_owned();
    app
}

/// Writers create users without pause; `scimd backup` runs meanwhile. Every write answered
/// 201 before the backup started is in the restored copy, and the writers were not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_holds_every_write_acknowledged_before_it_began() {
    let app = Arc::new(TestApp::spawn(Backend::Sqlite).await);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (app, stop, acknowledged) = (app.clone(), stop.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 2000 {
                let name = format!("w{writer}-{n:04}@load.example");
                let sent = Instant::now();
                let reply = app.post_json("/scim/v2/Users", &new_user(&name)).await;
                reply.assert_status(StatusCode::CREATED);
                let answered = Instant::now();
                slowest = slowest.max(answered - sent);
                acknowledged.lock().await.push((name, answered));
                n += 1;
            }
            slowest
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("scimd-backup.db");
    let began = Instant::now();
    let (url, to) = (app.database.url.clone(), file.display().to_string());
    let output = tokio::task::spawn_blocking(move || scimd(&url, &["backup", "--to", &to]))
        .await
        .unwrap();
    let ended = Instant::now();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("backed up to"),
        "{}",
        stdout(&output)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for writer in writers {
        slowest = slowest.max(writer.await.unwrap());
    }
    let acknowledged = acknowledged.lock().await.clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(name, _)| name)
        .collect();
    let during = acknowledged
        .iter()
        .filter(|(_, at)| *at >= began && *at <= ended)
        .count();
    assert!(before.len() > 20, "the load ran: {} writes", before.len());
    // The backup never held the writer: no write waited anywhere near the busy timeout.
    assert!(slowest < Duration::from_secs(2), "a write took {slowest:?}");
    eprintln!(
        "backup took {:?}; {} writes before it, {during} acknowledged while it ran, slowest \
         write {slowest:?}",
        ended - began,
        before.len()
    );

    let restored_dir = tempfile::tempdir().unwrap();
    let restored_url = sqlite_url(&restored_dir.path().join("scimd.db"));
    let output = scimd(&restored_url, &["restore", &file.display().to_string()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let restored = serve_restored(restored_url, restored_dir, &app.token).await;
    let names = user_names(&restored).await;
    let missing: Vec<_> = before
        .iter()
        .filter(|name| !names.contains(**name))
        .collect();
    assert!(missing.is_empty(), "lost acknowledged writes: {missing:?}");
    let all: BTreeSet<&String> = acknowledged.iter().map(|(name, _)| name).collect();
    assert!(
        names.iter().all(|name| all.contains(name)),
        "the copy holds only what was written"
    );
}

/// `restore` refuses while a server runs on the database and refuses to overwrite without
/// `--force`; a damaged file never replaces a database; `backup` never overwrites a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_running_server_an_unforced_overwrite_and_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("scimd.db"));
    let server = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || ServeProcess::start(&url, &[]))
            .await
            .unwrap()
    };
    let created = scimd(&url, &["org", "create", "before-backup"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let file = dir.path().join("backup.db");
    let file_arg = file.display().to_string();
    let output = scimd(&url, &["backup", "--to", &file_arg]);
    assert!(output.status.success(), "{}", stderr(&output));
    let again = scimd(&url, &["backup", "--to", &file_arg]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let created = scimd(&url, &["org", "create", "after-backup"]);
    assert!(created.status.success(), "{}", stderr(&created));

    let refused = scimd(&url, &["restore", &file_arg, "--force"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("a scimd server is running on"),
        "{}",
        stderr(&refused)
    );
    let (stopped, _, log) = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    assert!(stopped, "{log}");

    let unforced = scimd(&url, &["restore", &file_arg]);
    assert!(!unforced.status.success());
    assert!(
        stderr(&unforced).contains("add --force"),
        "{}",
        stderr(&unforced)
    );

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let bad = scimd(
        &url,
        &["restore", &garbage.display().to_string(), "--force"],
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("is not a usable scimd backup"),
        "{}",
        stderr(&bad)
    );
    let orgs = scimd(&url, &["org", "list"]);
    assert!(
        stdout(&orgs).contains("after-backup"),
        "the database is untouched: {}",
        stdout(&orgs)
    );

    let restored = scimd(&url, &["restore", &file_arg, "--force"]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let orgs = stdout(&scimd(&url, &["org", "list"]));
    assert!(
        orgs.contains("before-backup") && !orgs.contains("after-backup"),
        "{orgs}"
    );
}

/// `serve --backup-every`: backups appear on schedule, the oldest are pruned, each restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_made_and_pruned() {
    let backups = tempfile::tempdir().unwrap();
    let dir: PathBuf = backups.path().join("nested");
    let schedule_dir = dir.clone();
    let app = TestApp::spawn_on(TestDatabase::new(Backend::Sqlite), move |config| {
        config.backups = Some(BackupSchedule {
            every: Duration::from_millis(300),
            dir: schedule_dir,
            keep: 2,
        });
    })
    .await;
    app.create_user(&new_user("scheduled@a.example")).await;
    // Finished backups only: the one being written at this moment is a `.db.partial` (and its
    // journal) until it is renamed, and pruning counts finished ones.
    let list = || -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        files.retain(|path| path.extension().is_some_and(|ext| ext == "db"));
        files.sort();
        files
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut made = BTreeSet::new();
    while made.len() < 4 {
        made.extend(list());
        assert!(Instant::now() < deadline, "backups made: {made:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = list();
    assert!(kept.len() <= 2, "pruned to two: {kept:?}");
    let newest = kept.last().expect("a backup").clone();

    let restored_dir = tempfile::tempdir().unwrap();
    let restored_url = sqlite_url(&restored_dir.path().join("scimd.db"));
    let output = scimd(&restored_url, &["restore", &newest.display().to_string()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let restored = serve_restored(restored_url, restored_dir, &app.token).await;
    assert!(user_names(&restored).await.contains("scheduled@a.example"));
}

#[test]
fn postgres_backups_point_to_pg_dump() {
    let database = TestDatabase::new(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.db").display().to_string();
    for args in [
        vec!["backup", "--to", file.as_str()],
        vec!["restore", file.as_str()],
        vec![
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--backup-every",
            "6h",
            "--backup-dir",
            file.as_str(),
        ],
    ] {
        let output = scimd(&database.url, &args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains("pg_dump"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
