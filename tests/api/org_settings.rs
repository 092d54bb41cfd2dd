//! An organization's settings: the default rate limit of its tokens applies at once, on every
//! instance, through the management API and the CLI.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{ApiReply, cli_token};
use crate::helpers::app::{TestApp, assert_scim_error};
use crate::helpers::cli::{scimd, stdout};
use crate::on_both_backends;

async fn patch_org(app: &TestApp, admin: &str, body: Value) -> ApiReply {
    app.call(Method::PATCH, "/api/v1/org", admin, Some(&body), &[])
        .await
}

on_both_backends! {
    async fn an_organizations_default_rate_limit_applies_at_once_on_every_instance(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // The admin has a limit of its own, so the organization's does not slow it down.
        let admin = cli_token(&app.database, "default", "admin", &["--scope", "scim:read tokens:manage", "--rate-limit", "1000000"]);
        let own_limit = cli_token(&app.database, "default", "own limit", &["--rate-limit", "100"]);
        let other = app.spawn_beside().await;
        // Both instances have looked the token up (and SQLite's may keep it) before the change.
        assert_eq!(app.probe(&app.token).await, StatusCode::OK);
        assert_eq!(other.probe(&app.token).await, StatusCode::OK);

        let org = app.api_get("/api/v1/org", &admin).await;
        assert_eq!(org.body["name"], "default");
        assert_eq!(org.body["default_rate_limit_per_minute"], Value::Null);
        let changed = patch_org(&app, &admin, json!({"default_rate_limit_per_minute": 3})).await;
        assert_eq!(changed.assert_status(StatusCode::OK)["default_rate_limit_per_minute"], 3);
        TestApp::let_other_instances_learn_of_it(backend).await;

        for _ in 0..3 {
            assert_eq!(other.probe(&app.token).await, StatusCode::OK);
        }
        let limited = other.api_get("/scim/v2/ServiceProviderConfig", &app.token).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.header("retry-after").is_some());
        for _ in 0..5 {
            assert_eq!(app.probe(&own_limit).await, StatusCode::OK, "a token's own limit wins");
        }

        let lifted = patch_org(&app, &admin, json!({"default_rate_limit_per_minute": null})).await;
        assert_eq!(lifted.body["default_rate_limit_per_minute"], Value::Null);
        TestApp::let_other_instances_learn_of_it(backend).await;
        assert_eq!(other.probe(&app.token).await, StatusCode::OK, "lifted at once");

        let audited = app.api_get("/api/v1/audit?type=org.updated", &admin).await;
        assert_eq!(audited.body["events"].as_array().unwrap().len(), 2);
        assert!(audited.body["events"][0]["actor"].as_str().unwrap().starts_with("token:"));

        for bad in [json!({"default_rate_limit_per_minute": 0}), json!({"inactivity_days": 0}), json!({"default_rate_limit_per_minute": 1_000_001})] {
            let reply = patch_org(&app, &admin, bad).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
        let unknown = patch_org(&app, &admin, json!({"colour": "blue"})).await;
        assert_scim_error(unknown.status, &unknown.body, StatusCode::BAD_REQUEST, Some("invalidSyntax"));
        let scim_only = app.api_get("/api/v1/org", &app.token).await;
        assert_eq!(scim_only.status, StatusCode::FORBIDDEN);

        // The CLI sets the same setting.
        let set = scimd(&app.database.url, &["org", "set-rate-limit", "default", "2"]);
        assert!(set.status.success(), "{set:?}");
        assert!(stdout(&set).contains("2 requests per minute"), "{}", stdout(&set));
        assert_eq!(app.api_get("/api/v1/org", &admin).await.body["default_rate_limit_per_minute"], 2);
        let listed = stdout(&scimd(&app.database.url, &["org", "list", "--json"]));
        assert!(listed.contains("\"default_rate_limit_per_minute\": 2"), "{listed}");
        let off = scimd(&app.database.url, &["org", "set-rate-limit", "default", "off"]);
        assert!(off.status.success(), "{off:?}");
        let bad = scimd(&app.database.url, &["org", "set-rate-limit", "default", "many"]);
        assert!(!bad.status.success());
        let inactivity = patch_org(&app, &admin, json!({"inactivity_days": 30})).await;
        assert_eq!(inactivity.body["inactivity_days"], 30);
        assert_eq!(inactivity.body["default_rate_limit_per_minute"], Value::Null);
    }
}
