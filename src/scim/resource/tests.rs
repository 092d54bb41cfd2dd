use chrono::TimeZone;
use serde_json::json;

use super::fixtures::{entra_create_user, okta_create_user, rfc_enterprise_user, rfc_full_user};
use super::*;
use crate::scim::error::ScimType;
use crate::scim::schema::{
    AttributeDef, GROUP_RESOURCE_TYPE, SchemaDef, USER_RESOURCE_TYPE, Uniqueness,
};
use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

const BASE: &str = "https://scim.example.com/scim/v2";

fn meta(version: i64, rt: &ResourceTypeDef, id: &str) -> Meta {
    let created = Utc
        .with_ymd_and_hms(2024, 1, 2, 3, 4, 5)
        .single()
        .unwrap_or_default();
    Meta {
        created,
        last_modified: created + chrono::Duration::milliseconds(1500),
        version,
        location: location(BASE, rt, id),
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key.as_str())
        .collect()
}

fn prepare_error(rt: &ResourceTypeDef, body: Value) -> Option<ProtocolError> {
    prepare(rt, &body, None).err()
}

#[test]
fn rfc_full_user_example_prepares_without_server_owned_attributes() -> Result<(), ProtocolError> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &rfc_full_user(), None)?;
    assert_eq!(prepared.password.as_deref(), Some("t1meMa$heen"));
    assert_eq!(prepared.user_name.as_deref(), Some("bjensen@example.com"));
    assert_eq!(prepared.external_id.as_deref(), Some("701984"));
    assert_eq!(prepared.display_name.as_deref(), Some("Babs Jensen"));
    assert!(prepared.active);
    assert_eq!(
        prepared.emails,
        [
            ("bjensen@example.com".to_owned(), Some("work".to_owned())),
            ("babs@jensen.org".to_owned(), Some("home".to_owned())),
        ]
    );
    assert_eq!(
        keys(&prepared.resource),
        [
            "schemas",
            "externalId",
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "x509Certificates",
        ]
    );
    assert_eq!(prepared.resource["schemas"], json!([USER_URN]));
    assert_eq!(prepared.resource["addresses"], rfc_full_user()["addresses"]);
    assert_eq!(prepared.members, None);
    Ok(())
}

#[test]
fn rfc_full_user_example_renders_with_meta_and_without_password() -> Result<(), ProtocolError> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &rfc_full_user(), None)?;
    let id = "2819c223-7f76-453a-919d-413861904646";
    let rendered = render(
        &USER_RESOURCE_TYPE,
        &prepared.resource,
        id,
        &meta(3, &USER_RESOURCE_TYPE, id),
        RenderExtras::default(),
    );
    let rendered_keys = keys(&rendered);
    assert_eq!(rendered_keys.first(), Some(&"schemas"));
    assert_eq!(rendered_keys.get(1..3), Some(&["id", "externalId"][..]));
    assert_eq!(rendered_keys.last(), Some(&"meta"));
    assert!(rendered.get("password").is_none());
    assert!(rendered.get("groups").is_none());
    assert_eq!(rendered["id"], json!(id));
    assert_eq!(rendered["name"], rfc_full_user()["name"]);
    assert_eq!(
        rendered["x509Certificates"],
        rfc_full_user()["x509Certificates"]
    );
    assert_eq!(
        rendered["meta"],
        json!({
            "resourceType": "User",
            "created": "2024-01-02T03:04:05Z",
            "lastModified": "2024-01-02T03:04:06.500Z",
            "location": format!("{BASE}/Users/{id}"),
            "version": "W/\"3\""
        })
    );
    Ok(())
}

