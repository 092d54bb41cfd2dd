//! Signing in and out, set-up links, sessions and CSRF.

use reqwest::StatusCode;

use super::{
    OWNER_EMAIL, OWNER_PASSWORD, form_token, get, http_client, into_page, session_from,
    set_up_first_owner, sign_in_over_http,
};
use crate::helpers::browser::Browser;
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends! {
    async fn the_first_start_link_makes_the_first_owner_who_can_sign_out_and_in(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::open(&app.base_url, &format!("first-owner-{backend:?}")).await;

        browser.set_up_first_owner(&app.setup_path).await;
        let text = browser.text().await;
        assert!(text.contains("API Tokens"), "{text}");
        assert!(text.contains("Ada Owner"), "{text}");
        browser.check_narrow().await;

        browser.click("Sign out").await;
        assert_eq!(browser.path().await, "/console/sign-in");
        // Signed out means signed out: the console sends the browser to sign in again.
        browser.visit("/console/orgs/default/tokens").await;
        assert!(browser.path().await.starts_with("/console/sign-in?next="));

        // A set-up link works once.
        browser.visit(&app.setup_path).await;
        assert!(browser.text().await.contains("Set-up link not valid"));

        // A wrong password and an unknown address get the same sentence.
        let mut messages = Vec::new();
        for (email, password) in [(OWNER_EMAIL, "not the password"), ("nobody@example.com", OWNER_PASSWORD)] {
            browser.sign_in(email, password).await;
            assert_eq!(browser.path().await, "/console/sign-in");
            messages.push(browser.text_of("[role=alert]").await);
        }
        assert_eq!(messages[0], messages[1]);
        assert!(messages[0].contains("incorrect"), "{messages:?}");

        // Back to the page that was asked for.
        browser.visit("/console/orgs/default/tokens").await;
        browser.fill("Email", OWNER_EMAIL).await;
        browser.fill("Password", OWNER_PASSWORD).await;
        browser.click("Sign in").await;
        assert_eq!(browser.path().await, "/console/orgs/default/tokens");
        browser.close().await;
    }
}

on_both_backends! {
    async fn another_organization_is_a_404_page(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        scimd::bootstrap::ensure_org(&app.database.store(), "other").unwrap();
        for path in ["/console/orgs/other/tokens", "/console/orgs/nonexistent/tokens"] {
            let page = get(&app, path, Some(&session.cookie)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            page.assert_html();
            assert!(page.body.contains("Page not found"));
        }
        // Signed in already, the sign-in page leads on.
        let again = get(&app, "/console/sign-in?next=/console/orgs/default/tokens", Some(&session.cookie)).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.header("location"), "/console/orgs/default/tokens");
        let landing = get(&app, "/console", Some(&session.cookie)).await;
        assert_eq!(landing.status, StatusCode::SEE_OTHER);
        assert_eq!(landing.header("location"), "/console/orgs/default/tokens");
    }
}

on_both_backends! {
    async fn the_session_cookie_is_http_only_strict_and_only_for_the_console(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let flags: Vec<&str> = session.set_cookie.split(';').map(str::trim).collect();
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(flags.contains(&flag), "{flag} in {}", session.set_cookie);
        }
        // Plain HTTP, and a forwarded-proto header nobody is trusted to send.
        assert!(!flags.contains(&"Secure"), "{}", session.set_cookie);
        let (form_cookie, _) =
            form_token(&app, "/console/sign-in", &[("X-Forwarded-Proto", "https")]).await;
        assert!(!form_cookie.is_empty());
        let page = sign_in_over_http(&app, OWNER_EMAIL, &[("X-Forwarded-Proto", "https")], &app.base_url).await;
        let set_cookie = crate::console::set_cookie(&page.headers, "scimd_session").unwrap();
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    }
}

