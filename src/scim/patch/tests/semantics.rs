//! What the engine guarantees beyond single requests: atomicity, primary uniqueness, exact
//! `changed`, filters that match nothing.

use serde_json::json;

use super::{ENTERPRISE, U1, USER, alice, alice_with, bob_without_email, patch_user, scim_type};
use crate::scim::error::ScimType;
use crate::scim::limits::Limits;
use crate::scim::patch::patch;
use crate::scim::schema::USER_RESOURCE_TYPE;

#[test]
fn a_failing_third_operation_returns_only_the_error() {
    let stored = alice();
    let before = stored.clone();
    let request = json!({"Operations": [
        {"op": "replace", "path": "displayName", "value": "first"},
        {"op": "add", "path": "emails", "value": [{"value": "second@x", "type": "home"}]},
        {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "maybe"}]});
    let error = patch(
        &USER_RESOURCE_TYPE,
        U1,
        &stored,
        &request,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(error.scim_type, ScimType::InvalidValue);
    assert!(error.detail.starts_with("operation 3 "), "{}", error.detail);
    assert_eq!(stored, before);
}

#[test]
fn setting_a_new_primary_clears_the_others() {
    let two = alice_with(json!({"emails": [
        {"value": "alice@a.example", "type": "work", "primary": true},
        {"value": "h@x", "type": "home"}]}));
    let applied = patch_user(
        &two,
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    )
    .unwrap();
    assert_eq!(
        applied.resource["emails"],
        json!([
        {"value": "alice@a.example", "type": "work", "primary": false},
        {"value": "h@x", "type": "home", "primary": true}])
    );
    let applied = patch_user(&two, json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h2@x", "type": "home", "primary": "True"}}])).unwrap();
    assert_eq!(applied.resource["emails"][0]["primary"], json!(false));
    assert_eq!(
        applied.resource["emails"][1],
        json!({"value": "h2@x", "type": "home", "primary": true})
    );
}

#[test]
fn two_primaries_in_one_value_are_invalid() {
    let result = patch_user(
        &alice(),
        json!([{"op": "replace", "path": "emails", "value": [
        {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}]),
    );
    assert_eq!(scim_type(result), ScimType::InvalidValue);
    let both_work = alice_with(
        json!({"emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "work"}]}),
    );
    let result = patch_user(
        &both_work,
        json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}]),
    );
    assert_eq!(scim_type(result), ScimType::InvalidValue);
}

#[test]
fn replacing_a_value_with_itself_is_not_a_change() {
    let cases = [
        json!([{"op": "replace", "path": "userName", "value": "alice@a.example"}]),
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
        json!([{"op": "replace", "value": {"name": {"givenName": "Alice"}}}]),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "alice@a.example"}]),
        json!([{"op": "add", "path": "emails", "value": [{"value": "alice@a.example", "type": "work", "primary": true}]}]),
        json!([{"op": "remove", "path": "title"}]),
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        json!([{"op": "replace", "value": {"unknownAttribute": 1, "urn:example:custom:2.0:User:tag": "x"}}]),
        json!([]),
    ];
    for operations in cases {
        let applied = patch_user(&alice(), operations.clone()).unwrap();
        assert!(!applied.changed, "{operations}");
        assert_eq!(applied.resource, alice(), "{operations}");
    }
    let applied = patch_user(
        &alice(),
        json!([{"op": "replace", "path": "displayName", "value": "A"}]),
    )
    .unwrap();
    assert!(applied.changed);
}

#[test]
fn unmatched_filters_are_no_target_unless_the_element_can_be_created() {
    let cases = [
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x"}}]),
        json!([{"op": "replace", "path": "emails[value co \"nowhere\"].type", "value": "home"}]),
        json!([{"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "h@x"}]),
        json!([{"op": "add", "path": "manager[value eq \"someone\"].value", "value": "x"}]),
    ];
    for operations in cases {
        let stored = alice_with(
            json!({"schemas": [USER, ENTERPRISE], ENTERPRISE: {"manager": {"value": "boss"}}}),
        );
        assert_eq!(
            scim_type(patch_user(&stored, operations.clone())),
            ScimType::NoTarget,
            "{operations}"
        );
    }
    let created = patch_user(&bob_without_email(), json!([
        {"op": "replace", "path": "addresses[type eq \"work\" and primary eq true].locality", "value": "Hollywood"}]))
    .unwrap();
    assert_eq!(
        created.resource["addresses"],
        json!([{"locality": "Hollywood", "type": "work", "primary": true}])
    );
}

#[test]
fn sub_attributes_of_multi_valued_attributes_need_a_filter() {
    let result = patch_user(
        &alice(),
        json!([{"op": "replace", "path": "emails.value", "value": "x@y"}]),
    );
    assert_eq!(scim_type(result), ScimType::InvalidPath);
}

#[test]
fn removing_the_last_extension_attribute_removes_the_extension() {
    let stored =
        alice_with(json!({"schemas": [USER, ENTERPRISE], ENTERPRISE: {"department": "Sales"}}));
    let applied = patch_user(&stored, json!([{"op": "remove", "path": "department"}])).unwrap();
    assert_eq!(applied.resource, alice());
}

#[test]
fn a_path_less_extension_object_sets_its_attributes() {
    let applied = patch_user(&alice(), json!([{"op": "add", "value": {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"division": "Theme Park", "unknown": 1}}}]))
    .unwrap();
    assert_eq!(
        applied.resource,
        alice_with(json!({"schemas": [USER, ENTERPRISE], ENTERPRISE: {"division": "Theme Park"}}))
    );
}

#[test]
fn a_complex_reference_is_replaced_whole_but_a_name_is_merged() {
    let stored = alice_with(
        json!({"schemas": [USER, ENTERPRISE], ENTERPRISE: {"manager": {"value": "old", "$ref": "../Users/old"}}}),
    );
    let applied = patch_user(
        &stored,
        json!([{"op": "replace", "path": "manager", "value": {"value": "new"}}]),
    )
    .unwrap();
    assert_eq!(
        applied.resource[ENTERPRISE],
        json!({"manager": {"value": "new"}})
    );
}

#[test]
fn a_path_naming_the_extension_urn_sets_the_extension_attributes() {
    let applied = patch_user(
        &alice(),
        json!([{"op": "replace",
        "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "value": {"department": "Sales", "manager": "boss"}}]),
    )
    .unwrap();
    assert_eq!(
        applied.resource,
        alice_with(json!({"schemas": [USER, ENTERPRISE],
            ENTERPRISE: {"department": "Sales", "manager": {"value": "boss"}}}))
    );
}

#[test]
fn removing_the_enterprise_extension_by_its_urn_removes_all_of_it() {
    let with_extension =
        alice_with(json!({ENTERPRISE: {"employeeNumber": "7", "department": "Sales"}}));
    let applied = patch_user(
        &with_extension,
        json!([{"op": "remove", "path": ENTERPRISE}]),
    )
    .unwrap();
    assert!(
        applied.resource.get(ENTERPRISE).is_none(),
        "{}",
        applied.resource
    );
    assert!(applied.changed);
}

#[test]
fn active_cannot_be_removed() {
    let error = patch_user(&alice(), json!([{"op": "remove", "path": "active"}])).unwrap_err();
    assert_eq!(error.scim_type, ScimType::InvalidValue);
    assert!(
        error.detail.contains("'active' cannot be removed"),
        "{}",
        error.detail
    );
}