#[test]
fn rfc_enterprise_user_example_keeps_the_extension_and_drops_read_only_manager_name()
-> Result<(), ProtocolError> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &rfc_enterprise_user(), None)?;
    assert_eq!(
        prepared.resource["schemas"],
        json!([USER_URN, ENTERPRISE_USER_URN])
    );
    assert_eq!(
        prepared.resource[ENTERPRISE_USER_URN],
        json!({
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
            "manager": {
                "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"
            }
        })
    );
    let rendered = render(
        &USER_RESOURCE_TYPE,
        &prepared.resource,
        "u1",
        &meta(1, &USER_RESOURCE_TYPE, "u1"),
        RenderExtras::default(),
    );
    assert_eq!(rendered["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
    assert_eq!(
        rendered[ENTERPRISE_USER_URN],
        prepared.resource[ENTERPRISE_USER_URN]
    );
    assert_eq!(
        keys(&rendered).get(keys(&rendered).len().saturating_sub(2)),
        Some(&ENTERPRISE_USER_URN)
    );
    Ok(())
}

#[test]
fn okta_create_user_extracts_password_and_ignores_groups() -> Result<(), ProtocolError> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &okta_create_user(), None)?;
    assert_eq!(prepared.password.as_deref(), Some("1mz050nq"));
    assert_eq!(
        prepared.external_id.as_deref(),
        Some("00ujl29u0le5T6Aj10h7")
    );
    assert!(prepared.resource.get("groups").is_none());
    assert!(prepared.resource.get("password").is_none());
    assert_eq!(prepared.resource["locale"], json!("en-US"));
    let rendered = render(
        &USER_RESOURCE_TYPE,
        &prepared.resource,
        "u1",
        &meta(1, &USER_RESOURCE_TYPE, "u1"),
        RenderExtras::default(),
    );
    assert!(rendered.get("password").is_none());
    assert_eq!(rendered["emails"], okta_create_user()["emails"]);
    Ok(())
}

#[test]
fn okta_put_echoing_id_meta_and_groups_is_accepted() -> Result<(), ProtocolError> {
    let existing = prepare(&USER_RESOURCE_TYPE, &okta_create_user(), None)?.resource;
    let put = json!({
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
      "userName": "test.user@okta.local",
      "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
      "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
      "active": true,
      "groups": [],
      "meta": {"resourceType": "User"}
    });
    let prepared = prepare(&USER_RESOURCE_TYPE, &put, Some(&existing))?;
    assert_eq!(
        keys(&prepared.resource),
        ["schemas", "userName", "name", "active", "emails"]
    );
    assert_eq!(prepared.resource["name"]["middleName"], json!("Excited"));
    assert_eq!(prepared.password, None);
    Ok(())
}

#[test]
fn entra_create_user_ignores_meta_and_drops_empty_roles() -> Result<(), ProtocolError> {
    let prepared = prepare(&USER_RESOURCE_TYPE, &entra_create_user(), None)?;
    assert_eq!(prepared.resource["schemas"], json!([USER_URN]));
    assert!(prepared.resource.get("meta").is_none());
    assert!(prepared.resource.get("roles").is_none());
    assert_eq!(prepared.resource["emails"], entra_create_user()["emails"]);
    assert_eq!(prepared.resource["name"], entra_create_user()["name"]);
    Ok(())
}

#[test]
fn entra_string_booleans_and_urn_prefixed_extension_keys_are_accepted() -> Result<(), ProtocolError>
{
    let body = json!({
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "userName": "jyoung@testuser.com",
      "active": "False",
      "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": "True"}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "mgr-1",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Eng"}
    });
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert!(!prepared.active);
    assert_eq!(prepared.resource["active"], json!(false));
    assert_eq!(prepared.resource["emails"][0]["primary"], json!(true));
    assert_eq!(
        prepared.resource["schemas"],
        json!([USER_URN, ENTERPRISE_USER_URN])
    );
    assert_eq!(
        prepared.resource[ENTERPRISE_USER_URN],
        json!({"employeeNumber": "7", "department": "Eng", "manager": {"value": "mgr-1"}})
    );
    Ok(())
}

