//! The Change feed page: owners and admins create poll and push streams (a poll stream's
//! token shown once, a push stream's authorization never), pause, resume and delete them
//! with a confirmation; viewers are refused; a stream's name is shown as text; a push URL the
//! server may not push to is a form error.

use reqwest::StatusCode;
use serde_json::json;

use super::post_form as post;
use super::{add_person, get, set_up_first_owner};
use crate::events::{drain, events_admin};
use crate::helpers::TestApp;
use crate::helpers::scim::alice;
use crate::on_both_backends;

const EVENTS: &str = "/console/orgs/default/events";
const SCRIPT_NAME: &str = "<script>alert(1)</script>";
const LONG_URL: &str = "https://events.receiver.example/scim/v2/organizations/9f8e7d6c-5b4a-3210-fedc-ba9876543210/security-event-tokens?tenant=acme-production-eu-west";

on_both_backends! {
    async fn owners_manage_streams_and_viewers_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let owner = set_up_first_owner(&app).await;
        let page = get(&app, EVENTS, Some(&owner.cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("no event streams yet"));

        // A poll stream: its token once, and it polls.
        let created = post(&app, &owner, EVENTS, &[("name", "hr"), ("delivery", "poll"), ("detail", "notice"), ("resource_type", "all")]).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        let token = created.body.split("<code id=\"new-token\" class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
        assert!(token.starts_with("wxt_"), "{token}");
        app.create_user(&alice()).await;
        let admin = events_admin(&app, "default");
        let streams = app.api_get("/api/v1/events/streams", &admin).await.body["streams"].clone();
        let hr = streams[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(drain(&app, &hr, &token).await.len(), 1);

        // A push stream whose name is markup; its authorization never comes back.
        let pushed = post(&app, &owner, EVENTS, &[("name", SCRIPT_NAME), ("delivery", "push"), ("detail", "full"), ("resource_type", "User"), ("push_url", "https://receiver.example/events"), ("push_authorization", "Bearer receiver-secret-42")]).await;
        assert_eq!(pushed.status, StatusCode::SEE_OTHER, "{}", pushed.body);
        let page = get(&app, &format!("{EVENTS}?done=created"), Some(&owner.cookie)).await;
        assert!(page.body.contains("Stream created.") && page.body.contains("https://receiver.example/events"));
        assert!(!page.body.contains(SCRIPT_NAME) && page.body.contains("alert(1)"), "the name is escaped");
        assert!(!page.body.contains("receiver-secret-42"));
        // A push stream without a URL comes back with the mistake.
        let wrong = post(&app, &owner, EVENTS, &[("name", "x"), ("delivery", "push"), ("detail", "notice"), ("resource_type", "all")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains("needs the receiver"), "{}", wrong.body);
        // So does one to this machine, which the server refuses to push to by default.
        let refused = post(&app, &owner, EVENTS, &[("name", "local"), ("delivery", "push"), ("detail", "notice"), ("resource_type", "all"), ("push_url", "http://127.0.0.1:9/events")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.assert_html();
        assert!(refused.body.contains("a loopback address") && refused.body.contains("--events-push-allow"), "{}", refused.body);
        assert!(refused.body.contains("http://127.0.0.1:9/events"), "the form keeps what was typed");

        // Pause, resume; delete asks first.
        let paused = post(&app, &owner, &format!("{EVENTS}/{hr}/status"), &[("enabled", "no")]).await;
        assert_eq!(paused.status, StatusCode::SEE_OTHER);
        assert_eq!(app.api_get(&format!("/api/v1/events/streams/{hr}"), &admin).await.body["status"], "paused");
        post(&app, &owner, &format!("{EVENTS}/{hr}/status"), &[("enabled", "yes")]).await;
        assert_eq!(app.api_get(&format!("/api/v1/events/streams/{hr}"), &admin).await.body["status"], "enabled");
        let ask = post(&app, &owner, &format!("{EVENTS}/{hr}/delete"), &[]).await;
        assert_eq!(ask.status, StatusCode::OK);
        assert!(ask.body.contains("Delete stream hr?"), "{}", ask.body);
        let deleted = post(&app, &owner, &format!("{EVENTS}/{hr}/delete"), &[("confirmed", "yes")]).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);
        assert_eq!(app.api_get("/api/v1/events/streams", &admin).await.body["streams"].as_array().unwrap().len(), 1);

        // Viewers see none of it.
        let viewer = add_person(&app, "viewer@example.com", "viewer").await;
        let page = get(&app, EVENTS, Some(&viewer.cookie)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        page.assert_html();
        let forged = post(&app, &viewer, EVENTS, &[("name", "mine"), ("delivery", "poll")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(json!(app.api_get("/api/v1/events/streams", &admin).await.body["streams"].as_array().unwrap().len()), json!(1));
    }
}

on_both_backends! {
    async fn the_change_feed_and_token_warnings_read_well_in_a_browser(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = events_admin(&app, "default");
        let created = app.api_post("/api/v1/events/streams", &admin, &json!({"name": SCRIPT_NAME, "delivery": "push", "detail": "notice", "push_url": "https://receiver.example/events", "push_authorization": "Bearer receiver-secret-42"})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        // A receiver URL longer than a phone is wide must not widen the page.
        let long = app.api_post("/api/v1/events/streams", &admin, &json!({"name": "long", "delivery": "push", "push_url": LONG_URL})).await;
        assert_eq!(long.status, StatusCode::CREATED, "{}", long.body);
        let expiring = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Okta <i>prod</i>", "scopes": ["scim:read"], "expires_at": (chrono::Utc::now() + chrono::TimeDelta::hours(12)).to_rfc3339()})).await;
        assert_eq!(expiring.status, StatusCode::CREATED, "{}", expiring.body);

        let mut browser = crate::helpers::browser::Browser::open(&app.base_url, &format!("events-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        let tokens = browser.text().await;
        assert!(tokens.contains("Okta <i>prod</i>"), "the expiring token is named as text: {tokens}");
        browser.check_narrow().await;
        browser.click("Change feed").await;
        assert_eq!(browser.path().await, EVENTS);
        let text = browser.text().await;
        assert!(text.contains(SCRIPT_NAME) && text.contains("https://receiver.example/events"), "{text}");
        assert!(text.contains(LONG_URL), "{text}");
        assert!(!text.contains("receiver-secret-42"));
        browser.check_narrow().await;
        browser.close().await;
    }
}
