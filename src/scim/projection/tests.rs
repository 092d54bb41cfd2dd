use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::scim::resource::fixtures::{rfc_enterprise_user, rfc_full_user};
use crate::scim::resource::{
    GroupRef, MemberRef, MemberType, Meta, RenderExtras, location, render,
};
use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

const BASE: &str = "https://scim.example.com/scim/v2";

fn project(rt: &ResourceTypeDef, attributes: &str, excluded: &str, resource: Value) -> Value {
    Projection::parse(rt, Some(attributes), Some(excluded))
        .unwrap()
        .apply(rt, resource)
}

fn user(attributes: &str, excluded: &str) -> Value {
    project(
        &USER_RESOURCE_TYPE,
        attributes,
        excluded,
        rfc_enterprise_user(),
    )
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key.as_str())
        .collect()
}

fn meta(rt: &ResourceTypeDef, id: &str) -> Meta {
    let created = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).single().unwrap();
    Meta {
        created,
        last_modified: created,
        version: 3,
        location: location(BASE, rt, id),
    }
}

/// The group of the Entra dossier, rendered as the server would with its members loaded.
fn rendered_group(members: Vec<MemberRef>) -> Value {
    let rt = &GROUP_RESOURCE_TYPE;
    let stored = json!({"schemas": [GROUP_URN], "displayName": "Engineering",
                        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"});
    let extras = RenderExtras {
        members: Some(members),
        groups: None,
    };
    render(
        rt,
        &stored,
        "40734ae655284ad3abcc",
        &meta(rt, "40734ae655284ad3abcc"),
        extras,
    )
}

fn one_member() -> Vec<MemberRef> {
    vec![MemberRef {
        value: "f648f8d5ea4e4cd38e9c".to_owned(),
        member_type: Some(MemberType::User),
        display: Some("Test User".to_owned()),
    }]
}

#[test]
fn rfc_7644_section_3_9_attributes_user_name_returns_schemas_id_and_user_name_only() {
    let out = project(&USER_RESOURCE_TYPE, "userName", "", rfc_full_user());
    assert_eq!(
        out,
        json!({
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
          "id": "2819c223-7f76-453a-919d-413861904646",
          "userName": "bjensen@example.com"
        })
    );
}

#[test]
fn top_level_selection_follows_the_rfc_and_the_dossier() {
    let full: Vec<&str> = vec![
        "schemas",
        "id",
        "externalId",
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "emails",
        "addresses",
        "phoneNumbers",
        "ims",
        "photos",
        "userType",
        "title",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "groups",
        "x509Certificates",
        "meta",
        ENTERPRISE_USER_URN,
    ];
    let without = |gone: &[&str]| -> Vec<&str> {
        full.iter()
            .copied()
            .filter(|key| !gone.contains(key))
            .collect()
    };
    // (attributes, excludedAttributes, top-level keys in output order)
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("", "", without(&[])),
        ("userName", "", vec!["schemas", "id", "userName"]),
        (
            "displayName, userName",
            "",
            vec!["schemas", "id", "userName", "displayName"],
        ),
        ("id", "", vec!["schemas", "id"]),
        ("", "emails,name", without(&["emails", "name"])),
        ("", "meta", without(&["meta"])),
        ("", "id", without(&[])),
        ("", "id,schemas", without(&[])),
        ("password", "", vec!["schemas", "id"]),
        ("", "password", without(&[])),
        (
            "USERNAME,EMAILS",
            "",
            vec!["schemas", "id", "userName", "emails"],
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            "",
            vec!["schemas", "id", "userName"],
        ),
        (
            "employeeNumber",
            "",
            vec!["schemas", "id", ENTERPRISE_USER_URN],
        ),
        (
            ENTERPRISE_USER_URN,
            "",
            vec!["schemas", "id", ENTERPRISE_USER_URN],
        ),
        ("", ENTERPRISE_USER_URN, without(&[ENTERPRISE_USER_URN])),
        (USER_URN, "", without(&[ENTERPRISE_USER_URN])),
        ("", USER_URN, vec!["schemas", "id", ENTERPRISE_USER_URN]),
        ("userName", "userName", vec!["schemas", "id", "userName"]),
        ("  ", "emails", without(&["emails"])),
        ("userName", "  ", vec!["schemas", "id", "userName"]),
    ];
    for (attributes, excluded, expected) in cases {
        let out = user(attributes, excluded);
        assert_eq!(
            keys(&out),
            expected,
            "attributes={attributes:?} excluded={excluded:?}"
        );
    }
}

#[test]
fn absent_parameters_return_the_rendered_resource_without_never_attributes() {
    let mut expected = rfc_enterprise_user();
    expected.as_object_mut().unwrap().remove("password");
    let projection = Projection::parse(&USER_RESOURCE_TYPE, None, None).unwrap();
    assert_eq!(projection, Projection::default());
    assert_eq!(
        projection.apply(&USER_RESOURCE_TYPE, rfc_enterprise_user()),
        expected
    );
    assert_eq!(user("", ""), expected);
}

#[test]
fn a_sub_attribute_selects_only_that_sub_attribute_of_a_complex_attribute() {
    let out = user("name.givenName", "");
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    let prefixed = user(
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
        "",
    );
    assert_eq!(prefixed, out);
    let shouted = user("NAME.GIVENNAME", "");
    assert_eq!(shouted, out);
}

#[test]
fn a_sub_attribute_of_a_multi_valued_attribute_is_selected_in_every_value() {
    let out = user("emails.value", "");
    assert_eq!(keys(&out), ["schemas", "id", "emails"]);
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
}

#[test]
fn values_left_without_any_selected_sub_attribute_are_dropped() {
    // Only the first email has `primary`; the second becomes empty and goes.
    let out = user("emails.primary", "");
    assert_eq!(out["emails"], json!([{"primary": true}]));
    // No `ims` value has a `display`: nothing is left, so `ims` goes too.
    let out = user("ims.display", "");
    assert_eq!(keys(&out), ["schemas", "id"]);
}

#[test]
fn naming_a_parent_returns_all_its_default_sub_attributes() {
    let full = rfc_full_user();
    let out = user("name,emails", "");
    assert_eq!(out["name"], full["name"]);
    assert_eq!(out["emails"], full["emails"]);
    let out = user("name,name.givenName", "");
    assert_eq!(out["name"], full["name"]);
}

#[test]
fn excluding_a_sub_attribute_removes_only_that_sub_attribute() {
    let out = user("", "emails,name.givenName");
    assert!(out.get("emails").is_none());
    assert_eq!(
        out["name"],
        json!({
          "formatted": "Ms. Barbara J Jensen, III",
          "familyName": "Jensen",
          "middleName": "Jane",
          "honorificPrefix": "Ms.",
          "honorificSuffix": "III"
        })
    );
    assert_eq!(out["userName"], "bjensen@example.com");
    assert_eq!(out["meta"], rfc_full_user()["meta"]);
    let out = user("", "emails.type,emails.primary");
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
    let out = user("", "meta.version");
    assert_eq!(
        keys(&out["meta"]),
        ["resourceType", "created", "lastModified", "location"]
    );
}

#[test]
fn excluding_every_sub_attribute_removes_the_attribute() {
    let out = user(
        "",
        "name.formatted,name.familyName,name.givenName,name.middleName,\
         name.honorificPrefix,name.honorificSuffix",
    );
    assert!(out.get("name").is_none());
}

#[test]
fn extension_attributes_are_selected_under_their_urn_and_schemas_follows() {
    let manager = json!({
      "value": "26118915-6090-4610-87e4-49d8ca9f808d",
      "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
      "displayName": "John Smith"
    });
    let lowercase_urn = ENTERPRISE_USER_URN.to_lowercase();
    // (attributes, excludedAttributes, the extension object expected in the output)
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "",
            Some(json!({"employeeNumber": "701984"})),
        ),
        (
            "employeeNumber",
            "",
            Some(json!({"employeeNumber": "701984"})),
        ),
        (
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER",
            "",
            Some(json!({"employeeNumber": "701984"})),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "",
            Some(json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})),
        ),
        ("manager", "", Some(json!({"manager": manager}))),
        (
            ENTERPRISE_USER_URN,
            "",
            rfc_enterprise_user().get(ENTERPRISE_USER_URN).cloned(),
        ),
        (
            "",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName,\
             costCenter,organization,division,department",
            Some(json!({
              "employeeNumber": "701984",
              "manager": {
                "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"
              }
            })),
        ),
        ("userName", "", None),
        ("", ENTERPRISE_USER_URN, None),
        ("", &lowercase_urn, None),
        (
            "",
            "employeeNumber,costCenter,organization,division,department,manager",
            None,
        ),
    ];
    for (attributes, excluded, expected) in cases {
        let out = user(attributes, excluded);
        let context = format!("attributes={attributes:?} excluded={excluded:?}");
        assert_eq!(out.get(ENTERPRISE_USER_URN), expected.as_ref(), "{context}");
        let schemas = if expected.is_some() {
            json!([USER_URN, ENTERPRISE_USER_URN])
        } else {
            json!([USER_URN])
        };
        assert_eq!(out["schemas"], schemas, "{context}");
    }
}

