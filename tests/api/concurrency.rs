//! Concurrent PATCHes lose no update (dossier F-10, F-11), within one instance and across two
//! instances sharing one PostgreSQL database (README "Several instances" (under Operations)).

use std::sync::Arc;

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::scim::{
    ENTERPRISE_URN, USER_URN, group, id_of, member_values, patch_op, path_of, sorted, version_of,
};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// Creates `count` users named `{prefix}NN@a.example`; answers their ids.
async fn users(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let body = json!({"schemas": [USER_URN], "userName": format!("{prefix}{i:02}@a.example")});
        ids.push(id_of(&app.create_user(&body).await).to_owned());
    }
    ids
}

/// Sends each `(instance, path, operations)` PATCH at once, from its own task; answers the
/// statuses and bodies in the order given.
async fn patch_all(requests: Vec<(Arc<TestApp>, String, Value)>) -> Vec<(StatusCode, String)> {
    let mut tasks = JoinSet::new();
    for (index, (app, path, operations)) in requests.into_iter().enumerate() {
        tasks.spawn(async move {
            let reply = app.patch_json(&path, &patch_op(operations)).await;
            (index, reply.status, reply.text)
        });
    }
    let mut replies = tasks.join_all().await;
    replies.sort_by_key(|(index, _, _)| *index);
    replies
        .into_iter()
        .map(|(_, status, text)| (status, text))
        .collect()
}

/// The sorted ids whose request (in the same order) answered 204.
fn succeeded(ids: &[String], replies: &[(StatusCode, String)]) -> Vec<String> {
    let mut ids: Vec<String> = ids
        .iter()
        .zip(replies)
        .filter(|(_, (status, _))| *status == StatusCode::NO_CONTENT)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

fn assert_all(replies: &[(StatusCode, String)], expected: StatusCode) {
    let failed: Vec<_> = replies
        .iter()
        .filter(|(status, _)| *status != expected)
        .collect();
    assert!(
        failed.is_empty(),
        "expected every reply to be {expected}: {failed:?}"
    );
}

/// One member add per user, each its own request.
fn member_adds(
    apps: &[Arc<TestApp>],
    path: &str,
    ids: &[String],
) -> Vec<(Arc<TestApp>, String, Value)> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let app = Arc::clone(&apps[i % apps.len()]);
            (
                app,
                path.to_owned(),
                json!([{"op": "add", "path": "members", "value": [{"value": id}]}]),
            )
        })
        .collect()
}

/// Ten attributes of one user, each set by its own request.
fn attribute_sets() -> Vec<(String, Value)> {
    [
        ("title", "Lead"),
        ("nickName", "Babs"),
        ("displayName", "Barbara"),
        ("userType", "Employee"),
        ("preferredLanguage", "en-US"),
        ("locale", "en-GB"),
        ("timezone", "Europe/Berlin"),
        ("profileUrl", "https://example.com/babs"),
        ("name.middleName", "Jo"),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "Sales",
        ),
    ]
    .into_iter()
    .map(|(path, value)| (path.to_owned(), json!(value)))
    .collect()
}

fn assert_all_attributes_set(user: &Value) {
    for (path, value) in attribute_sets() {
        let actual = match path.strip_prefix(&format!("{ENTERPRISE_URN}:")) {
            Some(name) => &user[ENTERPRISE_URN][name],
            None => match path.split_once('.') {
                Some((parent, child)) => &user[parent][child],
                None => &user[path.as_str()],
            },
        };
        assert_eq!(*actual, value, "{path} was lost: {user}");
    }
}

on_both_backends! {
    // F-10
    async fn twenty_concurrent_member_adds_to_one_group_lose_none(backend: Backend) {
        let app = Arc::new(TestApp::spawn(backend).await);
        let ids = users(&app, "m", 20).await;
        let ga1 = app.create_group(&group("Engineering", &[])).await;
        let path = path_of(&ga1);

        let replies = patch_all(member_adds(&[Arc::clone(&app)], &path, &ids)).await;

        let fetched = app.fetch(&path).await;
        assert_eq!(member_values(&fetched), succeeded(&ids, &replies), "an acknowledged add was lost");
        assert_all(&replies, StatusCode::NO_CONTENT);
        let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(member_values(&fetched), sorted(&expected));
    }
}

on_both_backends! {
    // F-11
    async fn ten_concurrent_patches_of_different_attributes_of_one_user_all_stick(backend: Backend) {
        let app = Arc::new(TestApp::spawn(backend).await);
        let mut body = json!({"schemas": [USER_URN], "userName": "barbara@a.example"});
        body["name"] = json!({"givenName": "Barbara", "familyName": "Jensen"});
        let user = app.create_user(&body).await;
        let path = path_of(&user);
        let requests = attribute_sets()
            .into_iter()
            .map(|(attribute, value)| {
                (Arc::clone(&app), path.clone(), json!([{"op": "replace", "path": attribute, "value": value}]))
            })
            .collect();

        let replies = patch_all(requests).await;

        assert_all(&replies, StatusCode::OK);
        let fetched = app.fetch(&path).await;
        assert_all_attributes_set(&fetched);
        assert_eq!(fetched["name"]["givenName"], "Barbara");
        assert_eq!(fetched["userName"], "barbara@a.example");
    }
}

