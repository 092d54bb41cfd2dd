//! Request ids (issue 13): every answer names the request it answers, as `X-Request-Id`, so a
//! client's error can be found in the server's log; a server fault says it in `detail` too.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::scim::{Reply, USER_URN};
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

fn request_id(reply: &Reply) -> &str {
    reply
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id: {reply:?}"))
}

fn is_fresh_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

on_both_backends! {
    async fn a_clients_plain_id_comes_back_and_others_are_replaced(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let plain = "okta-7f3a:run/42+retry=1_x.y";
        let reply = app.get_reply_with("/scim/v2/Users", &[("x-request-id", plain)]).await;
        reply.assert_status(StatusCode::OK);
        assert_eq!(request_id(&reply), plain);
        let longest = "a".repeat(128);
        let reply = app.get_reply_with("/scim/v2/Users", &[("x-request-id", &longest)]).await;
        assert_eq!(request_id(&reply), longest);

        let too_long = "a".repeat(129);
        for bad in ["two words", "<script>", "a\"b", "id;drop", too_long.as_str()] {
            let reply = app.get_reply_with("/scim/v2/Users", &[("x-request-id", bad)]).await;
            reply.assert_status(StatusCode::OK);
            let id = request_id(&reply);
            assert!(is_fresh_id(id), "{bad:?} answered with {id:?}");
            assert!(!reply.text.contains(bad));
        }
    }
}

on_both_backends! {
    async fn ids_the_server_makes_are_unique(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut seen = HashSet::new();
        for _ in 0..50 {
            let response = app.client.get(app.url("/healthz")).send().await.unwrap();
            let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert!(is_fresh_id(&id), "{id:?}");
            assert!(seen.insert(id), "an id came twice");
        }
    }
}

on_both_backends! {
    async fn every_kind_of_refusal_names_its_request(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.limits.max_payload_bytes = 1024;
        })
        .await;
        let unauthenticated = app
            .send(Method::GET, "/scim/v2/Users", None, &[("authorization", "Bearer wrong"), ("x-request-id", "r-401")])
            .await;
        unauthenticated.assert_error(StatusCode::UNAUTHORIZED, None);
        assert_eq!(request_id(&unauthenticated), "r-401");

        let missing = app.get_reply_with("/scim/v2/Users/no-such-user", &[("x-request-id", "r-404")]).await;
        missing.assert_error(StatusCode::NOT_FOUND, None);
        assert_eq!(request_id(&missing), "r-404");
        let unknown = app.get_reply_with("/no/such/page", &[("x-request-id", "r-404b")]).await;
        unknown.assert_error(StatusCode::NOT_FOUND, None);
        assert_eq!(request_id(&unknown), "r-404b");

        let wrong_method = app.send(Method::DELETE, "/scim/v2/Users", None, &[("x-request-id", "r-405")]).await;
        wrong_method.assert_error(StatusCode::METHOD_NOT_ALLOWED, None);
        assert_eq!(request_id(&wrong_method), "r-405");

        let big = json!({"schemas": [USER_URN], "userName": "big@a.example", "title": "t".repeat(2000)});
        let too_large = app
            .send(Method::POST, "/scim/v2/Users", Some(("application/scim+json", big.to_string().into_bytes())), &[("x-request-id", "r-413")])
            .await;
        too_large.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        assert_eq!(request_id(&too_large), "r-413");

        // Outside the SCIM API too: the console and the management API.
        for path in ["/console/sign-in", "/api/v1/openapi.json"] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok());
            assert!(id.is_some_and(is_fresh_id), "{path}: {id:?}");
        }
    }
}

on_both_backends! {
    async fn a_server_fault_names_the_request_id_in_its_detail(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.get_reply("/scim/v2/Groups").await.assert_status(StatusCode::OK);
        // A table gone from under the server: every read of it fails as a fault of ours.
        app.database.execute("ALTER TABLE groups RENAME TO groups_elsewhere");

        let reply = app.get_reply_with("/scim/v2/Groups", &[("x-request-id", "quote-me-1")]).await;
        assert!(reply.status.is_server_error(), "{reply:?}");
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(detail.ends_with("(request id: quote-me-1)"), "{detail}");
        assert_eq!(request_id(&reply), "quote-me-1");

        let reply = app.get_reply("/scim/v2/Groups").await;
        let id = request_id(&reply);
        assert!(is_fresh_id(id));
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(detail.ends_with(&format!("(request id: {id})")), "{detail}");

        // A client's mistake needs no id to be understood: its detail stays as it was.
        let missing = app.get_reply("/scim/v2/Users/no-such-user").await;
        assert!(!missing.body["detail"].as_str().unwrap().contains("request id"));
    }
}
