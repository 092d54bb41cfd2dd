use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::scim::{
    ENTERPRISE_URN, USER_URN, alice, assert_no_nulls, bob, carl, id_of, ids_in, path_of, user,
    version_of,
};
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";

fn time_of(resource: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = resource["meta"][field].as_str().expect(field);
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{field} {text}: {e}"))
}

/// USER-SHAPE (dossier §4.0) for a user answered by `app`.
fn assert_user_shape(app: &TestApp, user: &Value) {
    let id = id_of(user);
    assert!(!id.is_empty());
    assert!(
        user["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(USER_URN)),
        "{user}"
    );
    assert!(user["userName"].is_string(), "{user}");
    assert!(user["active"].is_boolean(), "{user}");
    assert!(user.get("password").is_none(), "{user}");
    time_of(user, "created");
    time_of(user, "lastModified");
    assert_eq!(
        user["meta"]["location"],
        json!(app.url(&format!("{USERS}/{id}")))
    );
    assert_no_nulls(user);
}

on_both_backends! {
    // C-01, C-02
    async fn okta_spec_create_answers_201_with_the_user_and_get_returns_the_same(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [USER_URN],
            "userName": "Runscope101Abcdefghi123@atko.com",
            "name": {"givenName": "Runscope101", "familyName": "Abcdefghi123"},
            "emails": [{"primary": true, "value": "Runscope101Abcdefghi123@atko.com", "type": "work"}],
            "displayName": "Runscope101 Abcdefghi123",
            "active": true
        });
        let reply = app
            .post_json_with(
                USERS,
                &body,
                &[
                    ("content-type", "application/json"),
                    ("accept", "application/scim+json; charset=utf-8"),
                ],
            )
            .await;

        let created = reply.assert_resource(StatusCode::CREATED, "User").clone();
        assert_user_shape(&app, &created);
        for field in ["userName", "name", "emails", "displayName", "active"] {
            assert_eq!(created[field], body[field], "{field}");
        }
        let fetched = app.fetch(&path_of(&created)).await;
        assert_eq!(fetched, created);
    }
}

on_both_backends! {
    // C-05, C-28
    async fn okta_create_with_password_and_groups_never_returns_or_stores_the_password(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [USER_URN],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });

        let created = app.create_user(&body).await;
        assert_user_shape(&app, &created);
        assert_eq!(created["externalId"], "00ujl29u0le5T6Aj10h7");
        assert_eq!(created["locale"], "en-US");
        assert!(created.get("groups").is_none_or(|g| *g == json!([])), "{created}");
        let mut replaced = body.clone();
        replaced["password"] = json!("N3w-p@ss-replaced");
        app.put_json(&path_of(&created), &replaced).await.assert_status(StatusCode::OK);
        let fetched = app.fetch(&path_of(&created)).await;
        let listed = app.list(USERS).await;

        assert!(fetched.get("password").is_none(), "{fetched}");
        assert!(!listed.to_string().contains("password"), "{listed}");
        let dump = String::from_utf8_lossy(&app.database.dump()).into_owned();
        assert!(dump.contains("test.user@okta.local"), "the dump should hold the user");
        assert!(!dump.contains("1mz050nq"), "plain password stored");
        assert!(!dump.contains("N3w-p@ss-replaced"), "plain password stored on PUT");
    }
}

on_both_backends! {
    // C-06
    async fn entra_create_with_charset_meta_and_roles_answers_201(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        });

        let reply = app
            .post_json_with(USERS, &body, &[("content-type", "application/scim+json; charset=utf-8")])
            .await;

        let created = reply.assert_resource(StatusCode::CREATED, "User");
        assert_user_shape(&app, created);
        assert_eq!(created["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
        assert_eq!(created["userName"], body["userName"]);
        assert_eq!(created["name"], body["name"]);
        assert_eq!(
            created["emails"],
            json!([{"value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", "type": "work", "primary": true}])
        );
    }
}

on_both_backends! {
    // C-07, C-29
    async fn explicit_nulls_and_a_misspelled_extension_urn_are_accepted_and_nulls_are_absent(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
            "externalId": "jyoung", "userName": "jyoung@testuser.com", "active": true,
            "addresses": null, "displayName": "Joy Young",
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": true}],
            "meta": {"resourceType": "User"},
            "name": {"familyName": "Young", "givenName": "Joy", "middleName": null},
            "phoneNumbers": null, "preferredLanguage": null, "title": null,
            "department": null, "manager": null
        });

        let created = app.create_user(&body).await;
        let fetched = app.fetch(&path_of(&created)).await;

        for user in [&created, &fetched] {
            assert_user_shape(&app, user);
            for absent in ["addresses", "phoneNumbers", "preferredLanguage", "title", "department", "manager", ENTERPRISE_URN] {
                assert!(user.get(absent).is_none(), "{absent} in {user}");
            }
            assert_eq!(user["name"], json!({"familyName": "Young", "givenName": "Joy"}));
            assert_eq!(user["schemas"], json!([USER_URN]));
        }
    }
}

