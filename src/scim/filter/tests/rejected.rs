//! Filters that do not parse: where the parser stopped and what it said, plus the limits.

use std::time::{Duration, Instant};

use super::reject;
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::filter::{FilterError, FilterLimits, parse_filter};
use crate::scim::limits::Limits;

/// (filter, byte position, fragment of the detail).
const REJECTED: &[(&str, usize, &str)] = &[
    ("", 0, "the filter is empty"),
    ("   ", 3, "the filter is empty"),
    // Dossier U-26, U-27.
    ("userName eq", 11, "expected a value"),
    ("userName eq ", 12, "expected a value"),
    (r#"userName eq "unterminated"#, 12, "not closed"),
    (
        r#"(userName eq "x""#,
        16,
        "expected ')' to close the '(' at position 0",
    ),
    (
        "RUNSCOPE123SMITHXYZ456@ATKO.COM",
        22,
        "expected a comparison operator",
    ),
    (
        r#"userName xx "a""#,
        9,
        "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
    ),
    (r#"userName"a""#, 8, "expected a comparison operator"),
    (r#"userName eqx "a""#, 9, "expected a comparison operator"),
    ("userName", 8, "expected a comparison operator"),
    (r#"userName eq "a" and"#, 19, "expected an attribute path"),
    (
        r#"userName eq "a" userName eq "b""#,
        16,
        "expected 'and', 'or' or the end",
    ),
    (r#"userName eq "a")"#, 15, "')' without a matching '('"),
    (
        r#"emails[type eq "work""#,
        21,
        "expected ']' to close the '[' at position 6",
    ),
    (
        r#"emails[type eq "work"]]"#,
        22,
        "']' without a matching '['",
    ),
    (r#"emails[type eq "a" and x[y pr]]"#, 24, "cannot be nested"),
    (
        r#"name.givenName[x pr]"#,
        14,
        "must follow an attribute, not a sub-attribute",
    ),
    ("a.b.c pr", 3, "at most one sub-attribute"),
    ("name. pr", 5, "expected a sub-attribute name"),
    ("1abc pr", 0, "'1abc' is not an attribute name"),
    (
        "urn:ietf:params:scim:schemas:core:2.0:User: pr",
        43,
        "expected an attribute name",
    ),
    (":userName pr", 0, "is not a schema URN"),
    (
        r#"userName eq "bad \q escape""#,
        17,
        "invalid escape sequence",
    ),
    (r#"userName eq "\u12G4""#, 13, "invalid escape sequence"),
    (r#"userName eq "\ud83d""#, 13, "invalid escape sequence"),
    ("userName co jyoung", 12, "put text in double quotes"),
    ("userName eq and", 12, "expected a value"),
    ("x eq 1e999", 5, "out of range"),
    ("not title pr", 4, "expected a comparison operator"),
    (
        "not (title pr",
        13,
        "expected ')' to close the '(' at position 4",
    ),
    ("()", 1, "expected an attribute path"),
    (
        r#"emails[type eq "work"]."#,
        23,
        "expected a sub-attribute name",
    ),
    (
        r#"emails[type eq "work"].value"#,
        28,
        "expected a comparison operator",
    ),
    (
        r#"userName eq "a" or "b""#,
        19,
        "expected an attribute path",
    ),
    // A quote is never part of an unquoted word: half-quoted text is not a value.
    ("userName eq 'bjensen", 12, "not closed"),
    ("userName eq bjensen'", 19, "expected 'and', 'or'"),
    ("userName eq O'Malley", 13, "expected 'and', 'or'"),
    ("userName eq \"bjensen'", 12, "not closed"),
];

#[test]
fn rejected_filters_report_position_and_reason() {
    assert!(REJECTED.len() >= 20);
    for (text, position, fragment) in REJECTED {
        let error = reject(text);
        assert!(
            error.detail.contains(fragment),
            "{text:?}: {error} does not say {fragment:?}"
        );
        assert_eq!(error.position, *position, "{text:?}: {error}");
    }
}

#[test]
fn filter_error_displays_position_and_becomes_invalid_filter() {
    let error = reject(r#"userName xx "a""#);
    assert_eq!(
        error.to_string(),
        "invalid filter at position 9: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
    );
    let protocol = ProtocolError::from(error.clone());
    assert_eq!(protocol.scim_type, ScimType::InvalidFilter);
    assert_eq!(protocol.detail, error.to_string());
    let path_error = error.into_invalid_path();
    assert_eq!(path_error.scim_type, ScimType::InvalidPath);
    assert!(
        path_error
            .detail
            .starts_with("invalid path at position 9: ")
    );
}

#[test]
fn filter_limits_come_from_the_server_limits() {
    let limits = Limits {
        max_filter_length: 100,
        max_filter_depth: 3,
        ..Limits::default()
    };
    assert_eq!(
        FilterLimits::from(&limits),
        FilterLimits {
            max_length: 100,
            max_depth: 3
        }
    );
    assert_eq!(
        FilterLimits::default(),
        FilterLimits::from(&Limits::default())
    );
}

#[test]
fn a_filter_longer_than_the_limit_is_rejected_before_parsing() {
    let limits = FilterLimits {
        max_length: 20,
        max_depth: 16,
    };
    let text = r#"userName eq "a-long-value""#;
    let error = parse_filter(text, &limits).unwrap_err();
    assert_eq!(
        error,
        FilterError::new(20, "longer than the limit of 20 bytes")
    );
    assert!(parse_filter(r#"userName eq "abcdef""#, &limits).is_ok());
    assert!(parse_filter(r#"userName eq "ab""#, &limits).is_ok());
}

#[test]
fn nesting_is_counted_per_parenthesis_not_value_path_and_logical_run() {
    let limits = FilterLimits {
        max_length: 4096,
        max_depth: 3,
    };
    let accepted = [
        "a pr",
        "((( a pr )))",
        "a pr and b pr and c pr and d pr or e pr",
        "not (a pr and b pr or c pr)",
        r#"emails[type eq "w" and value pr or primary eq true]"#,
        r#"emails[type eq "work"].value eq "x""#,
    ];
    for text in accepted {
        assert!(parse_filter(text, &limits).is_ok(), "{text:?}");
    }
    let rejected = [
        ("(((( a pr ))))", 3, "nested more than 3 levels deep"),
        (
            "a pr and (b pr or (c pr and d pr))",
            9,
            "nested more than 3 levels deep",
        ),
        (
            "not (not (not (not (a pr))))",
            19,
            "nested more than 3 levels deep",
        ),
        (
            r#"x pr or emails[(type eq "w" or value pr)]"#,
            0,
            "nested more than 3 levels deep",
        ),
        (
            r#"(emails[type eq "w" or x pr].value pr)"#,
            0,
            "nested more than 3 levels deep",
        ),
    ];
    for (text, position, fragment) in rejected {
        let error = parse_filter(text, &limits).unwrap_err();
        assert_eq!(
            (error.position, error.detail.as_str()),
            (position, fragment),
            "{text:?}"
        );
    }
}

#[test]
fn ten_thousand_open_parentheses_fail_fast_without_recursion() {
    let started = Instant::now();
    for hostile in [
        "(".repeat(10_000),
        "not (".repeat(10_000),
        "a[".repeat(10_000),
    ] {
        let limits = FilterLimits {
            max_length: usize::MAX,
            max_depth: 16,
        };
        let error = parse_filter(&hostile, &limits).unwrap_err();
        assert!(
            error.detail.contains("nested more than 16") || error.detail.contains("nested"),
            "{error}"
        );
    }
    let default_error = reject(&"(".repeat(10_000));
    assert!(
        default_error.detail.contains("longer than the limit"),
        "{default_error}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_long_flat_chain_within_the_length_limit_parses_prints_and_drops() {
    let text = vec!["a pr"; 800].join(" or ");
    let limits = FilterLimits {
        max_length: text.len(),
        max_depth: 1,
    };
    let filter = parse_filter(&text, &limits).unwrap();
    assert_eq!(filter.to_string(), text);
}
