//! Issue 12: named network zones. Tokens restricted to ("only from") or kept out of ("not
//! from") zones answer from the zones' networks as they are now, on every instance; a zone in
//! use is not deleted; a restricted token manager cannot widen anything through a zone.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{
    ApiReply, admin_token, audit_events, cli_token, eventually_audited, id_of_token,
};
use crate::helpers::app::{TestApp, TestDatabase, assert_scim_error};
use crate::helpers::cli::{scimd, stderr, stdout};
use crate::on_both_backends;

/// scimd behind a proxy on loopback, so tests choose the client address by X-Forwarded-For.
async fn behind_proxy(database: TestDatabase) -> TestApp {
    TestApp::spawn_on(database, |config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
}

/// The status of a SCIM request with `token` from `address`.
async fn from(app: &TestApp, token: &str, address: &str) -> StatusCode {
    app.call(
        Method::GET,
        "/scim/v2/ServiceProviderConfig",
        token,
        None,
        &[("X-Forwarded-For", address)],
    )
    .await
    .status
}

async fn create_zone(app: &TestApp, admin: &str, name: &str, networks: &[&str]) -> ApiReply {
    app.api_post(
        "/api/v1/zones",
        admin,
        &json!({"name": name, "networks": networks}),
    )
    .await
}

async fn patch_zone(app: &TestApp, token: &str, id: &str, body: Value) -> ApiReply {
    app.call(
        Method::PATCH,
        &format!("/api/v1/zones/{id}"),
        token,
        Some(&body),
        &[],
    )
    .await
}

on_both_backends! {
    async fn only_from_and_not_from_zones_decide_by_the_zones_current_networks_on_every_instance(backend: Backend) {
        let app = behind_proxy(TestDatabase::new(backend)).await;
        let second = behind_proxy(app.database.same_database()).await;
        let admin = admin_token(&app.database);
        let office = create_zone(&app, &admin, "office", &["203.0.113.0/24", "2001:db8:1::/48"]).await;
        let office_id = office.assert_status(StatusCode::CREATED)["id"].as_str().unwrap().to_owned();
        assert_eq!(office.header("location"), Some(format!("/api/v1/zones/{office_id}").as_str()));
        create_zone(&app, &admin, "blocked", &["198.51.100.0/24"]).await.assert_status(StatusCode::CREATED);

        let created = app
            .api_post("/api/v1/tokens", &admin, &json!({"name": "okta", "only_from": ["zone:Office", "192.0.2.7"]}))
            .await;
        let okta = created.assert_status(StatusCode::CREATED);
        assert_eq!(okta["network"], "only_from");
        assert_eq!(okta["only_from"], json!(["192.0.2.7/32", "zone:office"]));
        assert_eq!(okta["allowed_cidrs"], json!(["192.0.2.7/32"]));
        let only = okta["token"].as_str().unwrap().to_owned();
        let not = cli_token(&app.database, "default", "entra", &["--not-from", "zone:blocked"]);

        for instance in [&app, &second] {
            assert_eq!(from(instance, &only, "203.0.113.9").await, StatusCode::OK);
            assert_eq!(from(instance, &only, "2001:db8:1::5").await, StatusCode::OK);
            assert_eq!(from(instance, &only, "192.0.2.7").await, StatusCode::OK);
            assert_eq!(from(instance, &only, "198.51.100.1").await, StatusCode::FORBIDDEN);
            assert_eq!(from(instance, &not, "198.51.100.1").await, StatusCode::FORBIDDEN);
            assert_eq!(from(instance, &not, "203.0.113.9").await, StatusCode::OK);
        }
        let denied = eventually_audited(&app, &admin, "auth.ip_denied").await;
        assert!(denied.iter().any(|e| e["remote_addr"] == "198.51.100.1"), "{denied:?}");

        // The office moves: both instances answer from its new networks (PostgreSQL: once the
        // notice bound has passed).
        let moved = patch_zone(&app, &admin, &office_id, json!({"networks": ["198.51.100.0/24"]})).await;
        assert_eq!(moved.assert_status(StatusCode::OK)["networks"], json!(["198.51.100.0/24"]));
        TestApp::let_other_instances_learn_of_it(backend).await;
        for instance in [&app, &second] {
            assert_eq!(from(instance, &only, "203.0.113.9").await, StatusCode::FORBIDDEN);
            assert_eq!(from(instance, &only, "198.51.100.1").await, StatusCode::OK);
        }
        // The blocked zone is emptied of that network, on the second instance this time.
        let blocked_id = app.api_get("/api/v1/zones", &admin).await.body["zones"][0]["id"].as_str().unwrap().to_owned();
        patch_zone(&second, &admin, &blocked_id, json!({"networks": ["10.0.0.0/8"]})).await.assert_status(StatusCode::OK);
        TestApp::let_other_instances_learn_of_it(backend).await;
        for instance in [&app, &second] {
            assert_eq!(from(instance, &not, "198.51.100.1").await, StatusCode::OK);
            assert_eq!(from(instance, &not, "10.1.2.3").await, StatusCode::FORBIDDEN);
        }

        // A rename keeps every rule: rules name the zone, not the word.
        patch_zone(&app, &admin, &office_id, json!({"name": "hq"})).await.assert_status(StatusCode::OK);
        let okta_id = id_of_token(&app, &admin, &only).await;
        let shown = app.api_get(&format!("/api/v1/tokens/{okta_id}"), &admin).await;
        assert_eq!(shown.body["only_from"], json!(["192.0.2.7/32", "zone:hq"]));
        assert_eq!(from(&second, &only, "198.51.100.1").await, StatusCode::OK);

        let updates = audit_events(&app, &admin, "zone.updated").await;
        assert_eq!(updates.len(), 3);
        assert_eq!(updates[0]["target"], office_id.as_str());
        assert_eq!(updates[0]["details"]["previous_name"], "office");
        assert_eq!(updates[2]["details"]["previous_networks"], "203.0.113.0/24 2001:db8:1::/48");
        assert!(updates[0]["actor"].as_str().unwrap().starts_with("token:"));
    }
}

on_both_backends! {
    async fn a_zone_in_use_is_not_deleted_until_no_live_token_names_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let zone = create_zone(&app, &admin, "office", &["10.0.0.0/8"]).await;
        let zone_id = zone.assert_status(StatusCode::CREATED)["id"].as_str().unwrap().to_owned();
        let token = cli_token(&app.database, "default", "Okta production", &["--only-from", "zone:office"]);
        let token_id = id_of_token(&app, &admin, &token).await;

        let listed = app.api_get("/api/v1/zones", &admin).await;
        assert_eq!(listed.body["zones"][0]["used_by"], json!([{"id": token_id, "name": "Okta production", "revoked": false}]));
        let refused = app.call(Method::DELETE, &format!("/api/v1/zones/{zone_id}"), &admin, None, &[]).await;
        assert_scim_error(refused.status, &refused.body, StatusCode::CONFLICT, None);
        assert!(refused.text.contains("'Okta production'") && refused.text.contains(&token_id), "{}", refused.text);
        let cli = scimd(&app.database.url, &["zone", "delete", "office", "--org", "default"]);
        assert!(!cli.status.success() && stderr(&cli).contains("Okta production"), "{cli:?}");

        // Revoked, the token never works again and holds nothing back.
        app.call(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), &admin, None, &[]).await.assert_status(StatusCode::NO_CONTENT);
        let deleted = app.call(Method::DELETE, &format!("/api/v1/zones/{zone_id}"), &admin, None, &[]).await;
        deleted.assert_status(StatusCode::NO_CONTENT);
        let gone = app.api_get(&format!("/api/v1/zones/{zone_id}"), &admin).await;
        assert_scim_error(gone.status, &gone.body, StatusCode::NOT_FOUND, None);
        let events = audit_events(&app, &admin, "zone.deleted").await;
        assert_eq!(events[0]["target"], zone_id.as_str());
        assert_eq!(events[0]["details"]["name"], "office");
        assert_eq!(audit_events(&app, &admin, "zone.created").await.len(), 1);
    }
}

