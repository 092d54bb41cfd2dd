//! The Network zones page: owners and admins create, edit and delete zones (with a
//! confirmation, with or without JavaScript), the tokens using a zone follow its edits at once,
//! viewers only read, and a zone's name is shown as text whatever it holds.

use reqwest::StatusCode;
use secrecy::SecretString;

use super::post_form as post;
use super::{
    HttpSession, form_token, get, hidden_field, http_client, into_page, session_from,
    set_up_first_owner,
};
use crate::helpers::api::{admin_token, cli_token, id_of_token};
use crate::helpers::browser::Browser;
use crate::helpers::cli::scimd;
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const ZONES: &str = "/console/orgs/default/zones";
const SCRIPT_NAME: &str = "<script>alert(1)</script>";

/// The zones of `default` as the management API lists them.
async fn api_zones(app: &TestApp, admin: &str) -> serde_json::Value {
    app.api_get("/api/v1/zones", admin).await.body["zones"].clone()
}

on_both_backends! {
    async fn an_owner_creates_edits_and_deletes_zones_and_tokens_follow_at_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let mut browser = Browser::open(&app.base_url, &format!("zones-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        browser.click("Network zones").await;
        assert_eq!(browser.path().await, ZONES);
        assert!(browser.text().await.contains("no network zones yet"));

        // A mistake comes back beside its field, with what was typed.
        browser.fill("Name", "office").await;
        browser.fill("Networks", "10.0.0.1/24").await;
        browser.click("Create zone").await;
        assert!(browser.text_of(".field-error").await.contains("write the network 10.0.0.0/24"));
        let typed = browser.field("Name").await.prop("value").await.unwrap();
        assert_eq!(typed.as_deref(), Some("office"));
        browser.fill("Networks", "203.0.113.0/24\n2001:db8::/32").await;
        browser.click("Create zone").await;
        assert_eq!(browser.path().await, format!("{ZONES}?done=created"));
        let text = browser.text().await;
        assert!(text.contains("Zone created.") && text.contains("203.0.113.0/24, 2001:db8::/32"), "{text}");
        browser.fill("Name", "OFFICE").await;
        browser.fill("Networks", "192.0.2.0/24").await;
        browser.click("Create zone").await;
        assert!(browser.text_of(".field-error").await.contains("already exists"));

        // A name that is markup is shown as text, on the list, its page and in the dialog.
        browser.fill("Name", SCRIPT_NAME).await;
        browser.fill("Networks", "192.0.2.0/24").await;
        browser.click("Create zone").await;
        assert!(browser.text().await.contains(SCRIPT_NAME));
        browser.click(SCRIPT_NAME).await;
        assert!(browser.text_of("h1").await.contains(SCRIPT_NAME));
        browser.click("Delete zone").await;
        browser.click("Delete").await;
        browser.assert_no_dialog().await;
        assert_eq!(browser.path().await, format!("{ZONES}?done=deleted"));
        assert!(!browser.text().await.contains(SCRIPT_NAME));

        // A token used only from the office: refused from here until the office holds us.
        let token = cli_token(&app.database, "default", "Okta production", &["--only-from", "zone:office"]);
        assert_eq!(app.probe(&token).await, StatusCode::FORBIDDEN);
        browser.click("office").await;
        let text = browser.text().await;
        assert!(text.contains("Okta production") && text.contains("cannot be deleted"), "{text}");
        assert!(browser.find_control("Delete zone").await.is_none(), "no delete while in use");
        browser.fill("Networks", "203.0.113.0/24\n127.0.0.1").await;
        browser.click("Save zone").await;
        assert!(browser.text().await.contains("Zone saved."));
        assert_eq!(app.probe(&token).await, StatusCode::OK, "the token follows the zone at once");
        assert_eq!(api_zones(&app, &admin).await[0]["networks"], serde_json::json!(["203.0.113.0/24", "127.0.0.1/32"]));

        // Revoked, the token no longer holds the zone.
        let id = id_of_token(&app, &admin, &token).await;
        assert!(scimd(&app.database.url, &["token", "revoke", &id]).status.success());
        browser.click("Network zones").await;
        browser.click("office").await;
        browser.click("Delete zone").await;
        browser.click("Delete").await;
        assert_eq!(api_zones(&app, &admin).await, serde_json::json!([]));
        browser.close().await;
    }
}

/// A person of `default` with `role`, signed in over plain HTTP.
async fn person(app: &TestApp, email: &str, role: scimd::service::people::Role) -> HttpSession {
    use scimd::service::people::{self, Email};
    let store = app.database.store();
    let org = store
        .run_blocking(|conn| scimd::store::orgs::find_org_by_name(conn, "default"))
        .unwrap()
        .unwrap();
    let password = "a viewer's long password";
    people::create_with_password(
        &store,
        org.id,
        scimd::service::audit::Actor::Cli,
        Email::parse(email).unwrap(),
        None,
        role,
        SecretString::from(password),
    )
    .await
    .unwrap();
    let (form_cookie, csrf) = form_token(app, "/console/sign-in", &[]).await;
    let response = http_client()
        .post(app.url("/console/sign-in"))
        .header("Cookie", form_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    session_from(app, &into_page(response).await).await
}

on_both_backends! {
    async fn viewers_read_zones_and_a_forged_change_is_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let owner = set_up_first_owner(&app).await;
        let created = post(&app, &owner, ZONES, &[("name", "office"), ("networks", "10.0.0.0/8")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let id = api_zones(&app, &admin).await[0]["id"].as_str().unwrap().to_owned();
        let zone = format!("{ZONES}/{id}");

        let viewer = person(&app, "viewer@example.com", scimd::service::people::Role::Viewer).await;
        for path in [ZONES, zone.as_str()] {
            let page = get(&app, path, Some(&viewer.cookie)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.body.contains("10.0.0.0/8"), "{}", page.body);
            for control in ["Create zone", "Save zone", "Delete zone", "name=\"networks\""] {
                assert!(!page.body.contains(control), "{control} shown to a viewer on {path}");
            }
        }
        for (path, fields) in [
            (ZONES.to_owned(), vec![("name", "mine"), ("networks", "0.0.0.0/0")]),
            (zone.clone(), vec![("name", "office"), ("networks", "0.0.0.0/0")]),
            (format!("{zone}/delete"), vec![("confirmed", "yes")]),
        ] {
            let page = post(&app, &viewer, &path, &fields).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            page.assert_html();
        }
        // An admin may; without the form's token nobody may.
        let admin_person = person(&app, "admin@example.com", scimd::service::people::Role::Admin).await;
        let saved = post(&app, &admin_person, &zone, &[("name", "office"), ("networks", "10.0.0.0/16")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let forged = http_client()
            .post(app.url(&zone))
            .header("Cookie", &owner.cookie)
            .form(&[("name", "office"), ("networks", "0.0.0.0/0")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(api_zones(&app, &admin).await[0]["networks"], serde_json::json!(["10.0.0.0/16"]));
        let events = crate::helpers::api::audit_events(&app, &admin, "zone.updated").await;
        assert_eq!(events[0]["actor"], "person:admin@example.com");
    }
}

on_both_backends! {
    async fn without_javascript_deleting_asks_on_a_page_of_its_own(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |_| {}).await;
        let admin = admin_token(&app.database);
        let owner = set_up_first_owner(&app).await;
        post(&app, &owner, ZONES, &[("name", SCRIPT_NAME), ("networks", "10.0.0.0/8")]).await;
        let id = api_zones(&app, &admin).await[0]["id"].as_str().unwrap().to_owned();
        let delete = format!("{ZONES}/{id}/delete");

        let asked = post(&app, &owner, &delete, &[("confirmed", "")]).await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{}", asked.body);
        assert!(!asked.body.contains(SCRIPT_NAME), "unescaped: {}", asked.body);
        assert_eq!(hidden_field(&asked.body, "confirmed"), "yes");
        assert_eq!(api_zones(&app, &admin).await.as_array().unwrap().len(), 1, "not deleted yet");

        let deleted = post(&app, &owner, &delete, &[("confirmed", "yes")]).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);
        assert_eq!(deleted.header("location"), format!("{ZONES}?done=deleted"));
        assert_eq!(api_zones(&app, &admin).await, serde_json::json!([]));
        // Gone, or never there: the same 404 page.
        for path in [format!("{ZONES}/{id}"), format!("{ZONES}/not-an-id")] {
            let page = get(&app, &path, Some(&owner.cookie)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            page.assert_html();
        }
    }
}