#[test]
fn password_is_never_returned_even_when_asked_for() {
    for (attributes, excluded) in [("password", ""), ("PASSWORD,userName", ""), ("", "")] {
        let out = user(attributes, excluded);
        assert!(out.get("password").is_none(), "{attributes:?}");
    }
    assert_eq!(keys(&user("password", "")), ["schemas", "id"]);
}

#[test]
fn id_and_schemas_cannot_be_excluded_or_left_out() {
    for (attributes, excluded) in [
        ("", "id"),
        ("", "ID,schemas"),
        ("userName", ""),
        ("emails.value", ""),
    ] {
        let out = user(attributes, excluded);
        assert_eq!(out["id"], "2819c223-7f76-453a-919d-413861904646");
        assert!(out["schemas"].is_array());
    }
}

#[test]
fn unknown_names_select_nothing_and_exclude_nothing() {
    let expected = user("userName", "");
    let noisy = "userName,costCentre,name.nickname,x509Certificates.thumbprint,\
                 urn:example:custom:1.0:User:badge,urn:example:custom:1.0:User";
    assert_eq!(user(noisy, ""), expected);
    assert_eq!(
        user("", "badge,urn:example:custom:1.0:User,name.nickname"),
        user("", "")
    );
    assert_eq!(keys(&user("badge", "")), ["schemas", "id"]);
    // A Group name on a User is unknown here.
    assert_eq!(
        user(
            "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
            ""
        ),
        user("badge", "")
    );
}

