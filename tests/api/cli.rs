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
    let log = database.with_file_name("s-activity.db");
    let log_announced = format!("activity log: sqlite://{} (created)", log.display());
    for line in [&announced, &log_announced] {
        assert!(
            server.startup_log().contains(line.as_str()),
            "{}",
            server.startup_log()
        );
    }
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
        assert!(line.contains("active"), "{line}");
        assert!(!listed.contains(&token), "list shows the secret:\n{listed}");
        let wide = stdout(&scimd(&app.database.url, &["token", "list", "--org", "default", "--wide"]));
        let wide_line = wide.lines().find(|l| l.contains("Okta production")).expect("listed");
        assert!(wide_line.contains("active") && wide_line.contains("scim:read"), "{wide_line}");
        assert!(!wide.contains(&token), "list shows the secret:\n{wide}");
        // The short id the table shows is enough to name the token.
        let id = line.split_whitespace().next().unwrap();
        assert_eq!(id.len(), 8, "{line}");

        let revoked = scimd(&app.database.url, &["token", "revoke", id]);
        assert!(revoked.status.success(), "{revoked:?}");
        // Another process revoked it: at once on SQLite, within the notice bound on PostgreSQL.
        TestApp::let_other_instances_learn_of_it(backend).await;
        let (status, _) = app.get_with("/scim/v2/Schemas", Some(&bearer)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revocation must take effect");
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
        "no token with id starting 'not-an-id', see `scimd token list`",
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

/// Asserts a one-line error that says `message` exactly once.
fn assert_said_once(output: &std::process::Output, message: &str) {
    assert_one_line_error(output, message);
    let err = stderr(output);
    assert_eq!(
        err.matches(message).count(),
        1,
        "said more than once:\n{err}"
    );
}

on_both_backends! {
    async fn each_error_is_said_once_and_a_collision_names_what_collided(backend: Backend) {
        let database = TestDatabase::new(backend);
        let url = database.url.as_str();
        // Only serve and migrate create a database.
        assert!(scimd(url, &["migrate"]).status.success());
        assert!(scimd(url, &["org", "create", "acme"]).status.success());
        assert_said_once(
            &scimd(url, &["org", "create", "acme"]),
            "an organization named 'acme' already exists",
        );
        assert_said_once(
            &scimd(url, &["org", "create", "a b"]),
            "'a b' is not a valid organization name",
        );
        let create = |extra: &[&str]| {
            let mut args = vec!["token", "create", "--org", "acme"];
            args.extend_from_slice(extra);
            scimd(url, &args)
        };
        // A flag's own range is clap's to refuse, with its usage hint after the one message.
        let zero = create(&["--name", "ci", "--rate-limit", "0"]);
        assert!(!zero.status.success());
        assert_eq!(stderr(&zero).matches("rate limit").count(), 1, "{zero:?}");
        assert_said_once(&create(&["--name", ""]), "token name must be");

        let created = create(&["--name", "ci"]);
        assert!(created.status.success(), "{created:?}");
        let listed = stdout(&scimd(url, &["token", "list", "--org", "acme"]));
        let id = listed.lines().find(|l| l.contains("ci")).unwrap().split_whitespace().next().unwrap().to_owned();
        assert!(scimd(url, &["token", "revoke", &id]).status.success());
        let enable = scimd(url, &["token", "enable", &id]);
        assert_said_once(&enable, "revocation cannot be undone");
    }
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{output:?}"))
}

fn sorted_keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn org_id(url: &str, name: &str) -> String {
    let orgs = json_of(&scimd(url, &["org", "list", "--json"]));
    orgs["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["name"] == name)
        .expect("the organization")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs `scimd ARGS`, reads one line of its stdout and closes the pipe, as `| head -1` does.
fn first_line_then_close(url: &str, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    use std::io::{BufRead, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .env_remove("SCIMD_DATA_DIR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), first, err)
}

#[tokio::test]
async fn a_reader_that_closes_the_pipe_ends_listings_quietly() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let url = app.database.url.clone();
    let org = org_id(&url, "default");
    // Far more than a pipe buffers, so that the command is still writing when the pipe closes.
    let long = "n".repeat(200);
    let tokens: Vec<String> = (0..500)
        .map(|i| {
            format!(
                "('00000000-0000-4000-8000-{i:012}', '{org}', '{long}', 'digest-{i}', 'wxt_{i:08}', \
                 'scim:read', '2026-01-01 00:00:00', 'cli')"
            )
        })
        .collect();
    app.database.execute(&format!(
        "INSERT INTO api_tokens (id, org_id, name, token_digest, display_prefix, scopes, created_at, created_by) \
         VALUES {}",
        tokens.join(", ")
    ));
    let events: Vec<String> = (0..500)
        .map(|i| {
            format!(
                "('e{i:08}', '{org}', '2026-01-01 00:00:00', 'scim.write', 'cli', 'x', NULL, '{{\"note\":\"{long}\"}}')"
            )
        })
        .collect();
    app.database.execute(&format!(
        "INSERT INTO audit_events (id, org_id, occurred_at, event_type, actor, target, remote_addr, details) \
         VALUES {}",
        events.join(", ")
    ));
    for args in [
        &["token", "list", "--org", "default"][..],
        &["token", "list", "--org", "default", "--wide"],
        &["token", "list", "--org", "default", "--json"],
        &["audit", "--wide", "--limit", "1000"],
        &["audit", "--json", "--limit", "1000"],
    ] {
        let (status, first, err) = first_line_then_close(&url, args);
        assert!(!first.is_empty(), "{args:?} printed nothing");
        assert!(status.success(), "{args:?} ended with {status}:\n{err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}:\n{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_secret_that_cannot_be_written_is_an_error_naming_the_token_to_revoke() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let url = app.database.url.clone();
    // A pipe whose reader is gone before the command starts: the write fails, always.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["token", "create", "--org", "default", "--name", "lost"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .env_remove("SCIMD_DATA_DIR")
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "a lost secret is no success:\n{err}"
    );
    assert!(
        err.contains("could not be written") && err.contains("scimd token revoke"),
        "{err}"
    );
    assert!(
        !err.contains("wxt_"),
        "the secret stays out of stderr:\n{err}"
    );
}

on_both_backends! {
    async fn json_output_has_the_management_apis_field_names(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        let admin = crate::helpers::api::admin_token(&app.database);
        crate::helpers::api::cli_token(&app.database, "default", "Okta", &["--allow-ip", "10.0.0.0/8", "--rate-limit", "60"]);

        let listed = json_of(&scimd(&url, &["token", "list", "--org", "default", "--json"]));
        let api = app.api_get("/api/v1/tokens", &admin).await;
        let cli_tokens = listed["tokens"].as_array().unwrap();
        let api_tokens = api.body["tokens"].as_array().unwrap();
        assert_eq!(cli_tokens.len(), api_tokens.len());
        for (cli, api) in cli_tokens.iter().zip(api_tokens) {
            assert_eq!(sorted_keys(cli), sorted_keys(api));
            for field in ["id", "name", "prefix", "status", "scopes", "allowed_cidrs", "rate_limit_per_minute", "created_at"] {
                assert_eq!(cli[field], api[field], "{field}");
            }
        }

        let id = cli_tokens[0]["id"].as_str().unwrap();
        let shown = json_of(&scimd(&url, &["token", "show", id, "--json"]));
        let api_shown = app.api_get(&format!("/api/v1/tokens/{id}"), &admin).await;
        assert_eq!(sorted_keys(&shown), sorted_keys(&api_shown.body));
        assert_eq!(shown["id"], api_shown.body["id"]);

        let audit = json_of(&scimd(&url, &["audit", "--org", "default", "--json"]));
        let api_audit = app.api_get("/api/v1/audit", &admin).await;
        let cli_event = &audit["events"][0];
        assert_eq!(sorted_keys(cli_event), sorted_keys(&api_audit.body["events"][0]));
        assert_eq!(cli_event, &api_audit.body["events"][0]);

        let orgs = json_of(&scimd(&url, &["org", "list", "--json"]));
        let org = &orgs["organizations"][0];
        assert_eq!(sorted_keys(org), ["created_at", "default_rate_limit_per_minute", "id", "inactivity_days", "name"]);
        assert_eq!(org["name"], "default");
        assert_eq!(org, &app.api_get("/api/v1/org", &admin).await.body);
    }
}

on_both_backends! {
    async fn tokens_are_named_by_a_unique_id_prefix(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        for name in ["first", "second", "third"] {
            crate::helpers::api::cli_token(&app.database, "default", name, &[]);
        }
        app.database.execute(
            "UPDATE api_tokens SET id = 'abcdef01-0000-4000-8000-00000000000' || \
             CASE name WHEN 'first' THEN '1' ELSE '2' END WHERE name IN ('first', 'second')",
        );
        let show = |id: &str| scimd(&url, &["token", "show", id]);

        let unique = show("abcdef01-0000-4000-8000-000000000001");
        assert!(stdout(&unique).contains("first"), "{unique:?}");
        let listed = stdout(&scimd(&url, &["token", "list", "--org", "default"]));
        let third = listed.lines().find(|l| l.contains("third")).unwrap().split_whitespace().next().unwrap();
        assert!(stdout(&show(third)).contains("third"), "the table's short id names the token");
        assert!(stdout(&show(&third.to_uppercase())).contains("third"), "ids ignore case");

        assert_one_line_error(&show("abcdef01"), "'abcdef01' is ambiguous");
        assert_one_line_error(&show("abcdef01-0000-4000-8000-00000000000"), "is ambiguous");
        assert_one_line_error(
            &show("12345678"),
            "no token with id starting '12345678', see `scimd token list`",
        );
        assert_one_line_error(&show("abcdef0"), "at least 8 characters");
        // LIKE's wildcards in a prefix match only themselves.
        assert_one_line_error(&show("abcdef0%"), "no token with id starting 'abcdef0%'");
        assert_one_line_error(&show("abcdef0_"), "no token with id starting 'abcdef0_'");

        let deleted = scimd(&url, &["token", "delete", "abcdef01-0000-4000-8000-000000000002"]);
        assert!(stdout(&deleted).contains("revoked token 'second'"), "{deleted:?}");
    }
}

on_both_backends! {
    async fn every_flag_of_a_kind_follows_one_rule(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        let create = |extra: &[&str]| {
            let mut args = vec!["token", "create", "--org", "default", "--name"];
            args.extend_from_slice(extra);
            scimd(&url, &args)
        };
        let days_from_now = |shown: &serde_json::Value| {
            let at = chrono::DateTime::parse_from_rfc3339(shown["expires_at"].as_str().unwrap()).unwrap();
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 1440.0
        };
        let show = |output: &std::process::Output| {
            let err = stderr(output);
            let id = err.lines().find_map(|l| l.trim().strip_prefix("id")).unwrap().trim().to_owned();
            json_of(&scimd(&url, &["token", "show", &id, "--json"]))
        };

        // Durations: 90d, 90 (days) and 12h alike, in --expires, --grace and audit --since.
        for (expires, days) in [("90d", 90.0), ("90", 90.0), ("12h", 0.5)] {
            let created = create(&["e", "--expires", expires]);
            assert!(created.status.success(), "{created:?}");
            let shown = show(&created);
            assert!((days_from_now(&shown) - days).abs() < 0.01, "{expires}: {shown}");
        }
        let rotating = create(&["rotating"]);
        let id = show(&rotating)["id"].as_str().unwrap().to_owned();
        assert!(scimd(&url, &["token", "rotate", &id, "--grace", "2"]).status.success());
        let rotated = json_of(&scimd(&url, &["audit", "--type", "token.rotated", "--json"]));
        assert_eq!(rotated["events"][0]["details"]["grace_period_seconds"], 2 * 86400);
        assert_one_line_error(&scimd(&url, &["token", "rotate", &id, "--grace", "8"]), "longer than 7 days");
        for since in ["1", "12h", "1d"] {
            let recent = json_of(&scimd(&url, &["audit", "--since", since, "--json"]));
            assert!(!recent["events"].as_array().unwrap().is_empty(), "--since {since}");
        }
        let future = json_of(&scimd(&url, &["audit", "--since", "2999-01-01", "--json"]));
        assert_eq!(future["events"], serde_json::json!([]));

        // Lists: commas, spaces and repetition alike.
        let listed = create(&["lists", "--scope", "scim:read, scim:write", "--scope", "tokens:manage", "--allow-ip", "10.0.0.0/8 192.0.2.7,2001:db8::/32"]);
        let shown = show(&listed);
        assert_eq!(shown["scopes"], serde_json::json!(["scim:read", "scim:write", "tokens:manage"]));
        assert_eq!(shown["allowed_cidrs"], serde_json::json!(["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]));
        let typed = json_of(&scimd(&url, &["audit", "--type", "token.rotated, token.created", "--json"]));
        let types: std::collections::BTreeSet<&str> =
            typed["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["token.created", "token.rotated"].into());

        // Sort keys: the API's last_used, and last-used too.
        for key in ["last_used", "last-used"] {
            assert!(scimd(&url, &["token", "list", "--org", "default", "--sort", key]).status.success());
        }

        // Limits as they are.
        for limit in ["0", "1000001"] {
            let refused = create(&["limited", "--rate-limit", limit]);
            assert!(!refused.status.success());
            assert!(stderr(&refused).contains("1 to 1,000,000"), "{refused:?}");
        }
        assert!(create(&["limited", "--rate-limit", "1000000"]).status.success());
        // The server-wide default follows the same rule, and is refused before anything opens.
        let serve = scimd(&url, &["serve", "--bind", "127.0.0.1:0", "--rate-limit", "0"]);
        assert!(!serve.status.success(), "{serve:?}");
        assert!(stderr(&serve).contains("1 to 1,000,000"), "{serve:?}");

        // An unknown event type names the known ones.
        let unknown = scimd(&url, &["audit", "--type", "auth.fail"]);
        assert_one_line_error(&unknown, "unknown event type 'auth.fail'");
        assert!(stderr(&unknown).contains("auth.failed") && stderr(&unknown).contains("scim.write"));
        let admin = crate::helpers::api::admin_token(&app.database);
        let api = app.api_get("/api/v1/audit?type=auth.fail", &admin).await;
        crate::helpers::app::assert_scim_error(api.status, &api.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        assert!(api.text.contains("auth.failed"), "{}", api.text);

        // A CIDR with host bits set is refused, with the network suggested, here and in the API.
        assert_one_line_error(&create(&["cidr", "--allow-ip", "10.0.0.1/24"]), "write the network 10.0.0.0/24");
        let api = app
            .api_post("/api/v1/tokens", &admin, &serde_json::json!({"name": "cidr", "allowed_cidrs": ["10.0.0.1/24"]}))
            .await;
        crate::helpers::app::assert_scim_error(api.status, &api.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        assert!(api.text.contains("10.0.0.0/24"), "{}", api.text);
    }
}

on_both_backends! {
    async fn create_echoes_its_settings_and_warns_of_a_namesake(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        let args = [
            "token", "create", "--org", "default", "--name", "Okta production", "--description", "for the IdP",
            "--scope", "scim:read", "--expires", "2999-01-31", "--allow-ip", "192.0.2.0/24", "--rate-limit", "600",
        ];
        let first = scimd(&url, &args);
        assert!(first.status.success(), "{first:?}");
        let echo = stderr(&first);
        for setting in [
            "Okta production", "'default'", "for the IdP", "scim:read", "2999-01-31 00:00 UTC", "192.0.2.0/24",
            "600/minute", "wxt_",
        ] {
            assert!(echo.contains(setting), "{setting} not echoed:\n{echo}");
        }
        assert!(!echo.contains("warning"), "{echo}");

        let second = scimd(&url, &args);
        assert!(second.status.success(), "{second:?}");
        let warned = stderr(&second);
        assert!(
            warned.contains("warning: organization 'default' already has an active token named 'Okta production'"),
            "{warned}"
        );
        // A revoked namesake is no reason to warn.
        let listed = json_of(&scimd(&url, &["token", "list", "--org", "default", "--json", "--name", "okta"]));
        for token in listed["tokens"].as_array().unwrap() {
            assert!(scimd(&url, &["token", "revoke", token["id"].as_str().unwrap()]).status.success());
        }
        assert!(!stderr(&scimd(&url, &args)).contains("warning"));
    }
}

on_both_backends! {
    async fn default_tables_fit_80_columns_and_wide_shows_everything(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        let long = "An unusually long token name that says a great deal about the Okta tenant it serves";
        crate::helpers::api::cli_token(&app.database, "default", long, &["--expires", "3d", "--description", "d"]);
        assert!(scimd(&url, &["org", "create", "an-organization-with-a-name-much-longer-than-any-column"]).status.success());
        for args in [
            &["token", "list", "--org", "default"][..],
            &["org", "list"],
            &["audit"],
        ] {
            let table = stdout(&scimd(&url, args));
            assert!(table.lines().count() >= 2, "{args:?}:\n{table}");
            for line in table.lines() {
                assert!(line.chars().count() <= 80, "{args:?} line of {} columns:\n{line}", line.chars().count());
            }
        }
        let listed = stdout(&scimd(&url, &["token", "list", "--org", "default"]));
        assert!(listed.contains("An unusually long t…"), "{listed}");
        assert!(listed.contains("expires in 2d") || listed.contains("expires in 3d"), "{listed}");
        assert!(listed.contains("never"), "{listed}");
        let wide = stdout(&scimd(&url, &["token", "list", "--org", "default", "--wide"]));
        assert!(wide.contains(long) && wide.contains("scim:read scim:write"), "{wide}");

        let audit = stdout(&scimd(&url, &["audit", "--wide"]));
        let created = audit.lines().find(|l| l.contains("token.created")).expect(&audit);
        assert!(created.contains(&format!("{long} (")), "the token is named:\n{created}");
        assert!(created.contains(" UTC"), "{created}");
        assert!(created.contains(&format!("name=\"{long}\"")), "details read as key=value:\n{created}");
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
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let total = count_users(&client, &server.base_url, &token).await;
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
        let total = count_users(&client, &server.base_url, &token).await;
        assert_eq!(total, USERS as u64, "the database disagrees with the reply");
    }
}

/// `totalResults` of the organization's users, over HTTP.
async fn count_users(client: &reqwest::Client, base_url: &str, token: &str) -> u64 {
    let listed: serde_json::Value = client
        .get(format!("{base_url}/scim/v2/Users?count=0"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["totalResults"].as_u64().unwrap()
}

#[test]
fn help_puts_each_commands_own_options_first_and_describes_every_argument() {
    let help = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(args)
            .arg("--help")
            .env_remove("SCIMD_DATA_DIR")
            .env_remove("SCIMD_BIND")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        stdout(&output)
    };
    for (command, own) in [
        (&["token", "list"][..], "--org <ORG>"),
        (&["token", "create"], "--rate-limit"),
        (&["token", "show"], "--json"),
        (&["audit"], "--type"),
        (&["org", "list"], "--wide"),
        (&["serve"], "--bind"),
    ] {
        let text = help(command);
        assert!(
            !text.contains("=]"),
            "{command:?} shows an empty env value:\n{text}"
        );
        let own_at = text
            .find(own)
            .unwrap_or_else(|| panic!("{own} missing:\n{text}"));
        let global_at = text.find("Global options:").expect(&text);
        let database_at = text.find("--database-url").expect(&text);
        assert!(
            own_at < global_at && global_at < database_at,
            "{command:?}:\n{text}"
        );
    }
    let show = help(&["token", "show"]);
    let id_line = show
        .lines()
        .find(|l| l.contains("<ID>") && !l.contains("Usage"))
        .expect(&show);
    assert!(id_line.contains("first 8"), "{show}");
    assert!(help(&["token", "list"]).contains("The organization whose tokens"));
    assert!(help(&["token"]).contains("delete"), "the alias is shown");
    assert!(
        help(&["token", "list"]).contains("last_used"),
        "the sort key's one spelling"
    );
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

/// Client connections to the test database, this one included.
fn connections_to_this_database(store: &scimd::store::Store) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    store
        .run_blocking(|conn| {
            Ok(diesel::RunQueryDsl::get_result::<Count>(
                diesel::sql_query(
                    "SELECT count(*)::bigint AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND backend_type = 'client backend'",
                ),
                conn,
            )?
            .n)
        })
        .expect("count connections")
}

// A command opens the connections it uses and no spare: r2d2 making a spare on its own thread
// while the command exited had libkrb5 abort a `scimd audit` after its output (stop 19). A
// server keeps one ready.
#[test]
fn a_command_keeps_no_spare_connection_and_a_server_keeps_one() {
    use scimd::store::{OpenOptions, Store};
    let database = TestDatabase::new(crate::helpers::Backend::Postgres);
    let url = database.database_url();
    // Exactly one for the command; at least two for the server (r2d2 may make its spare
    // while the first checkout is still connecting).
    for (keep_idle, expected) in [(false, 1..=1), (true, 2..=4)] {
        let options = OpenOptions {
            keep_idle,
            ..OpenOptions::new(4)
        };
        let store = Store::open_with(&url, &options).expect("open");
        // A checkout, then time for a spare to be made in the background, if one is.
        connections_to_this_database(&store);
        std::thread::sleep(std::time::Duration::from_millis(500));
        let connections = connections_to_this_database(&store);
        assert!(
            expected.contains(&connections),
            "keep_idle: {keep_idle}: {connections} connections"
        );
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