#[test]
fn entra_legacy_body_with_nulls_and_a_misspelled_urn_is_accepted() -> Result<(), ProtocolError> {
    let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
      "externalId":"jyoung","userName":"jyoung@testuser.com","active":true,"addresses":null,"displayName":"Joy Young",
      "emails":[{"type":"work","value":"jyoung@Contoso.com","primary":true}],"meta":{"resourceType":"User"},
      "name":{"familyName":"Young","givenName":"Joy"},"phoneNumbers":null,"preferredLanguage":null,"title":null,
      "department":null,"manager":null});
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert_eq!(
        keys(&prepared.resource),
        [
            "schemas",
            "externalId",
            "userName",
            "name",
            "displayName",
            "active",
            "emails"
        ]
    );
    assert_eq!(prepared.resource["schemas"], json!([USER_URN]));
    Ok(())
}

#[test]
fn manager_is_accepted_as_string_object_or_one_element_array() -> Result<(), ProtocolError> {
    let forms = [
        json!("m-1"),
        json!({"value": "m-1"}),
        json!([{"value": "m-1"}]),
        json!([{"$ref": null, "value": "m-1"}]),
    ];
    for form in forms {
        let body = json!({"userName": "a", ENTERPRISE_USER_URN: {"manager": form}});
        let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
        assert_eq!(
            prepared.resource[ENTERPRISE_USER_URN],
            json!({"manager": {"value": "m-1"}}),
            "{form}"
        );
    }
    Ok(())
}

#[test]
fn unknown_attributes_and_unlisted_custom_extensions_are_dropped() -> Result<(), ProtocolError> {
    let body = json!({
      "schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"],
      "userName": "a",
      "favouriteColour": "green",
      "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {"tag": "701984"},
      "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag": "701984",
      "name": {"givenName": "A", "nickname": "unknown sub-attribute"}
    });
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert_eq!(
        prepared.resource,
        json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "A"}, "active": true})
    );
    Ok(())
}

#[test]
fn read_only_attributes_sent_by_clients_are_ignored() -> Result<(), ProtocolError> {
    let body = json!({
      "id": "client-chosen", "userName": "a", "groups": [{"value": "g1"}],
      "meta": {"resourceType": "User", "created": "not even a date"},
      "urn:ietf:params:scim:schemas:core:2.0:User:id": "again"
    });
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert_eq!(keys(&prepared.resource), ["schemas", "userName", "active"]);
    Ok(())
}

#[test]
fn attribute_names_are_rewritten_to_canonical_case() -> Result<(), ProtocolError> {
    let body = json!({"USERNAME": "a", "Emails": [{"Value": "a@x", "TYPE": "work"}], "name.GivenName": "A"});
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert_eq!(
        prepared.resource,
        json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "A"}, "active": true,
               "emails": [{"value": "a@x", "type": "work"}]})
    );
    Ok(())
}

#[test]
fn missing_or_empty_user_name_is_invalid_value() {
    for body in [
        json!({}),
        json!({"userName": ""}),
        json!({"userName": "  "}),
        json!({"userName": null}),
    ] {
        assert_eq!(
            prepare_error(&USER_RESOURCE_TYPE, body.clone()),
            Some(ProtocolError::invalid_value(
                "attribute 'userName' is required"
            )),
            "{body}"
        );
    }
}

#[test]
fn missing_group_display_name_is_invalid_value() {
    assert_eq!(
        prepare_error(
            &GROUP_RESOURCE_TYPE,
            json!({"schemas": [GROUP_URN], "members": []})
        ),
        Some(ProtocolError::invalid_value(
            "attribute 'displayName' is required"
        ))
    );
}

#[test]
fn a_body_that_is_not_an_object_is_invalid_syntax() {
    let cases = [
        (
            json!([]),
            "a User resource must be a JSON object, not an array",
        ),
        (
            json!("x"),
            "a User resource must be a JSON object, not a string",
        ),
        (
            json!(null),
            "a User resource must be a JSON object, not null",
        ),
    ];
    for (body, detail) in cases {
        assert_eq!(
            prepare_error(&USER_RESOURCE_TYPE, body),
            Some(ProtocolError::invalid_syntax(detail))
        );
    }
}

