//! Push delivery (RFC 8935) to a real receiver started by the test: every write once and in
//! order, outages ridden out, `Retry-After` honoured, a stream stopped after its failure
//! period, one delivery with two instances, a stopped instance's SET delivered by the other,
//! token notices, and receivers on this machine refused at creation and at delivery.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::events::verified;
use crate::helpers::api::admin_token;
use crate::helpers::app::{TestApp, TestDatabase, assert_scim_error};
use crate::helpers::cli::{scimd, stderr};
use crate::helpers::receiver::{Answer, Delivery, Receiver};
use crate::helpers::scim::{id_of, user};
use crate::on_both_backends;
use scimd::config::Config;

const AUTHORIZATION: &str = "Bearer receiver-secret-7f3a";
const CREATE: &str = "urn:ietf:params:scim:event:prov:create:notice";
const PATCH: &str = "urn:ietf:params:scim:event:prov:patch:notice";
const DELETE: &str = "urn:ietf:params:scim:event:prov:delete";
const WAIT: Duration = Duration::from_secs(20);

/// Short leases and timeouts, so that take-overs happen within a test's patience.
fn quick(config: &mut Config) {
    // The test receivers listen on this machine, where pushes are refused by default.
    config.push.destinations.allowed = vec!["127.0.0.0/8".parse().unwrap()];
    config.push.lease = Duration::from_secs(2);
    config.push.timeout = Duration::from_secs(2);
    config.token_notice_scan_every = Duration::from_millis(300);
}

async fn spawn(backend: crate::helpers::Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_on(TestDatabase::new(backend), |config| {
        quick(config);
        configure(config);
    })
    .await
}

