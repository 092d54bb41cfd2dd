//! PATCH paths (RFC 7644 §3.5.2) and attribute lists (§3.9).

use crate::scim::filter::{AttrPath, parse_attribute_list, parse_patch_path};

/// (path as sent, canonical form, has a value filter, sub-attribute after it).
const ACCEPTED: &[(&str, &str, bool, Option<&str>)] = &[
    ("members", "members", false, None),
    (
        r#"members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]"#,
        r#"members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]"#,
        true,
        None,
    ),
    (
        r#"emails[type eq "work"].value"#,
        r#"emails[type eq "work"].value"#,
        true,
        Some("value"),
    ),
    ("name.givenName", "name.givenName", false, None),
    ("name.familyName", "name.familyName", false, None),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        false,
        None,
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        false,
        None,
    ),
    (
        r#"manager[value eq "00aa00aa"]"#,
        r#"manager[value eq "00aa00aa"]"#,
        true,
        None,
    ),
    (
        r#"addresses[type eq "work" and primary eq true].streetAddress"#,
        r#"addresses[type eq "work" and primary eq true].streetAddress"#,
        true,
        Some("streetAddress"),
    ),
    (
        r#"members[value eq abc]"#,
        r#"members[value eq "abc"]"#,
        true,
        None,
    ),
    (
        "emails[type eq 'work'].value",
        r#"emails[type eq "work"].value"#,
        true,
        Some("value"),
    ),
    (" active ", "active", false, None),
    ("Active", "Active", false, None),
];

#[test]
fn patch_paths_parse_into_attribute_filter_and_sub_attribute() {
    for (text, canonical, has_filter, sub) in ACCEPTED {
        let path = parse_patch_path(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(path.to_string(), *canonical, "{text:?}");
        assert_eq!(path.filter.is_some(), *has_filter, "{text:?}");
        assert_eq!(path.sub_attribute.as_deref(), *sub, "{text:?}");
        assert_eq!(parse_patch_path(canonical).as_ref(), Ok(&path), "{text:?}");
    }
    let path = parse_patch_path("name.givenName").unwrap();
    assert_eq!(
        path.attribute,
        AttrPath::new("name").with_sub_attribute("givenName")
    );
}

#[test]
fn malformed_patch_paths_are_rejected_with_a_position() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "expected an attribute path"),
        ("members[", 8, "expected an attribute path"),
        (r#"members[value eq "x""#, 20, "expected ']'"),
        (
            r#"members[value eq "x"]x"#,
            21,
            "expected the end of the path",
        ),
        (
            r#"emails[type eq "work"].value.x"#,
            28,
            "expected the end of the path",
        ),
        (r#"name.givenName[x pr]"#, 14, "not a sub-attribute"),
        ("emails eq \"x\"", 7, "expected the end of the path"),
        ("a.b.c", 3, "at most one sub-attribute"),
        (
            r#"emails[type eq "work"]."#,
            23,
            "expected a sub-attribute name",
        ),
        ("emails[type eq 'work].value", 15, "not closed"),
        ("emails[type eq work'].value", 19, "expected ']'"),
        ("emails[type eq ''work''].value", 17, "expected ']'"),
    ];
    for (text, position, fragment) in cases {
        let error = parse_patch_path(text).unwrap_err();
        assert!(error.detail.contains(fragment), "{text:?}: {error}");
        assert_eq!(error.position, *position, "{text:?}: {error}");
        assert!(
            error
                .into_invalid_path()
                .detail
                .starts_with("invalid path at position")
        );
    }
}

#[test]
fn attribute_lists_split_on_commas() {
    let list = parse_attribute_list(
        "userName, name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    )
    .unwrap();
    let printed: Vec<String> = list.iter().map(ToString::to_string).collect();
    assert_eq!(
        printed,
        [
            "userName",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
        ]
    );
    assert_eq!(list[1].span.start, 10);
    assert_eq!(parse_attribute_list("  ").unwrap(), Vec::new());
    assert_eq!(
        parse_attribute_list("members").unwrap(),
        [AttrPath::new("members")]
    );
    let error = parse_attribute_list("userName,,name").unwrap_err();
    assert_eq!(
        (error.position, error.detail.as_str()),
        (9, "expected an attribute path")
    );
    let error = parse_attribute_list("userName name").unwrap_err();
    assert_eq!(error.position, 9);
    let error = parse_attribute_list("userName,").unwrap_err();
    assert_eq!(error.position, 9);
}

#[test]
fn patch_value_filters_and_filters_read_literals_alike() {
    let value_filters = [
        r#"type eq "work""#,
        "type eq 'work'",
        "type eq work",
        "type eq 'wo\\'rk' and primary eq true",
        "value eq 'a' or value eq \"b\"",
        "type eq 'work",
        "type eq work'",
        "type eq '",
    ];
    for inner in value_filters {
        let text = format!("emails[{inner}]");
        let as_filter = crate::scim::filter::parse_filter(&text, &Default::default());
        let as_path = parse_patch_path(&text);
        match (as_filter, as_path) {
            (Ok(crate::scim::filter::Filter::ValuePath { filter, .. }), Ok(path)) => {
                assert_eq!(path.filter.as_ref(), Some(filter.as_ref()), "{text:?}");
            }
            (Err(filter_error), Err(path_error)) => {
                assert_eq!(filter_error.position, path_error.position, "{text:?}");
            }
            (filter, path) => panic!("{text:?}: filter {filter:?}, path {path:?}"),
        }
    }
}