on_both_backends! {
    async fn behind_a_trusted_https_proxy_the_cookie_is_secure(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        set_up_first_owner(&app).await;
        let host = app.base_url.trim_start_matches("http://").to_owned();
        let headers = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", host.as_str())];
        let page = sign_in_over_http(&app, OWNER_EMAIL, &headers, &format!("https://{host}")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let set_cookie = crate::console::set_cookie(&page.headers, "scimd_session").unwrap();
        assert!(set_cookie.split(';').any(|flag| flag.trim() == "Secure"), "{set_cookie}");
    }
}

on_both_backends! {
    async fn posts_without_the_csrf_token_or_from_another_origin_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let sign_out = |csrf: &str, header: Option<(&'static str, &str)>| {
            let mut request = http_client()
                .post(app.url("/console/sign-out"))
                .header("Cookie", &session.cookie)
                .form(&[("csrf", csrf)]);
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            request.send()
        };
        let own_origin = ("Origin", app.base_url.as_str());
        for (csrf, header) in [
            ("", None),
            ("", Some(own_origin)),
            ("not-the-token", Some(own_origin)),
            (session.csrf.as_str(), Some(("Origin", "http://evil.example"))),
            (session.csrf.as_str(), Some(("Origin", &app.base_url.replace("http:", "https:")))),
            (session.csrf.as_str(), Some(("Sec-Fetch-Site", "cross-site"))),
            (session.csrf.as_str(), Some(("Sec-Fetch-Site", "same-site"))),
        ] {
            let page = into_page(sign_out(csrf, header).await.unwrap()).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "csrf {csrf:?}, {header:?}");
            page.assert_html();
        }
        // The session survived every forged attempt.
        let still = get(&app, "/console/orgs/default/tokens", Some(&session.cookie)).await;
        assert_eq!(still.status, StatusCode::OK);

        // The sign-in form is guarded too: no token, or a token not matching its cookie.
        let (form_cookie, csrf) = form_token(&app, "/console/sign-in", &[]).await;
        for (cookie, token) in [(form_cookie.as_str(), ""), ("scimd_form=other", csrf.as_str())] {
            let response = http_client()
                .post(app.url("/console/sign-in"))
                .header("Cookie", cookie)
                .form(&[("csrf", token), ("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }

        // The real thing works, without an Origin (as some clients send) and with ours.
        let page = into_page(sign_out(&session.csrf, Some(own_origin)).await.unwrap()).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.header("location"), "/console/sign-in");
        let gone = get(&app, "/console/orgs/default/tokens", Some(&session.cookie)).await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "the session ended");
        // Without an Origin (some clients send none), or with the `null` Chromium sends under
        // `Referrer-Policy: no-referrer`, the token decides.
        for origin in [None, Some("null")] {
            let again =
                session_from(&app, &sign_in_over_http(&app, OWNER_EMAIL, &[], &app.base_url).await).await;
            let mut request = http_client()
                .post(app.url("/console/sign-out"))
                .header("Cookie", &again.cookie)
                .header("Sec-Fetch-Site", "same-origin")
                .form(&[("csrf", again.csrf.as_str())]);
            if let Some(origin) = origin {
                request = request.header("Origin", origin);
            }
            assert_eq!(request.send().await.unwrap().status(), StatusCode::SEE_OTHER);
        }
    }
}

on_both_backends! {
    async fn repeated_failures_are_throttled_with_a_message_saying_when_to_retry(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        set_up_first_owner(&app).await;
        let attempt = |password: &'static str| {
            let app = &app;
            async move {
                let (form_cookie, csrf) = form_token(app, "/console/sign-in", &[]).await;
                let response = http_client()
                    .post(app.url("/console/sign-in"))
                    .header("Cookie", form_cookie)
                    .form(&[("csrf", csrf.as_str()), ("email", OWNER_EMAIL), ("password", password)])
                    .send()
                    .await
                    .unwrap();
                into_page(response).await
            }
        };
        let mut last = attempt("wrong password").await;
        for _ in 0..10 {
            if last.body.contains("Too many") {
                break;
            }
            assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(last.body.contains("incorrect"), "{}", last.body);
            last = attempt("wrong password").await;
        }
        last.assert_html();
        assert!(last.body.contains("Too many failed sign-ins. Try again in"), "{}", last.body);
        // While throttled, even the right password waits: guessing gains nothing.
        let right = attempt(OWNER_PASSWORD).await;
        assert!(right.body.contains("Too many failed sign-ins"), "{}", right.body);
    }
}

on_both_backends! {
    async fn after_sign_in_only_a_console_page_of_this_site_is_returned_to(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        set_up_first_owner(&app).await;
        for (next, location) in [
            ("/console/orgs/default/tokens?name=okta", "/console/orgs/default/tokens?name=okta"),
            ("//evil.example/console/", "/console"),
            ("/\\evil.example", "/console"),
            ("/console/\\evil.example", "/console"),
            ("/console//evil.example", "/console"),
            ("https://evil.example/console/", "/console"),
            ("/console/sign-in", "/console"),
        ] {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap();
            let shown = get(&app, &format!("/console/sign-in?{query}"), None).await;
            assert_eq!(shown.status, StatusCode::OK);
            assert!(!shown.body.contains("evil.example"), "{next}: {}", shown.body);
            let (form_cookie, csrf) = form_token(&app, "/console/sign-in", &[]).await;
            let response = http_client()
                .post(app.url("/console/sign-in"))
                .header("Cookie", form_cookie)
                .header("Origin", &app.base_url)
                .form(&[("csrf", csrf.as_str()), ("email", OWNER_EMAIL), ("password", OWNER_PASSWORD), ("next", next)])
                .send()
                .await
                .unwrap();
            let page = into_page(response).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{next}: {}", page.body);
            assert_eq!(page.header("location"), location, "next={next}");
        }
    }
}
