use reqwest::StatusCode;

use crate::helpers::cli::{ServeProcess, scimd, stderr, stdout};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

fn tokens_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("wxt_") && word.len() == 43)
        .map(str::to_owned)
        .collect()
}

/// The first-start token from its file, after checking the file is private.
fn read_first_token(server: &ServeProcess) -> (std::path::PathBuf, String) {
    use std::os::unix::fs::PermissionsExt;
    let file = server
        .first_token_file()
        .unwrap_or_else(|| panic!("no token file in the log:\n{}", server.startup_log()));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    let token = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(
        tokens_in(&token),
        vec![token.clone()],
        "the file holds the token alone"
    );
    (file, token)
}

on_both_backends! {
    async fn without_a_terminal_the_first_token_goes_to_a_private_file_until_used(backend: Backend) {
        let database = TestDatabase::new(backend);
        let server = ServeProcess::start(&database.url, &[]);
        let (file, token) = read_first_token(&server);
        let response = reqwest::Client::new()
            .get(format!("{}/scim/v2/ServiceProviderConfig", server.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while file.exists() {
            assert!(std::time::Instant::now() < deadline, "the token file outlived its use");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (ok, out, err) = server.stop();
        assert!(ok, "graceful stop failed:\n{err}");
        assert!(tokens_in(&out).is_empty(), "token on stdout:\n{out}");
        assert!(!err.contains(&token), "token in the log:\n{err}");

        let server = ServeProcess::start(&database.url, &[]);
        assert!(server.first_token_file().is_none(), "{}", server.startup_log());
        let (ok, out, err) = server.stop();
        assert!(ok, "{err}");
        assert!(tokens_in(&out).is_empty() && tokens_in(&err).is_empty(), "{out}{err}");
        assert!(!err.contains("token create"), "a used token needs no reminder:\n{err}");
    }
}

#[test]
fn a_port_in_use_creates_nothing_and_the_next_start_shows_the_first_token() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("s.db");
    let url = format!("sqlite://{}", database.display());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["serve", "--bind", &address])
        .env("DATABASE_URL", &url)
        .env_remove("AUTH_SECRET")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert_one_line_error(&output, &format!("cannot listen on {address}"));
    assert_one_line_error(&output, "--bind or SCIMD_BIND");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a failed start left {left:?}");

    let server = ServeProcess::start(&url, &[]);
    let announced = format!("database: sqlite://{} (created)", database.display());
    assert!(
        server.startup_log().contains(&announced),
        "{}",
        server.startup_log()
    );
    let (file, _) = read_first_token(&server);
    let (ok, _, err) = server.stop();
    assert!(ok, "{err}");

    // Stopped before anyone used it: the next start says where it still is...
    let server = ServeProcess::start(&url, &[]);
    let announced = format!("database: sqlite://{} (existing)", database.display());
    assert!(
        server.startup_log().contains(&announced),
        "{}",
        server.startup_log()
    );
    let expected = format!("is in {} until it is used", file.display());
    assert!(
        server.startup_log().contains(&expected),
        "{}",
        server.startup_log()
    );
    drop(server);
    // ...and once the file is lost, how to get another.
    std::fs::remove_file(&file).unwrap();
    let server = ServeProcess::start(&url, &[]);
    assert!(
        server
            .startup_log()
            .contains("scimd token create --org default"),
        "{}",
        server.startup_log()
    );
}

on_both_backends! {
    async fn tokens_created_on_the_cli_work_until_revoked_on_the_cli(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = scimd(
            &app.database.url,
            &["token", "create", "--org", "default", "--name", "Okta production", "--scope", "scim:read", "--expires", "30d"],
        );
        assert!(created.status.success(), "{created:?}");
        let token = stdout(&created).trim().to_owned();
        assert_eq!(tokens_in(&token), vec![token.clone()], "stdout is the token alone");
        assert!(stderr(&created).contains("will not be shown again"));

        let bearer = format!("Bearer {token}");
        assert_eq!(app.get_with("/scim/v2/Schemas", Some(&bearer)).await.0, StatusCode::OK);

        let listed = stdout(&scimd(&app.database.url, &["token", "list", "--org", "default"]));
        let line = listed.lines().find(|l| l.contains("Okta production")).expect("listed");
        assert!(line.contains(&format!("{}…", &token[..12])), "{line}");
        assert!(line.contains("active") && line.contains("scim:read"), "{line}");
        assert!(!listed.contains(&token), "list shows the secret:\n{listed}");
        let id = line.split_whitespace().next().unwrap();

        let revoked = scimd(&app.database.url, &["token", "revoke", id]);
        assert!(revoked.status.success(), "{revoked:?}");
        let (status, _) = app.get_with("/scim/v2/Schemas", Some(&bearer)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revocation must take effect at once");
        let listed = stdout(&scimd(&app.database.url, &["token", "list", "--org", "default"]));
        assert!(listed.lines().any(|l| l.contains("Okta production") && l.contains("revoked")));
        let again = scimd(&app.database.url, &["token", "revoke", id]);
        assert!(again.status.success() && stdout(&again).contains("already revoked"));
    }
}

on_both_backends! {
    async fn the_plain_token_is_stored_nowhere_and_logged_nowhere(backend: Backend) {
        let database = TestDatabase::new(backend);
        let server = ServeProcess::start(&database.url, &[("RUST_LOG", "trace")]);
        let (first_file, first) = read_first_token(&server);
        let client = reqwest::Client::new();
        let created = scimd(&database.url, &["token", "create", "--org", "default", "--name", "ci"]);
        let cli_token = stdout(&created).trim().to_owned();
        for token in [cli_token.as_str(), "wxt_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abc"] {
            for _ in 0..2 {
                let _ = client
                    .get(format!("{}/scim/v2/Schemas", server.base_url))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
            }
        }
        let (ok, out, err) = server.stop();
        assert!(ok);
        for secret in [&first, &cli_token] {
            assert!(!out.contains(secret.as_str()), "token on stdout:\n{out}");
            assert!(!err.contains(secret.as_str()), "token in the log:\n{err}");
        }
        assert!(!err.contains("wxt_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abc"));
        // The token file holds the secret by design, until the token's first use.
        let _ = std::fs::remove_file(first_file);
        let dump = String::from_utf8_lossy(&database.dump()).into_owned();
        assert!(dump.contains(&first[..12]), "the dump should hold the display prefix");
        for secret in [&first, &cli_token] {
            assert!(!dump.contains(secret.as_str()), "plain token stored in the database");
        }
    }
}

fn assert_one_line_error(output: &std::process::Output, expected: &str) {
    assert!(!output.status.success(), "{output:?}");
    let err = stderr(output);
    // Log lines (env_logger's start with '[') may come first; the error itself is one line.
    let error_lines: Vec<&str> = err.lines().filter(|line| !line.starts_with('[')).collect();
    assert_eq!(error_lines.len(), 1, "not one line:\n{err}");
    assert!(error_lines[0].starts_with("scimd: error: "), "{err}");
    assert!(err.contains(expected), "expected '{expected}' in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_configuration_fails_with_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_one_line_error(
        &scimd("mysql://root@localhost/db", &["migrate"]),
        "unsupported scheme 'mysql'",
    );
    assert_one_line_error(
        &scimd("postgres://nobody@127.0.0.1:1/none", &["migrate"]),
        "cannot connect to postgres://nobody@127.0.0.1:1/none",
    );
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    let inside_file = format!("sqlite://{}/scimd.db", file.display());
    assert_one_line_error(
        &scimd(&inside_file, &["migrate"]),
        "cannot create the data directory",
    );
    let db = format!("sqlite://{}", dir.path().join("scimd.db").display());
    assert!(scimd(&db, &["migrate"]).status.success());
    assert_one_line_error(
        &scimd(&db, &["token", "list", "--org", "nope"]),
        "no organization named 'nope'",
    );
    assert_one_line_error(
        &scimd(
            &db,
            &[
                "token", "create", "--org", "default", "--name", "x", "--scope", "root",
            ],
        ),
        "unknown scope 'root'",
    );
    assert_one_line_error(
        &scimd(&db, &["token", "revoke", "not-an-id"]),
        "is not a token id",
    );
}

#[tokio::test]
async fn a_short_auth_secret_is_refused_before_anything_is_opened_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.db");
    let url = format!("sqlite://{}", file.display());
    let serve = |secret_variable: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &url)
            .env_remove("AUTH_SECRET")
            .env(secret_variable, "0123456789")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("scimd started with a 10-character {secret_variable}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    };
    for variable in ["AUTH_SECRET", "AUTH_SECRET_PREVIOUS"] {
        let output = serve(variable);
        assert_one_line_error(
            &output,
            &format!("{variable} is shorter than 32 characters"),
        );
        assert_one_line_error(&output, "--allow-weak-auth-secret");
    }
    assert!(!file.exists(), "the database was opened");

    let server = ServeProcess::start_with(
        &url,
        &["--allow-weak-auth-secret"],
        &[("AUTH_SECRET", "0123456789")],
    );
    let status = reqwest::Client::new()
        .get(format!("{}/scim/v2/ServiceProviderConfig", server.base_url))
        .bearer_auth("0123456789")
        .send()
        .await
        .unwrap()
        .status();
    let (ok, _, err) = server.stop();
    assert!(ok, "{err}");
    assert_eq!(status, StatusCode::OK);
    assert!(
        err.contains("AUTH_SECRET is shorter than 32 characters"),
        "no warning:\n{err}"
    );
}

#[test]
fn help_lists_every_command_and_its_environment_variables() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = stdout(&output);
    for expected in [
        "serve",
        "migrate",
        "org",
        "token",
        "DATABASE_URL",
        "RUST_LOG",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
    let serve = stdout(
        &std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(["serve", "--help"])
            .output()
            .unwrap(),
    );
    for expected in [
        "SCIMD_BIND",
        "AUTH_SECRET",
        "AUTH_SECRET_ORG",
        "SCIMD_ALLOW_WEAK_AUTH_SECRET",
    ] {
        assert!(
            serve.contains(expected),
            "{expected} missing from:\n{serve}"
        );
    }
}

on_both_backends! {
    async fn sigint_lets_a_running_bulk_request_finish(backend: Backend) {
        const USERS: usize = 300;
        let database = TestDatabase::new(backend);
        let server = ServeProcess::start(&database.url, &[]);
        let (_, token) = read_first_token(&server);
        let client = reqwest::Client::new();
        let operations: Vec<_> = (0..USERS)
            .map(|i| serde_json::json!({
                "method": "POST",
                "path": "/Users",
                "bulkId": format!("u{i}"),
                "data": {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("user{i}@example.com"),
                },
            }))
            .collect();
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        });
        let bulk = tokio::spawn(
            client
                .post(format!("{}/scim/v2/Bulk", server.base_url))
                .bearer_auth(&token)
                .header("Content-Type", "application/scim+json")
                .body(body.to_string())
                .send(),
        );
        let users_url = format!("{}/scim/v2/Users?count=0", server.base_url);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let listed: serde_json::Value = client
                .get(&users_url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let total = listed["totalResults"].as_u64().unwrap();
            assert!(total < USERS as u64, "the Bulk request finished before the signal");
            if total > 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the Bulk request never started");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        server.signal("INT");

        let response = bulk.await.unwrap().expect("the Bulk response was cut off");
        assert_eq!(response.status(), StatusCode::OK);
        let reply: serde_json::Value = response.json().await.expect("a complete Bulk response");
        let created = reply["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|op| op["status"] == "201")
            .count();
        let (ok, _, err) = server.wait();
        assert!(ok, "no graceful exit:\n{err}");
        assert!(err.contains("SIGINT received: finishing the requests in flight"), "{err}");
        assert_eq!(created, USERS, "{reply}");

        let server = ServeProcess::start(&database.url, &[]);
        let listed: serde_json::Value = client
            .get(format!("{}/scim/v2/Users?count=0", server.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["totalResults"], USERS, "the database disagrees with the reply");
    }
}

#[test]
fn an_unresponsive_postgres_fails_within_the_connect_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    // Accepts every connection and never answers, like a hung server or a black-holing proxy.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let url = format!("postgres://scim:hunter2@127.0.0.1:{port}/scimd");
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args([
            "org",
            "list",
            "--database-url",
            &url,
            "--connect-timeout",
            "2",
        ])
        .env_remove("DATABASE_URL")
        .env_remove("SCIMD_DATA_DIR")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("scimd still waiting after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let elapsed = started.elapsed();
    let output = child.wait_with_output().unwrap();
    assert!(
        elapsed < std::time::Duration::from_secs(8),
        "took {elapsed:?}"
    );
    assert_one_line_error(&output, "no answer within 2 s (--connect-timeout");
    let err = stderr(&output);
    let shown = format!("connecting to postgres://scim:***@127.0.0.1:{port}/scimd");
    assert!(err.contains(&shown), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// `scimd ARGS` in `dir` with neither DATABASE_URL nor SCIMD_DATA_DIR set.
fn scimd_in(dir: &std::path::Path, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SCIMD_DATA_DIR")
        .envs(envs.iter().copied())
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

#[test]
fn only_serve_and_migrate_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo").join("scimd.db");
    let url = format!("sqlite://{}", missing.display());
    let refusal = format!("no database at {}", missing.display());
    for args in [
        &["org", "list"][..],
        &["token", "list", "--org", "default"],
        &["audit"],
    ] {
        assert_one_line_error(&scimd(&url, args), &refusal);
    }
    // A relative --data-dir and the default file are named by their absolute paths.
    let output = scimd_in(
        dir.path(),
        &[],
        &["org", "list", "--data-dir", "missing/dir"],
    );
    let looked_at = dir.path().join("missing/dir/scimd.db");
    assert_one_line_error(&output, &format!("no database at {}", looked_at.display()));
    let output = scimd_in(dir.path(), &[], &["org", "list"]);
    let looked_at = dir.path().join("scimd.db");
    assert_one_line_error(&output, &format!("no database at {}", looked_at.display()));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a refused command left {left:?}");

    let migrated = scimd(&url, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    let announced = format!("database: sqlite://{} (created)", missing.display());
    assert!(
        stderr(&migrated).contains(&announced),
        "{}",
        stderr(&migrated)
    );
    let listed = scimd(&url, &["org", "list"]);
    assert!(listed.status.success(), "{listed:?}");
    let again = scimd(&url, &["migrate"]);
    let announced = format!("database: sqlite://{} (existing)", missing.display());
    assert!(stderr(&again).contains(&announced), "{}", stderr(&again));
}

#[test]
fn database_url_typos_are_refused_with_the_url_meant() {
    let dir = tempfile::tempdir().unwrap();
    for (url, expected) in [
        ("scimd.db", "did you mean sqlite://scimd.db?"),
        (
            "postgress://scim:hunter2@db/scimd",
            "did you mean postgres://?",
        ),
        (
            "sqlite:/x",
            "write sqlite://x for a file relative to the working directory",
        ),
        ("sqlite:/x", "or sqlite:///x for the absolute path"),
    ] {
        for command in ["migrate", "serve"] {
            let output = scimd_in(dir.path(), &[("DATABASE_URL", url)], &[command]);
            assert_one_line_error(&output, expected);
            assert!(!stderr(&output).contains("hunter2"), "{output:?}");
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a refused command left {left:?}");
    assert!(!std::path::Path::new("/x").exists());
}
