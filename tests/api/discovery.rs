use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    ENTERPRISE_URN, GROUP_URN, LIST_URN, USER_URN, assert_list_shape, assert_no_nulls,
};
use crate::on_both_backends;

const CHARACTERISTICS: [&str; 8] = [
    "name",
    "type",
    "multiValued",
    "required",
    "caseExact",
    "mutability",
    "returned",
    "uniqueness",
];

/// Checks every attribute and sub-attribute of a Schema resource (D-04).
fn assert_attributes_described(attributes: &Value, schema_id: &str) {
    for attribute in attributes.as_array().expect("attributes") {
        for characteristic in CHARACTERISTICS {
            assert!(
                attribute.get(characteristic).is_some(),
                "{schema_id}: {characteristic} missing in {attribute}"
            );
        }
        let mutability = attribute["mutability"].as_str().unwrap();
        assert!(
            ["readOnly", "readWrite", "immutable", "writeOnly"].contains(&mutability),
            "{schema_id}: {attribute}"
        );
        let returned = attribute["returned"].as_str().unwrap();
        assert!(
            ["always", "never", "default", "request"].contains(&returned),
            "{schema_id}: {attribute}"
        );
        if let Some(subs) = attribute.get("subAttributes") {
            assert_eq!(attribute["type"], "complex", "{schema_id}: {attribute}");
            assert_attributes_described(subs, schema_id);
        }
    }
}

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["name"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {}", schema["id"]))
}

fn sub_names(attribute: &Value) -> Vec<&str> {
    attribute["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sub| sub["name"].as_str().unwrap())
        .collect()
}

on_both_backends! {
    // D-01
    async fn service_provider_config_advertises_features_and_limits_as_typed_values(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let reply = app.get_reply("/scim/v2/ServiceProviderConfig").await;

        reply.assert_status(StatusCode::OK);
        let config = &reply.body;
        assert_no_nulls(config);
        assert!(
            config["schemas"].as_array().unwrap().contains(&json!("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")),
            "{config}"
        );
        for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
            assert!(config[feature]["supported"].is_boolean(), "{feature}: {config}");
        }
        assert_eq!(config["etag"]["supported"], json!(true));
        for (feature, limit) in [("bulk", "maxOperations"), ("bulk", "maxPayloadSize"), ("filter", "maxResults")] {
            assert!(config[feature][limit].is_u64(), "{feature}.{limit}: {config}");
        }
        assert_eq!(config["filter"]["maxResults"], json!(1000));
        let scheme = &config["authenticationSchemes"][0];
        assert_eq!(scheme["type"], "oauthbearertoken");
        assert!(scheme["description"].as_str().is_some_and(|d| !d.is_empty()), "{scheme}");
    }
}

on_both_backends! {
    // D-02
    async fn posting_test_to_discovery_endpoints_is_405_before_the_body_is_read(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["ServiceProviderConfig", "ResourceTypes", "Schemas"] {
            let reply = app
                .send_raw(Method::POST, &format!("/scim/v2/{path}"), "application/scim+json", "test")
                .await;

            reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, None);
        }
    }
}

on_both_backends! {
    // D-03
    async fn resource_types_list_users_with_the_enterprise_extension_and_groups(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let list = app.list("/scim/v2/ResourceTypes").await;
        let single = app.get_reply("/scim/v2/ResourceTypes/User").await;

        assert_no_nulls(&list);
        assert_eq!(list["totalResults"], 2);
        let user = &list["Resources"][0];
        assert_eq!(
            (&user["name"], &user["endpoint"], &user["schema"]),
            (&json!("User"), &json!("/Users"), &json!(USER_URN))
        );
        assert_eq!(user["schemaExtensions"][0]["schema"], ENTERPRISE_URN);
        let group = &list["Resources"][1];
        assert_eq!(
            (&group["name"], &group["endpoint"], &group["schema"]),
            (&json!("Group"), &json!("/Groups"), &json!(GROUP_URN))
        );
        single.assert_status(StatusCode::OK);
        assert_eq!(single.body, *user);
        app.get_reply("/scim/v2/ResourceTypes/Nope")
            .await
            .assert_error(StatusCode::NOT_FOUND, None);
    }
}

on_both_backends! {
    // D-04
    async fn schemas_describe_every_attribute_without_nulls(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let list = app.list("/scim/v2/Schemas").await;

        assert_list_shape(&list);
        assert_eq!(list["schemas"], json!([LIST_URN]));
        assert_no_nulls(&list);
        let ids: Vec<&str> = list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|schema| schema["id"].as_str().unwrap())
            .collect();
        for expected in [USER_URN, GROUP_URN, ENTERPRISE_URN] {
            assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
        }
        for schema in list["Resources"].as_array().unwrap() {
            assert_eq!(schema["meta"]["resourceType"], "Schema");
            assert_attributes_described(&schema["attributes"], schema["id"].as_str().unwrap());
        }
    }
}

on_both_backends! {
    // D-05, D-06
    async fn the_user_and_group_schemas_describe_what_idps_map(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let user = app.get_reply(&format!("/scim/v2/Schemas/{USER_URN}")).await;
        let group = app.get_reply(&format!("/scim/v2/Schemas/{GROUP_URN}")).await;

        user.assert_status(StatusCode::OK);
        let user = &user.body;
        assert_eq!(user["id"], USER_URN);
        let name = attribute(user, "name");
        assert_eq!(name["type"], "complex");
        for sub in ["givenName", "familyName"] {
            assert!(sub_names(name).contains(&sub), "{name}");
        }
        let emails = attribute(user, "emails");
        assert_eq!((&emails["type"], &emails["multiValued"]), (&json!("complex"), &json!(true)));
        for sub in ["value", "type", "primary"] {
            assert!(sub_names(emails).contains(&sub), "{emails}");
        }
        let user_name = attribute(user, "userName");
        assert_eq!(
            (&user_name["required"], &user_name["caseExact"], &user_name["uniqueness"]),
            (&json!(true), &json!(false), &json!("server"))
        );
        assert_eq!(attribute(user, "id")["mutability"], "readOnly");
        let password = attribute(user, "password");
        assert_eq!((&password["returned"], &password["mutability"]), (&json!("never"), &json!("writeOnly")));
        assert_eq!(attribute(user, "groups")["mutability"], "readOnly");
        group.assert_status(StatusCode::OK);
        assert!(sub_names(attribute(&group.body, "members")).contains(&"value"));
    }
}

on_both_backends! {
    // D-07
    async fn an_unknown_schema_is_a_scim_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let reply = app.get_reply("/scim/v2/Schemas/urn:example:unknown").await;

        reply.assert_error(StatusCode::NOT_FOUND, None);
    }
}