on_both_backends! {
    // C-08
    async fn values_are_stored_and_returned_verbatim(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [USER_URN],
            "userName": "jyoung@testuser.com",
            "phoneNumbers": [{"type": "work", "value": "55555555555"}],
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": true}],
            "displayName": "joy YOUNG"
        });

        let created = app.create_user(&body).await;
        let fetched = app.fetch(&path_of(&created)).await;

        for field in ["phoneNumbers", "emails", "displayName", "userName"] {
            assert_eq!(fetched[field], body[field], "{field}");
        }
        assert_eq!(fetched["active"], json!(true), "active defaults to true");
    }
}

on_both_backends! {
    // C-09
    async fn enterprise_extension_round_trips_with_or_without_its_urn_in_schemas(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let manager = app.create_user(&alice()).await;
        let extension = json!({
            "employeeNumber": "701984",
            "department": "Eng",
            "manager": {"value": id_of(&manager)}
        });
        let mut listed = bob();
        listed["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
        listed[ENTERPRISE_URN] = extension.clone();
        let mut unlisted = carl();
        unlisted[ENTERPRISE_URN] = extension.clone();

        for body in [listed, unlisted] {
            let created = app.create_user(&body).await;
            let fetched = app.fetch(&path_of(&created)).await;
            for user in [&created, &fetched] {
                let schemas = user["schemas"].as_array().unwrap();
                assert!(schemas.contains(&json!(ENTERPRISE_URN)), "{user}");
                let stored = &user[ENTERPRISE_URN];
                assert_eq!(stored["employeeNumber"], "701984", "{user}");
                assert_eq!(stored["department"], "Eng", "{user}");
                assert_eq!(stored["manager"]["value"], json!(id_of(&manager)), "{user}");
            }
        }
    }
}

on_both_backends! {
    // C-10
    async fn unknown_extensions_in_the_body_or_in_schemas_never_fail_a_create(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut custom_key = alice();
        custom_key["urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"] =
            json!({"tag": "701984"});
        let mut unknown_schema = bob();
        unknown_schema["schemas"] = json!([USER_URN, "urn:example:unknown:2.0:User"]);

        let first = app.post_json(USERS, &custom_key).await;
        let second = app.post_json(USERS, &unknown_schema).await;

        first.assert_resource(StatusCode::CREATED, "User");
        second.assert_resource(StatusCode::CREATED, "User");
        assert_eq!(second.body["userName"], "bob@a.example");
    }
}

on_both_backends! {
    // C-11
    async fn a_missing_or_empty_user_name_is_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut missing = alice();
        missing.as_object_mut().unwrap().remove("userName");
        let mut empty = alice();
        empty["userName"] = json!("");

        for body in [missing, empty] {
            let reply = app.post_json(USERS, &body).await;
            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
        assert_eq!(app.list(USERS).await["totalResults"], 0);
    }
}

on_both_backends! {
    async fn attributes_of_the_wrong_type_are_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for (field, value) in [("active", json!(5)), ("emails", json!("x")), ("userName", json!(7))] {
            let mut body = alice();
            body[field] = value;

            let reply = app.post_json(USERS, &body).await;

            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
        assert_eq!(app.list(USERS).await["totalResults"], 0);
    }
}

on_both_backends! {
    // C-12
    async fn a_client_sent_id_is_ignored_and_the_server_assigns_a_new_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let existing = app.create_user(&alice()).await;
        let mut body = bob();
        body["id"] = existing["id"].clone();

        let created = app.create_user(&body).await;

        assert_ne!(created["id"], existing["id"]);
        assert_eq!(app.fetch(&path_of(&existing)).await, existing, "U1 unchanged");
        assert_eq!(app.fetch(&path_of(&created)).await["userName"], "bob@a.example");
    }
}

on_both_backends! {
    // C-13
    async fn two_primary_emails_are_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body["emails"] = json!([
            {"value": "alice@a.example", "type": "work", "primary": true},
            {"value": "alice@home.example", "type": "home", "primary": true}
        ]);

        let reply = app.post_json(USERS, &body).await;

        reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
    }
}

on_both_backends! {
    // C-14
    async fn unknown_and_non_uuid_ids_are_a_scim_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create_user(&alice()).await;
        for id in [
            "010101001010101011001010101011",
            "00919288221112222",
            "not-a-uuid",
            "8a3c0f5e-2b1d-4c6e-9f7a-1d2e3f4a5b6c",
        ] {
            let reply = app.get_reply(&format!("{USERS}/{id}")).await;

            reply.assert_error(StatusCode::NOT_FOUND, None);
        }
    }
}