on_both_backends! {
    async fn zones_are_validated_and_scoped_to_their_organization(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        let zone = create_zone(&app, &admin, "Office", &["10.0.0.0/8", "10.0.0.0/8"]).await;
        assert_eq!(zone.assert_status(StatusCode::CREATED)["networks"], json!(["10.0.0.0/8"]));
        let zone_id = zone.body["id"].as_str().unwrap().to_owned();
        let taken = create_zone(&app, &admin, "OFFICE", &["192.0.2.0/24"]).await;
        assert_scim_error(taken.status, &taken.body, StatusCode::CONFLICT, Some("uniqueness"));
        for (name, networks) in [("a b", vec!["10.0.0.0/8"]), ("", vec!["10.0.0.0/8"]), ("x", vec![]), ("x", vec!["10.0.0.1/24"])] {
            let refused = create_zone(&app, &admin, name, &networks).await;
            assert_scim_error(refused.status, &refused.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
        for body in [
            json!({"name": "t", "only_from": ["zone:nowhere"]}),
            json!({"name": "t", "only_from": ["zone:office"], "not_from": ["10.0.0.0/8"]}),
            json!({"name": "t", "allowed_cidrs": ["10.0.0.0/8"], "only_from": ["zone:office"]}),
        ] {
            let refused = app.api_post("/api/v1/tokens", &admin, &body).await;
            assert_scim_error(refused.status, &refused.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        }

        // Another organization sees none of it and cannot name it.
        assert!(scimd(&app.database.url, &["org", "create", "other"]).status.success());
        let other = cli_token(&app.database, "other", "other-admin", &["--scope", "scim:read tokens:manage"]);
        let hidden = app.api_get(&format!("/api/v1/zones/{zone_id}"), &other).await;
        assert_scim_error(hidden.status, &hidden.body, StatusCode::NOT_FOUND, None);
        assert_eq!(app.api_get("/api/v1/zones", &other).await.body["zones"], json!([]));
        let moved = patch_zone(&app, &other, &zone_id, json!({"networks": ["0.0.0.0/0"]})).await;
        assert_scim_error(moved.status, &moved.body, StatusCode::NOT_FOUND, None);
        let named = app.api_post("/api/v1/tokens", &other, &json!({"name": "t", "scopes": ["scim:read"], "only_from": ["zone:office"]})).await;
        assert_scim_error(named.status, &named.body, StatusCode::BAD_REQUEST, Some("invalidValue"));
        // Without tokens:manage, no zones.
        let reader = cli_token(&app.database, "default", "reader", &["--scope", "scim:read"]);
        let refused = app.api_get("/api/v1/zones", &reader).await;
        assert_scim_error(refused.status, &refused.body, StatusCode::FORBIDDEN, None);
    }
}

on_both_backends! {
    async fn a_restricted_token_manager_cannot_widen_anything_through_a_zone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = admin_token(&app.database);
        for (name, networks) in [("loopback", ["127.0.0.0/8"]), ("lab", ["10.0.0.0/8"]), ("spare", ["192.0.2.0/24"])] {
            create_zone(&app, &admin, name, &networks).await.assert_status(StatusCode::CREATED);
        }
        let zone_id = |name: &'static str| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let zones = app.api_get("/api/v1/zones", &admin).await.body["zones"].clone();
                zones.as_array().unwrap().iter().find(|z| z["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
            }
        };
        let manage = ["--scope", "scim:read tokens:manage"];
        let bounded = cli_token(&app.database, "default", "bounded", &[&manage[..], &["--only-from", "zone:loopback,10.0.0.0/8"]].concat());
        let child = |network: Value| {
            let mut body = json!({"name": "child", "scopes": ["scim:read"]});
            body.as_object_mut().unwrap().extend(network.as_object().unwrap().clone());
            body
        };
        let post = |body: Value| {
            let app = &app;
            let bounded = bounded.clone();
            async move { app.api_post("/api/v1/tokens", &bounded, &body).await }
        };
        post(child(json!({"only_from": ["zone:LOOPBACK", "10.1.0.0/16"]}))).await.assert_status(StatusCode::CREATED);
        for network in [
            json!({}),
            json!({"only_from": ["zone:spare"]}),
            // 127.0.0.1 lies in the zone today, but the zone can change.
            json!({"only_from": ["127.0.0.1"]}),
            // The lab zone lies in 10/8 today, but the zone can grow.
            json!({"only_from": ["zone:lab"]}),
            json!({"not_from": ["zone:spare"]}),
        ] {
            let refused = post(child(network.clone())).await;
            assert_scim_error(refused.status, &refused.body, StatusCode::FORBIDDEN, None);
            assert!(refused.body["detail"].as_str().unwrap().starts_with("allowed_cidrs:"), "{network}: {}", refused.text);
        }

        // Its own zone would widen itself; a zone used by a token beyond it would widen that.
        let loopback = zone_id("loopback").await;
        let own = patch_zone(&app, &bounded, &loopback, json!({"networks": ["0.0.0.0/0"]})).await;
        assert_scim_error(own.status, &own.body, StatusCode::FORBIDDEN, None);
        let lab = zone_id("lab").await;
        cli_token(&app.database, "default", "lab-sync", &["--only-from", "zone:lab"]);
        let others = patch_zone(&app, &bounded, &lab, json!({"networks": ["0.0.0.0/0"]})).await;
        assert_scim_error(others.status, &others.body, StatusCode::FORBIDDEN, None);
        assert!(others.text.contains("lab-sync"), "{}", others.text);
        // A zone nobody uses, or a rename, changes no token's reach.
        let spare = zone_id("spare").await;
        patch_zone(&app, &bounded, &spare, json!({"networks": ["0.0.0.0/0"]})).await.assert_status(StatusCode::OK);
        patch_zone(&app, &bounded, &loopback, json!({"name": "local"})).await.assert_status(StatusCode::OK);
        assert_eq!(from_loopback(&app, &bounded).await, StatusCode::OK, "renamed, it still names its zone");

        // A not-from manager hands out only rules that keep its networks out.
        let kept_out = cli_token(&app.database, "default", "kept-out", &[&manage[..], &["--not-from", "zone:lab"]].concat());
        let refused = app.api_post("/api/v1/tokens", &kept_out, &child(json!({"not_from": ["10.0.0.0/8"]}))).await;
        assert!(refused.body["detail"].as_str().unwrap().starts_with("not_from:"), "{}", refused.text);
        let within = app.api_post("/api/v1/tokens", &kept_out, &child(json!({"not_from": ["zone:lab", "192.0.2.0/24"]}))).await;
        within.assert_status(StatusCode::CREATED);
    }
}

async fn from_loopback(app: &TestApp, token: &str) -> StatusCode {
    app.probe(token).await
}

on_both_backends! {
    async fn the_cli_manages_zones_and_token_rules(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let url = app.database.url.clone();
        let run = |args: &[&str]| {
            let output = scimd(&url, args);
            assert!(output.status.success(), "{args:?}: {output:?}");
            stdout(&output)
        };
        run(&["zone", "create", "office", "--org", "default", "--network", "10.0.0.0/8, 2001:db8::/32"]);
        let listed: Value = serde_json::from_str(&run(&["zone", "list", "--org", "default", "--json"])).unwrap();
        assert_eq!(listed["zones"][0]["networks"], json!(["10.0.0.0/8", "2001:db8::/32"]));
        let token = cli_token(&app.database, "default", "okta", &["--only-from", "zone:office", "--only-from", "127.0.0.1"]);
        assert_eq!(app.probe(&token).await, StatusCode::OK);
        let id = id_of_token(&app, &admin_token(&app.database), &token).await;
        assert!(run(&["token", "show", &id]).contains("only from 127.0.0.1/32 zone:office"));

        run(&["token", "edit", &id, "--not-from", "zone:office"]);
        app.probe_after_another_process(backend, &token, StatusCode::OK).await;
        // Loopback is now in the zone the token may not be used from.
        run(&["zone", "update", "office", "--org", "default", "--network", "127.0.0.0/8"]);
        app.probe_after_another_process(backend, &token, StatusCode::FORBIDDEN).await;
        assert!(run(&["zone", "show", "office", "--org", "default"]).contains("okta"));
        run(&["token", "edit", &id, "--anywhere"]);
        app.probe_after_another_process(backend, &token, StatusCode::OK).await;
        run(&["zone", "delete", "office", "--org", "default"]);

        for (args, message) in [
            (&["token", "create", "--org", "default", "--name", "x", "--only-from", "zone:gone"][..], "no zone named 'gone'"),
            (&["token", "create", "--org", "default", "--name", "x", "--allow-ip", "10.0.0.1/24"], "--allow-ip"),
            (&["zone", "create", "a,b", "--org", "default", "--network", "10.0.0.0/8"], "not a zone name"),
            (&["zone", "update", "nowhere", "--org", "default", "--rename", "x"], "no zone named 'nowhere'"),
        ] {
            let output = scimd(&url, args);
            assert!(!output.status.success() && stderr(&output).contains(message), "{args:?}: {output:?}");
        }
        let both = scimd(&url, &["token", "create", "--org", "default", "--name", "x", "--only-from", "10.0.0.0/8", "--not-from", "10.0.0.0/8"]);
        assert!(!both.status.success(), "{both:?}");
    }
}
