use diesel::RunQueryDsl;
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use crate::helpers::app::assert_scim_error;
use crate::helpers::cli::{scimd, stdout};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const PROBE: &str = "/scim/v2/ServiceProviderConfig";

async fn assert_unauthorized(app: &TestApp, authorization: Option<&str>) {
    let response = app
        .client
        .get(app.url(PROBE))
        .headers(
            authorization
                .map(|value| {
                    let mut headers = reqwest::header::HeaderMap::new();
                    headers.insert("Authorization", value.parse().unwrap());
                    headers
                })
                .unwrap_or_default(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        "Bearer realm=\"scim\"",
        "for {authorization:?}"
    );
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/scim+json"
    );
    let (status, body) = crate::helpers::app::into_parts(response).await;
    assert_scim_error(status, &body, StatusCode::UNAUTHORIZED, None);
    assert_eq!(
        body["detail"],
        scimd::error::UNAUTHORIZED_DETAIL,
        "for {authorization:?}"
    );
}

on_both_backends! {
    async fn every_kind_of_bad_credential_gets_the_same_401(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let well_formed_unknown = scimd_token_for_nothing();
        for authorization in [
            None,
            Some("Bearer".to_owned()),
            Some("Basic dXNlcjpwYXNz".to_owned()),
            Some("Bearer wxt_short".to_owned()),
            Some(format!("Bearer {}", "x".repeat(4000))),
            Some(format!("Bearer ghp_{}", &app.token[4..])),
            Some(format!("Bearer {well_formed_unknown}")),
        ] {
            assert_unauthorized(&app, authorization.as_deref()).await;
        }
    }
}

/// A token with a valid checksum that was never issued.
fn scimd_token_for_nothing() -> String {
    let generated = scimd::auth::token::generate().unwrap();
    secrecy::ExposeSecret::expose_secret(&generated.plain).to_owned()
}

on_both_backends! {
    async fn bearer_scheme_is_case_insensitive_and_okta_bare_header_works(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for authorization in [
            format!("Bearer {}", app.token),
            format!("bearer {}", app.token),
            format!("BEARER  {}", app.token),
            app.token.clone(),
        ] {
            let (status, _) = app.get_with(PROBE, Some(&authorization)).await;
            assert_eq!(status, StatusCode::OK, "for {authorization}");
        }
    }
}

on_both_backends! {
    async fn revoked_disabled_and_expired_tokens_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let store = app.database.store();
        for (column, sql_value) in [
            ("revoked_at", "'2026-01-01 00:00:00'"),
            ("disabled_at", "'2026-01-01 00:00:00'"),
            ("expires_at", "'2000-01-01 00:00:00'"),
        ] {
            let token = create_token(&app.database, "victim");
            let bearer = format!("Bearer {token}");
            assert_eq!(app.get_with(PROBE, Some(&bearer)).await.0, StatusCode::OK);
            let prefix = token[..12].to_owned();
            store
                .run_blocking(move |conn| {
                    diesel::sql_query(format!(
                        "UPDATE api_tokens SET {column} = {sql_value} WHERE display_prefix = '{prefix}'"
                    ))
                    .execute(conn)?;
                    Ok(())
                })
                .unwrap();
            assert_unauthorized(&app, Some(&bearer)).await;
        }
    }
}

on_both_backends! {
    async fn auth_secret_authenticates_as_its_organization(backend: Backend) {
        let secret = "a-shared-secret-of-more-than-32-characters";
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.auth_secret = Some(secrecy::SecretString::from(secret));
            config.auth_secret_org = "onprem".to_owned();
        })
        .await;
        let (status, _) = app.get_with(PROBE, Some(&format!("Bearer {secret}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_unauthorized(&app, Some(&format!("Bearer {secret}x"))).await;
        assert_unauthorized(&app, Some("Bearer a-shared-secret")).await;
        let orgs = stdout(&scimd(&app.database.url, &["org", "list"]));
        assert!(orgs.contains("onprem"), "{orgs}");
        // Token authentication keeps working beside the shared secret.
        assert_eq!(app.get(PROBE).await.0, StatusCode::OK);
    }
}

on_both_backends! {
    async fn an_auth_secret_shaped_like_a_token_still_authenticates(backend: Backend) {
        // Well-formed tokens skip the shared-secret comparison until their lookup finds
        // nothing; a secret that happens to have a token's shape must still work.
        let generated = scimd::auth::token::generate().unwrap();
        let secret = generated.plain.expose_secret().to_owned();
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.auth_secret = Some(secrecy::SecretString::from(secret.clone()));
        })
        .await;
        let (status, _) = app.get_with(PROBE, Some(&format!("Bearer {secret}"))).await;
        assert_eq!(status, StatusCode::OK);
        let other = scimd::auth::token::generate().unwrap();
        assert_unauthorized(&app, Some(&format!("Bearer {}", other.plain.expose_secret()))).await;
    }
}

