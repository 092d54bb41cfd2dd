//! The management API (`/api/v1`): tokens, audit log, leak intake and its OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{admin_token, audit_events, cli_token, id_of_token};
use crate::helpers::app::{TestApp, assert_scim_error};
use crate::helpers::scim::{alice, bob};
use crate::on_both_backends;

const TOKEN_PATTERN_LEN: usize = 43;

on_both_backends! {
    async fn tokens_are_created_listed_shown_edited_and_revoked_over_the_api(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let created = app
            .api_post("/api/v1/tokens", &admin, &json!({
                "name": "Okta production",
                "description": "SCIM app in Okta",
                "scopes": ["scim:read", "scim:write"],
                "expires_in_days": 90,
                "allowed_cidrs": ["127.0.0.1", "10.0.0.0/8"],
                "rate_limit_per_minute": 600
            }))
            .await;
        let body = created.assert_status(StatusCode::CREATED).clone();
        let plain = body["token"].as_str().unwrap().to_owned();
        assert_eq!(plain.len(), TOKEN_PATTERN_LEN);
        let id = body["id"].as_str().unwrap().to_owned();
        assert_eq!(created.header("location"), Some(format!("/api/v1/tokens/{id}").as_str()));
        assert_eq!(body["prefix"], format!("{}…", &plain[..12]));
        assert_eq!(body["status"], "active");
        assert_eq!(body["scopes"], json!(["scim:read", "scim:write"]));
        assert_eq!(body["allowed_cidrs"], json!(["127.0.0.1/32", "10.0.0.0/8"]));
        assert_eq!(body["rate_limit_per_minute"], 600);
        assert!(body["created_by"].as_str().unwrap().starts_with("token:"));
        assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(app.probe(&plain).await, StatusCode::OK, "the new token works");

        let defaults = app.api_post("/api/v1/tokens", &admin, &json!({"name": "audit script"})).await;
        assert_eq!(defaults.body["scopes"], json!(["scim:read", "scim:write", "scim:delete"]));
        assert_eq!(defaults.body["expires_at"], Value::Null);

        // Newest first; filter by name; sort by name.
        let list = app.api_get("/api/v1/tokens", &admin).await;
        let names: Vec<&str> = list.body["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["audit script", "Okta production", "admin", "first-start token"]);
        assert!(!list.text.contains(&plain), "the secret is shown only once");
        let filtered = app.api_get("/api/v1/tokens?name=OKTA", &admin).await;
        assert_eq!(filtered.body["tokens"].as_array().unwrap().len(), 1);
        let sorted = app.api_get("/api/v1/tokens?sort=name&order=asc", &admin).await;
        assert_eq!(sorted.body["tokens"][0]["name"], "admin");
        let bad = app.api_get("/api/v1/tokens?sort=color", &admin).await;
        assert_scim_error(bad.status, &bad.body, StatusCode::BAD_REQUEST, Some("invalidValue"));

        let path = format!("/api/v1/tokens/{id}");
        let patched = app
            .call(Method::PATCH, &path, &admin, Some(&json!({
                "name": "Okta prod", "description": null, "status": "disabled",
                "allowed_cidrs": null, "rate_limit_per_minute": null
            })), &[])
            .await;
        let view = patched.assert_status(StatusCode::OK);
        assert_eq!(view["name"], "Okta prod");
        assert_eq!(view["description"], Value::Null);
        assert_eq!(view["status"], "disabled");
        assert_eq!(view["allowed_cidrs"], json!([]));
        assert_eq!(view["rate_limit_per_minute"], Value::Null);
        assert_eq!(app.probe(&plain).await, StatusCode::UNAUTHORIZED);
        let enabled = app.call(Method::PATCH, &path, &admin, Some(&json!({"status": "active"})), &[]).await;
        assert_eq!(enabled.body["status"], "active");
        assert_eq!(app.probe(&plain).await, StatusCode::OK);

        for (body, scim_type) in [
            (json!({"name": ""}), "invalidValue"),
            (json!({"name": "x".repeat(101)}), "invalidValue"),
            (json!({"status": "paused"}), "invalidValue"),
            (json!({"allowed_cidrs": ["10.0.0.0/33"]}), "invalidValue"),
            (json!({"colour": "blue"}), "invalidSyntax"),
        ] {
            let reply = app.call(Method::PATCH, &path, &admin, Some(&body), &[]).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::BAD_REQUEST, Some(scim_type));
        }
        let deleted = app.call(Method::DELETE, &path, &admin, None, &[]).await;
        deleted.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(app.probe(&plain).await, StatusCode::UNAUTHORIZED);
        assert_eq!(app.api_get(&path, &admin).await.body["status"], "revoked");
        let missing = app.api_get("/api/v1/tokens/00000000-0000-4000-8000-000000000000", &admin).await;
        assert_scim_error(missing.status, &missing.body, StatusCode::NOT_FOUND, None);

        let events = app.api_get(&format!("/api/v1/audit?token={id}"), &admin).await;
        let mut types: Vec<&str> = events.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).filter(|t| t.starts_with("token.")).collect();
        assert_eq!(types.first(), Some(&"token.revoked"));
        assert_eq!(types.last(), Some(&"token.created"));
        // One PATCH's events share its transaction's time, so only their set is fixed.
        types.sort_unstable();
        assert_eq!(types, ["token.created", "token.disabled", "token.enabled", "token.revoked", "token.updated"]);
    }
}

