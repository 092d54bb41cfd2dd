//! One tenant cannot hold the database writer long enough to fail another tenant's writes
//! (issue 18, item 4): large member PATCHes cost O(operations + matches), a write may hold the
//! writer for `--max-write-ms`, and a busy database answers 503 with `Retry-After`, never 500.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use scimd::scim::resource::prepare;
use scimd::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
use scimd::store::{groups, orgs, users};

use crate::helpers::scim::{GROUP_URN, Reply, USER_URN, member_values, patch_op, version_of};
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

/// 201, or 503 with `Retry-After` and a SCIM error body; anything else (a 500) fails.
fn assert_created_or_retry_later(reply: &Reply) {
    if reply.status == StatusCode::SERVICE_UNAVAILABLE {
        reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, None);
        assert!(reply.header("retry-after").is_some(), "{reply:?}");
    } else {
        reply.assert_status(StatusCode::CREATED);
    }
}

on_both_backends! {
    async fn a_thousand_filtered_member_removals_leave_another_tenants_writes_alone(backend: Backend) {
        let app = Arc::new(TestApp::spawn(backend).await);
        let (group, _) = seed(&app, 3000, 3000);
        let other = format!("Bearer {}", app.second_org_token("b"));
        let removals: Vec<Value> = (0..1000)
            .map(|i| json!({"op": "remove", "path": format!("members[display eq \"nomatch{i}\"]")}))
            .collect();

        let started = Instant::now();
        let patch = {
            let app = Arc::clone(&app);
            let group = group.clone();
            tokio::spawn(async move { app.patch_json(&group, &patch_op(json!(removals))).await })
        };
        let mut posted = 0;
        while !patch.is_finished() || posted == 0 {
            let body = json!({"schemas": [USER_URN], "userName": format!("b{posted}@b.example")});
            let reply = app.post_json_with("/scim/v2/Users", &body, &[("authorization", other.as_str())]).await;
            assert_created_or_retry_later(&reply);
            posted += 1;
        }
        let patched = patch.await.unwrap();
        let took = started.elapsed();

        patched.assert_status(StatusCode::NO_CONTENT);
        // Reloading the 3,000 members for each operation took 8 s in a release build.
        assert!(took < Duration::from_secs(5), "the PATCH held the writer for {took:?}");
        assert_eq!(member_values(&app.fetch(&group).await).len(), 3000);
        let body = json!({"schemas": [USER_URN], "userName": "after@b.example"});
        app.post_json_with("/scim/v2/Users", &body, &[("authorization", other.as_str())])
            .await
            .assert_status(StatusCode::CREATED);
    }
}

on_both_backends! {
    async fn filtered_member_removals_by_display_and_value_remove_exactly_the_matches(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (group, ids) = seed(&app, 6, 6);
        let nested = app.create_group(&json!({"schemas": [GROUP_URN], "displayName": "Nested"})).await;
        let nested_id = nested["id"].as_str().unwrap().to_owned();
        app.patch_json(&group, &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": nested_id}]}])))
            .await
            .assert_status(StatusCode::NO_CONTENT);
        let mut plain = Vec::new();
        for user_name in ["Plain1@a.example", "Plain2@a.example"] {
            let created = app.post_json("/scim/v2/Users", &json!({"schemas": [USER_URN], "userName": user_name})).await;
            plain.push(created.body["id"].as_str().unwrap().to_owned());
        }

        // Filters on `type` are evaluated in memory: the first loads the member list, which
        // the add keeps current for the later ones.
        let operations = json!([
            {"op": "remove", "path": "members[type eq \"Group\" and display eq \"nobody\"]"},
            {"op": "remove", "path": "members[display eq \"MEMBER 0\"]"},
            {"op": "remove", "path": format!("members[value eq \"{}\" or display eq \"member 2\"]", ids[1])},
            {"op": "remove", "path": "members[display eq \"nested\"]"},
            {"op": "add", "path": "members", "value": [{"value": plain[0]}, {"value": plain[1]}]},
            {"op": "remove", "path": "members[display eq \"plain1@a.example\"]"},
            {"op": "remove", "path": "members[type eq \"User\" and display sw \"plain2\"]"},
            {"op": "remove", "path": "members[type eq \"User\" and display ew \" 4\"]"},
            {"op": "remove", "path": "members[display eq \"nobody\"]"}
        ]);
        app.patch_json(&group, &patch_op(operations)).await.assert_status(StatusCode::NO_CONTENT);

        let mut expected = vec![ids[3].clone(), ids[5].clone()];
        expected.sort();
        assert_eq!(member_values(&app.fetch(&group).await), expected);
    }
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
