//! Content types, errors, routing, ETags, tenancy and limits across Users and Groups.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::scim::{
    alice, bob, carl, carol, engineering, group, id_of, ids_in, member_values, path_of, version_of,
};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const GROUPS: &str = "/scim/v2/Groups";

/// One user and one group in org `default`, the group containing the user; both as read
/// back after the group was created (the user's `groups` now lists it).
async fn seed(app: &TestApp) -> (Value, Value) {
    let user = app.create_user(&alice()).await;
    let group = app.create_group(&engineering(&[id_of(&user)])).await;
    let user = app.fetch(&path_of(&user)).await;
    assert_eq!(user["groups"][0]["value"], group["id"], "{user}");
    (user, group)
}

on_both_backends! {
    // E-01, E-02
    async fn scim_json_with_or_without_charset_and_plain_json_are_accepted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for (content_type, body) in [
            ("application/scim+json", alice()),
            ("application/scim+json; charset=utf-8", bob()),
            ("application/json", carl()),
        ] {
            let reply = app
                .send(Method::POST, USERS, Some((content_type, serde_json::to_vec(&body).unwrap())), &[])
                .await;

            assert_eq!(reply.assert_resource(StatusCode::CREATED, "User")["userName"], body["userName"]);
        }
        let reply = app
            .send(Method::POST, GROUPS, Some(("application/json", serde_json::to_vec(&group("Ops", &[])).unwrap())), &[])
            .await;
        reply.assert_resource(StatusCode::CREATED, "Group");
    }
}

on_both_backends! {
    // E-05
    async fn a_non_json_content_type_is_a_scim_415_and_creates_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, _) = seed(&app).await;
        let valid = serde_json::to_string(&bob()).unwrap();

        for (method, path) in [(Method::POST, USERS.to_owned()), (Method::PUT, path_of(&user))] {
            let reply = app.send_raw(method, &path, "text/plain", &valid).await;

            reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
        }
        assert_eq!(ids_in(&app.list(USERS).await), vec![id_of(&user).to_owned()]);
        assert_eq!(app.fetch(&path_of(&user)).await, user);
    }
}

on_both_backends! {
    // E-04
    async fn malformed_json_arrays_and_strings_are_invalid_syntax(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;

        for path in [USERS.to_owned(), GROUPS.to_owned(), path_of(&user), path_of(&group)] {
            let method = if path.ends_with("Users") || path.ends_with("Groups") { Method::POST } else { Method::PUT };
            for body in [r#"{"userName":"#, "[]", r#""x""#] {
                let reply = app.send_raw(method.clone(), &path, "application/scim+json", body).await;

                reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidSyntax"));
            }
        }
        assert_eq!(app.fetch(&path_of(&user)).await, user);
        assert_eq!(app.fetch(&path_of(&group)).await, group);
    }
}

on_both_backends! {
    // E-09
    async fn a_body_over_the_payload_limit_is_a_scim_413(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.limits.max_payload_bytes = 2048;
        })
        .await;
        let mut body = alice();
        body["displayName"] = json!("x".repeat(10 * 1024));

        let reply = app.post_json(USERS, &body).await;
        let grouped = app.post_json(GROUPS, &group(&"y".repeat(10 * 1024), &[])).await;

        reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        grouped.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        assert_eq!(app.list(USERS).await["totalResults"], 0);
        app.create_user(&alice()).await;
    }
}

on_both_backends! {
    // E-07, D-02
    async fn unsupported_methods_are_a_scim_405_even_with_a_non_json_body(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;

        for (method, path) in [
            (Method::DELETE, USERS.to_owned()),
            (Method::PUT, GROUPS.to_owned()),
            (Method::PATCH, GROUPS.to_owned()),
            (Method::POST, path_of(&user)),
            (Method::POST, path_of(&group)),
        ] {
            let reply = app.send_raw(method.clone(), &path, "application/scim+json", "test").await;

            assert_eq!(reply.body["status"], "405", "{method} {path}");
            reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, None);
        }
        assert_eq!(app.list(USERS).await["totalResults"], 1);
        assert_eq!(app.fetch(&path_of(&group)).await, group);
    }
}