on_both_backends! {
    async fn creating_and_rotating_validate_their_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let manager = cli_token(&app.database, "default", "manager", &["--scope", "tokens:manage"]);
        for (body, status, scim_type) in [
            (json!({"name": ""}), StatusCode::BAD_REQUEST, Some("invalidValue")),
            (json!({"name": "a", "scopes": ["root"]}), StatusCode::BAD_REQUEST, Some("invalidValue")),
            (json!({"name": "a", "expires_at": "2001-01-01"}), StatusCode::BAD_REQUEST, Some("invalidValue")),
            (json!({"name": "a", "expires_at": "2030-01-01", "expires_in_days": 3}), StatusCode::BAD_REQUEST, Some("invalidValue")),
            (json!({"name": "a", "rate_limit_per_minute": 0}), StatusCode::BAD_REQUEST, Some("invalidValue")),
            (json!({"name": "a", "secret": "mine"}), StatusCode::BAD_REQUEST, Some("invalidSyntax")),
            (json!({"name": "a", "description": "x".repeat(1001)}), StatusCode::BAD_REQUEST, Some("invalidValue")),
        ] {
            let reply = app.api_post("/api/v1/tokens", &admin, &body).await;
            assert_scim_error(reply.status, &reply.body, status, scim_type);
        }
        // A token cannot hand out scopes it does not hold.
        let escalation = app.api_post("/api/v1/tokens", &manager, &json!({"name": "sneaky"})).await;
        assert_scim_error(escalation.status, &escalation.body, StatusCode::FORBIDDEN, None);
        let own = app.api_post("/api/v1/tokens", &manager, &json!({"name": "peer", "scopes": ["tokens:manage"]})).await;
        own.assert_status(StatusCode::CREATED);

        let id = id_of_token(&app, &admin, &app.token).await;
        // An edit's restrictions follow the same rules as a new token's.
        let zero = app
            .call(Method::PATCH, &format!("/api/v1/tokens/{id}"), &admin, Some(&json!({"rate_limit_per_minute": 0})), &[])
            .await;
        assert_scim_error(zero.status, &zero.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        let rotate = format!("/api/v1/tokens/{id}/rotate");
        // Nor mint a SCIM token's successor, or change a token it could not have created.
        let stolen = app.call(Method::POST, &rotate, &manager, None, &[]).await;
        assert_scim_error(stolen.status, &stolen.body, StatusCode::FORBIDDEN, None);
        let edited = app
            .call(Method::PATCH, &format!("/api/v1/tokens/{id}"), &manager, Some(&json!({"allowed_cidrs": null})), &[])
            .await;
        assert_scim_error(edited.status, &edited.body, StatusCode::FORBIDDEN, None);
        let peer = own.body["id"].as_str().unwrap();
        app.call(Method::PATCH, &format!("/api/v1/tokens/{peer}"), &manager, Some(&json!({"name": "peer 2"})), &[])
            .await
            .assert_status(StatusCode::OK);
        let too_long = app.api_post(&rotate, &admin, &json!({"grace_period_seconds": 8 * 86400})).await;
        assert_scim_error(too_long.status, &too_long.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        let rotated = app.call(Method::POST, &rotate, &admin, None, &[]).await;
        let body = rotated.assert_status(StatusCode::CREATED);
        assert_eq!(body["rotated_from"], id.as_str());
        assert_eq!(body["predecessor"]["superseded_by"], body["id"]);
        assert_eq!(body["name"], "first-start token");
        let successor = body["token"].as_str().unwrap().to_owned();
        assert_eq!(app.probe(&successor).await, StatusCode::OK);
        let twice = app.call(Method::POST, &rotate, &admin, None, &[]).await;
        assert_scim_error(twice.status, &twice.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        let events = audit_events(&app, &admin, "token.rotated").await;
        assert_eq!(events[0]["details"]["grace_period_seconds"], 3600);
    }
}

on_both_backends! {
    async fn the_audit_log_records_scim_writes_and_pages_newest_first(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let created = app.create_user(&alice()).await;
        let id = created["id"].as_str().unwrap().to_owned();
        app.put_json(&format!("/scim/v2/Users/{id}"), &bob()).await.assert_status(StatusCode::OK);
        app.delete(&format!("/scim/v2/Users/{id}")).await.assert_status(StatusCode::NO_CONTENT);
        let failed = app.post_json("/scim/v2/Users", &json!({"schemas": []})).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST);

        let writes = audit_events(&app, &admin, "scim.write").await;
        let summary: Vec<(String, String)> = writes
            .iter()
            .map(|e| (e["details"]["operation"].as_str().unwrap().to_owned(), e["target"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(summary, [("delete".into(), id.clone()), ("replace".into(), id.clone()), ("create".into(), id.clone())]);
        let first_start = id_of_token(&app, &admin, &app.token).await;
        assert!(writes.iter().all(|e| e["actor"] == format!("token:{first_start}") && e["details"]["resource_type"] == "User"));

        // Paging: two at a time, newest first, until the cursor runs out.
        let mut seen = Vec::new();
        let mut url = "/api/v1/audit?limit=2".to_owned();
        loop {
            let page = app.api_get(&url, &admin).await;
            page.assert_status(StatusCode::OK);
            seen.extend(page.body["events"].as_array().unwrap().iter().map(|e| e["id"].clone()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => url = format!("/api/v1/audit?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        let all = app.api_get("/api/v1/audit?limit=1000", &admin).await;
        let all_ids: Vec<Value> = all.body["events"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
        assert_eq!(seen, all_ids);
        assert!(all_ids.len() >= 5, "{}", all.text);
        let future = app.api_get("/api/v1/audit?since=2999-01-01", &admin).await;
        assert_eq!(future.body["events"], json!([]));
        let bad = app.api_get("/api/v1/audit?since=yesterday", &admin).await;
        assert_scim_error(bad.status, &bad.body, StatusCode::BAD_REQUEST, Some("invalidValue"));

        let cli = crate::helpers::cli::stdout(&crate::helpers::cli::scimd(
            &app.database.url,
            &["audit", "--org", "default", "--type", "scim.write", "--limit", "2", "--wide"],
        ));
        assert_eq!(cli.lines().count(), 3, "{cli}");
        assert!(cli.contains("operation=delete"), "{cli}");
    }
}

on_both_backends! {
    async fn leaked_tokens_reported_without_auth_are_revoked_and_the_answer_reveals_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let leaked = cli_token(&app.database, "default", "leaked", &[]);
        let unknown = {
            let generated = scimd::auth::token::generate().unwrap();
            secrecy::ExposeSecret::expose_secret(&generated.plain).to_owned()
        };
        let with_leak = app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": [leaked, "garbage"]})).await;
        let without = app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": [unknown, "garbage"]})).await;
        with_leak.assert_status(StatusCode::ACCEPTED);
        assert_eq!((with_leak.status, &with_leak.body), (without.status, &without.body));
        assert_eq!(app.probe(&leaked).await, StatusCode::UNAUTHORIZED);
        let events = audit_events(&app, &admin, "token.revoked_as_leaked").await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["details"]["prefix"], &leaked[..12]);
        assert!(!events.iter().any(|e| e.to_string().contains(&leaked)));
        // GitHub secret scanning's format works too; a repeat report changes nothing.
        let github = app.api_post("/api/v1/credentials/revoke", "", &json!([{"token": leaked, "type": "scimd", "url": "https://example.com"}])).await;
        github.assert_status(StatusCode::ACCEPTED);
        let too_many: Vec<String> = (0..101).map(|_| "wxt_x".to_owned()).collect();
        let reply = app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": too_many})).await;
        assert_scim_error(reply.status, &reply.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        let mut statuses = Vec::new();
        for _ in 0..10 {
            statuses.push(app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": []})).await.status);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    }
}

on_both_backends! {
    async fn an_organization_never_sees_another_organizations_tokens_or_data(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let user = app.create_user(&alice()).await;
        let other_scim = app.second_org_token("beta");
        let other_admin = cli_token(&app.database, "beta", "beta-admin", &["--scope", "scim:read scim:write scim:delete tokens:manage"]);
        let default_id = id_of_token(&app, &admin, &app.token).await;
        let user_path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
        assert_eq!(app.api_get(&user_path, &other_scim).await.status, StatusCode::NOT_FOUND);
        let list = app.api_get("/api/v1/tokens", &other_admin).await;
        assert_eq!(list.body["tokens"].as_array().unwrap().len(), 2, "{}", list.text);
        for (method, path) in [
            (Method::GET, format!("/api/v1/tokens/{default_id}")),
            (Method::PATCH, format!("/api/v1/tokens/{default_id}")),
            (Method::DELETE, format!("/api/v1/tokens/{default_id}")),
            (Method::POST, format!("/api/v1/tokens/{default_id}/rotate")),
        ] {
            let body = (method == Method::PATCH).then(|| json!({"status": "disabled"}));
            let reply = app.call(method.clone(), &path, &other_admin, body.as_ref(), &[]).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::NOT_FOUND, None);
        }
        assert_eq!(app.probe(&app.token).await, StatusCode::OK);
        let audit = app.api_get("/api/v1/audit?limit=1000", &other_admin).await;
        assert!(!audit.text.contains(&default_id), "{}", audit.text);
    }
}

on_both_backends! {
    async fn the_plain_token_appears_in_no_response_audit_event_or_row_after_creation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "secretive"})).await;
        let plain = created.body["token"].as_str().unwrap().to_owned();
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(app.probe(&plain).await, StatusCode::OK);
        let rotated = app.api_post(&format!("/api/v1/tokens/{id}/rotate"), &admin, &json!({"grace_period_seconds": 60})).await;
        let successor = rotated.body["token"].as_str().unwrap().to_owned();
        assert!(!rotated.text.contains(&plain), "rotation shows only the new secret");
        assert_eq!(app.probe(&successor).await, StatusCode::OK);
        let mut texts = Vec::new();
        for path in ["/api/v1/tokens".to_owned(), format!("/api/v1/tokens/{id}"), "/api/v1/audit?limit=1000".to_owned()] {
            texts.push(app.api_get(&path, &admin).await.text);
        }
        let audit_cli = crate::helpers::cli::scimd(&app.database.url, &["audit", "--limit", "1000"]);
        texts.push(crate::helpers::cli::stdout(&audit_cli));
        texts.push(String::from_utf8_lossy(&app.database.dump()).into_owned());
        for text in &texts {
            for secret in [&plain, &successor, &admin] {
                assert!(!text.contains(secret.as_str()), "a plain token leaked into:\n{text:.2000}");
            }
        }
    }
}

on_both_backends! {
    async fn the_openapi_document_matches_the_routes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let reply = app.api_get("/api/v1/openapi.json", "").await;
        let document = reply.assert_status(StatusCode::OK).clone();
        assert_eq!(document["openapi"], "3.1.0");
        let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
        let paths = document["paths"].as_object().unwrap();
        for (path, item) in paths {
            assert!(path.starts_with("/api/v1/"), "{path}");
            let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
            for method in &methods {
                let documented = item.get(method.as_str().to_lowercase()).is_some();
                let reply = app.call(method.clone(), &concrete, &admin, Some(&json!({})), &[]).await;
                if documented {
                    assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                    assert!(
                        reply.status != StatusCode::NOT_FOUND || reply.body["detail"] != "no such endpoint",
                        "{method} {path} is documented but not routed"
                    );
                } else {
                    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is routed but not documented");
                }
            }
        }
        let unknown = app.api_get("/api/v1/nothing", &admin).await;
        assert_scim_error(unknown.status, &unknown.body, StatusCode::NOT_FOUND, None);

        // Wherever the document enumerates scopes, it names every scope a token can carry.
        let every_scope: Vec<&str> = scimd::auth::Scope::ALL.iter().map(|scope| scope.as_str()).collect();
        let mut enumerations = 0;
        let mut pending = vec![&document];
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(object) => {
                    if let Some(listed) = object.get("scopes").and_then(|scopes| scopes["items"]["enum"].as_array()) {
                        let mut listed: Vec<&str> = listed.iter().filter_map(Value::as_str).collect();
                        listed.sort_unstable();
                        let mut expected = every_scope.clone();
                        expected.sort_unstable();
                        assert_eq!(listed, expected, "a scope enumeration in the OpenAPI document");
                        enumerations += 1;
                    }
                    pending.extend(object.values());
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        assert!(enumerations > 0, "the document enumerates scopes somewhere");
    }
}
