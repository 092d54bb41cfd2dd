//! The API Tokens pages in a real browser: generate (each preset, an expiry, a network
//! restriction), shown once, filter, sort, columns, the Active switch, revoke with its
//! confirmation, rotate, the detail page, status colours and escaping; and the flows without
//! JavaScript over plain HTTP.

use fantoccini::Locator;
use fantoccini::elements::Element;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{HttpSession, Page, get, hidden_field, http_client, into_page, set_up_first_owner};
use crate::helpers::TestApp;
use crate::helpers::api::{admin_token, eventually_audited};
use crate::helpers::browser::Browser;
use crate::on_both_backends;

const TOKENS: &str = "/console/orgs/default/tokens";

/// Status of `GET /scim/v2/Users` with `token`.
async fn users_status(app: &TestApp, token: &str) -> StatusCode {
    app.api_get("/scim/v2/Users", token).await.status
}

/// A control of the table row that names token `name`.
async fn in_row(browser: &Browser, name: &str, control: &str) -> Element {
    let xpath = format!(
        "//tr[td/a[normalize-space()={name:?}]]//*[self::a or self::button][@aria-label={control:?} or normalize-space()={control:?}]"
    );
    browser
        .client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|_| panic!("no {control:?} in the row of {name:?}"))
}

/// Names of the tokens the list shows, in its order.
async fn listed_names(browser: &Browser) -> Vec<String> {
    let mut names = Vec::new();
    for cell in browser
        .client
        .find_all(Locator::Css("#tokens tbody tr td:first-child a"))
        .await
        .unwrap()
    {
        names.push(cell.text().await.unwrap());
    }
    names
}

/// Text and class of the status badge in the row of token `name`.
async fn badge(browser: &Browser, name: &str) -> (String, String) {
    let xpath = format!("//tr[td/a[normalize-space()={name:?}]]//span[contains(@class,'badge')]");
    let badge = browser.client.find(Locator::XPath(&xpath)).await.unwrap();
    (
        badge.text().await.unwrap(),
        badge.attr("class").await.unwrap().unwrap_or_default(),
    )
}

/// Fills and sends the Generate token form; `choose` clicks radios and boxes by label.
async fn generate(
    browser: &mut Browser,
    name: &str,
    choose: &[&str],
    fields: &[(&str, &str)],
) -> String {
    browser.visit(TOKENS).await;
    browser.click("Generate token").await;
    browser.fill("Name", name).await;
    for label in choose {
        browser.field(label).await.click().await.unwrap();
    }
    for (label, value) in fields {
        // A date input takes keys in the browser's locale; its value is ISO whatever that is.
        let field = browser.field(label).await;
        browser
            .client
            .execute(
                "arguments[0].value = arguments[1]",
                vec![serde_json::to_value(&field).unwrap(), json!(value)],
            )
            .await
            .unwrap();
    }
    browser.click("Generate token").await;
    let heading = browser.text_of("h1").await;
    assert!(heading.starts_with("Token created"), "{heading}");
    browser.text_of("#new-token").await
}

/// Ticks "I have copied…" and closes, back to the list.
async fn close_secret(browser: &mut Browser) {
    let close = browser.client.find(Locator::Id("close")).await.unwrap();
    assert!(
        !close.is_enabled().await.unwrap(),
        "Close waits for the checkbox"
    );
    browser
        .field("I have copied this token to a safe place")
        .await
        .click()
        .await
        .unwrap();
    assert!(close.is_enabled().await.unwrap());
    browser.click("Close").await;
    assert_eq!(browser.path().await.trim_end_matches('?'), TOKENS);
}

