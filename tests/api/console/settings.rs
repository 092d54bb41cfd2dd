//! Organization settings: the inactivity policy and the default rate limit.

use reqwest::StatusCode;

use super::{add_person, get, post_form, set_up_first_owner};
use crate::helpers::api::admin_token;
use crate::helpers::browser::Browser;
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends! {
    async fn an_owner_sets_the_token_policies_and_mistakes_are_shown_at_the_field(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.rate_limit_per_minute = Some(600);
        })
        .await;
        let mut browser = Browser::open(&app.base_url, &format!("settings-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        browser.click("Settings").await;
        browser.field("The server's default (600 requests per minute)").await;
        browser.choose("Tokens unused for a number of days stop working").await;
        browser.fill("Days without use", "5000").await;
        browser.choose("A limit for this organization").await;
        browser.fill("Requests per minute", "120").await;
        browser.click("Save settings").await;
        let error = browser.text_of("#inactivity-error").await;
        assert!(error.contains("3650"), "{error}");
        assert_eq!(browser.field("Requests per minute").await.prop("value").await.unwrap().as_deref(), Some("120"), "kept as typed");

        browser.fill("Days without use", "45").await;
        browser.click("Save settings").await;
        assert!(browser.text().await.contains("Settings saved"));
        browser.visit("/console/orgs/default/settings").await;
        assert_eq!(browser.field("Days without use").await.prop("value").await.unwrap().as_deref(), Some("45"));
        assert_eq!(browser.field("Requests per minute").await.prop("value").await.unwrap().as_deref(), Some("120"));

        // The same settings the management API shows.
        let admin = admin_token(&app.database);
        let org = app.api_get("/api/v1/org", &admin).await.assert_status(StatusCode::OK).clone();
        assert_eq!(org["inactivity_days"], 45, "{org}");
        assert_eq!(org["default_rate_limit_per_minute"], 120, "{org}");
        browser.close().await;
    }
}

on_both_backends! {
    async fn a_viewer_reads_the_settings_and_cannot_change_them(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        set_up_first_owner(&app).await;
        let viewer = add_person(&app, "viewer@example.com", "viewer").await;
        let page = get(&app, "/console/orgs/default/settings", Some(&viewer.cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("Save settings"), "no button for a viewer");
        let forged = post_form(&app, &viewer, "/console/orgs/default/settings", &[
            ("inactivity", "days"),
            ("inactivity_days", "1"),
            ("rate_limit", "server"),
        ])
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        forged.assert_html();
        let admin = admin_token(&app.database);
        let org = app.api_get("/api/v1/org", &admin).await.assert_status(StatusCode::OK).clone();
        assert_eq!(org["inactivity_days"], serde_json::Value::Null, "{org}");
    }
}
