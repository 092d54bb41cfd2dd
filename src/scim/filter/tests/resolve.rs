//! Resolution against the registry: canonical names, implied `value`, types, errors.

use super::parse;
use crate::scim::error::ScimType;
use crate::scim::filter::{
    CompareOp, ResolvedFilter, ResolvedTarget, ResolvedValue, parse_patch_path, resolve,
    resolve_patch_path,
};
use crate::scim::schema::{AttrType, GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

fn user(text: &str) -> ResolvedFilter {
    resolve(&parse(text), &USER_RESOURCE_TYPE)
        .unwrap_or_else(|error| panic!("{text:?} did not resolve: {error}"))
}

fn compared(filter: &ResolvedFilter) -> (ResolvedTarget, CompareOp, ResolvedValue) {
    match filter {
        ResolvedFilter::Compare { target, op, value } => (*target, *op, value.clone()),
        other => panic!("not a comparison: {other:?}"),
    }
}

#[test]
fn names_become_canonical_and_carry_their_characteristics() {
    let (target, op, value) = compared(&user(r#"USERNAME EQ "Alice""#));
    assert_eq!(
        target,
        ResolvedTarget {
            urn: USER_URN,
            extension: false,
            attribute: "userName",
            sub_attribute: None,
            attr_type: AttrType::String,
            case_exact: false,
            multi_valued: false,
        }
    );
    assert_eq!(
        (op, value),
        (CompareOp::Eq, ResolvedValue::String("Alice".into()))
    );
    let (target, ..) = compared(&user(r#"externalid eq "x""#));
    assert_eq!((target.attribute, target.case_exact), ("externalId", true));
    let (target, ..) = compared(&user(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:NAME.GIVENNAME eq "Barbara""#,
    ));
    assert_eq!(
        (target.attribute, target.sub_attribute),
        ("name", Some("givenName"))
    );
}

#[test]
fn a_bare_complex_attribute_with_a_value_sub_attribute_means_its_value() {
    let (target, ..) = compared(&user(r#"emails eq "alice@a.example""#));
    assert_eq!(
        (target.attribute, target.sub_attribute, target.multi_valued),
        ("emails", Some("value"), true)
    );
    let (target, ..) = compared(&user("manager eq 2819c223-7f76-453a-919d-413861904646"));
    assert_eq!(
        (
            target.urn,
            target.extension,
            target.attribute,
            target.sub_attribute
        ),
        (ENTERPRISE_USER_URN, true, "manager", Some("value"))
    );
    let group = resolve(
        &parse(r#"id eq "X" and members eq "Y""#),
        &GROUP_RESOURCE_TYPE,
    )
    .unwrap();
    let ResolvedFilter::And(_, members) = group else {
        panic!("{group:?}");
    };
    let (target, ..) = compared(&members);
    assert_eq!(
        (
            target.urn,
            target.attribute,
            target.sub_attribute,
            target.case_exact
        ),
        (GROUP_URN, "members", Some("value"), true)
    );
}

#[test]
fn operands_are_converted_to_the_attribute_type() {
    let cases: &[(&str, ResolvedValue)] = &[
        (
            "employeeNumber eq 701984",
            ResolvedValue::String("701984".into()),
        ),
        (r#"active eq "True""#, ResolvedValue::Boolean(true)),
        ("active eq false", ResolvedValue::Boolean(false)),
        ("title eq null", ResolvedValue::Null),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            ResolvedValue::DateTime("2011-05-13T04:42:34Z".parse().unwrap()),
        ),
        (
            r#"meta.created lt "2011-05-13T06:42:34+02:00""#,
            ResolvedValue::DateTime("2011-05-13T04:42:34Z".parse().unwrap()),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(compared(&user(text)).2, *expected, "{text:?}");
    }
}

#[test]
fn value_paths_resolve_their_inner_names_as_sub_attributes() {
    let resolved = user(r#"Emails[TYPE eq "work" and value co "@example.com"]"#);
    let ResolvedFilter::ValuePath { target, filter } = resolved else {
        panic!("{resolved:?}");
    };
    assert_eq!(
        (target.attribute, target.attr_type),
        ("emails", AttrType::Complex)
    );
    let ResolvedFilter::And(left, _) = *filter else {
        panic!("{filter:?}");
    };
    let (inner, ..) = compared(&left);
    assert_eq!(
        (inner.attribute, inner.sub_attribute),
        ("emails", Some("type"))
    );
    assert!(matches!(
        user("schemas eq \"x\""),
        ResolvedFilter::Compare { .. }
    ));
    assert!(matches!(user("emails pr"), ResolvedFilter::Present { .. }));
}

#[test]
fn invalid_filters_name_the_attribute_and_its_position() {
    let cases = [
        (
            r#"userName eq "a" and nickNam eq "b""#,
            "invalid filter at position 20: unknown attribute 'nickNam'",
        ),
        (
            "name.nope pr",
            "invalid filter at position 0: unknown attribute 'name.nope'",
        ),
        (
            "urn:example:Foo:x pr",
            "invalid filter at position 0: unknown schema 'urn:example:Foo' for User resources",
        ),
        (
            "active gt true",
            "'gt' cannot compare 'active', which is a boolean",
        ),
        (
            "x509Certificates.value lt \"a\"",
            "'lt' cannot compare 'x509Certificates.value'",
        ),
        (
            r#"name eq "x""#,
            "'name' is complex; compare one of its sub-attributes",
        ),
        (
            "active co \"t\"",
            "'co' needs a string attribute; 'active' is a boolean",
        ),
        (
            "userName eq true",
            "'userName' is a string; true does not fit it",
        ),
        ("active eq \"yes\"", "'active' is a boolean"),
        (
            r#"meta.created gt "yesterday""#,
            "\"yesterday\" is not an xsd:dateTime",
        ),
        ("title gt null", "'gt' cannot compare with null"),
        (
            r#"emails[nope eq "x"]"#,
            "position 7: 'emails' has no sub-attribute 'nope'",
        ),
        (
            r#"emails[emails.type eq "x"]"#,
            "inside 'emails[…]' name a sub-attribute",
        ),
        (
            r#"userName[value eq "x"]"#,
            "'userName' has no sub-attributes to filter on",
        ),
        (
            "manager.value gt 5.5",
            "'manager.value' is a string; 5.5 does not fit it",
        ),
    ];
    for (text, fragment) in cases {
        let error = resolve(&parse(text), &USER_RESOURCE_TYPE).unwrap_err();
        assert_eq!(error.scim_type, ScimType::InvalidFilter, "{text:?}");
        assert!(
            error.detail.contains(fragment),
            "{text:?}: {}",
            error.detail
        );
    }
    let error = resolve(&parse(r#"userName eq "x""#), &GROUP_RESOURCE_TYPE).unwrap_err();
    assert!(error.detail.contains("unknown attribute 'userName'"));
}

#[test]
fn patch_paths_resolve_or_fail_as_invalid_path() {
    let path = parse_patch_path(r#"EMAILS[type eq "work"].VALUE"#).unwrap();
    let resolved = resolve_patch_path(&path, &USER_RESOURCE_TYPE).unwrap();
    assert_eq!(
        (resolved.target.attribute, resolved.target.sub_attribute),
        ("emails", None)
    );
    assert_eq!(
        resolved.sub_attribute.map(|s| s.sub_attribute),
        Some(Some("value"))
    );
    assert!(resolved.filter.is_some());
    let path =
        parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
            .unwrap();
    let resolved = resolve_patch_path(&path, &USER_RESOURCE_TYPE).unwrap();
    assert_eq!(
        (
            resolved.target.urn,
            resolved.target.attribute,
            resolved.filter
        ),
        (ENTERPRISE_USER_URN, "manager", None)
    );
    for text in [
        "nope",
        r#"emails[type eq "work"].nope"#,
        r#"emails[nope pr]"#,
        "name[givenName pr]x",
    ] {
        let Ok(path) = parse_patch_path(text) else {
            continue;
        };
        let error = resolve_patch_path(&path, &USER_RESOURCE_TYPE).unwrap_err();
        assert_eq!(error.scim_type, ScimType::InvalidPath, "{text:?}");
        assert!(
            error.detail.starts_with("invalid path at position"),
            "{}",
            error.detail
        );
    }
}