on_both_backends! {
    async fn a_token_use_is_recorded_as_last_used(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let last_used = || {
            let listed = stdout(&scimd(&app.database.url, &["token", "list", "--org", "default", "--json"]));
            let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
            listed["tokens"][0]["last_used_at"].clone()
        };
        let before = last_used();
        assert!(before.is_null(), "{before}");
        assert_eq!(app.get(PROBE).await.0, StatusCode::OK);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let after = last_used();
            if after.is_string() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "last use never recorded:\n{after}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Creates a token in org `default` through the CLI and answers the plain token.
pub fn create_token(database: &TestDatabase, name: &str) -> String {
    let output = scimd(
        &database.url,
        &["token", "create", "--org", "default", "--name", name],
    );
    assert!(output.status.success(), "{output:?}");
    stdout(&output).trim().to_owned()
}

on_both_backends! {
    async fn a_throttled_address_has_even_the_right_shared_secret_refused_but_not_a_token(backend: Backend) {
        let secret = "a-shared-secret-of-more-than-32-characters";
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.auth_secret = Some(secrecy::SecretString::from(secret));
        })
        .await;
        assert_eq!(app.probe(secret).await, StatusCode::OK);
        let mut statuses = Vec::new();
        for guess in 0..25 {
            statuses.push(app.probe(&format!("{secret}-{guess}")).await);
        }
        assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        // Refused uncompared, so the throttle slows guessing, not only the answers.
        let right = app.api_get(PROBE, secret).await;
        assert_scim_error(right.status, &right.body, StatusCode::TOO_MANY_REQUESTS, None);
        assert!(right.header("retry-after").is_some());
        assert_eq!(app.probe("malformed").await, StatusCode::TOO_MANY_REQUESTS);
        // A token cannot be guessed: it is looked up whatever the address's failures.
        assert_eq!(app.probe(&app.token).await, StatusCode::OK);
    }
}

on_both_backends! {
    async fn a_forwarded_entry_that_is_not_an_address_makes_the_client_unknown(backend: Backend) {
        use crate::helpers::api::{admin_token, audit_events, cli_token, id_of_token};
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let admin = admin_token(&app.database);
        let allowlisted = cli_token(&app.database, "default", "okta", &["--allow-ip", "198.51.100.0/24"]);
        let from = |forwarded: &'static str| {
            let (app, token) = (&app, allowlisted.clone());
            async move {
                app.call(reqwest::Method::GET, PROBE, &token, None, &[("X-Forwarded-For", forwarded)])
                    .await
            }
        };
        // Ports and brackets are stripped: the entry is read, not skipped.
        for allowed in ["198.51.100.7", "203.0.113.9, 198.51.100.7:51234", "\"198.51.100.7:1\""] {
            from(allowed).await.assert_status(StatusCode::OK);
        }
        for outside in [
            "198.51.100.7, 203.0.113.9",
            "198.51.100.7, 203.0.113.9:51234",
            "198.51.100.7, [2001:db8::1]:443",
        ] {
            let reply = from(outside).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::FORBIDDEN, None);
            assert!(reply.text.contains("this address"), "{outside}: {}", reply.text);
        }
        for unreadable in ["198.51.100.7, unknown", "198.51.100.7, _proxy7, 127.0.0.1"] {
            let reply = from(unreadable).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::FORBIDDEN, None);
            assert!(reply.text.contains("could not be determined"), "{unreadable}: {}", reply.text);
        }
        // Audited in the background, so in any order.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let denied = loop {
            let denied = audit_events(&app, &admin, "auth.ip_denied").await;
            if denied.len() == 5 {
                break denied;
            }
            assert!(std::time::Instant::now() < deadline, "{denied:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let unknown: Vec<_> = denied.iter().filter(|event| event["remote_addr"].is_null()).collect();
        assert_eq!(unknown.len(), 2, "{denied:?}");
        assert!(unknown.iter().all(|event| event["details"]["reason"] == "address unknown"), "{denied:?}");

        // The recorded last-used address is the same unknown, not the client's word.
        let open = cli_token(&app.database, "default", "open", &[]);
        let id = id_of_token(&app, &admin, &open).await;
        app.call(reqwest::Method::GET, PROBE, &open, None, &[("X-Forwarded-For", "198.51.100.7, unknown")])
            .await
            .assert_status(StatusCode::OK);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let shown = loop {
            let shown = app.api_get(&format!("/api/v1/tokens/{id}"), &admin).await;
            if !shown.body["last_used_at"].is_null() {
                break shown;
            }
            assert!(std::time::Instant::now() < deadline, "last use never recorded");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(shown.body["last_used_ip"], serde_json::Value::Null, "{}", shown.text);
    }
}

on_both_backends! {
    async fn leak_reports_over_the_rate_limit_are_refused_before_their_body_is_read(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let report = |content_type: &'static str, body: &'static str| {
            app.client
                .post(app.url("/api/v1/credentials/revoke"))
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        for _ in 0..10 {
            let reply = report("application/json", r#"{"tokens": []}"#).await.unwrap();
            assert_eq!(reply.status(), StatusCode::ACCEPTED);
        }
        // Bodies that would be a 400 and a 415: the limit answers first, without reading them.
        for (content_type, body) in [("application/json", "not json"), ("text/plain", "wxt_")] {
            let reply = report(content_type, body).await.unwrap();
            assert!(reply.headers().get("retry-after").is_some(), "{content_type}");
            let (status, body) = crate::helpers::app::into_parts(reply).await;
            assert_scim_error(status, &body, StatusCode::TOO_MANY_REQUESTS, None);
        }
    }
}
