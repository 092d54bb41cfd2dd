use super::*;
use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

/// (schema URN, attribute name, sub-attribute name)
type Resolved = (&'static str, &'static str, Option<&'static str>);

fn resolve(rt: &ResourceTypeDef, path: &str) -> Option<Resolved> {
    rt.resolve(path).map(|resolved| {
        (
            resolved.schema.id,
            resolved.attribute.name,
            resolved.sub_attribute.map(|sub| sub.name),
        )
    })
}

#[test]
fn user_paths_resolve_case_insensitively_with_or_without_urn() {
    let cases: &[(&str, Option<Resolved>)] = &[
        ("userName", Some((USER_URN, "userName", None))),
        ("USERNAME", Some((USER_URN, "userName", None))),
        (
            "name.givenName",
            Some((USER_URN, "name", Some("givenName"))),
        ),
        (
            "Name.GivenName",
            Some((USER_URN, "name", Some("givenName"))),
        ),
        ("emails.Value", Some((USER_URN, "emails", Some("value")))),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
            Some((USER_URN, "name", Some("givenName"))),
        ),
        (
            "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName",
            Some((USER_URN, "userName", None)),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            Some((ENTERPRISE_USER_URN, "manager", None)),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            Some((ENTERPRISE_USER_URN, "manager", Some("value"))),
        ),
        ("manager", Some((ENTERPRISE_USER_URN, "manager", None))),
        (
            "employeeNumber",
            Some((ENTERPRISE_USER_URN, "employeeNumber", None)),
        ),
        ("id", Some((USER_URN, "id", None))),
        (
            "meta.lastModified",
            Some((USER_URN, "meta", Some("lastModified"))),
        ),
        ("groups.$ref", Some((USER_URN, "groups", Some("$ref")))),
        ("nope", None),
        ("name.nope", None),
        ("name.givenName.extra", None),
        ("urn:ietf:params:scim:schemas:core:2.0:User:manager", None),
        ("urn:example:unknown:2.0:User:userName", None),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            None,
        ),
        ("", None),
    ];
    for (path, expected) in cases {
        assert_eq!(
            resolve(&USER_RESOURCE_TYPE, path),
            *expected,
            "path {path:?}"
        );
    }
}

#[test]
fn group_paths_do_not_see_user_attributes() {
    assert_eq!(
        resolve(&GROUP_RESOURCE_TYPE, "members.value"),
        Some((GROUP_URN, "members", Some("value")))
    );
    assert_eq!(resolve(&GROUP_RESOURCE_TYPE, "userName"), None);
    assert_eq!(resolve(&GROUP_RESOURCE_TYPE, "manager"), None);
}

#[test]
fn resource_types_are_found_by_name_or_endpoint() {
    assert_eq!(resource_type("user").map(|rt| rt.endpoint), Some("/Users"));
    assert_eq!(
        resource_type("Group").map(|rt| rt.endpoint),
        Some("/Groups")
    );
    assert_eq!(resource_type("Users"), None);
    assert_eq!(
        resource_type_by_endpoint("/Users").map(|rt| rt.name),
        Some("User")
    );
    assert_eq!(
        resource_type_by_endpoint("groups").map(|rt| rt.name),
        Some("Group")
    );
    assert_eq!(resource_type_by_endpoint("/Schemas"), None);
}

#[test]
fn schemas_are_found_by_urn() {
    assert_eq!(
        schema(ENTERPRISE_USER_URN).map(|s| s.name),
        Some("EnterpriseUser")
    );
    assert_eq!(
        schema(&GROUP_URN.to_lowercase()).map(|s| s.name),
        Some("Group")
    );
    assert_eq!(schema("urn:example:unknown"), None);
    assert_eq!(
        USER_RESOURCE_TYPE
            .extension(&ENTERPRISE_USER_URN.to_uppercase())
            .map(|e| e.required),
        Some(false)
    );
}

#[test]
fn key_characteristics_follow_rfc_7643() {
    let user = &USER_RESOURCE_TYPE;
    let get = |path: &str| user.resolve(path).map(|r| r.target());
    let user_name = get("userName");
    assert_eq!(
        user_name.map(|a| (a.required, a.case_exact, a.uniqueness)),
        Some((true, false, Uniqueness::Server))
    );
    let id = get("id");
    assert_eq!(
        id.map(|a| (a.mutability, a.returned, a.case_exact)),
        Some((Mutability::ReadOnly, Returned::Always, true))
    );
    let password = get("password");
    assert_eq!(
        password.map(|a| (a.mutability, a.returned)),
        Some((Mutability::WriteOnly, Returned::Never))
    );
    assert_eq!(
        get("externalId").map(|a| (a.case_exact, a.mutability)),
        Some((true, Mutability::ReadWrite))
    );
    assert_eq!(
        get("groups").map(|a| a.mutability),
        Some(Mutability::ReadOnly)
    );
    assert_eq!(
        get("groups.value").map(|a| a.mutability),
        Some(Mutability::ReadOnly)
    );
    assert_eq!(
        get("manager.displayName").map(|a| a.mutability),
        Some(Mutability::ReadOnly)
    );
    assert_eq!(
        get("emails").map(|a| (a.multi_valued, a.attr_type)),
        Some((true, AttrType::Complex))
    );
    assert_eq!(
        get("x509Certificates.value").map(|a| a.attr_type),
        Some(AttrType::Binary)
    );
    assert_eq!(
        get("photos.value").map(|a| a.reference_types),
        Some(&["external"][..])
    );
    assert_eq!(
        GROUP_RESOURCE_TYPE
            .resolve("members.value")
            .map(|r| r.target().mutability),
        Some(Mutability::Immutable)
    );
}

#[test]
fn every_complex_attribute_has_sub_attributes_and_names_are_unique() {
    for schema in SCHEMAS {
        let mut names: Vec<String> = schema
            .attributes
            .iter()
            .map(|a| a.name.to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            schema.attributes.len(),
            "duplicate names in {}",
            schema.id
        );
        for attribute in schema.attributes {
            assert_eq!(
                attribute.is_complex(),
                !attribute.sub_attributes.is_empty(),
                "{}",
                attribute.name
            );
            for sub in attribute.sub_attributes {
                assert!(
                    !sub.is_complex(),
                    "{}.{} nests complex",
                    attribute.name,
                    sub.name
                );
            }
        }
    }
}
