//! The token list as the console pages through it: filtered, sorted and paged in the
//! database, each token with its health, over the management API.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{ApiReply, admin_token, eventually_audited};
use crate::helpers::app::{TestApp, assert_scim_error};
use crate::on_both_backends;

/// Every token the list shows for `query` (without `limit`/`offset`), page by page.
async fn all_pages(app: &TestApp, admin: &str, query: &str, page: usize) -> (Vec<Value>, i64) {
    let mut tokens = Vec::new();
    let mut total = None;
    loop {
        let url = format!(
            "/api/v1/tokens?{query}&limit={page}&offset={}",
            tokens.len()
        );
        let reply = app.api_get(&url, admin).await;
        let body = reply.assert_status(StatusCode::OK);
        let batch = body["tokens"].as_array().unwrap().clone();
        let this_total = body["total"].as_i64().unwrap();
        assert_eq!(
            *total.get_or_insert(this_total),
            this_total,
            "the total is every page's"
        );
        assert!(batch.len() <= page);
        let done = batch.len() < page;
        tokens.extend(batch);
        if done {
            return (tokens, this_total);
        }
    }
}

fn names(tokens: &[Value]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn create(app: &TestApp, admin: &str, body: Value) -> Value {
    let reply = app.api_post("/api/v1/tokens", admin, &body).await;
    reply.assert_status(StatusCode::CREATED).clone()
}

async fn patch(app: &TestApp, admin: &str, id: &str, body: Value) -> ApiReply {
    app.call(
        Method::PATCH,
        &format!("/api/v1/tokens/{id}"),
        admin,
        Some(&body),
        &[],
    )
    .await
}

on_both_backends! {
    async fn hundreds_of_tokens_are_filtered_sorted_and_paged_in_the_database(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let (mut disabled, mut revoked) = (0, 0);
        let mut active_okta = Vec::new();
        for i in 0..240 {
            let name = if i % 10 == 0 { format!("Okta {i:03}") } else { format!("svc-{:03}", (i * 37) % 240) };
            let mut body = json!({"name": name});
            if i % 3 == 0 {
                body["expires_in_days"] = json!(1 + (i * 7) % 300);
            }
            let id = create(&app, &admin, body).await["id"].as_str().unwrap().to_owned();
            if i % 25 == 0 {
                app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), &admin, None, &[]).await.assert_status(StatusCode::NO_CONTENT);
                revoked += 1;
            } else if i % 8 == 0 {
                patch(&app, &admin, &id, json!({"status": "disabled"})).await.assert_status(StatusCode::OK);
                disabled += 1;
            } else if i % 10 == 0 {
                active_okta.push(format!("Okta {i:03}"));
            }
        }
        create(&app, &admin, json!({"name": "100% done_"})).await;
        // Plus the first start's token and the admin token.
        let everyone = 243;

        // Newest first by default, every token exactly once across pages.
        let (listed, total) = all_pages(&app, &admin, "", 50).await;
        assert_eq!(total, everyone);
        assert_eq!(listed.len(), 243);
        let ids: HashSet<&str> = listed.iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 243, "no token on two pages");
        assert_eq!(listed[0]["name"], "100% done_");
        assert_eq!(listed[242]["name"], "first-start token");
        let created: Vec<&str> = listed.iter().map(|t| t["created_at"].as_str().unwrap()).collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

        // By name, ignoring case, across pages of an odd size.
        let (by_name, _) = all_pages(&app, &admin, "sort=name&order=asc", 37).await;
        let lowered: Vec<String> = names(&by_name).iter().map(|n| n.to_lowercase()).collect();
        assert!(lowered.windows(2).all(|w| w[0] <= w[1]), "{lowered:?}");
        let (by_name_desc, _) = all_pages(&app, &admin, "sort=name&order=desc", 100).await;
        let mut reversed = by_name_desc.clone();
        reversed.reverse();
        assert_eq!(ids_of(&reversed), ids_of(&by_name), "ties broken by id, both ways");

        // By expiry: soonest first, tokens that never expire last.
        let (by_expiry, _) = all_pages(&app, &admin, "sort=expires&order=asc", 64).await;
        let expiries: Vec<Option<&str>> = by_expiry.iter().map(|t| t["expires_at"].as_str()).collect();
        let expiring = expiries.iter().take_while(|e| e.is_some()).count();
        assert_eq!(expiring, 80);
        assert!(expiries[expiring..].iter().all(Option::is_none));
        assert!(expiries[..expiring].windows(2).all(|w| w[0] <= w[1]));
        let (by_expiry_desc, _) = all_pages(&app, &admin, "sort=expires&order=desc", 64).await;
        assert!(by_expiry_desc[..80].windows(2).all(|w| w[0]["expires_at"].as_str() >= w[1]["expires_at"].as_str()));
        assert!(by_expiry_desc[80..].iter().all(|t| t["expires_at"].is_null()), "never-expiring last both ways");

        // By last use: used ones first, most recent first.
        app.database.execute("UPDATE api_tokens SET last_used_at = '2026-01-02 03:04:05' WHERE name = 'Okta 010'");
        app.database.execute("UPDATE api_tokens SET last_used_at = '2026-02-02 03:04:05' WHERE name = 'Okta 020'");
        let by_use = app.api_get("/api/v1/tokens?sort=last_used&name=okta&limit=2", &admin).await;
        assert_eq!(names(by_use.body["tokens"].as_array().unwrap()), ["Okta 020", "Okta 010"]);

        // A name filter ignores case, and its wildcards are plain characters.
        let (okta, total) = all_pages(&app, &admin, "name=oKTA", 10).await;
        assert_eq!(total, 24);
        assert!(names(&okta).iter().all(|n| n.starts_with("Okta ")));
        let percent = app.api_get("/api/v1/tokens?name=%25%20DONE_", &admin).await;
        assert_eq!(names(percent.body["tokens"].as_array().unwrap()), ["100% done_"]);
        assert_eq!(app.api_get("/api/v1/tokens?name=_", &admin).await.body["total"], 1);

        // Status filters agree with each token's own status.
        for (status, expected) in [("disabled", disabled), ("inactive", revoked), ("active", everyone - disabled - revoked), ("current", everyone - revoked)] {
            let (tokens, total) = all_pages(&app, &admin, &format!("status={status}"), 100).await;
            assert_eq!(total, expected, "{status}");
            let wanted: &[&str] = match status {
                "inactive" => &["revoked"],
                "current" => &["active", "disabled"],
                other => &[other],
            };
            assert!(tokens.iter().all(|t| wanted.contains(&t["status"].as_str().unwrap())), "{status}");
        }
        let combined = app.api_get("/api/v1/tokens?status=active&name=okta&sort=name&limit=3&offset=1", &admin).await;
        assert_eq!(names(combined.body["tokens"].as_array().unwrap()), active_okta[1..4]);
        assert_eq!(combined.body["total"], active_okta.len());

        for bad in ["limit=0", "limit=1001", "offset=-1", "status=sleeping", "sort=color"] {
            let reply = app.api_get(&format!("/api/v1/tokens?{bad}"), &admin).await;
            assert_scim_error(reply.status, &reply.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
    }
}

