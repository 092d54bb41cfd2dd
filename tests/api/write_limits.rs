//! One tenant cannot hold the database writer long enough to fail another tenant's writes
//! (issue 18, item 4): large member PATCHes cost O(operations + matches), a write may hold the
//! writer for `--max-write-ms`, and a busy database answers 503 with `Retry-After`, never 500.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use scimd::scim::resource::prepare;
use scimd::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
use scimd::store::{groups, orgs, users};

use crate::helpers::scim::{GROUP_URN, USER_URN, member_values, patch_op, version_of};
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

/// Creates `count` users of organization `default`, and a group `display_name` of the first
/// `members` of them, straight in the database: thousands of POSTs would take longer than the
/// test. Answers the group's path and the user ids.
fn seed(app: &TestApp, count: usize, members: usize) -> (String, Vec<String>) {
    app.database
        .store()
        .write_blocking(|conn| {
            let org = orgs::find_org_by_name(conn, "default")?.unwrap().id;
            let now = scimd::store::now();
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                let body = json!({"schemas": [USER_URN], "userName": format!("u{i}@a.example"),
                                  "displayName": format!("Member {i}")});
                let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
                ids.push(
                    users::create_user(conn, &org, &prepared, None, now)?
                        .stored
                        .id,
                );
            }
            let refs: Vec<Value> = ids[..members]
                .iter()
                .map(|id| json!({"value": id}))
                .collect();
            let body = json!({"schemas": [GROUP_URN], "displayName": "Everyone", "members": refs});
            let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
            let group = groups::create_group(conn, &org, &prepared, now)?;
            Ok((format!("/scim/v2/Groups/{}", group.stored.id), ids))
        })
        .unwrap()
}

on_both_backends! {
    async fn a_write_past_max_write_ms_is_rolled_back_and_answered_503_with_retry_after(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.max_write = Some(Duration::from_millis(1));
        })
        .await;
        let (group, ids) = seed(&app, 2500, 0);
        let before = app.fetch(&group).await;
        let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();

        let reply = app
            .patch_json(&group, &patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": members}
            ])))
            .await;

        reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, None);
        assert_eq!(reply.header("retry-after"), Some("2"));
        let after = app.fetch(&group).await;
        assert_eq!(member_values(&after), Vec::<String>::new(), "no member was added");
        assert_eq!(after["displayName"], "Everyone");
        assert_eq!(version_of(&after), version_of(&before));
    }
}

/// A write that waits out SQLite's busy timeout behind another writer is told to retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_waits_out_the_busy_timeout_answers_503_with_retry_after() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // The token's first use is a write of its own: done before the writer is taken.
    assert_eq!(app.get("/scim/v2/Users").await.0, StatusCode::OK);
    let store = app.database.store();
    let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        store
            .write_blocking(|_| {
                held.0.send(()).unwrap();
                release.1.recv_timeout(Duration::from_secs(30)).ok();
                Ok(())
            })
            .unwrap();
    });
    held.1.recv().unwrap();

    let body = json!({"schemas": [USER_URN], "userName": "waiting@a.example"});
    let reply = app.post_json("/scim/v2/Users", &body).await;
    release.0.send(()).unwrap();
    holder.join().unwrap();

    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, None);
    assert_eq!(reply.header("retry-after"), Some("2"));
    app.post_json("/scim/v2/Users", &body)
        .await
        .assert_status(StatusCode::CREATED);
}