on_both_backends! {
    // E-06
    async fn unknown_paths_are_a_scim_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, _) = seed(&app).await;

        for path in [
            "/scim/v2/Foo".to_owned(),
            "/scim/v3/Users".to_owned(),
            format!("{}/extra", path_of(&user)),
        ] {
            let reply = app.get_reply(&path).await;

            reply.assert_error(StatusCode::NOT_FOUND, None);
        }
    }
}

on_both_backends! {
    // E-12, E-10
    async fn a_double_slash_base_url_and_any_accept_header_still_list(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;

        let users = app.list("/scim/v2//Users").await;
        let groups = app.list("/scim/v2//Groups").await;

        assert_eq!(ids_in(&users), vec![id_of(&user).to_owned()]);
        assert_eq!(ids_in(&groups), vec![id_of(&group).to_owned()]);
        for accept in ["application/scim+json; charset=utf-8", "application/json", "*/*"] {
            let listed = app.list_with(USERS, &[("accept", accept)]).await;
            assert_eq!(listed["totalResults"], 1, "{accept}");
        }
    }
}

on_both_backends! {
    async fn if_none_match_with_the_current_etag_is_304_with_an_empty_body(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;

        for resource in [&user, &group] {
            let path = path_of(resource);
            let current = version_of(resource);

            let unchanged = app.get_reply_with(&path, &[("if-none-match", current)]).await;
            let stale = app.get_reply_with(&path, &[("if-none-match", "W/\"999\"")]).await;

            unchanged.assert_status(StatusCode::NOT_MODIFIED);
            assert!(unchanged.text.is_empty(), "{}", unchanged.text);
            stale.assert_status(StatusCode::OK);
            assert_eq!(stale.body, *resource);
            assert_eq!(stale.etag(), current);
        }
    }
}

on_both_backends! {
    async fn put_with_a_stale_if_match_is_412_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;
        let mut renamed_user = alice();
        renamed_user["displayName"] = json!("Alice A.");
        let renamed_group = crate::helpers::scim::group("Engineering 2", &[id_of(&user)]);

        for (resource, body, kind) in [(&user, &renamed_user, "User"), (&group, &renamed_group, "Group")] {
            let path = path_of(resource);
            // Read again: renaming the user changed the group's member `display`.
            let resource = &app.fetch(&path).await;
            let current = version_of(resource);

            let stale = app.put_json_with(&path, body, &[("if-match", "W/\"999\"")]).await;
            stale.assert_error(StatusCode::PRECONDITION_FAILED, None);
            assert_eq!(app.fetch(&path).await, *resource);

            let fresh = app.put_json_with(&path, body, &[("if-match", current)]).await;
            let replaced = fresh.assert_resource(StatusCode::OK, kind).clone();
            assert_ne!(version_of(&replaced), current);
            let outdated = app.put_json_with(&path, body, &[("if-match", current)]).await;
            outdated.assert_error(StatusCode::PRECONDITION_FAILED, None);
            assert_eq!(app.fetch(&path).await, replaced);
        }
    }
}

on_both_backends! {
    async fn delete_with_a_stale_if_match_is_412_and_deletes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;

        for resource in [&group, &user] {
            let path = path_of(resource);
            // Read again: deleting the group removed it from the user's `groups`.
            let resource = &app.fetch(&path).await;

            let stale = app.delete_with(&path, &[("if-match", "W/\"999\"")]).await;
            stale.assert_error(StatusCode::PRECONDITION_FAILED, None);
            assert_eq!(app.fetch(&path).await, *resource);

            let current = app.delete_with(&path, &[("if-match", version_of(resource))]).await;
            current.assert_status(StatusCode::NO_CONTENT);
            app.get_reply(&path).await.assert_error(StatusCode::NOT_FOUND, None);
        }
    }
}

on_both_backends! {
    async fn meta_location_uses_the_host_header_and_ignores_forwarded_headers_by_default(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let forwarded = [("x-forwarded-proto", "https"), ("x-forwarded-host", "scim.example.com")];

        let reply = app.post_json_with(USERS, &alice(), &forwarded).await;

        let created = reply.assert_resource(StatusCode::CREATED, "User");
        let expected = format!("{}/scim/v2/Users/{}", app.base_url, id_of(created));
        assert!(app.base_url.starts_with("http://127.0.0.1:"), "{}", app.base_url);
        assert_eq!(created["meta"]["location"], json!(expected));
        assert_eq!(reply.header("location"), Some(expected.as_str()));
    }
}

