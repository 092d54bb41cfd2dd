//! Issue 14: poll delivery (RFC 8936) — acknowledgement, redelivery, `maxEvents`,
//! `returnImmediately`, long polling and replay — and what keeps streams apart: a stream's
//! token reads its own stream, an organization's streams see only its events, and each
//! organization signs with its own, rotatable, published key.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::events::{PROV, claims_of, drain, events_admin, poll, poll_stream, verified};
use crate::helpers::api::{admin_token, audit_events, cli_token};
use crate::helpers::app::{TestApp, TestDatabase, assert_scim_error};
use crate::helpers::cli::{ServeProcess, scimd, stdout};
use crate::helpers::scim::{alice, bob, carl, carol};
use crate::on_both_backends;

fn jtis(answer: &Value) -> Vec<String> {
    answer["sets"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Creates `user` with `token`, in that token's organization.
async fn create_user_with(app: &TestApp, token: &str, user: &Value) {
    let reply = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(user.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
}

on_both_backends! {
    // RFC 8936 §2.4: what is not acknowledged is handed out again; `maxEvents` bounds a
    // batch and `moreAvailable` says whether more wait; `setErrs` ends redelivery too.
    async fn poll_acknowledges_redelivers_and_bounds_batches(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "audit", json!({})).await;
        for user in [alice(), bob(), carl()] {
            app.create_user(&user).await;
        }
        let first = poll(&app, &stream, &token, json!({"maxEvents": 2, "returnImmediately": true})).await;
        assert_eq!(first["moreAvailable"], true);
        let batch = jtis(&first);
        assert_eq!(batch.len(), 2);
        // Not acknowledged: the same two again.
        let again = poll(&app, &stream, &token, json!({"maxEvents": 2, "returnImmediately": true})).await;
        assert_eq!(jtis(&again), batch);
        // One acknowledged, one reported as failed (§2.4.3): neither comes back.
        let third = poll(&app, &stream, &token, json!({
            "ack": [batch[0]],
            "setErrs": {batch[1].clone(): {"err": "invalid_request", "description": "unknown user"}},
            "returnImmediately": true,
        })).await;
        let rest = jtis(&third);
        assert_eq!(rest.len(), 1);
        assert_eq!(third["moreAvailable"], false);
        assert!(!batch.contains(&rest[0]));
        // Acknowledge-only (`maxEvents` 0) empties the stream.
        let ack_only = poll(&app, &stream, &token, json!({"ack": rest, "maxEvents": 0})).await;
        assert_eq!(ack_only["sets"], json!({}));
        let empty = poll(&app, &stream, &token, json!({"returnImmediately": true})).await;
        assert_eq!(empty, json!({"sets": {}, "moreAvailable": false, "positions": {}}));

        // scimd's replay extension: from a position, acknowledged events come again.
        let position = first["positions"][&batch[0]].as_i64().unwrap();
        let replay = poll(&app, &stream, &token, json!({"from": position, "returnImmediately": true})).await;
        assert_eq!(jtis(&replay).len(), 3);
        assert_eq!(jtis(&replay)[0], batch[0]);
    }
}

on_both_backends! {
    // RFC 8936 §2.4: without `returnImmediately` a poll waits for events; a write on this
    // instance wakes it.
    async fn a_long_poll_returns_the_write_made_while_it_waited(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.events.long_poll = Duration::from_secs(60);
        })
        .await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "waiter", json!({})).await;
        let waiting = {
            let url = app.url(&format!("/api/v1/events/streams/{stream}/poll"));
            let client = app.client.clone();
            let token = token.clone();
            tokio::spawn(async move {
                client.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap().json::<Value>().await.unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a poll with nothing pending waits");
        let user = app.create_user(&alice()).await;
        let answer = tokio::time::timeout(Duration::from_secs(30), waiting).await.unwrap().unwrap();
        let sets: Vec<&Value> = answer["sets"].as_object().unwrap().values().collect();
        assert_eq!(sets.len(), 1);
        let claims = claims_of(sets[0].as_str().unwrap());
        assert_eq!(claims["sub_id"]["id"], user["id"]);
        assert!(claims["events"][format!("{PROV}create:notice")].is_object());
    }
}

on_both_backends! {
    // A graceful stop waits for the requests in flight; a long poll with nothing to deliver
    // answers at once instead of holding the stop for as long as it may wait.
    async fn a_long_poll_answers_when_the_server_stops(backend: Backend) {
        let database = TestDatabase::new(backend);
        let server = tokio::task::spawn_blocking({
            let url = database.url.clone();
            move || ServeProcess::start_with(&url, &["--events-long-poll", "60s"], &[])
        })
        .await
        .unwrap();
        let admin = cli_token(&database, "default", "events-admin", &["--scope", "scim:read tokens:manage events:read"]);
        let client = reqwest::Client::new();
        let created: Value = client
            .post(format!("{}/api/v1/events/streams", server.base_url))
            .bearer_auth(&admin)
            .json(&json!({"name": "waiter", "delivery": "poll"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (stream, token) = (created["id"].as_str().unwrap(), created["token"].as_str().unwrap());
        let waiting = tokio::spawn(
            client
                .post(format!("{}/api/v1/events/streams/{stream}/poll", server.base_url))
                .bearer_auth(token)
                .json(&json!({}))
                .send(),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!waiting.is_finished(), "a poll with nothing pending waits");
        let signalled = std::time::Instant::now();
        server.signal("TERM");
        let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the long poll held the stop")
            .unwrap()
            .expect("the long poll was cut off instead of answered");
        assert_eq!(answer.status(), StatusCode::OK);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["sets"], json!({}));
        let (ok, _, err) = tokio::task::spawn_blocking(move || server.wait()).await.unwrap();
        assert!(ok, "no graceful exit:\n{err}");
        assert!(signalled.elapsed() < Duration::from_secs(10), "the stop took {:?}", signalled.elapsed());
    }
}

on_both_backends! {
    // A stream's token polls that stream only; another organization's stream never sees this
    // one's events; each organization signs with its own key.
    async fn streams_are_kept_apart_by_token_and_organization(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin_a = events_admin(&app, "default");
        let org_b_scim = app.second_org_token("org-b");
        let admin_b = events_admin(&app, "org-b");
        let (stream_a, token_a) = poll_stream(&app, &admin_a, "a", json!({})).await;
        let (stream_b, token_b) = poll_stream(&app, &admin_b, "b", json!({})).await;

        app.create_user(&alice()).await;
        create_user_with(&app, &org_b_scim, &carol()).await;

        // Another stream's token, and a token without events:read, are refused.
        let other = app.api_post(&format!("/api/v1/events/streams/{stream_a}/poll"), &token_b, &json!({})).await;
        assert_scim_error(other.status, &other.body, StatusCode::NOT_FOUND, None);
        let admin = admin_token(&app.database);
        let unscoped = app.api_post(&format!("/api/v1/events/streams/{stream_a}/poll"), &admin, &json!({})).await;
        assert_scim_error(unscoped.status, &unscoped.body, StatusCode::FORBIDDEN, None);
        // Org A's admin does not see org B's stream.
        let foreign = app.api_get(&format!("/api/v1/events/streams/{stream_b}"), &admin_a).await;
        assert_scim_error(foreign.status, &foreign.body, StatusCode::NOT_FOUND, None);

        let a = poll(&app, &stream_a, &token_a, json!({"returnImmediately": true})).await;
        let b = poll(&app, &stream_b, &token_b, json!({"returnImmediately": true})).await;
        let only = |answer: &Value| -> Vec<String> {
            answer["sets"].as_object().unwrap().values().map(|set| claims_of(set.as_str().unwrap())["sub_id"]["externalId"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(only(&a), vec!["ext-alice"]);
        assert_eq!(only(&b), vec!["ext-carol"]);
        let set_a = a["sets"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_owned();
        let set_b = b["sets"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_owned();
        let header_a = jsonwebtoken::decode_header(&set_a).unwrap();
        let header_b = jsonwebtoken::decode_header(&set_b).unwrap();
        assert_ne!(header_a.kid, header_b.kid);
        verified(&app, &set_a).await;
        verified(&app, &set_b).await;
        // Org B's SET does not verify with org A's keys.
        let iss_a = claims_of(&set_a)["iss"].as_str().unwrap().to_owned();
        let jwks_a = app.api_get(&format!("{}/jwks", iss_a.strip_prefix(&app.base_url).unwrap()), "").await;
        assert!(!jwks_a.text.contains(header_b.kid.as_deref().unwrap()));
        assert!(!jwks_a.text.contains("\"d\""), "private key material in the JWKS: {}", jwks_a.text);
    }
}

on_both_backends! {
    // `scimd events`: streams from the command line, and key rotation with the old key still
    // published for SETs already out.
    async fn the_cli_manages_streams_and_rotates_keys(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = &app.database.url;
        let created = scimd(url, &["events", "stream", "create", "--org", "default", "--delivery", "poll", "feed"]);
        assert!(created.status.success(), "{created:?}");
        let token = stdout(&created).trim().to_owned();
        assert!(token.starts_with("wxt_"), "{token}");
        let listed = scimd(url, &["events", "stream", "list", "--org", "default", "--json"]);
        let listed: Value = serde_json::from_str(&stdout(&listed)).unwrap();
        let stream = listed["streams"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(listed["streams"][0]["status"], "enabled");

        app.create_user(&alice()).await;
        let before = poll(&app, &stream, &token, json!({"returnImmediately": true})).await;
        let old_set = before["sets"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_owned();
        let rotated = scimd(url, &["events", "keys", "rotate", "--org", "default"]);
        assert!(rotated.status.success(), "{rotated:?}");
        app.create_user(&bob()).await;
        let after = drain(&app, &stream, &token).await;
        assert_eq!(after.len(), 2);
        let answer = poll(&app, &stream, &token, json!({"from": 0, "returnImmediately": true})).await;
        let new_set = answer["sets"].as_object().unwrap().values().nth(1).unwrap().as_str().unwrap().to_owned();
        let old_kid = jsonwebtoken::decode_header(&old_set).unwrap().kid;
        assert_ne!(old_kid, jsonwebtoken::decode_header(&new_set).unwrap().kid);
        // Both verify: the retired key stays in the JWKS for its grace period.
        verified(&app, &old_set).await;
        verified(&app, &new_set).await;

        let paused = scimd(url, &["events", "stream", "pause", "--org", "default", "feed"]);
        assert!(stdout(&paused).contains("paused"), "{paused:?}");
        let resumed = scimd(url, &["events", "stream", "resume", "--org", "default", "feed"]);
        assert!(stdout(&resumed).contains("enabled"), "{resumed:?}");
        let deleted = scimd(url, &["events", "stream", "delete", "--org", "default", "feed"]);
        assert!(deleted.status.success(), "{deleted:?}");
        // The stream's token went with it (deleted by another process: PostgreSQL's cache learns
        // of it within its notice bound).
        TestApp::let_other_instances_learn_of_it(backend).await;
        let gone = app.api_post(&format!("/api/v1/events/streams/{stream}/poll"), &token, &json!({})).await;
        assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
        // Who exported the directory, and where to, is in the audit log.
        let admin = admin_token(&app.database);
        let created = audit_events(&app, &admin, "event_stream.created").await;
        assert_eq!(created[0]["target"], format!("stream:{stream}"));
        assert_eq!(created[0]["actor"], "cli");
        assert_eq!(audit_events(&app, &admin, "event_stream.updated").await.len(), 2);
        assert_eq!(audit_events(&app, &admin, "event_stream.deleted").await.len(), 1);
        assert_eq!(audit_events(&app, &admin, "event_keys.rotated").await.len(), 1);
    }
}

on_both_backends! {
    // RFC 9967 §4: the service provider configuration lists the event URIs it generates.
    async fn the_service_provider_config_advertises_security_events(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = app.get_reply("/scim/v2/ServiceProviderConfig").await;
        let config = &reply.assert_status(StatusCode::OK).body;
        let events = &config["securityEvents"];
        assert_eq!(events["asyncRequest"], "none");
        let uris = events["eventUris"].as_array().unwrap();
        for uri in ["create:notice", "create:full", "patch:notice", "put:full", "delete", "activate", "deactivate"] {
            assert!(uris.contains(&json!(format!("{PROV}{uri}"))), "{uri} missing: {events}");
        }
    }
}

on_both_backends! {
    // Expired events go once every stream has them, with their deliveries; what a stream still
    // waits for stays, however old, in its own organization too. Batches of two make the
    // sweep walk on past the first, and put two organizations' events in one batch.
    async fn the_retention_sweep_keeps_only_what_a_stream_still_waits_for(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let org_b_scim = app.second_org_token("org-b");
        let admin_b = events_admin(&app, "org-b");
        let (acked, acked_token) = poll_stream(&app, &admin, "acked", json!({})).await;
        poll_stream(&app, &admin_b, "never-polled", json!({})).await;
        app.create_user(&alice()).await;
        create_user_with(&app, &org_b_scim, &alice()).await;
        for user in [bob(), carl()] {
            app.create_user(&user).await;
        }
        let (waiting, waiting_token) = poll_stream(&app, &admin, "waiting", json!({})).await;
        app.create_user(&carol()).await;
        assert_eq!(drain(&app, &acked, &acked_token).await.len(), 4);
        let store = app.database.store();
        let count = |sql: &str| app.database.count(sql);
        // As the server's sweep does: on a thread of its own, outside the async runtime.
        let sweep = |retention| {
            let store = store.clone();
            tokio::task::spawn_blocking(move || scimd::service::events::retention::sweep_in_batches(&store, retention, 2).unwrap())
        };
        assert_eq!(count("SELECT count(*) AS n FROM events"), 5);

        assert_eq!(sweep(chrono::TimeDelta::days(7)).await.unwrap(), 0, "nothing is older than the retention period");
        // The first event as an instance whose clock ran ahead would have stamped it: kept,
        // and no reason to stop before the events after it.
        app.database.execute("UPDATE events SET occurred_at = '2999-01-01 00:00:00' WHERE seq = (SELECT min(seq) FROM events)");
        assert_eq!(sweep(chrono::TimeDelta::zero()).await.unwrap(), 2, "the expired events only the acknowledging stream had");
        assert_eq!(count("SELECT count(*) AS n FROM events"), 3, "the future one, org B's, and the one a stream waits for");
        assert_eq!(count("SELECT count(*) AS n FROM event_deliveries"), 4);
        let kept = drain(&app, &waiting, &waiting_token).await;
        assert_eq!(kept.len(), 1, "the stream that waited still gets its event");

        assert_eq!(sweep(chrono::TimeDelta::zero()).await.unwrap(), 1);
        assert_eq!(count("SELECT count(*) AS n FROM events"), 2, "the future one, and org B's that its stream waits for");
        assert_eq!(count("SELECT count(*) AS n FROM event_deliveries"), 2);
    }
}

on_both_backends! {
    // RFC 8936 leaves replay to the transmitter; scimd's `from` answers every event of the
    // stream from that position on in order, acknowledged or not.
    async fn a_replay_from_a_position_mixes_acknowledged_and_pending_events_in_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "replayed", json!({})).await;
        for user in [alice(), bob()] {
            app.create_user(&user).await;
        }
        assert_eq!(drain(&app, &stream, &token).await.len(), 2);
        for user in [carl(), carol()] {
            app.create_user(&user).await;
        }
        let replay = poll(&app, &stream, &token, json!({"from": 0, "maxEvents": 3, "returnImmediately": true})).await;
        let names: Vec<String> = replay["sets"].as_object().unwrap().values()
            .map(|set| claims_of(set.as_str().unwrap())["sub_id"]["externalId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["ext-alice", "ext-bob", "ext-carl"], "{replay}");
        assert_eq!(replay["moreAvailable"], true, "{replay}");
    }
}
