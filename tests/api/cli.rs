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

on_both_backends! {
    async fn first_start_prints_a_working_token_once_and_never_again(backend: Backend) {
        let database = TestDatabase::new(backend);
        let server = ServeProcess::start(&database.url, &[]);
        let client = reqwest::Client::new();
        let (_, stdout_first, _) = {
            let (ok, out, err) = server.stop();
            assert!(ok, "graceful stop failed:\n{err}");
            (ok, out, err)
        };
        let printed = tokens_in(&stdout_first);
        assert!(!printed.is_empty(), "no token in:\n{stdout_first}");
        let token = printed[0].clone();
        assert!(printed.iter().all(|t| *t == token));
        assert!(stdout_first.contains("curl -H 'Authorization: Bearer "), "{stdout_first}");

        let server = ServeProcess::start(&database.url, &[]);
        let response = client
            .get(format!("{}/scim/v2/ServiceProviderConfig", server.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let (ok, stdout_second, stderr_second) = server.stop();
        assert!(ok, "{stderr_second}");
        assert!(tokens_in(&stdout_second).is_empty(), "second start printed:\n{stdout_second}");
    }
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
        let first = tokens_in(&out)[0].clone();
        // The first-start banner shows its token twice (on its own and in the curl line).
        assert_eq!(out.matches(&first).count(), 2, "{out}");
        for secret in [&first, &cli_token] {
            assert!(!err.contains(secret.as_str()), "token in the log:\n{err}");
        }
        assert!(!err.contains("wxt_aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abc"));
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
    assert_eq!(err.trim_end().lines().count(), 1, "not one line:\n{err}");
    assert!(err.starts_with("scimd: error: "), "{err}");
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

#[test]
fn a_port_in_use_fails_with_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["serve", "--bind", &address])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("s.db").display()),
        )
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert_one_line_error(&output, &format!("cannot listen on {address}"));
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
        assert_said_once(&create(&["--name", "ci", "--rate-limit", "0"]), "rate limit");
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
