//! The activity log of SCIM requests: what is recorded, what is never stored, who may read
//! it, how long it is kept, and that recording never holds a request up.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{admin_token, cli_token};
use crate::helpers::app::{TestApp, TestDatabase};
use crate::on_both_backends;

const OKTA: (&str, &str) = ("User-Agent", "Okta SCIM Client 1.0.0");

/// Okta's create, as its reference sends it (scim-cases: IdP dossier §1.5 (c)).
fn okta_create(user_name: &str, password: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": password,
        "active": true
    })
}

/// `GET /api/v1/activity?{query}`: the entries, newest first.
async fn activity(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app
        .api_get(&format!("/api/v1/activity?{query}"), token)
        .await;
    reply.assert_status(StatusCode::OK);
    reply.body["activity"].as_array().unwrap().clone()
}

/// Waits (bounded) until the log holds `count` entries matching `query`: it is written in
/// the background.
async fn eventually(app: &TestApp, token: &str, query: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let entries = activity(app, token, query).await;
        if entries.len() == count {
            return entries;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} entries for {query:?}, found {}: {entries:#?}",
            entries.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn a_failed_okta_create_is_logged_with_its_scim_type_and_a_redacted_body(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let body = okta_create("test.user@okta.local", "1mz050nq");
        app.post_json_with("/scim/v2/Users", &body, &[OKTA]).await.assert_status(StatusCode::CREATED);
        let conflict = app.post_json_with("/scim/v2/Users", &body, &[OKTA, ("X-Request-Id", "okta-retry-409")]).await;
        conflict.assert_error(StatusCode::CONFLICT, Some("uniqueness"));

        let failed = eventually(&app, &admin, "status=failed", 1).await;
        let entry = &failed[0];
        assert_eq!(entry["status"], 409);
        assert_eq!(entry["scim_type"], "uniqueness");
        assert_eq!(entry["idp"], "okta");
        assert_eq!(entry["method"], "POST");
        assert_eq!(entry["path"], "/scim/v2/Users");
        assert_eq!(entry["summary"], "Okta: 409 uniqueness on test.user@okta.local");
        assert_eq!(entry["resource"]["name"], "test.user@okta.local");
        assert_eq!(entry["user_agent"], "Okta SCIM Client 1.0.0");
        assert_eq!(entry["shared_secret"], false);
        assert_eq!(entry["client_addr"], "127.0.0.1");
        assert_eq!(entry["request_id"], "okta-retry-409");
        assert!(entry.get("request_body").is_none(), "the list leaves bodies out");

        let one = app.api_get(&format!("/api/v1/activity/{}", entry["id"].as_str().unwrap()), &admin).await;
        let one = one.assert_status(StatusCode::OK);
        assert_eq!(one["request_body"]["password"], "[redacted]");
        assert_eq!(one["request_body"]["userName"], "test.user@okta.local");
        assert_eq!(one["response_body"]["scimType"], "uniqueness");

        let created = eventually(&app, &admin, "status=2xx", 1).await;
        assert_eq!(created[0]["summary"], "Okta created test.user@okta.local");
        assert_eq!(created[0]["resource"]["type"], "User");
    }
}

on_both_backends! {
    async fn a_password_never_reaches_any_stored_row(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let secrets = ["Pw-post-1a", "Pw-put-2b", "Pw-patch-3c", "Pw-patch-4d", "Pw-patch-5e", "Pw-bulk-6f"];
        let created = app.post_json("/scim/v2/Users", &okta_create("pat@example.com", secrets[0])).await;
        let user = created.assert_resource(StatusCode::CREATED, "User").clone();
        let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
        app.put_json(&path, &okta_create("pat@example.com", secrets[1])).await.assert_status(StatusCode::OK);
        let patches = [
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "password", "value": secrets[2]}]}),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"password": secrets[3], "active": true}}]}),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": secrets[4]}]}),
        ];
        for patch in &patches {
            app.patch_json(&path, patch).await.assert_status(StatusCode::OK);
        }
        let bulk = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
                "data": okta_create("bulk@example.com", secrets[5])}]
        });
        app.post_json("/scim/v2/Bulk", &bulk).await.assert_status(StatusCode::OK);

        let entries = eventually(&app, &admin, "", 6).await;
        assert_eq!(entries[0]["summary"], "token 'first-start token' sent a Bulk request of 1 operation", "{entries:#?}");
        let dump = String::from_utf8_lossy(&app.database.dump()).into_owned();
        assert!(dump.contains("[redacted]"), "the bodies were stored, redacted");
        for secret in secrets {
            assert!(!dump.contains(secret), "{secret} is stored somewhere");
        }
    }
}

