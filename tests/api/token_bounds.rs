//! Issue 18: a token manages only tokens at most as permissive as itself, stopping a token is
//! open to every token manager, rotation keeps the expiry, and secrets are not cached.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{ApiReply, admin_token, audit_events, cli_token, id_of_token};
use crate::helpers::app::{TestApp, assert_scim_error};
use crate::helpers::cli::{scimd, stdout};
use crate::on_both_backends;

/// `scim:read scim:write tokens:manage`, expiring in a day, usable from loopback and 10/8,
/// 100 requests per minute (enough for a test, few enough to be a bound).
fn bounded_token(app: &TestApp) -> String {
    cli_token(
        &app.database,
        "default",
        "bounded",
        &[
            "--scope",
            "scim:read scim:write tokens:manage",
            "--expires",
            "1d",
            "--allow-ip",
            "127.0.0.0/8,10.0.0.0/8",
            "--rate-limit",
            "100",
        ],
    )
}

/// The `expires_at` the management API shows for token `id`.
async fn expiry_of(app: &TestApp, admin: &str, id: &str) -> Value {
    let shown = app.api_get(&format!("/api/v1/tokens/{id}"), admin).await;
    assert!(shown.body["expires_at"].is_string(), "{}", shown.text);
    shown.body["expires_at"].clone()
}

/// Asserts a 403 whose detail starts with the refused axis.
#[track_caller]
fn assert_refused_on(reply: &ApiReply, axis: &str) {
    assert_scim_error(reply.status, &reply.body, StatusCode::FORBIDDEN, None);
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("{axis}:")),
        "expected a refusal on {axis}: {detail}"
    );
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> ApiReply {
    app.call(
        Method::PATCH,
        &format!("/api/v1/tokens/{id}"),
        token,
        Some(&body),
        &[],
    )
    .await
}

on_both_backends! {
    async fn any_token_manager_may_disable_or_revoke_any_token_and_both_are_audited(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let manager = cli_token(&app.database, "default", "manager", &["--scope", "tokens:manage"]);
        let manager_actor = format!("token:{}", id_of_token(&app, &admin, &manager).await);
        let patched = cli_token(&app.database, "default", "patched", &[]);
        let deleted = cli_token(&app.database, "default", "deleted", &[]);
        let patched_id = id_of_token(&app, &admin, &patched).await;
        let deleted_id = id_of_token(&app, &admin, &deleted).await;

        let disabled = patch(&app, &manager, &patched_id, json!({"status": "disabled"})).await;
        assert_eq!(disabled.assert_status(StatusCode::OK)["status"], "disabled");
        assert_eq!(app.probe(&patched).await, StatusCode::UNAUTHORIZED);
        // Enabling hands the token's scopes back, and a rename is an edit: both are bounded.
        for body in [json!({"status": "active"}), json!({"status": "revoked", "name": "renamed"})] {
            let refused = patch(&app, &manager, &patched_id, body).await;
            assert_refused_on(&refused, "scopes");
        }

        let revoked = patch(&app, &manager, &patched_id, json!({"status": "revoked"})).await;
        assert_eq!(revoked.assert_status(StatusCode::OK)["status"], "revoked");
        let reply = app.call(Method::DELETE, &format!("/api/v1/tokens/{deleted_id}"), &manager, None, &[]).await;
        reply.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(app.probe(&deleted).await, StatusCode::UNAUTHORIZED);

        let stops: Vec<(String, Value, Value)> = [
            audit_events(&app, &admin, "token.disabled").await,
            audit_events(&app, &admin, "token.revoked").await,
        ]
        .concat()
        .into_iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["actor"].clone(), e["target"].clone()))
        .collect();
        assert_eq!(
            stops,
            [
                ("token.disabled".to_owned(), json!(manager_actor), json!(patched_id)),
                ("token.revoked".to_owned(), json!(manager_actor), json!(deleted_id)),
                ("token.revoked".to_owned(), json!(manager_actor), json!(patched_id)),
            ]
        );
    }
}

on_both_backends! {
    async fn a_token_creates_only_tokens_within_its_own_bounds_on_every_axis(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let bounded = bounded_token(&app);
        let own_expiry = expiry_of(&app, &admin, &id_of_token(&app, &admin, &bounded).await).await;
        let within = json!({
            "name": "child",
            "scopes": ["scim:read", "scim:write"],
            "expires_at": own_expiry,
            "allowed_cidrs": ["127.0.0.1", "10.1.0.0/16"],
            "rate_limit_per_minute": 100
        });
        // `within` with some fields replaced, or removed when `null`.
        let with = |changes: &[(&str, Value)]| {
            let mut body = within.clone();
            let fields = body.as_object_mut().unwrap();
            for (field, value) in changes {
                if value.is_null() {
                    fields.remove(*field);
                } else {
                    fields.insert((*field).to_owned(), value.clone());
                }
            }
            body
        };
        for (body, axis) in [
            (with(&[("scopes", json!(["scim:read", "scim:delete"]))]), "scopes"),
            (with(&[("expires_at", Value::Null)]), "expires_at"),
            (with(&[("expires_at", Value::Null), ("expires_in_days", json!(2))]), "expires_at"),
            (with(&[("allowed_cidrs", Value::Null)]), "allowed_cidrs"),
            (with(&[("allowed_cidrs", json!(["127.0.0.1", "192.0.2.0/24"]))]), "allowed_cidrs"),
            (with(&[("allowed_cidrs", json!(["0.0.0.0/0"]))]), "allowed_cidrs"),
            (with(&[("rate_limit_per_minute", Value::Null)]), "rate_limit_per_minute"),
            (with(&[("rate_limit_per_minute", json!(101))]), "rate_limit_per_minute"),
        ] {
            let reply = app.api_post("/api/v1/tokens", &bounded, &body).await;
            assert_refused_on(&reply, axis);
        }
        let created = app.api_post("/api/v1/tokens", &bounded, &within).await;
        let child = created.assert_status(StatusCode::CREATED);
        assert_eq!(child["expires_at"], own_expiry);
        assert_eq!(child["allowed_cidrs"], json!(["127.0.0.1/32", "10.1.0.0/16"]));
        assert_eq!(created.header("cache-control"), Some("no-store"));
        // Tighter on every axis is fine too.
        let in_an_hour = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
        let tighter = app
            .api_post("/api/v1/tokens", &bounded, &json!({
                "name": "tighter", "scopes": ["scim:read"], "expires_at": in_an_hour,
                "allowed_cidrs": ["10.2.3.4"], "rate_limit_per_minute": 1
            }))
            .await;
        tighter.assert_status(StatusCode::CREATED);
        // An unbounded manager (here the CLI's admin token) is held to scopes only.
        let open = app.api_post("/api/v1/tokens", &admin, &json!({"name": "open"})).await;
        open.assert_status(StatusCode::CREATED);
    }
}