on_both_backends! {
    // C-03, C-04
    async fn a_user_name_taken_in_any_case_is_a_409_uniqueness(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.create_user(&alice()).await;
        let mut shouting = alice();
        shouting["userName"] = json!("ALICE@A.EXAMPLE");

        for body in [alice(), shouting] {
            let reply = app.post_json(USERS, &body).await;
            reply.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        }
        let listed = app.list(USERS).await;
        assert_eq!(ids_in(&listed), vec![id_of(&first).to_owned()]);
        assert_eq!(app.fetch(&path_of(&first)).await, first, "a repeated create wipes nothing");
    }
}

on_both_backends! {
    // C-16, C-20
    async fn okta_put_replaces_the_user_and_ignores_id_meta_and_groups(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = app.create_user(&json!({
            "schemas": [USER_URN],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "active": true
        }))
        .await;
        let body = json!({
            "schemas": [USER_URN],
            "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
            "active": true,
            "groups": [],
            "meta": {"resourceType": "User"}
        });

        let reply = app.put_json(&path_of(&created), &body).await;

        let replaced = reply.assert_resource(StatusCode::OK, "User").clone();
        assert_user_shape(&app, &replaced);
        assert_eq!(replaced["id"], created["id"]);
        assert_eq!(replaced["name"], body["name"]);
        assert_eq!(replaced["emails"], body["emails"]);
        assert_eq!(replaced["meta"]["created"], created["meta"]["created"]);
        assert!(time_of(&replaced, "lastModified") >= time_of(&created, "lastModified"));
        assert_ne!(version_of(&replaced), version_of(&created), "version changes on PUT");
        assert_eq!(app.fetch(&path_of(&created)).await, replaced);
        app.get_reply("/scim/v2/Users/23a35c27-23d3-4c03-b4c5-6443c09e7173")
            .await
            .assert_error(StatusCode::NOT_FOUND, None);
    }
}

on_both_backends! {
    // C-18, C-19
    async fn put_removes_omitted_attributes_but_keeps_an_omitted_active(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body["displayName"] = json!("Alice Anders");
        body["title"] = json!("Engineer");
        body["active"] = json!(false);
        let created = app.create_user(&body).await;
        let put = json!({
            "schemas": [USER_URN],
            "userName": "alice@a.example",
            "name": {"givenName": "Alice"},
            "emails": [],
            "title": null
        });

        let reply = app.put_json(&path_of(&created), &put).await;

        let replaced = reply.assert_resource(StatusCode::OK, "User").clone();
        for removed in ["displayName", "title", "externalId", "emails"] {
            assert!(replaced.get(removed).is_none(), "{removed} kept: {replaced}");
        }
        assert_eq!(replaced["name"], json!({"givenName": "Alice"}));
        assert_eq!(replaced["active"], json!(false), "omitted active keeps its value");
        assert_eq!(app.fetch(&path_of(&created)).await, replaced);
    }
}

on_both_backends! {
    // C-21
    async fn put_on_a_missing_id_is_a_404_and_creates_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for id in ["8a3c0f5e-2b1d-4c6e-9f7a-1d2e3f4a5b6c", "not-a-uuid"] {
            let reply = app.put_json(&format!("{USERS}/{id}"), &alice()).await;

            reply.assert_error(StatusCode::NOT_FOUND, None);
        }
        assert_eq!(app.list(USERS).await["totalResults"], 0);
    }
}

on_both_backends! {
    // C-22
    async fn put_to_another_users_name_is_a_409_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create_user(&alice()).await;
        let second = app.create_user(&bob()).await;
        let mut body = bob();
        body["userName"] = json!("Alice@A.Example");

        let reply = app.put_json(&path_of(&second), &body).await;

        reply.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        assert_eq!(app.fetch(&path_of(&second)).await, second);
    }
}

on_both_backends! {
    async fn put_may_change_the_case_of_the_users_own_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = app.create_user(&alice()).await;
        let mut body = alice();
        body["userName"] = json!("Alice@A.example");

        let reply = app.put_json(&path_of(&created), &body).await;

        assert_eq!(reply.assert_resource(StatusCode::OK, "User")["userName"], "Alice@A.example");
    }
}

