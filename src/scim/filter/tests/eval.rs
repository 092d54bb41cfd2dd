//! Evaluation over the RFC 7643 §8.3 enterprise user (the §8.2 full user plus the extension).

use serde_json::json;

use super::parse;
use crate::scim::filter::{
    ResolvedFilter, matches, matches_element, parse_patch_path, resolve, resolve_patch_path,
};
use crate::scim::resource::fixtures::rfc_enterprise_user;
use crate::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};

fn user_filter(text: &str) -> ResolvedFilter {
    resolve(&parse(text), &USER_RESOURCE_TYPE).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// (filter, whether Babs Jensen matches).
const CASES: &[(&str, bool)] = &[
    (r#"userName eq "bjensen@example.com""#, true),
    (r#"userName eq "BJENSEN@EXAMPLE.COM""#, true),
    (r#"USERNAME Eq "bjensen@example.com""#, true),
    (r#"externalId eq "701984""#, true),
    ("externalId eq 701984", true),
    (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
    (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
    (r#"name.familyName co "ens""#, true),
    (r#"name.familyName co "ENS""#, true),
    (r#"userName sw "bjen""#, true),
    (r#"userName ew "@example.com""#, true),
    (r#"userName ew "@example.org""#, false),
    ("title pr", true),
    ("nickName pr and profileUrl pr", true),
    ("x509Certificates pr", true),
    ("entitlements pr", false),
    ("title eq null", false),
    ("entitlements eq null", true),
    ("roles ne null", false),
    (r#"userType ne "Employee""#, false),
    (r#"userType ne "Intern""#, true),
    (r#"costCenter ne "1""#, true),
    (r#"nickName ne "x" and entitlements.value ne "x""#, false),
    (r#"not (entitlements.value eq "x")"#, true),
    (r#"emails eq "babs@jensen.org""#, true),
    (r#"emails.value eq "BABS@JENSEN.ORG""#, true),
    (
        r#"emails[type eq "work" and value co "@example.com"]"#,
        true,
    ),
    (
        r#"emails[type eq "home" and value co "@example.com"]"#,
        false,
    ),
    (
        r#"emails[type eq "work"].value eq "bjensen@example.com""#,
        true,
    ),
    (
        r#"emails[type eq "home"].value eq "bjensen@example.com""#,
        false,
    ),
    (r#"emails[primary eq true].value ew "example.com""#, true),
    (
        r#"emails.type eq "home" and emails.value co "example.com""#,
        true,
    ),
    (r#"addresses[type eq "home" and primary eq true]"#, false),
    (r#"addresses[type eq "work" and primary eq true]"#, true),
    (r#"meta.lastModified eq "2011-05-13T04:42:34Z""#, true),
    (r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
    (r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#, true),
    (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
    (r#"meta.lastModified le "2011-05-13T04:42:34.000Z""#, true),
    (r#"meta.created lt "2011-01-01T00:00:00""#, true),
    (r#"active eq true"#, true),
    (r#"active eq "False""#, false),
    (r#"userName gt "a" and userName lt "c""#, true),
    (r#"groups[display eq "US Employees"]"#, true),
    (
        r#"groups.value eq "e9e30dba-f08f-4109-8486-d5c6a331660a""#,
        true,
    ),
    ("manager eq 26118915-6090-4610-87e4-49d8ca9f808d", true),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
        true,
    ),
    (
        r#"manager[value eq "26118915-6090-4610-87e4-49d8ca9f808d"]"#,
        true,
    ),
    (r#"employeeNumber eq 701984 and department sw "tour""#, true),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        true,
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        true,
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        false,
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        true,
    ),
    (r#"ims[type eq "xmpp"]"#, false),
];

#[test]
fn filters_evaluate_over_the_rfc_enterprise_user() {
    let babs = rfc_enterprise_user();
    for (text, expected) in CASES {
        assert_eq!(matches(&user_filter(text), &babs), *expected, "{text:?}");
    }
}

#[test]
fn values_of_the_wrong_json_type_match_nothing() {
    let odd = json!({
        "userName": 42,
        "active": "true",
        "emails": [null, {"value": null}, {"value": ["x"]}],
        "meta": {"lastModified": "not a date"},
        "title": "",
        "phoneNumbers": [null, {"value": null, "type": ""}, {}]
    });
    for text in [
        r#"userName eq "42""#,
        "active eq true",
        r#"emails.value eq "x""#,
        r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
        "title pr",
        "phoneNumbers pr",
    ] {
        assert!(!matches(&user_filter(text), &odd), "{text:?}");
    }
}

#[test]
fn attribute_keys_in_the_resource_are_matched_case_insensitively() {
    let shouting = json!({"USERNAME": "alice", "Emails": [{"Value": "a@x", "TYPE": "work"}]});
    assert!(matches(&user_filter(r#"userName eq "ALICE""#), &shouting));
    assert!(matches(
        &user_filter(r#"emails[type eq "work"]"#),
        &shouting
    ));
}

#[test]
fn group_members_filter_on_their_exact_value() {
    let group = json!({
        "id": "g1",
        "displayName": "Engineering",
        "members": [{"value": "u1", "display": "alice"}, {"value": "u2"}]
    });
    let check = |text: &str| {
        let filter = resolve(&parse(text), &GROUP_RESOURCE_TYPE).unwrap();
        matches(&filter, &group)
    };
    assert!(check(r#"id eq "g1" and members eq "u1""#));
    assert!(!check(r#"id eq "g1" and members eq "U1""#));
    assert!(!check(r#"id eq "g1" and members eq "u3""#));
    assert!(check(r#"displayName eq "engineering""#));
    assert!(check(r#"members[value eq "u2"]"#));
}

#[test]
fn patch_value_filters_select_single_elements() {
    let babs = rfc_enterprise_user();
    let path = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
    let resolved = resolve_patch_path(&path, &USER_RESOURCE_TYPE).unwrap();
    let filter = resolved.filter.unwrap();
    let selected: Vec<_> = babs["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|element| matches_element(&filter, element))
        .map(|element| element["value"].as_str().unwrap())
        .collect();
    assert_eq!(selected, ["bjensen@example.com"]);

    let path =
        parse_patch_path(r#"members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]"#).unwrap();
    let filter = resolve_patch_path(&path, &GROUP_RESOURCE_TYPE)
        .unwrap()
        .filter
        .unwrap();
    assert!(matches_element(
        &filter,
        &json!({"value": "89bb1940-b905-4575-9e7f-6f887cfb368e"})
    ));
    assert!(!matches_element(
        &filter,
        &json!({"value": "89BB1940-B905-4575-9E7F-6F887CFB368E"})
    ));
    assert!(!matches_element(&filter, &json!({"display": "no value"})));
}
