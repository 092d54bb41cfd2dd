//! Issue 14: the change feed. Every committed write appends its SCIM event (RFC 9967) in its
//! own transaction; a poll stream (RFC 8936) hands them out as SETs (RFC 8417) signed with the
//! organization's key, published as a JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::api::cli_token;
use crate::helpers::app::TestApp;
use crate::helpers::scim::{alice, bob, encode, id_of, path_of};
use crate::on_both_backends;

pub const PROV: &str = "urn:ietf:params:scim:event:prov:";
const MEMBERS: &str = "urn:scimd:event:members";

/// A token of org `org` that manages streams and may grant a poll stream its scope.
pub fn events_admin(app: &TestApp, org: &str) -> String {
    cli_token(
        &app.database,
        org,
        "events-admin",
        &["--scope", "scim:read tokens:manage events:read"],
    )
}

/// A poll stream of the admin's organization: its id and its own token.
pub async fn poll_stream(
    app: &TestApp,
    admin: &str,
    name: &str,
    options: Value,
) -> (String, String) {
    let mut body = json!({"name": name, "delivery": "poll"});
    if let (Some(body), Some(options)) = (body.as_object_mut(), options.as_object()) {
        body.extend(options.clone());
    }
    let reply = app.api_post("/api/v1/events/streams", admin, &body).await;
    let created = reply.assert_status(StatusCode::CREATED);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// One poll (RFC 8936 §2.4) of `stream` with `token`.
pub async fn poll(app: &TestApp, stream: &str, token: &str, body: Value) -> Value {
    let reply = app
        .api_post(
            &format!("/api/v1/events/streams/{stream}/poll"),
            token,
            &body,
        )
        .await;
    reply.assert_status(StatusCode::OK).clone()
}

/// A SET's claims, not yet verified (a receiver reads `iss` to find the keys).
pub fn claims_of(set: &str) -> Value {
    let payload = set.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Polls everything pending without waiting, acknowledges it, and answers the claims in order.
pub async fn drain(app: &TestApp, stream: &str, token: &str) -> Vec<Value> {
    let answer = poll(
        app,
        stream,
        token,
        json!({"returnImmediately": true, "maxEvents": 1000}),
    )
    .await;
    let sets = answer["sets"].as_object().unwrap();
    let jtis: Vec<&String> = sets.keys().collect();
    poll(
        app,
        stream,
        token,
        json!({"ack": jtis, "maxEvents": 0, "returnImmediately": true}),
    )
    .await;
    sets.values()
        .map(|set| claims_of(set.as_str().unwrap()))
        .collect()
}

/// The event URIs of each SET, in order.
fn uris(claims: &[Value]) -> Vec<Vec<String>> {
    claims
        .iter()
        .map(|claims| {
            claims["events"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        })
        .collect()
}

/// Verifies `set` against the JWKS its issuer publishes, as a receiver does, and answers
/// its claims.
pub async fn verified(app: &TestApp, set: &str) -> Value {
    let header = jsonwebtoken::decode_header(set).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    // RFC 8417 §2.3: SETs are explicitly typed.
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let unverified = claims_of(set);
    let iss = unverified["iss"].as_str().unwrap();
    let path = iss.strip_prefix(&app.base_url).unwrap();
    let jwks = app.api_get(&format!("{path}/jwks"), "").await;
    let jwks: JwkSet = serde_json::from_value(jwks.assert_status(StatusCode::OK).clone()).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[unverified["aud"].as_str().unwrap()]);
    validation.set_issuer(&[iss]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    jsonwebtoken::decode::<Value>(set, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

on_both_backends! {
    // RFC 9967 §2.4.1–§2.4.6: each write is one SET, in the order of the writes; an `active`
    // change travels in the same SET as its write (§2.1: one SET, one state change).
    async fn every_write_type_produces_exactly_its_events_in_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "hr", json!({})).await;

        let user = app.create_user(&alice()).await;
        let path = path_of(&user);
        let mut replaced = alice();
        replaced["displayName"] = json!("Alice Liddell");
        app.put_json(&path, &replaced).await.assert_status(StatusCode::OK);
        let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        app.patch_json(&path, &patch(json!([{"op": "replace", "path": "active", "value": false}])))
            .await
            .assert_status(StatusCode::OK);
        // Nothing changes: nothing happened that a receiver must learn of.
        app.patch_json(&path, &patch(json!([{"op": "replace", "path": "active", "value": false}])))
            .await
            .assert_status(StatusCode::OK);
        let reactivated = app
            .patch_json(&path, &patch(json!([{"op": "replace", "path": "active", "value": true}])))
            .await;
        reactivated.assert_status(StatusCode::OK);
        app.delete(&path).await.assert_status(StatusCode::NO_CONTENT);

        let claims = drain(&app, &stream, &token).await;
        assert_eq!(
            uris(&claims),
            vec![
                vec![format!("{PROV}create:notice")],
                vec![format!("{PROV}put:notice")],
                vec![format!("{PROV}patch:notice"), format!("{PROV}deactivate")],
                vec![format!("{PROV}patch:notice"), format!("{PROV}activate")],
                vec![format!("{PROV}delete")],
            ],
            "{claims:#?}"
        );
        let id = id_of(&user);
        for event in &claims {
            // RFC 9967 §2.1: `sub_id` in format "scim", never `sub`.
            assert!(event.get("sub").is_none());
            assert_eq!(event["sub_id"], json!({"format": "scim", "uri": format!("/Users/{id}"), "id": id, "externalId": user["externalId"]}));
            assert!(event["txn"].is_string() && event["jti"].is_string() && event["iat"].is_i64());
        }
        // §2.4.2: notice events list the changed attributes; §2.2: `version` is the new ETag.
        assert_eq!(claims[1]["events"][format!("{PROV}put:notice")]["attributes"], json!(["displayName"]));
        let patched = &claims[3]["events"][format!("{PROV}patch:notice")];
        assert_eq!(patched["attributes"], json!(["active"]));
        assert_eq!(patched["version"], reactivated.etag().as_str());
        // §2.4.4: a delete has no payload attributes.
        assert_eq!(claims[4]["events"][format!("{PROV}delete")], json!({}));
        assert!(drain(&app, &stream, &token).await.is_empty(), "acknowledged events come back");
    }
}

on_both_backends! {
    // A membership change of a large group names the members it changed, never the list.
    async fn group_member_changes_name_only_the_changed_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let mut members = Vec::new();
        for n in 0..30 {
            let user = app.create_user(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("member{n}")})).await;
            members.push(json!({"value": id_of(&user)}));
        }
        let group = app.create_group(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone", "members": members})).await;
        let (stream, token) = poll_stream(&app, &admin, "groups", json!({"resource_types": ["Group"]})).await;
        let newcomer = app.create_user(&bob()).await;
        let leaver = members[7]["value"].as_str().unwrap();
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": id_of(&newcomer)}]},
            {"op": "remove", "path": format!("members[value eq \"{leaver}\"]")},
        ]});
        app.patch_json(&path_of(&group), &patch).await.assert_status(StatusCode::NO_CONTENT);

        let claims = drain(&app, &stream, &token).await;
        // The user created in between is not a Group event: this stream wants Groups only.
        assert_eq!(uris(&claims), vec![vec![format!("{PROV}patch:notice")]]);
        let event = &claims[0]["events"][format!("{PROV}patch:notice")];
        assert_eq!(event["attributes"], json!(["members"]));
        assert_eq!(event[MEMBERS], json!({"added": [id_of(&newcomer)], "removed": [leaver]}));
        assert_eq!(claims[0]["sub_id"]["uri"], format!("/Groups/{}", id_of(&group)));
    }
}

