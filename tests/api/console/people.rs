//! The People and Account pages: invitations shown once, roles, removal with the token
//! hand-over, and ending sessions.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use scimd::auth::Scopes;
use scimd::auth::bounds::Permissions;
use scimd::service::audit::Actor;
use scimd::service::input::TokenName;
use scimd::service::people::{self, Email, Role};
use scimd::service::tokens::{self, Caller, TokenRequest};

use super::post_form as post;
use super::{
    HttpSession, OWNER_EMAIL, OWNER_PASSWORD, form_token, get, http_client, into_page, session_from,
};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::on_both_backends;

const PEOPLE: &str = "/console/orgs/default/people";

/// Signs `email` in with the sign-in form over plain HTTP: a second browser, as the server
/// sees it.
async fn sign_in_over_http(app: &TestApp, email: &str, password: &str) -> HttpSession {
    let (form_cookie, csrf) = form_token(app, "/console/sign-in", &[]).await;
    let response = http_client()
        .post(app.url("/console/sign-in"))
        .header("Cookie", form_cookie)
        .header("Origin", &app.base_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let page = into_page(response).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    session_from(app, &page).await
}

/// Makes `email` a member of `default` with a password, as `scimd admin create
/// --password-stdin` does.
async fn add_person(app: &TestApp, email: &str, role: Role) {
    let store = app.database.store();
    let org = store
        .run_blocking(|conn| scimd::store::orgs::find_org_by_name(conn, "default"))
        .unwrap()
        .unwrap();
    people::create_with_password(
        &store,
        org.id,
        Actor::Cli,
        Email::parse(email).unwrap(),
        None,
        role,
        SecretString::from(OWNER_PASSWORD),
    )
    .await
    .unwrap();
}

/// A SCIM token of `default` created in the console by `email`.
fn token_created_by(app: &TestApp, email: &str, name: &str) -> String {
    let caller = Caller::Admin(Actor::Person(email.to_owned()));
    let issued = app
        .database
        .store()
        .write_blocking(|conn| {
            let org = scimd::store::orgs::find_org_by_name(conn, "default")?.unwrap();
            let request = TokenRequest {
                name: TokenName::parse(name)?,
                description: None,
                permissions: Permissions {
                    scopes: Scopes::SCIM,
                    expires_at: None,
                    restrictions: Default::default(),
                },
            };
            tokens::create(conn, &org.id, &caller, &request, scimd::store::now())
        })
        .unwrap();
    issued.plain.expose_secret().to_owned()
}

async fn users_status(app: &TestApp, token: &str) -> StatusCode {
    app.client
        .get(app.url("/scim/v2/Users"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until a click's navigation reached `path`, then checks the page (axe, screenshot).
async fn arrive(browser: &mut Browser, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.path().await != path {
        assert!(
            Instant::now() < deadline,
            "still at {}",
            browser.path().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.check_page().await;
}

on_both_backends! {
    async fn an_owner_invites_a_viewer_who_sees_no_change_buttons_and_cannot_forge_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut owner = Browser::open(&app.base_url, &format!("people-owner-{backend:?}")).await;
        owner.set_up_first_owner(&app.setup_path).await;
        owner.click("People").await;
        assert_eq!(owner.path().await, PEOPLE);

        owner.fill("Email", "Vera@Example.com").await;
        owner.fill("Name", "Vera <b>Viewer</b>").await;
        owner.click("Invite").await;
        let text = owner.text().await;
        assert!(text.contains("vera@example.com is now viewer of default"), "{text}");
        assert!(text.contains("it will not be shown again"), "{text}");
        let link = owner.text_of("#setup-link").await;
        let setup_path = link
            .strip_prefix(&app.base_url)
            .unwrap_or_else(|| panic!("{link}"))
            .to_owned();
        assert!(setup_path.starts_with("/console/setup?code="), "{setup_path}");
        assert!(owner.find_control("Copy").await.is_some(), "the Copy button");
        // Shown once: the list again holds no link, and the URL never did.
        owner.visit(PEOPLE).await;
        assert!(!owner.text().await.contains("/console/setup?code="));
        assert_eq!(owner.path().await, PEOPLE);
        assert!(owner.text().await.contains("Set-up pending"));

        let mut viewer = Browser::open(&app.base_url, &format!("people-viewer-{backend:?}")).await;
        viewer.visit(&setup_path).await;
        assert!(viewer.text().await.contains("vera@example.com"));
        viewer.fill("Password", "viewer's long password").await;
        viewer.fill("Password again", "viewer's long password").await;
        viewer.click("Create account and sign in").await;
        viewer.visit(PEOPLE).await;
        let text = viewer.text().await;
        assert!(text.contains("Vera <b>Viewer</b>"), "escaped, as typed: {text}");
        assert!(text.contains(OWNER_EMAIL), "{text}");
        for control in ["Invite", "Change role", "Remove owner@example.com", "Remove vera@example.com"] {
            assert!(viewer.find_control(control).await.is_none(), "a viewer sees {control:?}");
        }
        assert!(!text.contains("Invite someone"), "{text}");

        // Whatever a viewer forges is refused, and changes nothing.
        let forged = sign_in_over_http(&app, "vera@example.com", "viewer's long password").await;
        for (path, fields) in [
            ("/console/orgs/default/people/invite", vec![("email", "mallory@example.com"), ("role", "owner")]),
            ("/console/orgs/default/people/role", vec![("email", "vera@example.com"), ("role", "owner")]),
            ("/console/orgs/default/people/remove", vec![("email", OWNER_EMAIL)]),
        ] {
            let page = post(&app, &forged, path, &fields).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
            page.assert_html();
        }
        let confirm = get(&app, "/console/orgs/default/people/remove?email=owner%40example.com", Some(&forged.cookie)).await;
        assert_eq!(confirm.status, StatusCode::FORBIDDEN);

        // The owner makes her an admin: the select of her row, and its own button.
        owner.visit(PEOPLE).await;
        let select = owner.field("Role of vera@example.com").await;
        select.select_by_value("admin").await.unwrap();
        select
            .find(Locator::XPath("following-sibling::button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        arrive(&mut owner, &format!("{PEOPLE}?done=role")).await;
        assert!(owner.text().await.contains("Role changed."));
        let store = app.database.store();
        let org = store.run_blocking(|conn| scimd::store::orgs::find_org_by_name(conn, "default")).unwrap().unwrap();
        let roles = store.run_blocking(|conn| people::list(conn, &org.id)).unwrap();
        let vera = roles.iter().find(|m| m.email == "vera@example.com").unwrap();
        assert_eq!(vera.role, Role::Admin);
        owner.close().await;
        viewer.close().await;
    }
}

on_both_backends! {
    async fn removing_a_person_hands_over_their_tokens_and_ends_their_session(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut owner = Browser::open(&app.base_url, &format!("people-remove-{backend:?}")).await;
        owner.set_up_first_owner(&app.setup_path).await;
        add_person(&app, "bob@example.com", Role::Admin).await;
        let bob = sign_in_over_http(&app, "bob@example.com", OWNER_PASSWORD).await;
        let kept = token_created_by(&app, "bob@example.com", "Okta production");
        let revoked = token_created_by(&app, "bob@example.com", "Entra <i>test</i>");

        owner.visit(PEOPLE).await;
        owner.click("Remove bob@example.com").await;
        let text = owner.text().await;
        assert!(text.contains("Okta production") && text.contains("Entra <i>test</i>"), "{text}");
        // Newest first: the second token is the first choice.
        owner.field("Revoke").await.click().await.unwrap();
        owner.click("Remove").await;
        assert_eq!(owner.path().await, format!("{PEOPLE}?done=removed"));
        assert!(owner.text().await.contains("Person removed"));
        assert!(!owner.text().await.contains("bob@example.com"));

        assert_eq!(users_status(&app, &kept).await, StatusCode::OK, "kept for the IdP");
        assert_eq!(users_status(&app, &revoked).await, StatusCode::UNAUTHORIZED);
        let after = get(&app, "/console/orgs/default/tokens", Some(&bob.cookie)).await;
        assert_eq!(after.status, StatusCode::SEE_OTHER, "bob's session died");
        assert!(after.header("location").starts_with("/console/sign-in"));

        // The last owner stays one.
        let own = sign_in_over_http(&app, OWNER_EMAIL, OWNER_PASSWORD).await;
        let demoted = post(&app, &own, "/console/orgs/default/people/role", &[("email", OWNER_EMAIL), ("role", "viewer")]).await;
        assert_eq!(demoted.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(demoted.body.contains("only owner"), "{}", demoted.body);
        let removed = post(&app, &own, "/console/orgs/default/people/remove", &[("email", OWNER_EMAIL)]).await;
        assert_eq!(removed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(removed.body.contains("only owner"), "{}", removed.body);
        owner.close().await;
    }
}

on_both_backends! {
    async fn sign_out_everywhere_ends_the_other_sessions_and_keeps_this_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::open(&app.base_url, &format!("account-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        let elsewhere = sign_in_over_http(&app, OWNER_EMAIL, OWNER_PASSWORD).await;

        // The account menu's "Account and sessions" link leads here.
        browser.visit("/console/account").await;
        let sessions = browser.text_of("#sessions").await;
        assert!(sessions.contains("This session"), "{sessions}");
        assert!(sessions.contains("HeadlessChrome"), "{sessions}");
        assert_eq!(sessions.lines().filter(|line| line.contains("127.0.0.1")).count(), 2, "{sessions}");

        browser.fill("Display name", "Ada O.").await;
        browser.click("Save name").await;
        assert!(browser.text().await.contains("Name saved."));
        assert!(browser.text().await.contains("Ada O."));

        browser.click("Sign out everywhere").await;
        assert!(browser.text().await.contains("Signed out of 1 other session."), "{}", browser.text().await);
        let other = get(&app, "/console/orgs/default/tokens", Some(&elsewhere.cookie)).await;
        assert_eq!(other.status, StatusCode::SEE_OTHER, "the other session ended");
        browser.visit("/console/orgs/default/tokens").await;
        assert_eq!(browser.path().await, "/console/orgs/default/tokens", "this one stays");

        let third = sign_in_over_http(&app, OWNER_EMAIL, OWNER_PASSWORD).await;
        let forged = post(&app, &HttpSession { csrf: String::new(), ..third }, "/console/account/sign-out-everywhere", &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        browser.close().await;
    }
}

on_both_backends! {
    async fn inviting_someone_invited_to_another_organization_hands_out_no_set_up_link(backend: Backend) {
        use crate::helpers::cli::{scimd, stdout};

        let app = TestApp::spawn(backend).await;
        let own = crate::console::set_up_first_owner(&app).await;
        let url = &app.database.url;
        assert!(scimd(url, &["org", "create", "acme"]).status.success());
        let invited = scimd(url, &["admin", "create", "--org", "acme", "--email", "victim@example.com", "--role", "owner"]);
        assert!(invited.status.success(), "{invited:?}");
        let printed = stdout(&invited);
        let their_link = &printed[printed.find("/console/setup?code=").expect("a set-up link")..];
        let their_link = their_link.split_whitespace().next().unwrap().to_owned();

        // An owner of `default` who learns the address must not get to choose the password of
        // acme's owner-to-be.
        let page = post(&app, &own, &format!("{PEOPLE}/invite"), &[("email", "victim@example.com"), ("display_name", ""), ("role", "viewer")]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("victim@example.com is now viewer of default"), "{}", page.body);
        assert!(!page.body.contains("/console/setup?code="), "a link to their account: {}", page.body);
        let theirs = get(&app, &their_link, None).await;
        assert_eq!(theirs.status, StatusCode::OK, "their own link still works: {}", theirs.body);

        // Someone new still gets a link.
        let page = post(&app, &own, &format!("{PEOPLE}/invite"), &[("email", "new@example.com"), ("display_name", ""), ("role", "viewer")]).await;
        assert!(page.body.contains("/console/setup?code="), "{}", page.body);
    }
}
