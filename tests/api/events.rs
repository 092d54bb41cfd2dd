//! Issue 14: the change feed. Events (RFC 9967) are written in the transaction of the write
//! they describe, and handed out as SETs (RFC 8417) signed with the organization's key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::api::admin_token;
use crate::helpers::app::{TestApp, TestDatabase};
use crate::helpers::scim::{alice, id_of};
use crate::on_both_backends;
use scimd::service::events;
use scimd::store::StreamId;

/// Creates a push stream (no credential of its own) and answers its id.
async fn push_stream(app: &TestApp, admin: &str, name: &str, detail: &str) -> String {
    let reply = app
        .api_post(
            "/api/v1/events/streams",
            admin,
            &json!({
                "name": name,
                "delivery": "push",
                "detail": detail,
                "push_url": "http://127.0.0.1:9/receiver",
                "push_authorization": "Bearer receiver-secret",
            }),
        )
        .await;
    let body = reply.assert_status(StatusCode::CREATED);
    assert!(!reply.text.contains("receiver-secret"), "{}", reply.text);
    body["id"].as_str().unwrap().to_owned()
}

/// The stream's pending events as signed SETs, in order.
fn pending_sets(database: &TestDatabase, stream: &str) -> Vec<String> {
    let stream = StreamId::parse(stream).unwrap();
    database
        .store()
        .run_blocking(move |conn| {
            let row = events::stream(conn, &stream)?;
            events::next_pending(conn, &stream, 100)?
                .iter()
                .map(|pending| {
                    events::signed_set(
                        conn,
                        &row,
                        &pending.event,
                        "http://scimd.test",
                        scimd::store::now(),
                    )
                })
                .collect()
        })
        .unwrap()
}

/// Verifies `set` against the organization's published JWKS and answers its claims.
async fn verified(app: &TestApp, set: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(set).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    // RFC 8417 §2.3: explicit typing of SETs.
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    // The issuer says where its keys are: read it before verifying, as a receiver does.
    let payload = set.split('.').nth(1).unwrap();
    let unverified: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let iss = unverified["iss"].as_str().unwrap();
    let path = iss.trim_start_matches("http://scimd.test");
    let jwks = app.api_get(&format!("{path}/jwks"), "").await;
    let jwks: JwkSet = serde_json::from_value(jwks.assert_status(StatusCode::OK).clone()).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    jsonwebtoken::decode::<Value>(set, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

on_both_backends! {
    async fn a_create_is_one_signed_set_naming_the_user_by_sub_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let stream = push_stream(&app, &admin, "hr", "notice").await;
        let user = app.create_user(&alice()).await;
        let sets = pending_sets(&app.database, &stream);
        assert_eq!(sets.len(), 1);
        let claims = verified(&app, &sets[0], "http://127.0.0.1:9/receiver").await;
        // RFC 9967 §2.1: the subject is `sub_id` of format "scim", never `sub`.
        assert!(claims.get("sub").is_none());
        assert_eq!(claims["sub_id"]["format"], "scim");
        assert_eq!(claims["sub_id"]["uri"], format!("/Users/{}", id_of(&user)));
        assert_eq!(claims["sub_id"]["externalId"], user["externalId"]);
        let event = &claims["events"]["urn:ietf:params:scim:event:prov:create:notice"];
        let attributes = event["attributes"].as_array().unwrap();
        assert!(attributes.contains(&json!("userName")), "{claims}");
        assert!(claims["txn"].is_string() && claims["jti"].is_string());
    }
}
