//! `scimd admin` and the first start's console set-up link: the real binary on both backends,
//! checked through the same use cases the console calls.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use chrono::TimeDelta;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use scimd::error::Error;
use scimd::service::people::{
    self, Action, Email, NewSession, Role, SetupAnswers, SignInAttempt, SignInThrottle,
};
use scimd::store::Store;

use crate::helpers::cli::{ServeProcess, scimd, stderr, stdout};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const PASSWORD: &str = "correct horse battery staple";

/// `scimd ARGS` with `input` on stdin.
fn scimd_with_stdin(database_url: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("SCIMD_PUBLIC_URL")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// The code of the one set-up link `output` printed.
fn printed_code(output: &str) -> SecretString {
    let line = output.trim();
    let code = line
        .strip_prefix("http://127.0.0.1:8080/console/setup?code=")
        .unwrap_or_else(|| panic!("not a set-up link: {line}"));
    assert_eq!(code.len(), 43, "32 random bytes, base64url: {code}");
    SecretString::from(code.to_owned())
}

fn people_of(url: &str, org: &str) -> Vec<Value> {
    let output = succeeded(&scimd(url, &["admin", "list", "--org", org, "--json"]));
    let listed: Value = serde_json::from_str(&output).unwrap();
    listed["people"].as_array().unwrap().clone()
}

fn events(url: &str, kind: &str) -> Vec<Value> {
    let output = succeeded(&scimd(
        url,
        &["audit", "--org", "default", "--type", kind, "--json"],
    ));
    let listed: Value = serde_json::from_str(&output).unwrap();
    listed["events"].as_array().unwrap().clone()
}

async fn sign_in(
    store: &Store,
    throttle: &SignInThrottle,
    email: &str,
    password: &str,
) -> Result<NewSession, Error> {
    let attempt = SignInAttempt {
        email: email.to_owned(),
        password: SecretString::from(password),
        client_addr: Some("192.0.2.10".parse().unwrap()),
        user_agent: Some("people-cli test".to_owned()),
    };
    people::sign_in(store, throttle, attempt, scimd::store::now()).await
}

async fn signed_in(store: &Store, secret: &SecretString) -> Option<people::SignedIn> {
    let secret = secret.clone();
    store
        .read(move |conn| Ok(people::session(conn, &secret, scimd::store::now())?.0))
        .await
        .unwrap()
}

fn create_with_password(url: &str, email: &str, role: &str) {
    succeeded(&scimd_with_stdin(
        url,
        &[
            "admin",
            "create",
            "--org",
            "default",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
}

on_both_backends! {
    async fn an_invited_person_sets_a_password_through_the_printed_link_and_signs_in(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        let created = scimd(url, &[
            "admin", "create", "--org", "default", "--email", " Ada@Example.COM ",
            "--name", "Ada Lovelace", "--role", "viewer",
        ]);
        let code = printed_code(&succeeded(&created));
        assert!(stderr(&created).contains("ada@example.com is now viewer of 'default'"), "{}", stderr(&created));

        let listed = people_of(url, "default");
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["email"], "ada@example.com");
        assert_eq!(listed[0]["display_name"], "Ada Lovelace");
        assert_eq!(listed[0]["role"], "viewer");
        assert_eq!(listed[0]["has_password"], false);
        assert_eq!(listed[0]["last_sign_in_at"], Value::Null);

        let store = app.database.store();
        let pending_code = code.clone();
        let pending = store
            .read(move |conn| people::pending_setup(conn, &pending_code, scimd::store::now()))
            .await
            .unwrap();
        assert_eq!(pending.email.as_deref(), Some("ada@example.com"));
        assert_eq!(pending.org_name.as_deref(), Some("default"));
        assert_eq!(pending.role, Some(Role::Viewer));

        // An expired link reads exactly as an unknown one.
        let late_code = code.clone();
        let expired = store
            .read(move |conn| {
                people::pending_setup(conn, &late_code, scimd::store::now() + TimeDelta::days(8))
            })
            .await
            .unwrap_err();
        let unknown = store
            .read(|conn| {
                people::pending_setup(conn, &SecretString::from("x".repeat(43)), scimd::store::now())
            })
            .await
            .unwrap_err();
        assert!(matches!(expired, Error::NotFound(_)), "{expired:?}");
        assert_eq!(expired.to_string(), unknown.to_string());

        let throttle = SignInThrottle::new();
        let early = sign_in(&store, &throttle, "ada@example.com", PASSWORD).await;
        assert!(matches!(early, Err(Error::Unauthorized)), "no password yet: {early:?}");

        let answers = || SetupAnswers {
            email: None,
            display_name: None,
            password: SecretString::from(PASSWORD),
        };
        let short = people::complete_setup(&store, code.clone(), SetupAnswers {
            password: SecretString::from("too short"),
            ..answers()
        })
        .await
        .unwrap_err();
        assert!(short.to_string().contains("12"), "{short}");
        let person = people::complete_setup(&store, code.clone(), answers()).await.unwrap();
        assert_eq!(person.email, "ada@example.com");
        assert!(person.has_password);
        let again = people::complete_setup(&store, code.clone(), answers()).await.unwrap_err();
        assert_eq!(again.to_string(), unknown.to_string(), "a link works once");

        let wrong = sign_in(&store, &throttle, "ada@example.com", "correct horse battery stable").await;
        assert!(matches!(wrong, Err(Error::Unauthorized)), "{wrong:?}");
        let session = sign_in(&store, &throttle, "ADA@example.com ", PASSWORD).await.unwrap();
        let me = signed_in(&store, &session.secret).await.unwrap();
        assert_eq!(me.person.email, "ada@example.com");
        assert_eq!(me.memberships.len(), 1);
        let membership = me.membership("default").unwrap();
        assert_eq!(membership.role, Role::Viewer);
        assert!(membership.role.may(Action::ViewConsole));
        assert!(!membership.role.may(Action::ManageTokens));

        let invited = events(url, "person.invited");
        assert_eq!(invited.len(), 1, "{invited:?}");
        assert_eq!(invited[0]["actor"], "cli");
        assert_eq!(invited[0]["target"], "person:ada@example.com");
        let signed = events(url, "console.sign_in");
        assert_eq!(signed[0]["actor"], "person:ada@example.com");
        assert_eq!(signed[0]["remote_addr"], "192.0.2.10");
        assert_eq!(events(url, "console.sign_in_failed").len(), 2, "before set-up, and wrong");
        assert_eq!(events(url, "person.password_set").len(), 1);
        assert!(!String::from_utf8_lossy(&app.database.dump()).contains(code.expose_secret()));
    }
}

on_both_backends! {
    async fn password_stdin_makes_an_owner_at_once_and_the_last_owner_stays(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        let short = scimd_with_stdin(url, &[
            "admin", "create", "--org", "default", "--email", "owner@example.com",
            "--role", "owner", "--password-stdin",
        ], "short\n");
        assert!(!short.status.success());
        assert!(stderr(&short).contains("12 to 1024 characters"), "{}", stderr(&short));
        assert!(people_of(url, "default").is_empty(), "nothing was created");

        create_with_password(url, "owner@example.com", "owner");
        let store = app.database.store();
        let throttle = SignInThrottle::new();
        let session = sign_in(&store, &throttle, "owner@example.com", PASSWORD).await.unwrap();
        assert!(signed_in(&store, &session.secret).await.is_some());

        let again = scimd(url, &["admin", "create", "--org", "default", "--email", "owner@example.com"]);
        assert!(!again.status.success());
        assert!(stderr(&again).contains("already a member"), "{}", stderr(&again));

        let last = scimd(url, &["admin", "remove", "owner@example.com", "--org", "default"]);
        assert!(!last.status.success());
        assert!(stderr(&last).contains("only owner"), "{}", stderr(&last));
        assert_eq!(people_of(url, "default").len(), 1);

        let unknown_org = scimd(url, &["admin", "list", "--org", "nope"]);
        assert!(stderr(&unknown_org).contains("no organization named 'nope'"), "{}", stderr(&unknown_org));
        let bad_role = scimd(url, &["admin", "create", "--org", "default", "--email", "x@example.com", "--role", "root"]);
        assert!(stderr(&bad_role).contains("'owner', 'admin' or 'viewer'"), "{}", stderr(&bad_role));
    }
}

on_both_backends! {
    async fn removing_a_person_keeps_or_revokes_their_tokens_and_ends_their_sessions(backend: Backend) {
        use scimd::auth::Scopes;
        use scimd::auth::bounds::Permissions;
        use scimd::service::audit::Actor;
        use scimd::service::input::TokenName;
        use scimd::service::tokens::{self, Caller, TokenRequest};

        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        let store = app.database.store();
        let throttle = SignInThrottle::new();
        let mut plain = Vec::new();
        for email in ["bob@example.com", "carol@example.com"] {
            create_with_password(url, email, "admin");
            let caller = Caller::Admin(Actor::Person(email.to_owned()));
            let issued = store
                .write_blocking(|conn| {
                    let org = scimd::store::orgs::find_org_by_name(conn, "default")?.unwrap();
                    let request = TokenRequest {
                        name: TokenName::parse(&format!("{email}'s Okta"))?,
                        description: None,
                        permissions: Permissions {
                            scopes: Scopes::SCIM,
                            expires_at: None,
                            restrictions: Default::default(),
                        },
                    };
                    tokens::create(conn, &org.id, &caller, &request, scimd::store::now())
                })
                .unwrap();
            plain.push(issued.plain.expose_secret().to_owned());
        }
        let bob = sign_in(&store, &throttle, "bob@example.com", PASSWORD).await.unwrap();
        let carol = sign_in(&store, &throttle, "carol@example.com", PASSWORD).await.unwrap();
        let users = |token: String| {
            let client = app.client.clone();
            let url = app.url("/scim/v2/Users");
            async move { client.get(url).bearer_auth(token).send().await.unwrap().status() }
        };

        let kept = scimd(url, &["admin", "remove", "BOB@example.com", "--org", "default"]);
        assert_eq!(succeeded(&kept).trim(), "removed bob@example.com from 'default'");
        assert!(stderr(&kept).contains("kept (still working)"), "{}", stderr(&kept));
        assert!(stderr(&kept).contains("bob@example.com's Okta"), "{}", stderr(&kept));
        assert_eq!(users(plain[0].clone()).await, StatusCode::OK, "the IdP keeps working");
        assert!(signed_in(&store, &bob.secret).await.is_none(), "bob's session ended");
        let relogin = sign_in(&store, &throttle, "bob@example.com", PASSWORD).await;
        assert!(matches!(relogin, Err(Error::Unauthorized)), "{relogin:?}");

        let revoked = scimd(url, &[
            "admin", "remove", "carol@example.com", "--org", "default", "--revoke-tokens",
        ]);
        succeeded(&revoked);
        assert_eq!(users(plain[1].clone()).await, StatusCode::UNAUTHORIZED);
        assert!(signed_in(&store, &carol.secret).await.is_none());
        assert!(people_of(url, "default").is_empty());

        let removals = events(url, "person.removed");
        assert_eq!(removals.len(), 2, "{removals:?}");
        let revocations = events(url, "token.revoked");
        assert_eq!(revocations.len(), 1, "{revocations:?}");
        assert_eq!(revocations[0]["actor"], "cli");

        let unknown = scimd(url, &["admin", "remove", "nobody@example.com", "--org", "default"]);
        assert!(stderr(&unknown).contains("not a member"), "{}", stderr(&unknown));
    }
}

on_both_backends! {
    async fn a_reset_link_replaces_older_links_and_ends_sessions_once_used(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        let store = app.database.store();
        let throttle = SignInThrottle::new();
        create_with_password(url, "dave@example.com", "viewer");
        let before = sign_in(&store, &throttle, "dave@example.com", PASSWORD).await.unwrap();

        let first = printed_code(&succeeded(&scimd(url, &["admin", "reset-password", "dave@example.com"])));
        let second = printed_code(&succeeded(&scimd(url, &["admin", "reset-password", "Dave@Example.com"])));
        assert!(signed_in(&store, &before.secret).await.is_some(), "nothing changes until it is used");
        let answers = |password: &str| SetupAnswers {
            email: None,
            display_name: Some(people::DisplayName::parse("Dave").unwrap()),
            password: SecretString::from(password),
        };
        let stale = people::complete_setup(&store, first, answers("a brand new password")).await;
        assert!(matches!(stale, Err(Error::NotFound(_))), "{stale:?}");
        let person = people::complete_setup(&store, second, answers("a brand new password")).await.unwrap();
        assert_eq!(person.display_name, "Dave");
        assert!(signed_in(&store, &before.secret).await.is_none(), "old sessions end");
        assert!(sign_in(&store, &throttle, "dave@example.com", PASSWORD).await.is_err());
        assert!(sign_in(&store, &throttle, "dave@example.com", "a brand new password").await.is_ok());

        let unknown = scimd(url, &["admin", "reset-password", "nobody@example.com"]);
        assert!(!unknown.status.success());
        assert!(stderr(&unknown).contains("no person with e-mail address nobody@example.com"), "{}", stderr(&unknown));
        assert!(stdout(&unknown).is_empty());
    }
}

on_both_backends! {
    async fn the_first_start_leaves_a_private_first_owner_link_until_it_is_used(backend: Backend) {
        use std::os::unix::fs::PermissionsExt;
        let database = TestDatabase::new(backend);
        let server = ServeProcess::start(&database.url, &[]);
        let log = server.startup_log().to_owned();
        let path = log
            .split("set-up link for the first owner is in ")
            .nth(1)
            .and_then(|rest| rest.split(" (readable").next())
            .unwrap_or_else(|| panic!("no set-up link file in the log:\n{log}"));
        let path = if std::path::Path::new(path).is_absolute() {
            std::path::PathBuf::from(path)
        } else {
            let cwd = server.first_token_file().unwrap();
            cwd.parent().unwrap().join(path)
        };
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        let link = std::fs::read_to_string(&path).unwrap();
        let code = link
            .trim()
            .strip_prefix(&format!("{}/console/setup?code=", server.base_url))
            .unwrap_or_else(|| panic!("{link}"))
            .to_owned();
        assert!(!log.contains(&code), "the code stays out of the log");

        let store = Store::open(&database.database_url(), 2).unwrap();
        let pending_code = SecretString::from(code.clone());
        let pending = store
            .read(move |conn| people::pending_setup(conn, &pending_code, scimd::store::now()))
            .await
            .unwrap();
        assert_eq!(pending.email, None, "the first owner says who they are");
        assert_eq!(pending.role, Some(Role::Owner));
        assert_eq!(pending.org_name.as_deref(), Some("default"));
        let (ok, out, err) = server.stop();
        assert!(ok, "{err}");
        assert!(!out.contains(&code) && !err.contains(&code), "only in the file");

        // Each ServeProcess has a working directory of its own, where PostgreSQL's file goes:
        // only SQLite's, beside the database, is seen again by a restart.
        let sqlite = backend == crate::helpers::Backend::Sqlite;
        let restarted = ServeProcess::start(&database.url, &[]);
        assert!(!sqlite || path.exists(), "kept while unused:\n{}", restarted.startup_log());
        restarted.stop();
        let owner = people::complete_setup(&store, SecretString::from(code), SetupAnswers {
            email: Some(Email::parse("first@example.com").unwrap()),
            display_name: None,
            password: SecretString::from(PASSWORD),
        })
        .await
        .unwrap();
        assert_eq!(owner.display_name, "first");
        let restarted = ServeProcess::start(&database.url, &[]);
        assert!(!sqlite || !path.exists(), "deleted once used:\n{}", restarted.startup_log());
        restarted.stop();
        let owners = people_of(&database.url, "default");
        assert_eq!(owners[0]["role"], "owner");
        assert_eq!(owners[0]["email"], "first@example.com");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_app_exposes_the_first_owner_link() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    assert!(
        app.setup_path.starts_with("/console/setup?code="),
        "{}",
        app.setup_path
    );
}

on_both_backends! {
    async fn someone_in_two_organizations_keeps_their_account_when_removed_from_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        succeeded(&scimd(url, &["org", "create", "other"]));
        create_with_password(url, "erin@example.com", "admin");
        let joined = scimd(url, &["admin", "create", "--org", "other", "--email", "erin@example.com", "--role", "viewer"]);
        assert_eq!(
            succeeded(&joined).trim(),
            "erin@example.com is now viewer of 'other' and signs in with their existing password",
            "no link for someone who has a password"
        );
        let store = app.database.store();
        let throttle = SignInThrottle::new();
        let session = sign_in(&store, &throttle, "erin@example.com", PASSWORD).await.unwrap();
        let both = signed_in(&store, &session.secret).await.unwrap();
        let orgs: Vec<(&str, Role)> = both.memberships.iter().map(|m| (m.org_name.as_str(), m.role)).collect();
        assert_eq!(orgs, [("default", Role::Admin), ("other", Role::Viewer)]);

        succeeded(&scimd(url, &["admin", "remove", "erin@example.com", "--org", "other"]));
        let left = signed_in(&store, &session.secret).await.expect("still signed in to default");
        assert!(left.membership("other").is_none(), "other is gone at once");
        assert_eq!(left.membership("default").unwrap().role, Role::Admin);
        assert_eq!(people_of(url, "other").len(), 0);
        assert_eq!(people_of(url, "default").len(), 1);
    }
}
