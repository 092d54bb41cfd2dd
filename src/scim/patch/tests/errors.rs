//! Error details name the operation (from 1) and its path, with the RFC 7644 §3.12 scimType.

use serde_json::json;

use super::{alice, patch_user};
use crate::scim::error::{ProtocolError, ScimType};

fn error(operations: serde_json::Value) -> ProtocolError {
    patch_user(&alice(), operations).unwrap_err()
}

#[test]
fn details_name_the_operation_number_and_path() {
    let cases = [
        (
            json!([{"op": "add", "path": "title", "value": "x"},
                   {"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x"}}]),
            ScimType::NoTarget,
            "operation 2 (replace emails[type eq \"home\"]): no value of 'emails' matches the filter",
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            ScimType::Mutability,
            "operation 1 (replace id): attribute 'id' is readOnly",
        ),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}]),
            ScimType::Mutability,
            "operation 1 (replace meta.created): attribute 'meta.created' is readOnly",
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            ScimType::Mutability,
            "operation 1 (remove userName): attribute 'userName' is required and cannot be removed",
        ),
        (
            json!([{"op": "remove"}]),
            ScimType::NoTarget,
            "operation 1 (remove): 'remove' needs a 'path' naming what to remove (RFC 7644 §3.5.2.2)",
        ),
        (
            json!([{"op": "Replace", "path": "active", "value": "maybe"}]),
            ScimType::InvalidValue,
            "operation 1 (replace active): attribute 'active' must be a boolean",
        ),
        (
            json!([{"op": "merge", "path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
            "operation 1 (merge title): unknown op 'merge'; use \"add\", \"remove\" or \"replace\"",
        ),
        (
            json!([{"op": "replace", "path": "nickname[", "value": "x"}]),
            ScimType::InvalidPath,
            "operation 1 (replace nickname[): invalid path at position 9: expected an attribute path",
        ),
        (
            json!([{"op": "replace", "path": "shoeSize", "value": 44}]),
            ScimType::InvalidPath,
            "operation 1 (replace shoeSize): invalid path at position 0: unknown attribute 'shoeSize'",
        ),
        (
            json!([{"op": "add", "path": "emails", "value": [{"value": 5}]}]),
            ScimType::InvalidValue,
            "operation 1 (add emails): attribute 'emails[0].value' must be a string",
        ),
        (
            json!([{"op": "replace", "value": "Babs"}]),
            ScimType::InvalidSyntax,
            "operation 1 (replace): without a 'path' the value must be an object of attributes, not a string",
        ),
        (
            json!([{"op": "add", "path": "title"}]),
            ScimType::InvalidValue,
            "operation 1 (add title): 'add' needs a 'value'",
        ),
        (
            json!([{"op": "replace", "value": {"password": null}}]),
            ScimType::Mutability,
            "operation 1 (replace): 'password' can be replaced but not removed",
        ),
    ];
    for (operations, scim_type, detail) in cases {
        let error = error(operations.clone());
        assert_eq!(
            (error.scim_type, error.detail.as_str()),
            (scim_type, detail),
            "{operations}"
        );
    }
}

#[test]
fn an_error_in_a_split_path_less_object_names_the_clients_operation() {
    let error = error(json!([
        {"op": "add", "path": "title", "value": "x"},
        {"op": "replace", "value": {"displayName": "D", "name.givenName": 7}}]));
    assert_eq!(error.scim_type, ScimType::InvalidValue);
    assert_eq!(
        error.detail,
        "operation 2 (replace name.givenName): attribute 'name.givenName' must be a string"
    );
}