// README "Several instances" (under Operations): two scimd on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_adds_interleaved_through_two_instances_on_one_postgres_database_lose_none() {
    let first = Arc::new(TestApp::spawn(Backend::Postgres).await);
    let second = Arc::new(first.spawn_second().await);
    let ids = users(&first, "m", 20).await;
    let ga1 = second.create_group(&group("Engineering", &[])).await;
    let path = path_of(&ga1);

    let replies = patch_all(member_adds(
        &[Arc::clone(&first), Arc::clone(&second)],
        &path,
        &ids,
    ))
    .await;

    let through_first = first.fetch(&path).await;
    let through_second = second.fetch(&path).await;
    assert_eq!(
        member_values(&through_first),
        succeeded(&ids, &replies),
        "an acknowledged add was lost"
    );
    assert_all(&replies, StatusCode::NO_CONTENT);
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(member_values(&through_first), sorted(&expected));
    assert_eq!(member_values(&through_second), sorted(&expected));
    assert_eq!(version_of(&through_first), version_of(&through_second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribute_patches_interleaved_through_two_instances_on_one_postgres_database_all_stick() {
    let first = Arc::new(TestApp::spawn(Backend::Postgres).await);
    let second = Arc::new(first.spawn_second().await);
    let user = first
        .create_user(&json!({"schemas": [USER_URN], "userName": "barbara@a.example"}))
        .await;
    let path = path_of(&user);
    let apps = [first.clone(), second.clone()];
    let requests = attribute_sets()
        .into_iter()
        .enumerate()
        .map(|(i, (attribute, value))| {
            (
                Arc::clone(&apps[i % 2]),
                path.clone(),
                json!([{"op": "replace", "path": attribute, "value": value}]),
            )
        })
        .collect();

    let replies = patch_all(requests).await;

    assert_all(&replies, StatusCode::OK);
    let mut through_first = first.fetch(&path).await;
    assert_all_attributes_set(&through_first);
    let mut through_second = second.fetch(&path).await;
    // Each instance names itself in meta.location; everything else must agree.
    through_first["meta"]["location"].take();
    through_second["meta"]["location"].take();
    assert_eq!(through_second, through_first);
}

/// A write naming another organisation's id answers 404 at once: it never waits on, or holds,
/// that tenant's row lock (PostgreSQL; SQLite serialises all writers anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orgs_id_never_waits_on_its_row_lock() {
    use std::time::{Duration, Instant};

    let app = TestApp::spawn(Backend::Postgres).await;
    let owner = app
        .create_user(&json!({"schemas": [USER_URN], "userName": "held@a.example"}))
        .await;
    let id = id_of(&owner).to_owned();
    let other = format!("Bearer {}", app.second_org_token("b"));
    let store = app.database.store();
    let locked = id.clone();
    let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        store
            .write_blocking(|conn| {
                diesel::sql_query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                    .bind::<diesel::sql_types::Text, _>(&locked)
                    .execute(conn)?;
                held.0.send(()).unwrap();
                release.1.recv_timeout(Duration::from_secs(30)).ok();
                Ok(())
            })
            .unwrap();
    });
    held.1.recv().unwrap();
    let started = Instant::now();
    let reply = app
        .patch_json_with(
            &path_of(&owner),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "x"}])),
            &[("authorization", other.as_str())],
        )
        .await;
    let waited = started.elapsed();
    release.0.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert!(
        waited < Duration::from_secs(10),
        "waited {waited:?} on another tenant's lock"
    );
}

/// Instances starting together with AUTH_SECRET each ensure its organization: one that looked
/// while another's insert was not yet committed still starts, with the other's organization.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_losing_the_race_to_create_the_auth_secret_organization_still_starts() {
    use std::time::Duration;

    let database = crate::helpers::TestDatabase::new(Backend::Postgres);
    let store = database.store();
    scimd::store::migrate::run_pending(&store).unwrap();
    let (inserted, inserted_rx) = std::sync::mpsc::channel();
    let first = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .write_blocking(|conn| {
                    let org = scimd::store::orgs::insert_org(conn, "onprem", scimd::store::now())?;
                    inserted.send(()).unwrap();
                    // Uncommitted meanwhile: the second instance finds nothing, and its insert
                    // waits on this one's unique key.
                    std::thread::sleep(Duration::from_secs(1));
                    Ok(org.id)
                })
                .unwrap()
        })
    };
    inserted_rx.recv().unwrap();
    let second = scimd::bootstrap::ensure_org(&store, "onprem").unwrap();
    assert_eq!(second, first.join().unwrap());
}

on_both_backends! {
    /// Several instances rolled out at once on an empty database (issue 16): each migrates,
    /// looks for the first start and starts serving; exactly one of them makes the first start.
    /// On PostgreSQL the losers used to exit on the first-start record's primary key.
    async fn instances_starting_together_on_an_empty_database_all_start(backend: Backend) {
        use scimd::config::Config;
        use scimd::startup::Application;

        const INSTANCES: usize = 3;
        for round in 0..5 {
            let database = crate::helpers::TestDatabase::empty(backend);
            let barrier = Arc::new(std::sync::Barrier::new(INSTANCES));
            let mut starts = JoinSet::new();
            for _ in 0..INSTANCES {
                let mut config = Config::new(database.database_url());
                config.bind = "127.0.0.1:0".to_owned();
                config.pool_size = 2;
                config.workers = Some(1);
                let barrier = barrier.clone();
                starts.spawn_blocking(move || {
                    barrier.wait();
                    Application::build(config).map_err(|error| format!("{error:#}"))
                });
            }
            let mut first_starts = 0;
            while let Some(started) = starts.join_next().await {
                let application = started
                    .unwrap()
                    .unwrap_or_else(|error| panic!("round {round}: an instance failed: {error}"));
                first_starts += usize::from(application.first_start().is_some());
            }
            assert_eq!(first_starts, 1, "round {round}: one first start");
        }
    }
}
