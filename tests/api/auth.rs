use diesel::RunQueryDsl;
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use crate::helpers::app::assert_scim_error;
use crate::helpers::cli::{scimd, stdout};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const PROBE: &str = "/scim/v2/ServiceProviderConfig";

/// Sends `authorization` as is, asserts a SCIM 401 with its challenge, and answers the detail.
async fn unauthorized_detail(app: &TestApp, authorization: Option<&str>) -> String {
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
    body["detail"].as_str().unwrap().to_owned()
}

/// A 401 that tells nothing about why the credential failed.
async fn assert_unauthorized(app: &TestApp, authorization: Option<&str>) {
    assert_eq!(
        unauthorized_detail(app, authorization).await,
        scimd::error::UNAUTHORIZED_DETAIL,
        "for {authorization:?}"
    );
}

on_both_backends! {
    async fn a_header_of_the_wrong_shape_gets_a_401_saying_what_was_wrong(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let token = app.token.clone();
        let mut wrong_checksum = token.clone();
        let last = if wrong_checksum.ends_with('A') { "B" } else { "A" };
        wrong_checksum.replace_range(42.., last);
        for (authorization, problem) in [
            (None, "the request has no Authorization header".to_owned()),
            (Some("Bearer".to_owned()), "holds no credential".to_owned()),
            (Some(String::new()), "holds no credential".to_owned()),
            (Some(format!("Bearer Bearer {token}")), "says 'Bearer' twice".to_owned()),
            (Some(format!("Token {token}")), "the header's scheme was 'Token'".to_owned()),
            (Some("Basic dXNlcjpwYXNz".to_owned()), "the header's scheme was 'Basic'".to_owned()),
            (Some(format!("SSWS {token}")), "the header's scheme was 'SSWS'".to_owned()),
            // A first word that is no known scheme may be a secret: not repeated.
            (Some("hunter2 hunter2".to_owned()), "the header's scheme was not 'Bearer'".to_owned()),
            (Some("Bearer wxt_short".to_owned()), "is not 43 characters long".to_owned()),
            (Some(format!("Bearer {}", "x".repeat(4000))), "does not start with 'wxt_'".to_owned()),
            (Some(format!("Bearer ghp_{}", &token[4..])), "does not start with 'wxt_'".to_owned()),
            (Some(format!("Bearer {}-{}", &token[..20], &token[21..])), "other than A-Z".to_owned()),
            (Some(format!("Bearer {wrong_checksum}")), "fails the token checksum".to_owned()),
        ] {
            let detail = unauthorized_detail(&app, authorization.as_deref()).await;
            assert!(
                detail.contains("send 'Authorization: Bearer wxt_…'") && detail.contains(&problem),
                "for {authorization:?}: {detail}"
            );
            assert!(!detail.contains(&token[4..12]), "the credential echoed: {detail}");
            assert!(!detail.contains("hunter2") && !detail.contains("dXNlcjpwYXNz"), "{detail}");
        }
    }
}

on_both_backends! {
    async fn a_well_formed_token_that_does_not_work_gets_the_one_generic_401(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let well_formed_unknown = scimd_token_for_nothing();
        for authorization in [format!("Bearer {well_formed_unknown}"), well_formed_unknown] {
            assert_unauthorized(&app, Some(&authorization)).await;
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
        // A wrong secret is answered like any credential that is not a token, so the answer
        // tells neither that a secret is configured nor how close the guess was.
        for wrong in [format!("Bearer {secret}x"), "Bearer a-shared-secret".to_owned()] {
            let detail = unauthorized_detail(&app, Some(&wrong)).await;
            assert!(detail.contains("does not start with 'wxt_'"), "{detail}");
            assert!(!detail.contains("shared-secret"), "{detail}");
        }
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
        for (outside, seen) in [
            ("198.51.100.7, 203.0.113.9", "203.0.113.9"),
            ("198.51.100.7, 203.0.113.9:51234", "203.0.113.9"),
            ("198.51.100.7, [2001:db8::1]:443", "2001:db8::1"),
        ] {
            let reply = from(outside).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::FORBIDDEN, None);
            let detail = reply.body["detail"].as_str().unwrap();
            assert!(detail.contains(&format!("from {seen},")), "{outside}: {detail}");
            assert!(!detail.contains("198.51.100"), "the allowlist is told: {detail}");
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

/// The log lines of the real binary: one per failure at info level, with the reason, the
/// client's address and a token's display prefix, never the token; a flood costs a bounded
/// number of lines.
#[tokio::test]
async fn authentication_failures_are_logged_at_info_without_secrets_and_a_flood_is_bounded() {
    use crate::helpers::cli::ServeProcess;
    let database = TestDatabase::new(crate::helpers::Backend::Sqlite);
    let server = ServeProcess::start(&database.url, &[]);
    let client = reqwest::Client::new();
    let send = |authorization: String| {
        let request = client
            .get(format!("{}{PROBE}", server.base_url))
            .header("Authorization", authorization);
        async move { request.send().await.unwrap().status() }
    };
    let unknown = scimd_token_for_nothing();
    assert_eq!(
        send(format!("Bearer {unknown}")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(format!("Token {unknown}")).await,
        StatusCode::UNAUTHORIZED
    );
    let flood = 100;
    for _ in 0..flood {
        let status = send("Basic dXNlcjpwYXNz".to_owned()).await;
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS);
    }
    let (ok, _, log) = server.stop();
    assert!(ok, "{log}");

    let failures: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("authentication failed"))
        .collect();
    let unknown_line = failures
        .iter()
        .find(|line| line.contains("reason=unknown"))
        .expect(&log);
    assert!(unknown_line.contains(" INFO "), "{unknown_line}");
    assert!(unknown_line.contains("client=127.0.0.1"), "{unknown_line}");
    assert!(
        unknown_line.contains(&format!("prefix={}", &unknown[..12])),
        "{unknown_line}"
    );
    assert!(
        failures
            .iter()
            .any(|line| line.contains("reason=wrong_scheme client=127.0.0.1")),
        "{log}"
    );
    assert!(
        !log.contains(&unknown[12..]),
        "the token's secret part is in the log:\n{log}"
    );
    assert!(!log.contains("dXNlcjpwYXNz"), "{log}");
    let limit = scimd::auth::failure_log::LINES_PER_WINDOW as usize;
    assert_eq!(failures.len(), limit, "{log}");
    assert!(log.contains("the rest are counted, not logged"), "{log}");
}