#[test]
fn malformed_lists_are_invalid_value_in_either_parameter() {
    let rt = &USER_RESOURCE_TYPE;
    let cases: [(Option<&str>, Option<&str>, &str); 5] = [
        (
            Some("userName,,name"),
            None,
            "invalid attributes at position",
        ),
        (Some("userName name"), None, "invalid attributes"),
        (Some("name.givenName.x"), None, "at most one sub-attribute"),
        (None, Some("emails,"), "invalid excludedAttributes"),
        (
            Some("userName"),
            Some("emails[type eq \"work\"]"),
            "invalid excludedAttributes",
        ),
    ];
    for (attributes, excluded, detail) in cases {
        let error = Projection::parse(rt, attributes, excluded).unwrap_err();
        assert_eq!(
            error.scim_type,
            ScimType::InvalidValue,
            "{attributes:?} {excluded:?}"
        );
        assert!(error.detail.contains(detail), "{}", error.detail);
    }
}

#[test]
fn entra_excluded_members_returns_the_group_without_members() {
    let rt = &GROUP_RESOURCE_TYPE;
    for query in [
        "members",
        "MEMBERS",
        "urn:ietf:params:scim:schemas:core:2.0:Group:members",
    ] {
        let projection = Projection::parse(rt, None, Some(query)).unwrap();
        assert!(!projection.needs_members(), "{query}");
        // The store skips the member query, so the server renders with `members: None`.
        let stored_without_members = {
            let mut group = rendered_group(Vec::new());
            group.as_object_mut().unwrap().remove("members");
            group
        };
        for group in [rendered_group(one_member()), stored_without_members] {
            let out = projection.apply(rt, group);
            assert_eq!(
                keys(&out),
                ["schemas", "id", "externalId", "displayName", "meta"],
                "{query}"
            );
        }
    }
}

#[test]
fn a_plain_group_get_keeps_members_even_when_there_are_none() {
    let rt = &GROUP_RESOURCE_TYPE;
    let projection = Projection::default();
    assert!(projection.needs_members());
    let out = projection.apply(rt, rendered_group(Vec::new()));
    assert_eq!(out["members"], json!([]));
    let out = projection.apply(rt, rendered_group(one_member()));
    assert_eq!(out, rendered_group(one_member()));
    let out = Projection::parse(rt, Some("members.value"), None)
        .unwrap()
        .apply(rt, rendered_group(one_member()));
    assert_eq!(out["members"], json!([{"value": "f648f8d5ea4e4cd38e9c"}]));
    let out = Projection::parse(rt, Some("displayName"), None)
        .unwrap()
        .apply(rt, rendered_group(one_member()));
    assert_eq!(keys(&out), ["schemas", "id", "displayName"]);
}

