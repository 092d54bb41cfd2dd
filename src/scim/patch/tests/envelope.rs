//! `PatchRequest::parse`: the PatchOp envelope (RFC 7644 §3.5.2).

use serde_json::json;

use crate::scim::error::ScimType;
use crate::scim::limits::Limits;
use crate::scim::patch::{PatchRequest, RawOperation};

#[test]
fn a_patch_op_body_parses_into_operations_as_sent() {
    let request = PatchRequest::parse(
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "remove", "path": "  "},
            {"OP": "add", "Path": null, "VALUE": {"title": "x"}},
            {"op": "replace", "path": "title", "value": null}]}),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        request.operations,
        vec![
            RawOperation {
                index: 0,
                op: "Replace".into(),
                path: Some("active".into()),
                value: Some(json!("False"))
            },
            RawOperation {
                index: 1,
                op: "remove".into(),
                path: None,
                value: None
            },
            RawOperation {
                index: 2,
                op: "add".into(),
                path: None,
                value: Some(json!({"title": "x"}))
            },
            RawOperation {
                index: 3,
                op: "replace".into(),
                path: Some("title".into()),
                value: Some(json!(null))
            },
        ]
    );
}

#[test]
fn the_operations_key_is_case_insensitive_and_schemas_is_optional() {
    for body in [
        json!({"operations": []}),
        json!({"OPERATIONS": [], "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        json!({"Operations": []}),
    ] {
        let request = PatchRequest::parse(&body, &Limits::default()).unwrap();
        assert!(request.operations.is_empty(), "{body}");
    }
}

#[test]
fn bodies_that_are_not_patch_ops_are_invalid_syntax_with_a_precise_detail() {
    let cases = [
        (
            json!([{"op": "add"}]),
            "a PATCH body must be a PatchOp object with an 'Operations' array, not an array",
        ),
        (
            json!({"userName": "x"}),
            "a PATCH body must be a PatchOp object with an 'Operations' array (RFC 7644 §3.5.2); to replace a whole resource use PUT",
        ),
        (
            json!({"Operations": {"op": "add"}}),
            "'Operations' must be an array of operations, not an object",
        ),
        (
            json!({"Operations": ["add"]}),
            "operation 1 must be an object with 'op', 'path' and 'value', not a string",
        ),
        (
            json!({"Operations": [{"path": "title"}]}),
            "operation 1 has no 'op'; use \"add\", \"remove\" or \"replace\"",
        ),
        (
            json!({"Operations": [{"op": 1}]}),
            "operation 1: 'op' must be \"add\", \"remove\" or \"replace\", not a number",
        ),
        (
            json!({"Operations": [{"op": "add", "path": ["title"]}]}),
            "operation 1: 'path' must be a string, not an array",
        ),
    ];
    for (body, detail) in cases {
        let error = PatchRequest::parse(&body, &Limits::default()).unwrap_err();
        assert_eq!(
            (error.scim_type, error.detail.as_str()),
            (ScimType::InvalidSyntax, detail),
            "{body}"
        );
    }
}

#[test]
fn more_operations_than_the_limit_is_too_many() {
    let limits = Limits {
        max_patch_operations: 2,
        ..Limits::default()
    };
    let op = json!({"op": "remove", "path": "title"});
    assert!(PatchRequest::parse(&json!({"Operations": [op, op]}), &limits).is_ok());
    let error = PatchRequest::parse(&json!({"Operations": [op, op, op]}), &limits).unwrap_err();
    assert_eq!(error.scim_type, ScimType::TooMany);
    assert_eq!(
        error.detail,
        "a PATCH request may carry at most 2 operations; this one has 3"
    );
}