on_both_backends! {
    async fn forwarded_headers_from_a_trusted_proxy_shape_meta_location(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let forwarded = [("x-forwarded-proto", "https"), ("x-forwarded-host", "scim.example.com")];

        let user = app.post_json_with(USERS, &alice(), &forwarded).await;
        let group = app.post_json_with(GROUPS, &group("Ops", &[]), &forwarded).await;

        let user = user.assert_resource(StatusCode::CREATED, "User");
        let expected = format!("https://scim.example.com/scim/v2/Users/{}", id_of(user));
        assert_eq!(user["meta"]["location"], json!(expected));
        let group = group.assert_resource(StatusCode::CREATED, "Group");
        let expected = format!("https://scim.example.com/scim/v2/Groups/{}", id_of(group));
        assert_eq!(group["meta"]["location"], json!(expected));
        let direct = app.fetch(&path_of(user)).await;
        assert_eq!(
            direct["meta"]["location"],
            json!(format!("{}/scim/v2/Users/{}", app.base_url, id_of(user)))
        );
    }
}

on_both_backends! {
    // A-06, A-07, G-35
    async fn another_orgs_token_gets_404_for_every_operation_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;
        let other = format!("Bearer {}", app.second_org_token("other"));
        let as_other = [("authorization", other.as_str())];

        for (resource, body) in [(&user, bob()), (&group, group_body_renamed())] {
            let path = path_of(resource);
            app.get_reply_with(&path, &as_other).await.assert_error(StatusCode::NOT_FOUND, None);
            app.put_json_with(&path, &body, &as_other).await.assert_error(StatusCode::NOT_FOUND, None);
            app.delete_with(&path, &as_other).await.assert_error(StatusCode::NOT_FOUND, None);
            let after = app.fetch(&path).await;
            assert_eq!(after, *resource);
            assert_eq!(version_of(&after), version_of(resource));
        }
    }
}

fn group_body_renamed() -> Value {
    group("Renamed by another org", &[])
}

on_both_backends! {
    // A-09, A-10, A-12
    async fn each_org_lists_only_its_own_resources_and_names_are_unique_per_org(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;
        let other = format!("Bearer {}", app.second_org_token("other"));
        let as_other = [("authorization", other.as_str())];

        let same_name = app.post_json_with(USERS, &alice(), &as_other).await;
        let same_group = app.post_json_with(GROUPS, &engineering(&[]), &as_other).await;
        let carol = app.post_json_with(USERS, &carol(), &as_other).await;

        let same_name = same_name.assert_resource(StatusCode::CREATED, "User").clone();
        let same_group = same_group.assert_resource(StatusCode::CREATED, "Group").clone();
        let carol = carol.assert_resource(StatusCode::CREATED, "User").clone();
        assert_ne!(same_name["id"], user["id"]);
        let other_users = app.list_with(USERS, &as_other).await;
        assert_eq!(ids_in(&other_users), vec![id_of(&same_name).to_owned(), id_of(&carol).to_owned()]);
        assert_eq!(ids_in(&app.list_with(GROUPS, &as_other).await), vec![id_of(&same_group).to_owned()]);
        assert_eq!(ids_in(&app.list(USERS).await), vec![id_of(&user).to_owned()]);
        assert_eq!(ids_in(&app.list(GROUPS).await), vec![id_of(&group).to_owned()]);
    }
}

on_both_backends! {
    // A-11 (through POST and PUT)
    async fn a_member_from_another_org_is_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, group) = seed(&app).await;
        let other = format!("Bearer {}", app.second_org_token("other"));
        let as_other = [("authorization", other.as_str())];
        let foreign = app.post_json_with(USERS, &carol(), &as_other).await;
        let foreign_id = id_of(&foreign.body).to_owned();

        let created = app.post_json(GROUPS, &crate::helpers::scim::group("Ops", &[&foreign_id])).await;
        let replaced = app.put_json(&path_of(&group), &engineering(&[id_of(&user), &foreign_id])).await;

        for reply in [created, replaced] {
            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
            assert!(reply.body["detail"].as_str().unwrap().contains(&foreign_id), "{}", reply.body);
        }
        assert_eq!(member_values(&app.fetch(&path_of(&group)).await), vec![id_of(&user).to_owned()]);
        assert_eq!(app.list(GROUPS).await["totalResults"], 1);
        assert_eq!(app.list(USERS).await["totalResults"], 1, "the foreign user is not created in A");
    }
}

