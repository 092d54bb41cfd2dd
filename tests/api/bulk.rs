use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestDatabase;
use crate::helpers::api::{admin_token, audit_events};
use crate::helpers::app::TestApp;
use crate::helpers::scim::{alice, bob, id_of, member_values, path_of};
use crate::on_both_backends;

const BULK: &str = "/scim/v2/Bulk";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn bulk(operations: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

fn statuses(response: &Value) -> Vec<String> {
    response["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["status"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    // RFC 7644 §3.7.2: a group's members may name users created later in the same request.
    async fn forward_bulk_id_references_resolve_and_results_keep_request_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = app
            .post_json(
                BULK,
                &bulk(json!([
                    {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
                     "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                              "displayName": "Tour Guides",
                              "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
                    {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": alice()},
                    {"method": "PATCH", "path": "/Users/bulkId:qwerty",
                     "data": {"Operations": [{"op": "replace", "path": "title", "value": "Guide"}]}}
                ])),
            )
            .await;
        reply.assert_status(StatusCode::OK);
        assert_eq!(reply.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]));
        assert_eq!(statuses(&reply.body), ["201", "201", "200"]);
        let operations = reply.body["Operations"].as_array().unwrap();
        assert_eq!(operations[0]["bulkId"], "ytrewq");
        assert_eq!(operations[1]["bulkId"], "qwerty");
        let group_path = operations[0]["location"].as_str().unwrap().split("/scim/v2").nth(1).unwrap().to_owned();
        let user_path = operations[1]["location"].as_str().unwrap().split("/scim/v2").nth(1).unwrap().to_owned();
        let group = app.fetch(&format!("/scim/v2{group_path}")).await;
        let user = app.fetch(&format!("/scim/v2{user_path}")).await;
        assert_eq!(member_values(&group), vec![id_of(&user).to_owned()]);
        assert_eq!(user["title"], "Guide");
        assert_eq!(operations[2]["version"], user["meta"]["version"]);

        // Each operation is audited on its own, with the resource it wrote.
        let admin = admin_token(&app.database);
        let mut writes: Vec<(String, String, String)> = audit_events(&app, &admin, "scim.write")
            .await
            .iter()
            .map(|event| {
                let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).unwrap().to_owned();
                (text("/details/resource_type"), text("/details/operation"), text("/target"))
            })
            .collect();
        writes.sort();
        let (group_id, user_id) = (id_of(&group).to_owned(), id_of(&user).to_owned());
        assert_eq!(
            writes,
            [
                ("Group".to_owned(), "create".to_owned(), group_id),
                ("User".to_owned(), "create".to_owned(), user_id.clone()),
                ("User".to_owned(), "patch".to_owned(), user_id),
            ]
        );
    }
}

on_both_backends! {
    async fn failed_operations_carry_a_scim_error_and_fail_on_errors_stops_the_rest(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let existing = app.create_user(&bob()).await;
        let reply = app
            .post_json(
                BULK,
                &json!({
                    "schemas": [BULK_REQUEST],
                    "failOnErrors": 1,
                    "Operations": [
                        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": bob()},
                        {"method": "DELETE", "path": path_of(&existing).trim_start_matches("/scim/v2")}
                    ]
                }),
            )
            .await;
        reply.assert_status(StatusCode::OK);
        assert_eq!(statuses(&reply.body), ["409"], "stops after the first error");
        let failed = &reply.body["Operations"][0];
        assert_eq!(failed["response"]["scimType"], "uniqueness");
        assert_eq!(failed["response"]["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
        app.get_reply(&path_of(&existing)).await.assert_status(StatusCode::OK);

        let reply = app
            .post_json(
                BULK,
                &bulk(json!([
                    {"method": "POST", "path": "/Users", "bulkId": "dup", "data": bob()},
                    {"method": "DELETE", "path": path_of(&existing).trim_start_matches("/scim/v2")},
                    {"method": "PUT", "path": "/Users/not-a-uuid", "data": alice()},
                    {"method": "DELETE", "path": "/Users/bulkId:nowhere"},
                    {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G", "members": [{"value": "bulkId:dup"}]}}
                ])),
            )
            .await;
        assert_eq!(statuses(&reply.body), ["409", "204", "404", "400", "400"]);
        app.get_reply(&path_of(&existing)).await.assert_error(StatusCode::NOT_FOUND, None);
    }
}

on_both_backends! {
    async fn circular_references_fail_without_running(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let reply = app
            .post_json(
                BULK,
                &bulk(json!([
                    {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
                    {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}}
                ])),
            )
            .await;
        assert_eq!(statuses(&reply.body), ["400", "400"]);
        assert_eq!(app.list("/scim/v2/Groups").await["totalResults"], 0);
    }
}

on_both_backends! {
    // RFC 7644 §3.7.4: limits are enforced with 413 and advertised.
    async fn bulk_limits_are_advertised_and_enforced_with_413(backend: Backend) {
        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.limits.bulk_max_operations = 2;
            config.limits.bulk_max_payload_bytes = 4096;
            config.limits.max_payload_bytes = 1024;
        })
        .await;
        let config = app.get_reply("/scim/v2/ServiceProviderConfig").await.body;
        assert_eq!(config["bulk"], json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 4096}));
        let three = bulk(json!([
            {"method": "DELETE", "path": "/Users/a"},
            {"method": "DELETE", "path": "/Users/b"},
            {"method": "DELETE", "path": "/Users/c"}
        ]));
        app.post_json(BULK, &three).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        let big = bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "x",
                               "data": {"userName": "x", "title": "t".repeat(5000)}}]));
        app.post_json(BULK, &big).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        // One operation carries no more than a request to its own endpoint may.
        let fat = bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "x"}},
            {"method": "POST", "path": "/Users", "bulkId": "y", "data": {"userName": "y", "title": "t".repeat(2000)}}
        ]));
        let reply = app.post_json(BULK, &fat).await;
        reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, None);
        assert!(reply.body["detail"].as_str().unwrap().starts_with("operation 2:"), "{}", reply.body);
        assert_eq!(app.list("/scim/v2/Users").await["totalResults"], 0, "nothing ran");
        app.post_json(BULK, &json!({"Operations": "nope"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, Some("invalidSyntax"));
        assert_eq!(app.get_reply(BULK).await.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

on_both_backends! {
    async fn each_operation_needs_its_own_scope_and_a_stale_version_fails(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app.create_user(&alice()).await;
        let reader = crate::helpers::cli::scimd(
            &app.database.url,
            &["token", "create", "--org", "default", "--name", "reader", "--scope", "scim:read"],
        );
        let reader = crate::helpers::cli::stdout(&reader).trim().to_owned();
        let path = path_of(&user).trim_start_matches("/scim/v2").to_owned();
        let reply = app
            .post_json_with(
                BULK,
                &bulk(json!([{"method": "DELETE", "path": path}])),
                &[("authorization", &format!("Bearer {reader}"))],
            )
            .await;
        assert_eq!(statuses(&reply.body), ["403"]);
        let reply = app
            .post_json(
                BULK,
                &bulk(json!([{"method": "PUT", "path": path, "version": "W/\"99\"", "data": alice()}])),
            )
            .await;
        assert_eq!(statuses(&reply.body), ["412"]);
        assert_eq!(app.fetch(&path_of(&user)).await["meta"]["version"], user["meta"]["version"]);
    }
}