on_both_backends! {
    async fn a_reader_of_one_organization_sees_none_of_another_s_entries(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        app.post_json("/scim/v2/Users", &json!({"userName": "alice@a.example"})).await.assert_status(StatusCode::CREATED);
        let a_entries = eventually(&app, &admin, "", 1).await;
        let a_id = a_entries[0]["id"].as_str().unwrap().to_owned();

        let b_writer = app.second_org_token("org-b");
        let b_reader = cli_token(&app.database, "org-b", "reader", &["--scope", "activity:read"]);
        let reply = app.call(Method::POST, "/scim/v2/Users", &b_writer, Some(&json!({"userName": "bob@b.example"})), &[]).await;
        reply.assert_status(StatusCode::CREATED);
        let b_entries = eventually(&app, &b_reader, "", 1).await;
        assert_eq!(b_entries[0]["resource"]["name"], "bob@b.example");
        assert!(activity(&app, &b_reader, "resource=alice@a.example").await.is_empty());
        let other = app.api_get(&format!("/api/v1/activity/{a_id}"), &b_reader).await;
        other.assert_status(StatusCode::NOT_FOUND);
        assert!(!other.text.contains("alice"), "{}", other.text);

        // A SCIM-only token reads nothing.
        let refused = app.api_get("/api/v1/activity", &b_writer).await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(eventually(&app, &admin, "", 1).await[0]["id"], a_id.as_str());
    }
}

on_both_backends! {
    async fn entries_filter_and_page_newest_first_stably_while_new_ones_arrive(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        for name in ["one@example.com", "two@example.com", "three@example.com"] {
            app.post_json("/scim/v2/Users", &json!({"userName": name})).await.assert_status(StatusCode::CREATED);
        }
        app.get_reply("/scim/v2/Users/00000000-0000-0000-0000-000000000000").await.assert_status(StatusCode::NOT_FOUND);
        eventually(&app, &admin, "", 4).await;

        let first = app.api_get("/api/v1/activity?method=POST&limit=2", &admin).await;
        let first = first.assert_status(StatusCode::OK).clone();
        let names: Vec<&str> = first["activity"].as_array().unwrap().iter().map(|e| e["resource"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["three@example.com", "two@example.com"]);
        app.post_json("/scim/v2/Users", &json!({"userName": "four@example.com"})).await.assert_status(StatusCode::CREATED);
        eventually(&app, &admin, "method=POST", 4).await;
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = activity(&app, &admin, &format!("method=POST&limit=2&cursor={cursor}")).await;
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0]["resource"]["name"], "one@example.com");

        assert_eq!(activity(&app, &admin, "resource=TWO@example.com").await.len(), 1);
        assert_eq!(activity(&app, &admin, "status=4xx").await.len(), 1);
        assert_eq!(activity(&app, &admin, "idp=okta").await.len(), 0);
        assert_eq!(activity(&app, &admin, "idp=other").await.len(), 5);
        let bad = app.api_get("/api/v1/activity?status=3xx", &admin).await;
        bad.assert_status(StatusCode::BAD_REQUEST);
    }
}

on_both_backends! {
    async fn successful_reads_are_recorded_only_when_asked(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        app.get_reply("/scim/v2/Users").await.assert_status(StatusCode::OK);
        app.post_json("/scim/v2/Users", &json!({"userName": "r@example.com"})).await.assert_status(StatusCode::CREATED);
        let entries = eventually(&app, &admin, "", 1).await;
        assert_eq!(entries[0]["method"], "POST");

        let reading = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.activity.reads = true;
        })
        .await;
        let admin = admin_token(&reading.database);
        reading.get_reply("/scim/v2/Users?filter=userName+eq+%22x%22").await.assert_status(StatusCode::OK);
        let entries = eventually(&reading, &admin, "method=GET", 1).await;
        assert_eq!(entries[0]["path"], "/scim/v2/Users?filter=userName+eq+%22x%22");
        assert_eq!(entries[0]["summary"], "token 'first-start token' listed Users");
    }
}

on_both_backends! {
    async fn old_entries_and_entries_beyond_the_cap_are_deleted(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.activity.sweep_every = Duration::from_millis(100);
            config.activity.max_rows = 3;
        })
        .await;
        let admin = admin_token(&app.database);
        app.post_json("/scim/v2/Users", &json!({"userName": "old@example.com"})).await.assert_status(StatusCode::CREATED);
        eventually(&app, &admin, "", 1).await;
        app.database.execute_on_activity_log("UPDATE activity SET occurred_at = '2020-01-01 00:00:00'");
        eventually(&app, &admin, "", 0).await;

        for index in 0..5 {
            app.post_json("/scim/v2/Users", &json!({"userName": format!("u{index}@example.com")})).await.assert_status(StatusCode::CREATED);
        }
        let kept = eventually(&app, &admin, "", 3).await;
        let names: Vec<&str> = kept.iter().map(|e| e["resource"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["u4@example.com", "u3@example.com", "u2@example.com"]);
    }
}

