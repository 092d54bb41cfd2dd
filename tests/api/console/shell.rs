//! What every console response has: HTML (never SCIM JSON), the security headers, assets
//! cached by content hash, and the redirects into the console.

use reqwest::StatusCode;

use super::{get, http_client, into_page};
use crate::helpers::TestApp;
use crate::on_both_backends;

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

on_both_backends! {
    async fn console_pages_carry_the_security_headers_and_are_never_cached(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/console/sign-in", "/console/no-such-page"] {
            let page = get(&app, path, None).await;
            page.assert_html();
            assert_eq!(page.header("content-security-policy"), CSP, "{path}");
            assert!(!page.header("content-security-policy").contains("unsafe-inline"));
            assert_eq!(page.header("x-frame-options"), "DENY", "{path}");
            assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
            assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(page.header("cache-control"), "no-store", "{path}");
        }
    }
}

on_both_backends! {
    async fn assets_are_named_by_their_hash_and_cached_for_a_year(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let page = get(&app, "/console/sign-in", None).await;
        for (extension, content_type) in [("css", "text/css"), ("js", "text/javascript")] {
            let marker = "/console/assets/console.";
            let href = page
                .body
                .match_indices(marker)
                .map(|(at, _)| &page.body[at..])
                .map(|rest| &rest[..rest.find('"').unwrap()])
                .find(|href| href.ends_with(extension))
                .unwrap_or_else(|| panic!("no .{extension} asset in {}", page.body));
            let asset = get(&app, href, None).await;
            assert_eq!(asset.status, StatusCode::OK, "{href}");
            assert!(asset.header("content-type").starts_with(content_type), "{href}");
            assert_eq!(
                asset.header("cache-control"),
                "public, max-age=31536000, immutable"
            );
            assert!(!asset.body.is_empty());
        }
        let stale = get(&app, "/console/assets/console.0000000000000000.css", None).await;
        assert_eq!(stale.status, StatusCode::NOT_FOUND);
        stale.assert_html();
    }
}

on_both_backends! {
    async fn console_failures_are_html_pages_not_scim_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let missing = get(&app, "/console/no-such-page", None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        missing.assert_html();
        assert!(missing.body.contains("Page not found"), "{}", missing.body);
        assert!(!missing.body.contains("urn:ietf:params:scim"), "{}", missing.body);

        // A method the page does not serve: the framework's own rejection, as a page.
        let response = http_client()
            .delete(app.url("/console/sign-in"))
            .header("Accept", "application/scim+json")
            .send()
            .await
            .unwrap();
        let page = into_page(response).await;
        assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
        page.assert_html();

        // The API beside it still answers SCIM errors.
        let api = get(&app, "/scim/v2/NoSuchThing", None).await;
        assert!(api.header("content-type").contains("scim+json"), "{}", api.body);
    }
}

on_both_backends! {
    async fn the_root_and_signed_out_pages_lead_to_sign_in(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let root = get(&app, "/", None).await;
        assert_eq!(root.status, StatusCode::SEE_OTHER);
        assert_eq!(root.header("location"), "/console");

        let console = get(&app, "/console", None).await;
        assert_eq!(console.status, StatusCode::SEE_OTHER);
        assert_eq!(console.header("location"), "/console/sign-in?next=%2Fconsole");

        let tokens = get(&app, "/console/orgs/default/tokens?sort=name", None).await;
        assert_eq!(tokens.status, StatusCode::SEE_OTHER);
        assert_eq!(
            tokens.header("location"),
            "/console/sign-in?next=%2Fconsole%2Forgs%2Fdefault%2Ftokens%3Fsort%3Dname"
        );

        // A stale or forged cookie is no session.
        let forged = get(&app, "/console", Some("scimd_session=forged")).await;
        assert_eq!(forged.status, StatusCode::SEE_OTHER);
        assert!(forged.header("location").starts_with("/console/sign-in"));

        // `next` never leads off the console.
        let page = get(&app, "/console/sign-in?next=//evil.example/", None).await;
        assert!(!page.body.contains("evil.example"), "{}", page.body);
    }
}
