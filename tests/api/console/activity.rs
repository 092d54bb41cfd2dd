//! The Activity page: an admin finds why an IdP's request failed, with the request and the
//! answer, and reaches the requests that touched a directory user.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{get, set_up_first_owner};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::cli::{scimd, stdout};
use crate::on_both_backends;

const OKTA: (&str, &str) = ("User-Agent", "Okta SCIM Client 1.0.0");
const PASSWORD: &str = "Zq-console-secret-9";

/// `scimd activity --org ORG --json`, once the background writer has `count` entries.
fn cli_activity(app: &TestApp, org: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let output = scimd(&app.database.url, &["activity", "--org", org, "--json"]);
        assert!(output.status.success(), "{output:?}");
        let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let entries = listed["activity"].as_array().unwrap().clone();
        if entries.len() == count {
            return entries;
        }
        assert!(
            Instant::now() < deadline,
            "{count} entries expected: {entries:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

on_both_backends! {
    async fn an_admin_sees_a_failed_request_with_its_redacted_bodies(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "<b>mallory</b>@example.com",
            "password": PASSWORD,
        });
        let created = app.post_json_with("/scim/v2/Users", &body, &[OKTA]).await;
        let user = created.assert_resource(StatusCode::CREATED, "User").clone();
        app.post_json_with("/scim/v2/Users", &body, &[OKTA]).await.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        cli_activity(&app, "default", 2);

        let mut browser = Browser::open(&app.base_url, &format!("activity-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        browser.click("Activity").await;
        assert_eq!(browser.path().await, "/console/orgs/default/activity");
        let text = browser.text().await;
        assert!(text.contains("409 failed"), "failures say so in words: {text}");
        assert!(text.contains("Okta created <b>mallory</b>@example.com"), "{text}");

        browser.choose("Failed requests only").await;
        browser.click("Filter").await;
        let text = browser.text().await;
        assert!(!text.contains("Okta created"), "{text}");
        browser.click("Okta: 409 uniqueness on <b>mallory</b>@example.com").await;
        let request = browser.text_of("#request-body-heading + pre").await;
        assert!(request.contains("\"password\": \"[redacted]\""), "{request}");
        assert!(!browser.text().await.contains(PASSWORD));
        let response = browser.text_of("#response-body-heading + pre").await;
        assert!(response.contains("\"scimType\": \"uniqueness\""), "{response}");
        let bold = browser.client.find_all(fantoccini::Locator::Css("main b")).await.unwrap();
        assert!(bold.is_empty(), "markup from the IdP became an element");

        let user_page = format!("/console/orgs/default/directory/users/{}", user["id"].as_str().unwrap());
        browser.visit(&user_page).await;
        browser.click("Requests that touched this user").await;
        let text = browser.text().await;
        assert!(text.contains("Okta created <b>mallory</b>@example.com"), "{text}");
        browser.check_narrow().await;
        browser.close().await;
    }
}

on_both_backends! {
    async fn another_organization_s_activity_is_not_found_in_the_console(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let acme = app.second_org_token("acme");
        let reply = app
            .call(reqwest::Method::POST, "/scim/v2/Users", &acme, Some(&json!({"userName": "wile@acme.example"})), &[])
            .await;
        reply.assert_status(StatusCode::CREATED);
        let entry_id = cli_activity(&app, "acme", 1)[0]["id"].as_str().unwrap().to_owned();

        for path in [
            "/console/orgs/acme/activity".to_owned(),
            format!("/console/orgs/acme/activity/{entry_id}"),
            format!("/console/orgs/default/activity/{entry_id}"),
        ] {
            let page = get(&app, &path, Some(&session.cookie)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {path}: {}", page.body);
            assert!(!page.body.contains("wile@acme"), "GET {path} tells: {}", page.body);
        }
        let own = get(&app, "/console/orgs/default/activity", Some(&session.cookie)).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(!own.body.contains("wile@acme"), "{}", own.body);
    }
}