on_both_backends! {
    async fn the_log_keeps_to_a_file_of_its_own_on_sqlite_and_takes_an_earlier_scimd_s_entries_along(backend: Backend) {
        let first = TestApp::spawn(backend).await;
        let admin = admin_token(&first.database);
        first.post_json("/scim/v2/Users", &json!({"userName": "new@example.com"})).await.assert_status(StatusCode::CREATED);
        eventually(&first, &admin, "", 1).await;
        // What an earlier scimd left: its entries in the database's own `activity` table.
        first.database.execute(
            "INSERT INTO activity (id, org_id, occurred_at, method, path, status, status_class, \
             duration_us, idp, resource_type, resource_name, resource_key, summary) \
             SELECT '00000000-0000-7000-8000-000000000001', id, CURRENT_TIMESTAMP, 'POST', \
             '/scim/v2/Users', 201, 2, 1000, 'okta', 'User', 'earlier@example.com', \
             'earlier@example.com', \
             'Okta: created earlier@example.com' FROM organizations WHERE name = 'default'",
        );
        let second = first.spawn_beside().await;
        let entries = eventually(&second, &admin, "", 2).await;
        let names: Vec<&str> = entries.iter().map(|e| e["resource"]["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"earlier@example.com") && names.contains(&"new@example.com"), "{names:?}");
        match backend {
            crate::helpers::Backend::Sqlite => {
                // Moved, not copied: the database's table is left empty, the log's file
                // beside it (`scimd.db`: `scimd-activity.db`) has both.
                assert_eq!(first.database.count("SELECT count(*) AS n FROM activity"), 0);
                let log = first.database.database_url().activity_log().unwrap();
                assert!(log.sqlite_path().unwrap().ends_with("scimd-activity.db"), "{log}");
                assert_eq!(first.database.count_on_activity_log("SELECT count(*) AS n FROM activity"), 2);
                // A third start finds nothing left to move, and lists each entry once.
                let third = first.spawn_beside().await;
                assert_eq!(activity(&third, &admin, "").await.len(), 2);
            }
            crate::helpers::Backend::Postgres => {
                assert_eq!(first.database.count("SELECT count(*) AS n FROM activity"), 2);
            }
        }
    }
}

on_both_backends! {
    async fn a_flood_with_the_queue_full_answers_every_request_and_drops_entries(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.activity.queue = 1;
            config.activity.flush_every = Duration::from_secs(3);
        })
        .await;
        let admin = admin_token(&app.database);
        let (_, dropped_before) = scimd::metrics::activity_log_figures();
        for index in 0..20 {
            let body = json!({"userName": format!("flood{index}@example.com")});
            app.post_json("/scim/v2/Users", &body).await.assert_status(StatusCode::CREATED);
        }
        // Written at the next flush: one or two entries made it into the queue of one.
        tokio::time::sleep(Duration::from_secs(7)).await;
        let kept = activity(&app, &admin, "").await.len();
        assert!((1..20).contains(&kept), "{kept} of 20 kept");
        // Process-wide, and other tests run beside this one: it moved by at least ours.
        let (_, dropped_after) = scimd::metrics::activity_log_figures();
        assert!(dropped_after >= dropped_before + u64::try_from(20 - kept).unwrap(), "{dropped_before} → {dropped_after}");
    }
}

on_both_backends! {
    async fn a_group_patch_answered_without_a_body_is_summarised_with_the_group_s_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let mut members = Vec::new();
        for name in ["ann", "ben", "cat"] {
            let created = app.post_json("/scim/v2/Users", &json!({"userName": format!("{name}@example.com")})).await;
            members.push(json!({"value": created.assert_resource(StatusCode::CREATED, "User")["id"]}));
        }
        let group = app.post_json("/scim/v2/Groups", &json!({"displayName": "Finance"})).await;
        let group = group.assert_resource(StatusCode::CREATED, "Group").clone();
        // Entra's shape: a capitalised op, no User-Agent needed to tell it.
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Add", "path": "members", "value": members}]
        });
        let path = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
        app.patch_json(&path, &patch).await.assert_status(StatusCode::NO_CONTENT);

        let patched = eventually(&app, &admin, "method=PATCH", 1).await;
        assert_eq!(patched[0]["summary"], "Entra added 3 members to Finance");
        assert_eq!(patched[0]["idp"], "entra");
        assert_eq!(patched[0]["resource"]["name"], "Finance");
        assert_eq!(activity(&app, &admin, "resource=finance").await.len(), 2);
    }
}