#[test]
fn wrong_types_are_invalid_value_naming_the_attribute() {
    let cases = [
        (
            json!({"userName": 42}),
            "attribute 'userName' must be a string",
        ),
        (
            json!({"userName": "a", "active": "yes"}),
            "attribute 'active' must be a boolean",
        ),
        (
            json!({"userName": "a", "name": "Babs"}),
            "attribute 'name' must be an object",
        ),
        (
            json!({"userName": "a", "emails": [{"value": "a@x"}, {"value": true}]}),
            "attribute 'emails[1].value' must be a string",
        ),
        (
            json!({"userName": "a", ENTERPRISE_USER_URN: "Eng"}),
            "attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be an object",
        ),
        (
            json!({"userName": "a", "password": 1234}),
            "attribute 'password' must be a string",
        ),
    ];
    for (body, detail) in cases {
        assert_eq!(
            prepare_error(&USER_RESOURCE_TYPE, body.clone()),
            Some(ProtocolError::invalid_value(detail)),
            "{body}"
        );
    }
}

#[test]
fn two_primary_emails_are_invalid_value() {
    let body = json!({"userName": "a", "emails": [
        {"value": "a@x", "type": "work", "primary": true},
        {"value": "b@x", "type": "home", "primary": true}
    ]});
    assert_eq!(
        prepare_error(&USER_RESOURCE_TYPE, body).map(|e| e.scim_type),
        Some(ScimType::InvalidValue)
    );
}

#[test]
fn a_single_email_object_is_wrapped_in_an_array() -> Result<(), ProtocolError> {
    let body = json!({"userName": "a", "emails": {"value": "a@x", "primary": true}});
    let prepared = prepare(&USER_RESOURCE_TYPE, &body, None)?;
    assert_eq!(
        prepared.resource["emails"],
        json!([{"value": "a@x", "primary": true}])
    );
    assert_eq!(prepared.emails, [("a@x".to_owned(), None)]);
    Ok(())
}

static BADGE_ATTRIBUTES: [AttributeDef; 2] = [
    AttributeDef::string("userName", "test")
        .require()
        .with_uniqueness(Uniqueness::Server),
    AttributeDef::string("badge", "test").with_mutability(Mutability::Immutable),
];
static BADGE_SCHEMA: SchemaDef = SchemaDef {
    id: "urn:example:params:scim:schemas:core:2.0:Badge",
    name: "Badge",
    description: "test",
    attributes: &BADGE_ATTRIBUTES,
};
static BADGE_RESOURCE_TYPE: ResourceTypeDef = ResourceTypeDef {
    name: "Badge",
    endpoint: "/Badges",
    description: "test",
    schema: &BADGE_SCHEMA,
    extensions: &[],
};

#[test]
fn changing_an_immutable_attribute_on_put_is_a_mutability_error() {
    let existing = json!({"userName": "a", "badge": "B-1"});
    let error = prepare(
        &BADGE_RESOURCE_TYPE,
        &json!({"userName": "a", "badge": "B-2"}),
        Some(&existing),
    )
    .err();
    assert_eq!(
        error,
        Some(ProtocolError::mutability(
            "attribute 'badge' is immutable and cannot be changed"
        ))
    );
}

#[test]
fn immutable_attributes_may_be_set_once_repeated_or_omitted() -> Result<(), ProtocolError> {
    let existing = json!({"userName": "a", "badge": "B-1"});
    let cases = [
        (
            json!({"userName": "a", "badge": "B-1"}),
            Some(&existing),
            Some(json!("B-1")),
        ),
        (
            json!({"userName": "a", "badge": "b-1"}),
            Some(&existing),
            Some(json!("b-1")),
        ),
        (
            json!({"userName": "a"}),
            Some(&existing),
            Some(json!("B-1")),
        ),
        (
            json!({"userName": "a", "badge": "B-9"}),
            None,
            Some(json!("B-9")),
        ),
    ];
    for (body, existing, badge) in cases {
        let prepared = prepare(&BADGE_RESOURCE_TYPE, &body, existing)?;
        assert_eq!(prepared.resource.get("badge").cloned(), badge, "{body}");
        assert!(
            prepared.active,
            "resource types without `active` report true"
        );
    }
    Ok(())
}