/// Creates a push stream to `receiver`; answers its id.
async fn push_stream(app: &TestApp, admin: &str, receiver: &Receiver, extra: Value) -> String {
    let mut body = json!({
        "name": "receiver",
        "delivery": "push",
        "push_url": receiver.url(),
        "push_authorization": AUTHORIZATION,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let reply = app.api_post("/api/v1/events/streams", admin, &body).await;
    reply.assert_status(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `n` users created in order; answers their ids.
async fn create_users(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}{i}@example.com");
        let mut body = user(&name, &format!("ext-{prefix}{i}"), "Given", "Family");
        body["password"] = json!("a-secret-Passw0rd!");
        ids.push(id_of(&app.create_user(&body).await).to_owned());
    }
    ids
}

/// The SCIM ids the SETs name, in order.
fn subjects(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|delivery| {
            delivery.claims["sub_id"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn stream_status(app: &TestApp, admin: &str, id: &str) -> Value {
    app.api_get(&format!("/api/v1/events/streams/{id}"), admin)
        .await
        .assert_status(StatusCode::OK)
        .clone()
}

on_both_backends! {
    async fn every_write_is_pushed_once_in_order_as_a_signed_set(backend: Backend) {
        let receiver = Receiver::start().await;
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        push_stream(&app, &admin, &receiver, json!({})).await;
        let ids = create_users(&app, "order", 5).await;
        app.patch_user(&format!("/scim/v2/Users/{}", ids[0]), json!([{"op": "replace", "path": "displayName", "value": "Renamed"}])).await;
        app.delete(&format!("/scim/v2/Users/{}", ids[1])).await;

        let accepted = receiver.wait_for_accepted(7, WAIT).await;
        // Nothing twice, nothing more.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.accepted().len(), 7);
        let types: Vec<String> = accepted.iter().map(Delivery::event_type).collect();
        assert_eq!(types, [CREATE, CREATE, CREATE, CREATE, CREATE, PATCH, DELETE]);
        let mut expected = ids.clone();
        expected.extend([ids[0].clone(), ids[1].clone()]);
        assert_eq!(subjects(&accepted), expected);
        for delivery in &accepted {
            // RFC 8935 §2.1: the SET is the body, typed; the stream's credential goes along.
            assert_eq!(delivery.content_type.as_deref(), Some("application/secevent+jwt"));
            assert_eq!(delivery.accept.as_deref(), Some("application/json"));
            assert_eq!(delivery.authorization.as_deref(), Some(AUTHORIZATION));
            assert_eq!(delivery.header["typ"], "secevent+jwt");
            assert_eq!(delivery.header["alg"], "ES256");
            assert!(!delivery.jws.contains("assw0rd") && !delivery.claims.to_string().contains("password"));
        }
    }
}

on_both_backends! {
    // The deliverer keeps each organization's key parsed between batches: a rotation must
    // still reach the next SET, and every SET verify against the published JWKS.
    async fn pushed_sets_verify_and_a_rotated_key_signs_the_next_one(backend: Backend) {
        let receiver = Receiver::start().await;
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        push_stream(&app, &admin, &receiver, json!({})).await;
        create_users(&app, "before", 2).await;
        let before = receiver.wait_for_accepted(2, WAIT).await;
        let rotated = scimd(&app.database.url, &["events", "keys", "rotate", "--org", "default"]);
        assert!(rotated.status.success(), "{rotated:?}");
        create_users(&app, "after", 1).await;
        let accepted = receiver.wait_for_accepted(3, WAIT).await;
        for delivery in &accepted {
            let claims = verified(&app, &delivery.jws).await;
            assert_eq!(claims["jti"], delivery.claims["jti"]);
        }
        let kid = |delivery: &Delivery| delivery.header["kid"].as_str().unwrap_or_default().to_owned();
        assert_eq!(kid(&before[0]), kid(&before[1]), "one key until the rotation");
        assert_ne!(kid(&accepted[2]), kid(&before[0]), "the SET after the rotation has the new key");
    }
}

on_both_backends! {
    async fn a_receiver_down_for_a_while_then_up_receives_everything_once(backend: Backend) {
        let mut receiver = Receiver::start().await;
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        let stream = push_stream(&app, &admin, &receiver, json!({})).await;
        receiver.stop().await;
        let ids = create_users(&app, "outage", 3).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let status = stream_status(&app, &admin, &stream).await;
        assert_eq!(status["status"], "enabled", "{status}");
        assert_eq!(status["last_error"], "could not connect", "{status}");
        assert!(!status.to_string().contains("receiver-secret"));

        receiver.restart().await;
        let accepted = receiver.wait_for_accepted(3, WAIT).await;
        assert_eq!(subjects(&accepted), ids);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.accepted().len(), 3, "each once");
    }
}

on_both_backends! {
    async fn retry_after_is_honoured(backend: Backend) {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Fail { status: 503, retry_after: Some("3".to_owned()), body: String::new() });
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        push_stream(&app, &admin, &receiver, json!({})).await;
        create_users(&app, "later", 1).await;
        let refused = receiver.wait_for_requests(1, WAIT).await;
        receiver.answer(Answer::Accept);
        let accepted = receiver.wait_for_accepted(1, WAIT).await;
        let waited = accepted[0].at.duration_since(refused[0].at);
        assert!(waited >= Duration::from_secs(3), "retried after {waited:?}");
        assert_eq!(receiver.deliveries().len(), 2, "no attempt in between");
    }
}

on_both_backends! {
    async fn a_stream_failing_longer_than_its_failure_period_is_stopped_with_its_last_error(backend: Backend) {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Fail { status: 500, retry_after: None, body: String::new() });
        let app = spawn(backend, |config| config.push.failure_period = Duration::from_secs(3)).await;
        let admin = admin_token(&app.database);
        let stream = push_stream(&app, &admin, &receiver, json!({})).await;
        create_users(&app, "doomed", 1).await;
        let deadline = Instant::now() + WAIT;
        let status = loop {
            let status = stream_status(&app, &admin, &stream).await;
            if status["status"] == "failed" {
                break status;
            }
            assert!(Instant::now() < deadline, "{status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let error = status["last_error"].as_str().unwrap();
        assert!(error.starts_with("HTTP 500") && error.contains("failure period"), "{error}");
        let attempts = receiver.deliveries().len();
        assert!(attempts >= 2, "retried before giving up: {attempts}");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(receiver.deliveries().len(), attempts, "a failed stream is left alone");
    }
}

on_both_backends! {
    async fn rfc_8935_errors_skip_the_set_or_stop_the_stream(backend: Backend) {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::error_code("invalid_request"));
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        let stream = push_stream(&app, &admin, &receiver, json!({})).await;
        create_users(&app, "rejected", 1).await;
        receiver.wait_for_requests(1, WAIT).await;
        receiver.answer(Answer::Accept);
        let ids = create_users(&app, "next", 1).await;
        // §2.4 invalid_request: that SET is dropped, the stream goes on with the next.
        let accepted = receiver.wait_for_accepted(1, WAIT).await;
        assert_eq!(subjects(&accepted), ids);
        assert_eq!(receiver.deliveries().len(), 2);
        let status = stream_status(&app, &admin, &stream).await;
        assert_eq!(status["status"], "enabled");
        assert_eq!(status["last_error"], "HTTP 400 invalid_request: refused by the test");

        // §2.4 authentication_failed: no SET can succeed; the stream stops at once.
        receiver.answer(Answer::error_code("authentication_failed"));
        create_users(&app, "unauthenticated", 1).await;
        receiver.wait_for_requests(3, WAIT).await;
        let deadline = Instant::now() + WAIT;
        while stream_status(&app, &admin, &stream).await["status"] != "failed" {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = stream_status(&app, &admin, &stream).await;
        assert_eq!(status["last_error"], "HTTP 400 authentication_failed: refused by the test");
    }
}

on_both_backends! {
    // An organization's admin chooses the push URL, the server makes the request: by default
    // nothing goes to this machine (or a cloud metadata service), and the admin learns it
    // when creating the stream, through the API and the CLI alike.
    async fn a_push_url_to_this_machine_is_refused_when_the_stream_is_created(backend: Backend) {
        let receiver = Receiver::start().await;
        let app = spawn(backend, |config| config.push.destinations.allowed.clear()).await;
        let admin = admin_token(&app.database);
        let by_name = receiver.url().replace("127.0.0.1", "localhost");
        for (url, reason) in [
            (receiver.url(), "loopback"),
            (by_name.clone(), "loopback"),
            ("http://[::1]:9/events".to_owned(), "loopback"),
            ("http://169.254.169.254/latest/meta-data".to_owned(), "link-local"),
        ] {
            let body = json!({"name": "refused", "delivery": "push", "push_url": url});
            let refused = app.api_post("/api/v1/events/streams", &admin, &body).await;
            assert_scim_error(refused.status, &refused.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
            let detail = refused.body["detail"].as_str().unwrap();
            assert!(detail.contains(reason) && detail.contains("--events-push-allow"), "{url}: {detail}");
        }
        let cli = |extra: &[&str]| {
            let mut args = vec!["events", "stream", "create", "--org", "default", "--delivery", "push", "--push-url", &by_name, "by cli"];
            args.extend_from_slice(extra);
            scimd(&app.database.url, &args)
        };
        let refused = cli(&[]);
        assert!(!refused.status.success() && stderr(&refused).contains("loopback"), "{refused:?}");
        let streams = app.api_get("/api/v1/events/streams", &admin).await;
        assert_eq!(streams.body["streams"], json!([]), "nothing was created");

        // Where the operator allows this machine, as the other tests here do, it works.
        let allowed = cli(&["--events-push-allow", "127.0.0.0/8"]);
        assert!(allowed.status.success(), "{allowed:?}");
        let second = app.spawn_second_with(quick).await;
        push_stream(&second, &admin, &receiver, json!({})).await;
    }
}

on_both_backends! {
    // A stream created while the rule allowed its receiver stops once the operator narrows
    // the rule: the deliverer checks again (and its resolver at every connection).
    async fn a_push_to_this_machine_is_refused_at_delivery_once_the_rule_forbids_it(backend: Backend) {
        let receiver = Receiver::start().await;
        let first = spawn(backend, |_| {}).await;
        let admin = admin_token(&first.database);
        let by_address = push_stream(&first, &admin, &receiver, json!({"name": "by address"})).await;
        let by_name = push_stream(
            &first,
            &admin,
            &receiver,
            json!({"name": "by name", "push_url": receiver.url().replace("127.0.0.1", "localhost")}),
        )
        .await;
        first.stop().await;
        let app = first
            .spawn_second_with(|config| {
                quick(config);
                config.push.destinations.allowed.clear();
            })
            .await;
        create_users(&app, "refused", 1).await;
        for stream in [&by_address, &by_name] {
            let deadline = Instant::now() + WAIT;
            while stream_status(&app, &admin, stream).await["status"] != "failed" {
                assert!(Instant::now() < deadline, "the stream to this machine did not stop");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let status = stream_status(&app, &admin, stream).await;
            let error = status["last_error"].as_str().unwrap();
            assert!(error.contains("loopback") && error.contains("--events-push-allow"), "{status}");
        }
        assert!(receiver.deliveries().is_empty(), "nothing reached the receiver");
    }
}

on_both_backends! {
    async fn two_instances_on_one_database_deliver_each_event_once(backend: Backend) {
        let receiver = Receiver::start().await;
        let first = spawn(backend, |_| {}).await;
        let second = first.spawn_second_with(quick).await;
        let admin = admin_token(&first.database);
        push_stream(&first, &admin, &receiver, json!({})).await;
        let mut ids = Vec::new();
        for round in 0..5 {
            ids.extend(create_users(&first, &format!("first{round}-"), 2).await);
            ids.extend(create_users(&second, &format!("second{round}-"), 2).await);
        }
        let accepted = receiver.wait_for_accepted(20, WAIT).await;
        assert_eq!(subjects(&accepted), ids, "in order");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(receiver.accepted().len(), 20, "each once");
        assert_eq!(receiver.deliveries().len(), 20, "and sent once");
    }
}

on_both_backends! {
    async fn a_set_in_flight_when_its_instance_stops_is_delivered_by_another(backend: Backend) {
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Stall(Duration::from_secs(60)));
        let first = spawn(backend, |_| {}).await;
        let admin = admin_token(&first.database);
        push_stream(&first, &admin, &receiver, json!({})).await;
        let ids = create_users(&first, "inflight", 1).await;
        receiver.wait_for_requests(1, WAIT).await;
        first.stop().await;
        receiver.answer(Answer::Accept);
        let second = first.spawn_second_with(quick).await;
        let accepted = receiver.wait_for_accepted(1, WAIT).await;
        assert_eq!(subjects(&accepted), ids);
        assert_eq!(receiver.deliveries()[0].answered, None, "the first attempt never completed");
        drop(second);
    }
}

on_both_backends! {
    async fn token_notices_reach_a_stream_that_asked_for_them(backend: Backend) {
        let receiver = Receiver::start().await;
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        push_stream(&app, &admin, &receiver, json!({
            "event_types": [
                "urn:scimd:event:token:expiring",
                "urn:scimd:event:token:expired",
                "urn:scimd:event:token:revoked",
                "urn:scimd:event:token:leaked",
            ],
        })).await;
        let mut tokens = std::collections::HashMap::new();
        for name in ["Soon", "Tomorrow", "Gone", "Revoked", "Leaked"] {
            let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": name})).await;
            let body = created.assert_status(StatusCode::CREATED);
            tokens.insert(name, (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned()));
        }
        // Expiries moved in SQL, as time would move them.
        let now = chrono::Utc::now().naive_utc();
        let store = app.database.store();
        for (name, offset) in [("Soon", chrono::TimeDelta::days(10)), ("Tomorrow", chrono::TimeDelta::hours(5)), ("Gone", chrono::TimeDelta::hours(-1))] {
            let (id, at) = (tokens[name].0.clone(), (now + offset).format("%Y-%m-%d %H:%M:%S").to_string());
            store
                .run_blocking(move |conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(format!("UPDATE api_tokens SET expires_at = '{at}' WHERE id = '{id}'")).execute(conn)?;
                    Ok(())
                })
                .unwrap();
        }
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tokens/{}", tokens["Revoked"].0), &admin, None, &[]).await;
        let leak = app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": [tokens["Leaked"].1]})).await;
        assert_eq!(leak.status, StatusCode::ACCEPTED);
        // A SCIM write is not what this stream asked for.
        create_users(&app, "ignored", 1).await;

        let accepted = receiver.wait_for_accepted(5, WAIT).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(receiver.accepted().len(), 5, "each notice once, however often the scan runs");
        let mut seen: Vec<(String, String, Value)> = accepted
            .iter()
            .map(|delivery| {
                let uri = delivery.event_type();
                // The notice's payload is the event's `data`, for notice and full streams alike.
                let payload = delivery.claims["events"][&uri]["data"].clone();
                // RFC 9493 §3.2.4: the token is an opaque subject; its id, never its secret.
                assert_eq!(delivery.claims["sub_id"], json!({"format": "opaque", "id": payload["token"]["id"]}));
                (payload["token"]["name"].as_str().unwrap().to_owned(), uri, payload)
            })
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<(&str, &str)> = seen.iter().map(|(name, uri, _)| (name.as_str(), uri.as_str())).collect();
        assert_eq!(names, [
            ("Gone", "urn:scimd:event:token:expired"),
            ("Leaked", "urn:scimd:event:token:leaked"),
            ("Revoked", "urn:scimd:event:token:revoked"),
            ("Soon", "urn:scimd:event:token:expiring"),
            ("Tomorrow", "urn:scimd:event:token:expiring"),
        ]);
        assert_eq!(seen[3].2["warningDays"], 14);
        assert_eq!(seen[4].2["warningDays"], 1);
        for (id, secret) in tokens.values() {
            for delivery in &accepted {
                assert!(!delivery.jws.contains(secret.as_str()) && !delivery.claims.to_string().contains(&secret[4..]), "{id}");
            }
        }
    }
}

on_both_backends! {
    async fn a_token_used_after_its_rotation_is_announced_once(backend: Backend) {
        let receiver = Receiver::start().await;
        let app = spawn(backend, |_| {}).await;
        let admin = admin_token(&app.database);
        push_stream(&app, &admin, &receiver, json!({"event_types": ["urn:scimd:event:token:used-after-rotation"]})).await;
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Rotated"})).await;
        let old = created.assert_status(StatusCode::CREATED).clone();
        let old_id = old["id"].as_str().unwrap();
        let successor = app
            .api_post(&format!("/api/v1/tokens/{old_id}/rotate"), &admin, &json!({"grace_period_seconds": 0}))
            .await;
        let successor = successor.assert_status(StatusCode::CREATED).clone();
        // The successor's first use ends the old token's grace; each later use of it is stale.
        assert_eq!(app.probe(successor["token"].as_str().unwrap()).await, StatusCode::OK);
        for _ in 0..2 {
            assert_eq!(app.probe(old["token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED);
        }
        let accepted = receiver.wait_for_accepted(1, WAIT).await;
        let event = &accepted[0].claims["events"]["urn:scimd:event:token:used-after-rotation"]["data"];
        assert_eq!(event["token"]["id"], old_id);
        assert_eq!(event["token"]["name"], "Rotated");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(receiver.accepted().len(), 1, "once per token, not per use");
    }
}
