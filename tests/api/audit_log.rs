//! The audit log's filters and names, as the System log page and `GET /api/v1/audit` read it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{admin_token, id_of_token};
use crate::helpers::app::{TestApp, assert_scim_error};
use crate::on_both_backends;

fn types(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn the_audit_log_filters_by_type_actor_token_and_time_and_names_tokens(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let admin_id = id_of_token(&app, &admin, &admin).await;
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Okta production"})).await;
        let okta_id = created.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/tokens/{okta_id}");
        app.call(Method::PATCH, &path, &admin, Some(&json!({"status": "disabled"})), &[]).await.assert_status(StatusCode::OK);
        app.call(Method::DELETE, &path, &admin, None, &[]).await.assert_status(StatusCode::NO_CONTENT);

        // By actor: what the admin token did, newest first, with both sides named.
        let by_admin = app.api_get(&format!("/api/v1/audit?actor=token:{admin_id}"), &admin).await;
        assert_eq!(types(&by_admin.body), ["token.revoked", "token.disabled", "token.created"]);
        let revoked = &by_admin.body["events"][0];
        assert_eq!(revoked["actor_name"], "admin");
        assert_eq!(revoked["target"], okta_id.as_str());
        assert_eq!(revoked["target_name"], "Okta production");
        // What the CLI did: it created the admin token.
        let by_cli = app.api_get("/api/v1/audit?actor=cli", &admin).await;
        assert_eq!(types(&by_cli.body), ["token.created"]);
        assert_eq!(by_cli.body["events"][0]["target_name"], "admin");
        assert_eq!(by_cli.body["events"][0]["actor_name"], Value::Null);

        // By type and token together.
        let one = app.api_get(&format!("/api/v1/audit?type=token.disabled,token.revoked&token={okta_id}"), &admin).await;
        assert_eq!(types(&one.body), ["token.revoked", "token.disabled"]);
        let none = app.api_get(&format!("/api/v1/audit?type=token.rotated&token={okta_id}"), &admin).await;
        assert_eq!(types(&none.body), Vec::<String>::new());

        // By time: events before the first start's moment are none; the range is half-open.
        let all = app.api_get("/api/v1/audit?limit=1000", &admin).await;
        let oldest = all.body["events"].as_array().unwrap().last().unwrap()["occurred_at"].as_str().unwrap().to_owned();
        let before = app.api_get(&format!("/api/v1/audit?until={oldest}"), &admin).await;
        assert_eq!(types(&before.body), Vec::<String>::new());
        let since = app.api_get(&format!("/api/v1/audit?since={oldest}&limit=1000"), &admin).await;
        assert_eq!(since.body["events"], all.body["events"]);

        // Paged by actor: the cursor carries on.
        let first = app.api_get(&format!("/api/v1/audit?actor=token:{admin_id}&limit=2"), &admin).await;
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        let second = app.api_get(&format!("/api/v1/audit?actor=token:{admin_id}&limit=2&cursor={cursor}"), &admin).await;
        assert_eq!(types(&second.body), ["token.created"]);

        let bad = app.api_get("/api/v1/audit?limit=0", &admin).await;
        assert_scim_error(bad.status, &bad.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
    }
}