#[test]
fn put_without_active_keeps_the_existing_value() -> Result<(), ProtocolError> {
    let existing = json!({"userName": "a", "active": false});
    let cases = [
        (json!({"userName": "a"}), Some(&existing), false),
        (
            json!({"userName": "a", "active": null}),
            Some(&existing),
            false,
        ),
        (
            json!({"userName": "a", "active": true}),
            Some(&existing),
            true,
        ),
        (json!({"userName": "a"}), None, true),
        (json!({"userName": "a", "active": "false"}), None, false),
    ];
    for (body, existing, active) in cases {
        let prepared = prepare(&USER_RESOURCE_TYPE, &body, existing)?;
        assert_eq!(prepared.active, active, "{body}");
        assert_eq!(prepared.resource["active"], json!(active), "{body}");
    }
    Ok(())
}

#[test]
fn entra_group_with_the_adscim_schema_uri_is_accepted() -> Result<(), ProtocolError> {
    let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}});
    let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
    assert_eq!(
        prepared.resource,
        json!({"schemas": [GROUP_URN], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
    );
    assert_eq!(prepared.display_name.as_deref(), Some("displayName"));
    assert_eq!(prepared.members, None);
    let rendered = render(
        &GROUP_RESOURCE_TYPE,
        &prepared.resource,
        "927fa2c08dcb4a7fae9e",
        &meta(1, &GROUP_RESOURCE_TYPE, "927fa2c08dcb4a7fae9e"),
        RenderExtras {
            members: Some(Vec::new()),
            groups: None,
        },
    );
    assert_eq!(
        keys(&rendered),
        [
            "schemas",
            "id",
            "externalId",
            "displayName",
            "members",
            "meta"
        ]
    );
    assert_eq!(rendered["members"], json!([]));
    assert!(rendered.get("active").is_none());
    Ok(())
}

#[test]
fn group_members_are_pulled_out_of_the_resource() -> Result<(), ProtocolError> {
    let body = json!({"displayName": "Eng", "members": [
        {"value": "u1", "display": "test.user@okta.local"},
        {"$ref": null, "value": "u2", "type": "user"},
        {"value": "g1", "type": "Group"},
        {"value": "u1"}
    ]});
    let prepared = prepare(&GROUP_RESOURCE_TYPE, &body, None)?;
    assert!(prepared.resource.get("members").is_none());
    assert_eq!(
        prepared.members,
        Some(vec![
            MemberRef {
                value: "u1".to_owned(),
                member_type: None,
                display: Some("test.user@okta.local".to_owned())
            },
            MemberRef {
                value: "u2".to_owned(),
                member_type: Some(MemberType::User),
                display: None
            },
            MemberRef {
                value: "g1".to_owned(),
                member_type: Some(MemberType::Group),
                display: None
            },
        ])
    );
    Ok(())
}

#[test]
fn explicit_null_or_empty_members_clear_and_absent_members_are_kept() -> Result<(), ProtocolError> {
    let cases = [
        (
            json!({"displayName": "Eng", "members": []}),
            Some(Vec::new()),
        ),
        (
            json!({"displayName": "Eng", "members": null}),
            Some(Vec::new()),
        ),
        (json!({"displayName": "Eng"}), None),
    ];
    for (body, members) in cases {
        assert_eq!(
            prepare(&GROUP_RESOURCE_TYPE, &body, None)?.members,
            members,
            "{body}"
        );
    }
    Ok(())
}

#[test]
fn members_without_a_string_value_or_with_an_unknown_type_are_invalid_value() {
    let cases = [
        (
            json!([{"display": "x"}]),
            "attribute 'members[0].value' is required",
        ),
        (
            json!([{"value": "u1"}, {"value": ""}]),
            "attribute 'members[1].value' is required",
        ),
        (
            json!([{"value": 7}]),
            "attribute 'members[0].value' must be a string",
        ),
        (json!(["u1"]), "attribute 'members[0]' must be an object"),
        (
            json!([{"value": "u1", "type": "Robot"}]),
            "attribute 'members[0].type' must be 'User' or 'Group'",
        ),
    ];
    for (members, detail) in cases {
        let body = json!({"displayName": "Eng", "members": members});
        assert_eq!(
            prepare_error(&GROUP_RESOURCE_TYPE, body),
            Some(ProtocolError::invalid_value(detail)),
            "{members}"
        );
    }
}

#[test]
fn render_never_returns_password_and_defaults_active_to_true() {
    let stored = json!({"schemas": [USER_URN], "userName": "a", "password": "leaked?", "Title": "Boss", "nickName": null});
    let rendered = render(
        &USER_RESOURCE_TYPE,
        &stored,
        "u1",
        &meta(2, &USER_RESOURCE_TYPE, "u1"),
        RenderExtras::default(),
    );
    assert_eq!(
        keys(&rendered),
        ["schemas", "id", "userName", "title", "active", "meta"]
    );
    assert_eq!(rendered["active"], json!(true));
}

#[test]
fn render_adds_members_and_groups_with_refs() {
    let group = render(
        &GROUP_RESOURCE_TYPE,
        &json!({"displayName": "Eng"}),
        "g1",
        &meta(1, &GROUP_RESOURCE_TYPE, "g1"),
        RenderExtras {
            members: Some(vec![
                MemberRef {
                    value: "u1".to_owned(),
                    member_type: Some(MemberType::User),
                    display: Some("Alice".to_owned()),
                },
                MemberRef {
                    value: "x1".to_owned(),
                    member_type: None,
                    display: None,
                },
            ]),
            groups: None,
        },
    );
    assert_eq!(
        group["members"],
        json!([{"value": "u1", "$ref": format!("{BASE}/Users/u1"), "display": "Alice", "type": "User"}, {"value": "x1"}])
    );
    let user = render(
        &USER_RESOURCE_TYPE,
        &json!({"userName": "a"}),
        "u1",
        &meta(1, &USER_RESOURCE_TYPE, "u1"),
        RenderExtras {
            members: None,
            groups: Some(vec![GroupRef {
                value: "g1".to_owned(),
                display: Some("Eng".to_owned()),
                direct: true,
            }]),
        },
    );
    assert_eq!(
        user["groups"],
        json!([{"value": "g1", "$ref": format!("{BASE}/Groups/g1"), "display": "Eng", "type": "direct"}])
    );
    let without = render(
        &USER_RESOURCE_TYPE,
        &json!({"userName": "a"}),
        "u1",
        &meta(1, &USER_RESOURCE_TYPE, "u1"),
        RenderExtras {
            members: None,
            groups: Some(Vec::new()),
        },
    );
    assert!(without.get("groups").is_none());
}

#[test]
fn timestamps_render_in_utc_with_their_stored_microseconds() {
    let at = Utc
        .with_ymd_and_hms(2015, 9, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::microseconds(123_456);
    assert_eq!(format_date_time(&at), "2015-09-01T12:00:00.123456Z");
}

#[test]
fn meta_etag_is_weak_and_location_joins_base_endpoint_and_id() {
    let meta = meta(42, &USER_RESOURCE_TYPE, "abc");
    assert_eq!(meta.etag(), "W/\"42\"");
    assert_eq!(
        location("https://h/scim/v2/", &GROUP_RESOURCE_TYPE, "g"),
        "https://h/scim/v2/Groups/g"
    );
}