/// Waits (bounded) for the background write of a token's last use.
async fn wait_for_health(app: &TestApp, admin: &str, id: &str, health: &str) {
    let path = format!("/api/v1/tokens/{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.api_get(&path, admin).await.body["health"] != health {
        assert!(
            std::time::Instant::now() < deadline,
            "{id} never became {health}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn ids_of(tokens: &[Value]) -> Vec<&str> {
    tokens.iter().map(|t| t["id"].as_str().unwrap()).collect()
}

on_both_backends! {
    async fn each_token_has_one_health_that_every_front_end_shows(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let idle = create(&app, &admin, json!({"name": "idle"})).await;
        let expiring = create(&app, &admin, json!({"name": "expiring", "expires_in_days": 3})).await;
        let used = create(&app, &admin, json!({"name": "used today"})).await;
        let rotated = create(&app, &admin, json!({"name": "rotated"})).await;
        let health = |body: &Value| body["health"].as_str().unwrap().to_owned();
        assert_eq!(health(&idle), "idle");
        assert_eq!(health(&expiring), "expiring");

        let plain = used["token"].as_str().unwrap();
        assert_eq!(app.probe(plain).await, StatusCode::OK);
        wait_for_health(&app, &admin, used["id"].as_str().unwrap(), "used_recently").await;

        // Rotated without grace: the successor's first use ends the old token, whose use is
        // then a token.stale_use, which makes it suspicious.
        let old_id = rotated["id"].as_str().unwrap();
        let successor = app
            .api_post(&format!("/api/v1/tokens/{old_id}/rotate"), &admin, &json!({"grace_period_seconds": 0}))
            .await;
        let successor = successor.assert_status(StatusCode::CREATED);
        assert_eq!(app.probe(successor["token"].as_str().unwrap()).await, StatusCode::OK);
        wait_for_health(&app, &admin, successor["id"].as_str().unwrap(), "used_recently").await;
        assert_eq!(app.probe(rotated["token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED);
        eventually_audited(&app, &admin, "token.stale_use").await;
        let old = app.api_get(&format!("/api/v1/tokens/{old_id}"), &admin).await;
        assert_eq!(old.body["status"], "expired");
        assert_eq!(old.body["health"], "suspicious", "suspicion outranks the rest");

        let disabled = patch(&app, &admin, idle["id"].as_str().unwrap(), json!({"status": "disabled"})).await;
        assert_eq!(disabled.body["health"], "disabled");

        // The list computes the same, for a whole page at once.
        let list = app.api_get("/api/v1/tokens?limit=1000", &admin).await;
        let by_name = |name: &str| {
            list.body["tokens"].as_array().unwrap().iter().filter(|t| t["name"] == name).map(|t| t["health"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(by_name("expiring"), ["expiring"]);
        assert_eq!(by_name("used today"), ["used_recently"]);
        assert_eq!(by_name("idle"), ["disabled"]);
        assert_eq!(by_name("rotated"), ["used_recently", "suspicious"], "successor, then the old one");
        let suspicious = app.api_get("/api/v1/tokens?status=suspicious", &admin).await;
        assert_eq!(ids_of(suspicious.body["tokens"].as_array().unwrap()), [old_id]);
        assert_eq!(suspicious.body["total"], 1);

        // Suspicion lasts a week.
        app.database.execute("UPDATE audit_events SET occurred_at = '2000-01-01 00:00:00' WHERE event_type = 'token.stale_use'");
        let old = app.api_get(&format!("/api/v1/tokens/{old_id}"), &admin).await;
        assert_eq!(old.body["health"], "expired");
        assert_eq!(app.api_get("/api/v1/tokens?status=suspicious", &admin).await.body["total"], 0);
    }
}