on_both_backends! {
    async fn generated_tokens_are_shown_once_and_work_as_chosen(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::open(&app.base_url, &format!("tokens-generate-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;

        // SCIM provisioning, the default.
        let scim = generate(&mut browser, "Okta production", &[], &[]).await;
        assert!(scim.starts_with("wxt_"), "{scim}");
        assert!(browser.find_control("Copy").await.is_some(), "the script shows Copy");
        assert!(browser.find_control("Download").await.is_some());
        assert_eq!(users_status(&app, &scim).await, StatusCode::OK);
        // Reloading or going back never shows it again: the history holds the list instead.
        browser.client.refresh().await.unwrap();
        browser.check_page().await;
        assert_eq!(browser.path().await, TOKENS);
        assert!(!browser.text().await.contains(&scim));
        assert!(browser.text().await.contains("Okta production"));

        // Read only, expiring on a date.
        let read = generate(&mut browser, "Audit reader", &["Read only", "Expires on"], &[("Expiry date", "2031-01-31")]).await;
        assert!(browser.text().await.contains("2031-01-31"));
        close_secret(&mut browser).await;
        assert_eq!(users_status(&app, &read).await, StatusCode::OK);
        let write = app.api_post("/scim/v2/Users", &read, &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"})).await;
        assert_eq!(write.status, StatusCode::FORBIDDEN);

        // Custom, only from a network this client is not in.
        browser.visit(TOKENS).await;
        browser.click("Generate token").await;
        browser.fill("Name", "Office only").await;
        browser.field("Custom").await.click().await.unwrap();
        browser.click("Generate token").await;
        assert!(browser.text().await.contains("Choose at least one permission."), "the form again, with the error");
        assert_eq!(browser.field("Name").await.prop("value").await.unwrap().as_deref(), Some("Office only"));
        browser.field("scim:read").await.click().await.unwrap();
        browser.field("Only from these networks").await.click().await.unwrap();
        browser.fill("Networks", "10.0.0.0/8").await;
        browser.click("Generate token").await;
        let office = browser.text_of("#new-token").await;
        assert_eq!(users_status(&app, &office).await, StatusCode::FORBIDDEN, "127.0.0.1 is not in 10.0.0.0/8");
        close_secret(&mut browser).await;
        let text = browser.text().await;
        assert!(!text.contains(&office) && !text.contains(&read));

        // Custom: the activity log and nothing else, for a monitoring script.
        let monitor = generate(&mut browser, "Monitoring", &["Custom", "activity:read"], &[]).await;
        close_secret(&mut browser).await;
        app.api_get("/api/v1/activity", &monitor).await.assert_status(StatusCode::OK);
        assert_eq!(users_status(&app, &monitor).await, StatusCode::FORBIDDEN);

        // Not from a named zone that holds this client: refused; the zone is named on the form.
        let admin = admin_token(&app.database);
        app.api_post("/api/v1/zones", &admin, &json!({"name": "Loopback", "networks": ["127.0.0.0/8"]}))
            .await
            .assert_status(StatusCode::CREATED);
        browser.visit(&format!("{TOKENS}/new")).await;
        assert!(browser.text().await.contains("zone:Loopback"), "the form lists the zones");
        browser.fill("Name", "Not from here").await;
        browser.field("Not from these networks").await.click().await.unwrap();
        browser.fill("Networks", "zone:Loopback").await;
        browser.click("Generate token").await;
        let denied = browser.text_of("#new-token").await;
        assert_eq!(users_status(&app, &denied).await, StatusCode::FORBIDDEN);
        browser.close().await;
    }
}

on_both_backends! {
    async fn the_list_filters_sorts_remembers_columns_and_colours_each_status(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let create = |body: Value| { let app = &app; let admin = admin.clone(); async move {
            app.api_post("/api/v1/tokens", &admin, &body).await.assert_status(StatusCode::CREATED).clone()
        }};
        let used = create(json!({"name": "used today"})).await;
        create(json!({"name": "expiring soon", "expires_in_days": 3})).await;
        let rotated = create(json!({"name": "rotated away"})).await;
        create(json!({"name": "<script>alert(1)</script>", "description": "<img src=x onerror=alert(2)>"})).await;
        assert_eq!(app.probe(used["token"].as_str().unwrap()).await, StatusCode::OK);
        let old_id = rotated["id"].as_str().unwrap();
        let successor = app.api_post(&format!("/api/v1/tokens/{old_id}/rotate"), &admin, &json!({"grace_period_seconds": 0})).await;
        assert_eq!(app.probe(successor.body["token"].as_str().unwrap()).await, StatusCode::OK);
        assert_eq!(app.probe(rotated["token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED);
        eventually_audited(&app, &admin, "token.stale_use").await;
        // The background writes of the last uses.
        for id in [used["id"].as_str().unwrap(), successor.body["id"].as_str().unwrap()] {
            let path = format!("/api/v1/tokens/{id}");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while app.api_get(&path, &admin).await.body["health"] != "used_recently" {
                assert!(std::time::Instant::now() < deadline, "the use of {id} was never recorded");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }

        let mut browser = Browser::open(&app.base_url, &format!("tokens-list-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        assert_eq!(badge(&browser, "used today").await, ("Used recently".to_owned(), "badge badge-ok".to_owned()));
        assert_eq!(badge(&browser, "expiring soon").await, ("Expiring".to_owned(), "badge badge-bad".to_owned()));
        // The old "rotated away" is expired, so under Inactive and Suspicious; the default list
        // shows its successor (same name) only.
        let names = listed_names(&browser).await;
        assert_eq!(names.iter().filter(|name| *name == "rotated away").count(), 1, "{names:?}");
        assert_eq!(badge(&browser, "rotated away").await.0, "Used recently");
        browser.visit(&format!("{TOKENS}?status=suspicious")).await;
        assert_eq!(listed_names(&browser).await, ["rotated away"]);
        assert_eq!(badge(&browser, "rotated away").await, ("Suspicious".to_owned(), "badge badge-warn".to_owned()));

        // Outside values are text, never markup: no dialog opened on any page (checked on each).
        browser.visit(TOKENS).await;
        assert!(browser.text().await.contains("<script>alert(1)</script>"));
        assert!(browser.text().await.contains("<img src=x onerror=alert(2)>"));
        in_row(&browser, "<script>alert(1)</script>", "<script>alert(1)</script>").await.click().await.unwrap();
        browser.check_page().await;
        assert_eq!(browser.text_of("h1").await, "<script>alert(1)</script>");
        browser.visit("/console/orgs/default/audit").await;
        assert!(browser.text().await.contains("token '<script>alert(1)</script>'"));
        browser.assert_no_dialog().await;

        // Filter by name, then sort.
        browser.visit(TOKENS).await;
        browser.fill("Filter by name", "TODAY").await;
        browser.click("Apply").await;
        assert_eq!(listed_names(&browser).await, ["used today"]);
        browser.fill("Filter by name", "").await;
        browser.client.find(Locator::Css("#sort option[value='name-asc']")).await.unwrap().click().await.unwrap();
        browser.click("Apply").await;
        assert!(browser.path().await.contains("sort=name-asc"));
        let names = listed_names(&browser).await;
        let mut sorted = names.clone();
        sorted.sort_by_key(|name| name.to_lowercase());
        assert_eq!(names, sorted);

        // Columns: hidden, and still hidden after a reload.
        let scopes_heading = || async { browser.client.find(Locator::Css("th[data-column=scopes]")).await.unwrap() };
        assert!(scopes_heading().await.is_displayed().await.unwrap());
        browser.client.find(Locator::Css("details.columns-menu summary")).await.unwrap().click().await.unwrap();
        browser.field("Scopes").await.click().await.unwrap();
        assert!(!scopes_heading().await.is_displayed().await.unwrap());
        browser.client.refresh().await.unwrap();
        assert!(!scopes_heading().await.is_displayed().await.unwrap(), "remembered");
        browser.close().await;
    }
}

on_both_backends! {
    async fn tokens_are_disabled_enabled_revoked_rotated_and_edited_from_their_pages(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Entra"})).await;
        let plain = created.body["token"].as_str().unwrap().to_owned();
        let mut browser = Browser::open(&app.base_url, &format!("tokens-actions-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;

        // The Active switch.
        let switch = in_row(&browser, "Entra", "Active").await;
        assert_eq!(switch.attr("aria-checked").await.unwrap().as_deref(), Some("true"));
        switch.click().await.unwrap();
        browser.check_page().await;
        assert_eq!(users_status(&app, &plain).await, StatusCode::UNAUTHORIZED);
        let switch = in_row(&browser, "Entra", "Active").await;
        assert_eq!(switch.attr("aria-checked").await.unwrap().as_deref(), Some("false"));
        switch.click().await.unwrap();
        browser.check_page().await;
        assert_eq!(users_status(&app, &plain).await, StatusCode::OK);

        // Rotate: the successor is shown once and works; the detail page names both.
        in_row(&browser, "Entra", "Rotate").await.click().await.unwrap();
        browser.check_page().await;
        browser.click("Rotate").await;
        assert!(browser.text_of("h1").await.starts_with("Token rotated"));
        let successor = browser.text_of("#new-token").await;
        assert_ne!(successor, plain);
        assert_eq!(users_status(&app, &successor).await, StatusCode::OK);
        close_secret(&mut browser).await;

        // Edit on the detail page: the newest "Entra" is the successor.
        in_row(&browser, "Entra", "Entra").await.click().await.unwrap();
        browser.check_page().await;
        assert!(browser.text().await.contains("Rotated from"));
        browser.fill("Name", "Entra ID").await;
        browser.fill("Rate limit (requests per minute)", "120").await;
        browser.field("Inactive").await.click().await.unwrap();
        browser.click("Save changes").await;
        let text = browser.text().await;
        assert!(text.contains("Changes saved.") && text.contains("120 requests per minute"), "{text}");
        assert_eq!(users_status(&app, &successor).await, StatusCode::UNAUTHORIZED);
        assert!(text.contains("token.updated") && text.contains("token.disabled"), "its own events");
        browser.field("Active").await.click().await.unwrap();
        browser.click("Save changes").await;
        assert_eq!(users_status(&app, &successor).await, StatusCode::OK);

        // Revoke with the trash icon and its confirmation.
        browser.visit(TOKENS).await;
        in_row(&browser, "Entra ID", "Revoke token").await.click().await.unwrap();
        let dialog = browser.client.find(Locator::Css("dialog")).await.unwrap();
        assert!(dialog.text().await.unwrap().contains("Revoke 'Entra ID'? Integrations using it stop working immediately."));
        browser.click("Revoke").await;
        assert_eq!(users_status(&app, &successor).await, StatusCode::UNAUTHORIZED);
        assert!(!listed_names(&browser).await.contains(&"Entra ID".to_owned()));
        browser.visit(&format!("{TOKENS}?status=inactive")).await;
        assert!(listed_names(&browser).await.contains(&"Entra ID".to_owned()));
        browser.close().await;
    }
}

on_both_backends! {
    async fn without_javascript_revoking_asks_on_a_page_and_a_new_token_is_never_cached(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let admin = admin_token(&app.database);
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Plain"})).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let plain = created.body["token"].as_str().unwrap().to_owned();
        let post = |path: String, form: Vec<(&'static str, String)>| {
            let app = &app;
            let session = &session;
            async move {
                let response = http_client()
                    .post(app.url(&path))
                    .header("Cookie", &session.cookie)
                    .header("Origin", &app.base_url)
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                into_page(response).await
            }
        };
        let revoke = format!("{TOKENS}/{id}/revoke");
        let unconfirmed = post(revoke.clone(), vec![("csrf", session.csrf.clone())]).await;
        assert_eq!(unconfirmed.status, StatusCode::SEE_OTHER);
        assert_eq!(unconfirmed.header("location"), revoke);
        let confirmation = get(&app, &revoke, Some(&session.cookie)).await;
        assert!(confirmation.body.contains("Revoke 'Plain'? Integrations using it stop working immediately."), "{}", confirmation.body);
        assert_eq!(users_status(&app, &plain).await, StatusCode::OK, "not yet");
        let forged = post(revoke.clone(), vec![("confirmed", "yes".to_owned())]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token");
        let confirmed = post(revoke.clone(), vec![("csrf", session.csrf.clone()), ("confirmed", "yes".to_owned())]).await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
        assert_eq!(users_status(&app, &plain).await, StatusCode::UNAUTHORIZED);

        let form = get(&app, &format!("{TOKENS}/new"), Some(&session.cookie)).await;
        let nonce = hidden_field(&form.body, "nonce");
        let minted = post(format!("{TOKENS}/new"), vec![("csrf", session.csrf.clone()), ("name", "Scripted".to_owned()), ("nonce", nonce)]).await;
        assert_eq!(minted.status, StatusCode::OK, "{}", minted.body);
        assert_eq!(minted.header("cache-control"), "no-store");
        assert!(minted.header("location").is_empty());
        let start = minted.body.find("id=\"new-token\"").unwrap();
        let secret = &minted.body[start..];
        let secret = &secret[secret.find("wxt_").unwrap()..];
        let secret = &secret[..secret.find('<').unwrap()];
        assert_eq!(users_status(&app, secret).await, StatusCode::OK);
        let list = get(&app, TOKENS, Some(&session.cookie)).await;
        assert!(!list.body.contains(secret));

        // Another organization's token is no page here.
        let other = format!("{TOKENS}/00000000-0000-4000-8000-000000000000");
        assert_eq!(get(&app, &other, Some(&session.cookie)).await.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn a_viewer_sees_tokens_without_change_buttons_and_a_forged_change_is_403(backend: Backend) {
        use std::io::Write;
        use std::process::{Command, Stdio};

        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Okta"})).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let plain = created.body["token"].as_str().unwrap().to_owned();
        let (email, password) = ("viewer@example.com", "a viewer's long password");
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(["admin", "create", "--org", "default", "--email", email, "--role", "viewer", "--password-stdin"])
            .env("DATABASE_URL", &app.database.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");

        let (form_cookie, csrf) = crate::console::form_token(&app, "/console/sign-in", &[]).await;
        let response = http_client()
            .post(app.url("/console/sign-in"))
            .header("Cookie", form_cookie)
            .header("Origin", &app.base_url)
            .form(&[("csrf", csrf.as_str()), ("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        let signed_in = into_page(response).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
        let session = crate::console::session_from(&app, &signed_in).await;

        let list = get(&app, TOKENS, Some(&session.cookie)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("Okta"));
        for button in ["Generate token", "aria-label=\"Revoke token\"", "aria-label=\"Active\"", ">Rotate<"] {
            assert!(!list.body.contains(button), "a viewer sees {button}");
        }
        let detail = get(&app, &format!("{TOKENS}/{id}"), Some(&session.cookie)).await;
        assert_eq!(detail.status, StatusCode::OK);
        assert!(!detail.body.contains("Save changes") && !detail.body.contains(">Revoke<"));
        assert_eq!(get(&app, &format!("{TOKENS}/new"), Some(&session.cookie)).await.status, StatusCode::FORBIDDEN);

        for (path, field) in [("revoke", ("confirmed", "yes")), ("status", ("active", "no"))] {
            let response = http_client()
                .post(app.url(&format!("{TOKENS}/{id}/{path}")))
                .header("Cookie", &session.cookie)
                .header("Origin", &app.base_url)
                .form(&[("csrf", session.csrf.as_str()), field])
                .send()
                .await
                .unwrap();
            let page = into_page(response).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            page.assert_html();
        }
        assert_eq!(users_status(&app, &plain).await, StatusCode::OK, "nothing changed");
    }
}

/// Sends a console form as the browser of `session` would.
async fn post_form(
    app: &TestApp,
    session: &HttpSession,
    path: &str,
    form: &[(&str, &str)],
) -> Page {
    let response = http_client()
        .post(app.url(path))
        .header("Cookie", &session.cookie)
        .header("Origin", &app.base_url)
        .form(form)
        .send()
        .await
        .unwrap();
    into_page(response).await
}

/// The token list of the management API, by name.
async fn api_token_names(app: &TestApp, admin: &str) -> Vec<String> {
    let list = app.api_get("/api/v1/tokens", admin).await;
    list.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn sending_the_generate_or_rotate_form_twice_creates_one_token_and_shows_it_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let admin = admin_token(&app.database);
        let new_token = format!("{TOKENS}/new");

        // Without JavaScript, reloading the page that shows the token sends its form again.
        let form = get(&app, &new_token, Some(&session.cookie)).await;
        let nonce = hidden_field(&form.body, "nonce");
        let fields = [("csrf", session.csrf.as_str()), ("name", "Reloaded"), ("nonce", nonce.as_str())];
        let first = post_form(&app, &session, &new_token, &fields).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert!(first.body.contains("wxt_"));
        let again = post_form(&app, &session, &new_token, &fields).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        again.assert_html();
        assert!(again.body.contains("This token was already created; it is not shown again."), "{}", again.body);
        assert!(!again.body.contains("wxt_"), "the secret is not shown again");
        let names = api_token_names(&app, &admin).await;
        assert_eq!(names.iter().filter(|name| *name == "Reloaded").count(), 1, "{names:?}");

        // A form that failed creates nothing, so its nonce still works once corrected.
        let other = get(&app, &new_token, Some(&session.cookie)).await;
        let nonce = hidden_field(&other.body, "nonce");
        let blank = post_form(&app, &session, &new_token, &[("csrf", &session.csrf), ("name", " "), ("nonce", &nonce)]).await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", blank.body);
        assert_eq!(hidden_field(&blank.body, "nonce"), nonce);
        let corrected = post_form(&app, &session, &new_token, &[("csrf", &session.csrf), ("name", "Corrected"), ("nonce", &nonce)]).await;
        assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);

        // A form without its nonce is not one of ours.
        let scripted = post_form(&app, &session, &new_token, &[("csrf", &session.csrf), ("name", "No nonce")]).await;
        assert_eq!(scripted.status, StatusCode::BAD_REQUEST, "{}", scripted.body);
        scripted.assert_html();

        // Rotate: the same, and the successor is made once.
        let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": "Rotated twice"})).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let rotate = format!("{TOKENS}/{id}/rotate");
        let form = get(&app, &rotate, Some(&session.cookie)).await;
        let nonce = hidden_field(&form.body, "nonce");
        let fields = [("csrf", session.csrf.as_str()), ("grace", "0"), ("nonce", nonce.as_str())];
        let first = post_form(&app, &session, &rotate, &fields).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert!(first.body.contains("wxt_"));
        let again = post_form(&app, &session, &rotate, &fields).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(again.body.contains("This token was already rotated; the new token is not shown again."), "{}", again.body);
        assert!(!again.body.contains("wxt_"));
        let names = api_token_names(&app, &admin).await;
        assert_eq!(names.iter().filter(|name| *name == "Rotated twice").count(), 2, "the token and one successor: {names:?}");
    }
}

on_both_backends! {
    async fn the_token_list_warns_of_expiring_expired_and_leaked_tokens_by_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let admin = admin_token(&app.database);
        let mut ids = std::collections::HashMap::new();
        let mut secrets = std::collections::HashMap::new();
        for name in ["Soon <b>", "Tomorrow", "Gone", "Leaked", "Fine", "Ancient"] {
            let created = app.api_post("/api/v1/tokens", &admin, &json!({"name": name})).await;
            ids.insert(name, created.body["id"].as_str().unwrap().to_owned());
            secrets.insert(name, created.body["token"].as_str().unwrap().to_owned());
        }
        let now = chrono::Utc::now().naive_utc();
        let store = app.database.store();
        for (name, offset) in [
            ("Soon <b>", chrono::TimeDelta::days(5)),
            ("Tomorrow", chrono::TimeDelta::hours(12)),
            ("Gone", chrono::TimeDelta::days(-2)),
            ("Fine", chrono::TimeDelta::days(30)),
            ("Ancient", chrono::TimeDelta::days(-100)),
        ] {
            let (id, at) = (ids[name].clone(), (now + offset).format("%Y-%m-%d %H:%M:%S").to_string());
            store
                .run_blocking(move |conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(format!("UPDATE api_tokens SET expires_at = '{at}' WHERE id = '{id}'")).execute(conn)?;
                    Ok(())
                })
                .unwrap();
        }
        let leak = app.api_post("/api/v1/credentials/revoke", "", &json!({"tokens": [secrets["Leaked"]]})).await;
        assert_eq!(leak.status, StatusCode::ACCEPTED);

        let list = get(&app, TOKENS, Some(&session.cookie)).await;
        assert_eq!(list.status, StatusCode::OK);
        let start = list.body.find("id=\"token-warnings\"").expect("a warnings section");
        let section = &list.body[start..start + list.body[start..].find("</section>").unwrap()];
        let warning = |name: &str| {
            let link = format!("<a href=\"{TOKENS}/{}\">{}</a>", ids[name], name.replace('<', "&#60;").replace('>', "&#62;"));
            let at = section.find(&link).unwrap_or_else(|| panic!("no warning for {name}: {section}"));
            section[at + link.len()..].split("</p>").next().unwrap().trim().to_owned()
        };
        assert!(warning("Leaked").starts_with("was reported as leaked and revoked on "));
        assert!(warning("Gone").starts_with("expired on "));
        assert!(warning("Tomorrow").starts_with("expires within a day, at "));
        assert!(warning("Soon <b>").starts_with("expires in 5 days, on ") || warning("Soon <b>").starts_with("expires in 4 days, on "));
        assert!(!section.contains("Soon <b>"), "escaped");
        for quiet in ["Fine", "Ancient"] {
            assert!(!section.contains(&ids[quiet]), "{quiet} needs no warning: {section}");
        }
        // Most urgent first: the leak, the expired token, then by expiry.
        let order: Vec<usize> = ["Leaked", "Gone", "Tomorrow", "Soon <b>"].iter().map(|name| section.find(&ids[*name]).unwrap()).collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{section}");
    }
}