on_both_backends! {
    async fn a_token_edits_itself_and_others_only_within_its_own_bounds(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let bounded = bounded_token(&app);
        let own_id = id_of_token(&app, &admin, &bounded).await;
        let own_expiry = expiry_of(&app, &admin, &own_id).await;
        for (body, axis) in [
            (json!({"allowed_cidrs": null}), "allowed_cidrs"),
            (json!({"allowed_cidrs": ["0.0.0.0/0"]}), "allowed_cidrs"),
            (json!({"rate_limit_per_minute": null}), "rate_limit_per_minute"),
            (json!({"rate_limit_per_minute": 1000}), "rate_limit_per_minute"),
        ] {
            let reply = patch(&app, &bounded, &own_id, body).await;
            assert_refused_on(&reply, axis);
        }
        // Tightening itself is allowed; loosening back is not.
        let tightened = patch(&app, &bounded, &own_id, json!({"rate_limit_per_minute": 50, "allowed_cidrs": ["127.0.0.1"]})).await;
        assert_eq!(tightened.assert_status(StatusCode::OK)["rate_limit_per_minute"], 50);
        assert_refused_on(&patch(&app, &bounded, &own_id, json!({"rate_limit_per_minute": 100})).await, "rate_limit_per_minute");
        assert_refused_on(&patch(&app, &bounded, &own_id, json!({"allowed_cidrs": ["127.0.0.0/8"]})).await, "allowed_cidrs");
        patch(&app, &bounded, &own_id, json!({"name": "bounded, renamed"})).await.assert_status(StatusCode::OK);

        // A token with the same scopes but no expiry is beyond it: not even a rename.
        let lasting = cli_token(&app.database, "default", "lasting", &["--scope", "scim:read scim:write"]);
        let lasting_id = id_of_token(&app, &admin, &lasting).await;
        assert_refused_on(&patch(&app, &bounded, &lasting_id, json!({"name": "mine"})).await, "expires_at");
        // A child it made stays within it: lifting the child's allowlist is refused.
        let child = app
            .api_post("/api/v1/tokens", &bounded, &json!({
                "name": "child", "scopes": ["scim:read"], "expires_at": own_expiry,
                "allowed_cidrs": ["127.0.0.1"], "rate_limit_per_minute": 10
            }))
            .await;
        let child_id = child.assert_status(StatusCode::CREATED)["id"].as_str().unwrap().to_owned();
        assert_refused_on(&patch(&app, &bounded, &child_id, json!({"allowed_cidrs": null})).await, "allowed_cidrs");
        patch(&app, &bounded, &child_id, json!({"rate_limit_per_minute": 5})).await.assert_status(StatusCode::OK);
    }
}

on_both_backends! {
    async fn a_successor_keeps_its_predecessors_expiry_and_rotation_is_bounded(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let bounded = bounded_token(&app);
        let first_id = id_of_token(&app, &admin, &bounded).await;
        let expiry = expiry_of(&app, &admin, &first_id).await;

        // A token rotating itself, again and again, never outlives its first expiry.
        let (mut token, mut id) = (bounded, first_id);
        for _ in 0..2 {
            let rotated = app.api_post(&format!("/api/v1/tokens/{id}/rotate"), &token, &json!({})).await;
            let body = rotated.assert_status(StatusCode::CREATED).clone();
            assert_eq!(rotated.header("cache-control"), Some("no-store"));
            assert_eq!(body["expires_at"], expiry, "{}", rotated.text);
            assert_eq!(body["allowed_cidrs"], json!(["127.0.0.0/8", "10.0.0.0/8"]));
            assert_eq!(body["rate_limit_per_minute"], 100);
            token = body["token"].as_str().unwrap().to_owned();
            id = body["id"].as_str().unwrap().to_owned();
        }

        // It cannot mint the successor of a token that outlives it.
        let lasting = cli_token(&app.database, "default", "lasting", &["--scope", "scim:read"]);
        let lasting_id = id_of_token(&app, &admin, &lasting).await;
        let stolen = app.api_post(&format!("/api/v1/tokens/{lasting_id}/rotate"), &token, &json!({})).await;
        assert_refused_on(&stolen, "expires_at");

        // The CLI keeps the expiry too.
        let output = scimd(&app.database.url, &["token", "rotate", &id]);
        assert!(output.status.success(), "{output:?}");
        let successor = stdout(&output).trim().to_owned();
        let successor_id = id_of_token(&app, &admin, &successor).await;
        let shown = app.api_get(&format!("/api/v1/tokens/{successor_id}"), &admin).await;
        assert_eq!(shown.body["expires_at"], expiry);
    }
}