on_both_backends! {
    // An event exists if and only if its write committed.
    async fn rolled_back_writes_produce_no_events(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "all", json!({})).await;
        let user = app.create_user(&alice()).await;
        drain(&app, &stream, &token).await;

        // A uniqueness conflict (409).
        app.post_json("/scim/v2/Users", &alice()).await.assert_status(StatusCode::CONFLICT);
        // A PATCH whose second operation fails after the first applied (400, all rolled back).
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "replace", "path": "userName", "value": 42},
        ]});
        app.patch_json(&path_of(&user), &patch).await.assert_status(StatusCode::BAD_REQUEST);
        // A stale If-Match (412).
        app.put_json_with(&path_of(&user), &alice(), &[("If-Match", "W/\"99\"")])
            .await
            .assert_status(StatusCode::PRECONDITION_FAILED);
        // Bulk with failOnErrors 1: the first operation commits, the second fails, the third
        // never runs.
        let bulk = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": bob()},
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": alice()},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carl"}},
            ],
        });
        app.post_json("/scim/v2/Bulk", &bulk).await.assert_status(StatusCode::OK);

        let claims = drain(&app, &stream, &token).await;
        assert_eq!(uris(&claims), vec![vec![format!("{PROV}create:notice")]], "{claims:#?}");
        let filter = encode("userName eq \"bob@a.example\"");
        let bob_id = app.list(&format!("/scim/v2/Users?filter={filter}")).await["Resources"][0]["id"].clone();
        assert_eq!(claims[0]["sub_id"]["id"], bob_id);
    }
}

on_both_backends! {
    // RFC 9967 §2.4: full events carry the resource as a SCIM answer shows it; `password`
    // (returned "never", RFC 7643 §4.1) is in no event row and no SET.
    async fn full_events_carry_the_resource_without_its_password(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let (stream, token) = poll_stream(&app, &admin, "replica", json!({"detail": "full"})).await;
        let mut body = alice();
        body["password"] = json!("Correct-Horse-Battery-9");
        let user = app.create_user(&body).await;
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "password", "value": "Another-Secret-Value-7"},
            {"op": "replace", "path": "nickName", "value": "Al"},
        ]});
        app.patch_json(&path_of(&user), &patch).await.assert_status(StatusCode::OK);

        let answer = poll(&app, &stream, &token, json!({"returnImmediately": true})).await;
        let sets: Vec<&str> = answer["sets"].as_object().unwrap().values().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(sets.len(), 2);
        let created = verified(&app, sets[0]).await;
        let data = &created["events"][format!("{PROV}create:full")]["data"];
        assert_eq!(data["id"], user["id"]);
        assert_eq!(data["userName"], user["userName"]);
        let patched = verified(&app, sets[1]).await;
        assert_eq!(patched["events"][format!("{PROV}patch:full")]["data"]["nickName"], "Al");
        for set in &sets {
            let text = claims_of(set).to_string();
            assert!(!text.contains("password") && !text.contains("Secret") && !text.contains("Horse"), "{text}");
        }
        let stored: Vec<String> = app.database.store().run_blocking(|conn| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                row: String,
            }
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT COALESCE(data, '') || COALESCE(attributes, '') AS row FROM events",
            )
            .load(conn)?;
            Ok(rows.into_iter().map(|row| row.row).collect())
        }).unwrap();
        assert_eq!(stored.len(), 2);
        for row in stored {
            assert!(!row.contains("password") && !row.contains("Secret") && !row.contains("Horse"), "{row}");
        }
    }
}