#[test]
fn computed_user_groups_are_dropped_when_excluded() {
    let rt = &USER_RESOURCE_TYPE;
    let extras = RenderExtras {
        members: None,
        groups: Some(vec![GroupRef {
            value: "e9e30dba".to_owned(),
            display: Some("Tour Guides".to_owned()),
            direct: true,
        }]),
    };
    let stored = json!({"userName": "bjensen"});
    let rendered = render(rt, &stored, "u1", &meta(rt, "u1"), extras);
    assert!(rendered.get("groups").is_some());
    let out = project(rt, "", "groups", rendered.clone());
    assert!(out.get("groups").is_none());
    let out = project(rt, "groups.display", "", rendered);
    assert_eq!(out["groups"], json!([{"display": "Tour Guides"}]));
}

#[test]
fn needs_members_and_needs_groups_answer_whether_anything_of_them_is_returned() {
    // (attributes, excludedAttributes, needs_members, needs_groups)
    let cases: [(Option<&str>, Option<&str>, bool, bool); 17] = [
        (None, None, true, true),
        (Some(""), Some(""), true, true),
        (None, Some("members"), false, true),
        (None, Some("Members"), false, true),
        (None, Some(GROUP_URN), false, true),
        (None, Some("members.display"), true, true),
        (None, Some("groups"), true, false),
        (None, Some("groups.display"), true, true),
        (None, Some("id,displayName"), true, true),
        (Some("displayName"), None, false, false),
        (Some("id"), None, false, false),
        (Some("members"), None, true, false),
        (Some("members.value"), None, true, false),
        (Some("groups"), None, false, true),
        (Some("groups.$ref"), None, false, true),
        (Some("displayName"), Some("displayName"), false, false),
        (Some("members"), Some("members"), true, false),
    ];
    for (attributes, excluded, members, groups) in cases {
        let for_groups = Projection::parse(&GROUP_RESOURCE_TYPE, attributes, excluded).unwrap();
        let for_users = Projection::parse(&USER_RESOURCE_TYPE, attributes, excluded).unwrap();
        let context = format!("attributes={attributes:?} excluded={excluded:?}");
        assert_eq!(for_groups.needs_members(), members, "{context}");
        assert_eq!(for_users.needs_groups(), groups, "{context}");
    }
}

#[test]
fn includes_answers_for_attributes_sub_attributes_and_schemas() {
    let rt = &USER_RESOURCE_TYPE;
    let projection = Projection::parse(rt, Some("name.givenName,employeeNumber"), None).unwrap();
    let cases = [
        ("name", true),
        ("NAME", true),
        ("name.givenName", true),
        ("name.familyName", false),
        ("employeeNumber", true),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            false,
        ),
        (ENTERPRISE_USER_URN, true),
        (USER_URN, true),
        ("id", true),
        ("schemas", true),
        ("meta", false),
        ("password", false),
        ("emails", false),
        ("badge", false),
        ("", false),
    ];
    for (attribute, expected) in cases {
        assert_eq!(
            projection.includes(rt, attribute),
            expected,
            "{attribute:?}"
        );
    }
    let everything = Projection::default();
    assert!(everything.includes(rt, "meta.version"));
    assert!(!everything.includes(rt, "password"));
}

#[test]
fn output_keeps_the_rendered_key_order() {
    let out = user("", "emails");
    let rendered = rfc_enterprise_user();
    let expected: Vec<&str> = keys(&rendered)
        .into_iter()
        .filter(|key| !["emails", "password"].contains(key))
        .collect();
    assert_eq!(keys(&out), expected);
    assert_eq!(keys(&out["name"]), keys(&rendered["name"]));
}

#[test]
fn a_value_that_is_not_an_object_is_returned_unchanged() {
    let projection = Projection::parse(&USER_RESOURCE_TYPE, Some("userName"), None).unwrap();
    assert_eq!(
        projection.apply(&USER_RESOURCE_TYPE, json!([1])),
        json!([1])
    );
    assert_eq!(
        projection.apply(&USER_RESOURCE_TYPE, Value::Null),
        Value::Null
    );
}