on_both_backends! {
    // C-23, C-24
    async fn delete_answers_204_and_the_user_is_gone_until_recreated_with_a_new_id(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let kept = app.create_user(&alice()).await;
        let deleted = app.create_user(&carl()).await;

        let reply = app.delete(&path_of(&deleted)).await;

        reply.assert_status(StatusCode::NO_CONTENT);
        assert!(reply.text.is_empty(), "{}", reply.text);
        app.get_reply(&path_of(&deleted)).await.assert_error(StatusCode::NOT_FOUND, None);
        app.delete(&path_of(&deleted)).await.assert_error(StatusCode::NOT_FOUND, None);
        app.put_json(&path_of(&deleted), &carl()).await.assert_error(StatusCode::NOT_FOUND, None);
        assert_eq!(ids_in(&app.list(USERS).await), vec![id_of(&kept).to_owned()]);
        let recreated = app.create_user(&carl()).await;
        assert_ne!(recreated["id"], deleted["id"]);
    }
}

on_both_backends! {
    // U-24, U-01
    async fn listing_users_returns_every_user_of_the_org_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut inactive = carl();
        inactive["active"] = json!(false);
        let mut ids = Vec::new();
        for body in [bob(), alice(), inactive] {
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }

        let listed = app.list(USERS).await;

        assert_eq!(listed["totalResults"], 3);
        assert_eq!(listed["startIndex"], 1);
        assert_eq!(ids_in(&listed), ids);
        let first = &listed["Resources"][0];
        assert_eq!(*first, app.fetch(&format!("{USERS}/{}", ids[0])).await);
        assert_eq!(listed["Resources"][2]["active"], json!(false), "inactive users are listed");
        let one = app.list("/scim/v2/Users?count=1&startIndex=1").await;
        assert_eq!((one["totalResults"].clone(), ids_in(&one)), (json!(3), vec![ids[0].clone()]));
    }
}

on_both_backends! {
    // Okta "Test Connector Configuration" (§1.5a)
    async fn an_empty_org_lists_an_empty_resources_array(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let listed = app.list("/scim/v2/Users?startIndex=1&count=2").await;

        assert_eq!(
            listed,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
            })
        );
    }
}

on_both_backends! {
    // U-02, U-25
    async fn pages_of_users_cover_every_user_once_in_a_stable_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for n in 0..11 {
            let body = user(&format!("user{n:02}@a.example"), &format!("ext-{n}"), "U", "Ser");
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }

        let mut seen = Vec::new();
        for (start, expected) in [(1, 5), (6, 5), (11, 1)] {
            let page = app.list(&format!("{USERS}?count=5&startIndex={start}")).await;
            assert_eq!(page["totalResults"], 11);
            assert_eq!(page["startIndex"], start);
            assert_eq!(page["itemsPerPage"], expected);
            seen.extend(ids_in(&page));
        }

        assert_eq!(seen, ids);
    }
}

on_both_backends! {
    // U-19, U-20, U-21, U-22
    async fn out_of_range_start_index_and_count_are_clamped(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for body in [alice(), bob(), carl()] {
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }

        for query in ["startIndex=0&count=2", "startIndex=-5&count=2"] {
            let page = app.list(&format!("{USERS}?{query}")).await;
            assert_eq!(page["startIndex"], 1, "{query}");
            assert_eq!(ids_in(&page), ids[..2].to_vec(), "{query}");
        }
        for query in ["count=0", "count=-1", "startIndex=1000&count=10"] {
            let page = app.list(&format!("{USERS}?{query}")).await;
            assert_eq!(page["totalResults"], 3, "{query}");
            assert_eq!(page["itemsPerPage"], 0, "{query}");
            assert_eq!(page["Resources"], json!([]), "{query}");
        }
    }
}

on_both_backends! {
    // U-23
    async fn count_is_capped_at_the_advertised_max_results(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.limits.max_results = 3;
        })
        .await;
        let mut ids = Vec::new();
        for body in [alice(), bob(), carl(), crate::helpers::scim::carol()] {
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }

        let advertised = app.get_reply("/scim/v2/ServiceProviderConfig").await;
        let page = app.list(&format!("{USERS}?count=100000")).await;
        let unpaged = app.list(USERS).await;

        assert_eq!(advertised.body["filter"]["maxResults"], 3);
        assert_eq!(page["totalResults"], 4);
        assert_eq!(ids_in(&page), ids[..3].to_vec());
        assert_eq!(unpaged["itemsPerPage"], 3);
        let rest = app.list(&format!("{USERS}?startIndex=4&count=3")).await;
        assert_eq!(ids_in(&rest), ids[3..].to_vec());
    }
}

on_both_backends! {
    async fn unsupported_methods_on_users_are_405_before_the_body_is_read(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = app.create_user(&alice()).await;

        for (method, path) in [
            (Method::DELETE, USERS.to_owned()),
            (Method::PUT, USERS.to_owned()),
            (Method::POST, path_of(&created)),
        ] {
            let reply = app.send_raw(method.clone(), &path, "application/scim+json", "test").await;

            reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, None);
        }
        assert_eq!(app.fetch(&path_of(&created)).await, created);
    }
}