on_both_backends! {
    // A-13
    async fn the_auth_secret_can_create_read_replace_and_delete(backend: Backend) {
        let secret = "an-on-prem-shared-secret-of-40-characters";
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.auth_secret = Some(secrecy::SecretString::from(secret));
        })
        .await;
        let bearer = format!("Bearer {secret}");
        let as_secret = [("authorization", bearer.as_str())];

        let created = app.post_json_with(USERS, &alice(), &as_secret).await;
        let created = created.assert_resource(StatusCode::CREATED, "User").clone();
        let path = path_of(&created);
        let group = app.post_json_with(GROUPS, &engineering(&[id_of(&created)]), &as_secret).await;
        let group = group.assert_resource(StatusCode::CREATED, "Group").clone();
        assert_eq!(member_values(&group), vec![id_of(&created).to_owned()]);
        let fetched = app.get_reply_with(&path, &as_secret).await;
        let fetched = fetched.assert_resource(StatusCode::OK, "User");
        assert_eq!((&fetched["id"], &fetched["meta"]), (&created["id"], &created["meta"]));
        assert_eq!(fetched["groups"][0]["value"], group["id"]);
        let mut body = alice();
        body["active"] = json!(false);
        let replaced = app.put_json_with(&path, &body, &as_secret).await;
        assert_eq!(replaced.assert_resource(StatusCode::OK, "User")["active"], json!(false));
        // The secret acts as org `default`, the org of the first-start token.
        assert_eq!(app.fetch(&path).await["active"], json!(false));
        app.delete_with(&path, &as_secret).await.assert_status(StatusCode::NO_CONTENT);
        app.get_reply_with(&path, &as_secret).await.assert_error(StatusCode::NOT_FOUND, None);
    }
}

/// Status line and `Content-Type` of a request sent without any `Accept` header (reqwest
/// always adds one), over a raw HTTP/1.1 connection.
fn without_accept(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    use std::io::{Read, Write};
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.token,
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let content_type = response
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_owned();
    (status, content_type)
}

on_both_backends! {
    // Issue 17, RFC 7644 §3.8: the same JSON, labelled with the type the client prefers
    async fn responses_are_labelled_with_the_media_type_accept_prefers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (user, _) = seed(&app).await;
        let path = path_of(&user);
        let missing = format!("{USERS}/00000000-0000-4000-8000-000000000000");
        const JSON: &str = "application/json";
        const SCIM: &str = "application/scim+json";
        let cases = [
            ("application/json", JSON),
            ("application/scim+json", SCIM),
            ("*/*", SCIM),
            ("application/json;q=0.5, application/scim+json", SCIM),
        ];
        for (number, (accept, expected)) in cases.into_iter().enumerate() {
            let headers: &[(&str, &str)] = &[("accept", accept)];
            let fetched = app.get_reply_with(&path, headers).await;
            let listed = app.get_reply_with(USERS, headers).await;
            let not_found = app.get_reply_with(&missing, headers).await;
            let name = format!("accept{number}@a.example");
            let created = app.post_json_with(USERS, &bob_named(&name), headers).await;

            fetched.assert_status(StatusCode::OK);
            assert_eq!(fetched.body, user, "{accept}");
            listed.assert_status(StatusCode::OK);
            not_found.assert_error(StatusCode::NOT_FOUND, None);
            created.assert_resource(StatusCode::CREATED, "User");
            for (what, reply) in [("get", &fetched), ("list", &listed), ("404", &not_found), ("post", &created)] {
                assert_eq!(reply.header("content-type"), Some(expected), "{what} with Accept {accept}");
            }
        }
        let post_body = bob_named("no-accept@a.example");
        for (method, target, body, status) in [
            ("GET", path.as_str(), None, 200),
            ("GET", USERS, None, 200),
            ("GET", missing.as_str(), None, 404),
            ("POST", USERS, Some(&post_body), 201),
        ] {
            assert_eq!(without_accept(&app, method, target, body), (status, SCIM.to_owned()), "{method} {target}");
        }
    }
}

fn bob_named(user_name: &str) -> Value {
    let mut body = bob();
    body["userName"] = json!(user_name);
    body["externalId"] = json!(user_name);
    body
}