// A resource type with the `returned` values the RFC 7643 schemas do not use on their own.
static PART_SUBS: [AttributeDef; 3] = [
    AttributeDef::string("serial", "Always returned.").with_returned(Returned::Always),
    AttributeDef::string("label", "Returned by default."),
    AttributeDef::string("cost", "Returned on request.").with_returned(Returned::Request),
];
static WIDGET_ATTRIBUTES: [AttributeDef; 5] = [
    AttributeDef::string("id", "Always returned.").with_returned(Returned::Always),
    AttributeDef::string("label", "Returned by default."),
    AttributeDef::string("secret", "Never returned.").with_returned(Returned::Never),
    AttributeDef::string("audit", "Returned on request.").with_returned(Returned::Request),
    AttributeDef::complex("parts", &PART_SUBS, "Parts.").multi(),
];
static WIDGET_SCHEMA: SchemaDef = SchemaDef {
    id: "urn:example:scim:schemas:Widget",
    name: "Widget",
    description: "A test resource.",
    attributes: &WIDGET_ATTRIBUTES,
};
static WIDGET: ResourceTypeDef = ResourceTypeDef {
    name: "Widget",
    endpoint: "/Widgets",
    description: "A test resource.",
    schema: &WIDGET_SCHEMA,
    extensions: &[],
};

#[test]
fn request_attributes_appear_only_when_named_and_always_sub_attributes_always() {
    let widget = json!({
      "schemas": ["urn:example:scim:schemas:Widget"], "id": "w1", "label": "L",
      "secret": "s", "audit": "a", "parts": [{"serial": "1", "label": "x", "cost": "3"}]
    });
    let cases: [(&str, &str, Value); 8] = [
        (
            "",
            "",
            json!({"label": "L", "parts": [{"serial": "1", "label": "x"}]}),
        ),
        (
            "",
            "audit",
            json!({"label": "L", "parts": [{"serial": "1", "label": "x"}]}),
        ),
        (
            "audit",
            "",
            json!({"audit": "a", "parts": [{"serial": "1"}]}),
        ),
        (
            "parts",
            "",
            json!({"parts": [{"serial": "1", "label": "x"}]}),
        ),
        (
            "parts.cost",
            "",
            json!({"parts": [{"serial": "1", "cost": "3"}]}),
        ),
        ("secret", "", json!({"parts": [{"serial": "1"}]})),
        (
            "",
            "parts",
            json!({"label": "L", "parts": [{"serial": "1"}]}),
        ),
        (
            "",
            "parts.serial,parts.label",
            json!({"label": "L", "parts": [{"serial": "1"}]}),
        ),
    ];
    for (attributes, excluded, rest) in cases {
        let mut expected = json!({"schemas": ["urn:example:scim:schemas:Widget"], "id": "w1"});
        expected
            .as_object_mut()
            .unwrap()
            .extend(rest.as_object().unwrap().clone());
        let out = project(&WIDGET, attributes, excluded, widget.clone());
        assert_eq!(
            out, expected,
            "attributes={attributes:?} excluded={excluded:?}"
        );
    }
}

const NAME_POOL: [&str; 16] = [
    "userName",
    "name",
    "name.givenName",
    "emails",
    "emails.value",
    "password",
    "id",
    "meta",
    "meta.version",
    "groups",
    "employeeNumber",
    "manager.value",
    ENTERPRISE_USER_URN,
    USER_URN,
    "schemas",
    "badge",
];

proptest! {
    #[test]
    fn any_projection_keeps_id_and_schemas_consistent_and_is_idempotent(
        picks in proptest::collection::vec(0..NAME_POOL.len(), 0..6),
        include in any::<bool>(),
    ) {
        let list = picks
            .iter()
            .filter_map(|index| NAME_POOL.get(*index).copied())
            .collect::<Vec<_>>()
            .join(",");
        let (attributes, excluded) = if include { (Some(list.as_str()), None) } else { (None, Some(list.as_str())) };
        let rt = &USER_RESOURCE_TYPE;
        let projection = Projection::parse(rt, attributes, excluded).unwrap();
        let input = rfc_enterprise_user();
        let out = projection.apply(rt, input.clone());
        prop_assert_eq!(&out["id"], &input["id"]);
        prop_assert!(out.get("password").is_none());
        for key in keys(&out) {
            prop_assert!(input.get(key).is_some());
        }
        let listed = out["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE_USER_URN));
        prop_assert_eq!(listed, out.get(ENTERPRISE_USER_URN).is_some());
        prop_assert_eq!(projection.apply(rt, out.clone()), out);
    }
}
