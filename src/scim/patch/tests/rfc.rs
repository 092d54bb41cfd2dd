//! The examples of RFC 7644 §3.5.2.1–3, applied to the RFC 7643 §8.2/§8.3 user.

use serde_json::{Value, json};

use super::{apply_and_prepare, body, member_shown, patch_group, removed, stored};
use crate::scim::patch::MemberChange;
use crate::scim::resource::fixtures::{rfc_enterprise_user, rfc_full_user};
use crate::scim::schema::USER_RESOURCE_TYPE;

const BJENSEN: &str = "2819c223-7f76-453a-919d-413861904646";

fn bjensen() -> Value {
    stored(&USER_RESOURCE_TYPE, rfc_full_user())
}

fn patch_bjensen(operations: Value) -> Value {
    apply_and_prepare(
        &USER_RESOURCE_TYPE,
        BJENSEN,
        &bjensen(),
        &body(operations.clone()),
    )
    .unwrap_or_else(|error| panic!("{operations}: {error}"))
    .resource
}

#[test]
fn rfc_add_examples_add_members_and_merge_a_path_less_object() {
    let applied = patch_group(json!([{"op": "add", "path": "members", "value": [{
        "display": "Babs Jensen",
        "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
        "value": "2819c223-7f76-453a-919d-413861904646"}]}]))
    .unwrap();
    assert_eq!(
        applied.member_changes,
        vec![MemberChange::Add(vec![member_shown(
            BJENSEN,
            "Babs Jensen"
        )])]
    );

    let user = stored(
        &USER_RESOURCE_TYPE,
        json!({"userName": "bjensen", "emails": [{"value": "bjensen@example.com", "type": "work"}]}),
    );
    let applied = apply_and_prepare(
        &USER_RESOURCE_TYPE,
        BJENSEN,
        &user,
        &body(json!([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.org", "type": "home"}],
        "nickname": "Babs"}}])),
    )
    .unwrap();
    assert_eq!(
        applied.resource["nickName"],
        json!("Babs"),
        "names are matched case-insensitively"
    );
    assert_eq!(
        applied.resource["emails"],
        json!([{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn rfc_remove_examples_remove_members_and_matching_values() {
    let one = patch_group(
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-...413861904646\"]"}]),
    )
    .unwrap();
    assert_eq!(
        one.member_changes,
        vec![removed(&["2819c223-7f76-...413861904646"])]
    );
    let all = patch_group(json!([{"op": "remove", "path": "members"}])).unwrap();
    assert_eq!(all.member_changes, vec![MemberChange::RemoveAll]);
    let swap = patch_group(json!([
        {"op": "remove", "path": "members[value eq \"2819c223...919d-413861904646\"]"},
        {"op": "add", "path": "members", "value": [
            {"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d...473d93df9210", "value": "08e1d05d...473d93df9210"}]}]))
    .unwrap();
    assert_eq!(
        swap.member_changes,
        vec![
            removed(&["2819c223...919d-413861904646"]),
            MemberChange::Add(vec![member_shown("08e1d05d...473d93df9210", "James Smith")])
        ]
    );
    let reset = patch_group(json!([
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [{"value": "a"}]}]))
    .unwrap();
    assert_eq!(reset.member_changes.len(), 2);

    let user = patch_bjensen(
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        user["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    let user = patch_bjensen(json!([{"op": "remove", "path": "x509Certificates"}]));
    assert!(user.get("x509Certificates").is_none());
}

#[test]
fn rfc_replace_examples_replace_members_addresses_and_path_less_attributes() {
    let applied = patch_group(json!([{"op": "replace", "path": "members", "value": [
        {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223...413861904646", "value": "2819c223...413861904646"},
        {"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d...473d93df9210", "value": "08e1d05d...473d93df9210"}]}]))
    .unwrap();
    assert_eq!(
        applied.member_changes,
        vec![MemberChange::ReplaceAll(vec![
            member_shown("2819c223...413861904646", "Babs Jensen"),
            member_shown("08e1d05d...473d93df9210", "James Smith")
        ])]
    );

    let work = json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
        "region": "CA", "postalCode": "91608", "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true});
    let user = patch_bjensen(
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": work}]),
    );
    assert_eq!(user["addresses"][0], work);
    assert_eq!(user["addresses"][1], bjensen()["addresses"][1]);

    let user = patch_bjensen(
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    );
    assert_eq!(
        user["addresses"][0]["streetAddress"],
        json!("1010 Broadway Ave")
    );
    assert_eq!(user["addresses"][0]["locality"], json!("Hollywood"));

    let user = patch_bjensen(json!([{"op": "replace", "value": {
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "nickname": "Babs"}}]));
    assert_eq!(
        user,
        bjensen(),
        "the §3.5.2.3 example restates bjensen's values"
    );
}

#[test]
fn the_full_enterprise_user_round_trips_through_apply_and_prepare() {
    let user = stored(&USER_RESOURCE_TYPE, rfc_enterprise_user());
    let applied = apply_and_prepare(&USER_RESOURCE_TYPE, BJENSEN, &user, &body(json!([
        {"op": "replace", "path": "title", "value": "Tour Guide"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "value": "4130"}])))
    .unwrap();
    assert_eq!(applied.resource, user);
    assert!(!applied.changed);
}
