//! Properties over random sequences of dossier operations: never a panic, the input never
//! changes, and whatever `apply` returns `prepare` accepts as it is.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{
    ENTERPRISE, GA1, U1, alice, apply_and_prepare, bob_without_email, body, engineering, patch_user,
};
use crate::scim::error::ScimType;
use crate::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};

fn user_pool() -> Vec<Value> {
    vec![
        json!({"op": "replace", "value": {"active": false}}),
        json!({"op": "Replace", "path": "active", "value": "True"}),
        json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@x"}),
        json!({"op": "add", "path": "emails[type eq \"home\"].value", "value": "h@x"}),
        json!({"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}),
        json!({"op": "remove", "path": "emails[type eq \"work\"]"}),
        json!({"op": "add", "path": "emails", "value": [{"value": "p@x", "type": "other", "primary": true}]}),
        json!({"op": "replace", "value": {"name.givenName": "G", format!("{ENTERPRISE}:employeeNumber"): "7"}}),
        json!({"op": "remove", "path": "name.givenName"}),
        json!({"op": "remove", "path": "name"}),
        json!({"op": "Add", "path": "manager", "value": [{"value": "m"}]}),
        json!({"op": "Replace", "path": "manager", "value": ""}),
        json!({"op": "remove", "path": "employeeNumber"}),
        json!({"op": "replace", "path": "title", "value": null}),
        json!({"op": "add", "path": "title", "value": "T"}),
        json!({"op": "replace", "path": "userName", "value": "new@x"}),
        json!({"op": "remove", "path": "userName"}),
        json!({"op": "replace", "path": "id", "value": "x"}),
        json!({"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "1"}),
        json!({"op": "replace", "path": "addresses[type eq \"work\"].primary", "value": "true"}),
    ]
}

fn group_pool() -> Vec<Value> {
    vec![
        json!({"op": "replace", "value": {"id": GA1, "displayName": "Eng 2"}}),
        json!({"op": "add", "path": "members", "value": [{"value": "a"}]}),
        json!({"op": "Remove", "path": "members", "value": [{"value": "a"}]}),
        json!({"op": "remove", "path": "members[value eq \"b\"]"}),
        json!({"op": "replace", "path": "members", "value": []}),
        json!({"op": "remove", "path": "members"}),
        json!({"op": "Add", "path": "externalId", "value": "x"}),
        json!({"op": "remove", "path": "externalId"}),
    ]
}

/// The type a well-formed literal says, by a reading independent of the parser: a whole
/// single- or double-quoted string without its quote inside, or a bare word.
fn literal_type(literal: &str) -> Option<String> {
    let literal = literal.trim_matches(|c: char| c.is_ascii_whitespace());
    for quote in ['"', '\''] {
        if let Some(rest) = literal.strip_prefix(quote) {
            let inner = rest.strip_suffix(quote)?;
            return (!inner.contains(quote)).then(|| inner.to_owned());
        }
    }
    let bare = !literal.is_empty() && !literal.contains(['"', '\'', ' ', '[', ']']);
    bare.then(|| literal.to_owned())
}

proptest! {
    #[test]
    fn creating_a_missing_email_writes_only_the_literal_the_path_says(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec!["work", "home", "'", "\"", " ", "]", "["]), 1..6)
    ) {
        let literal = pieces.concat();
        let path = format!("emails[type eq {literal}].value");
        let result = patch_user(
            &bob_without_email(),
            json!([{"op": "replace", "path": path, "value": "new@x.com"}]),
        );
        match (literal_type(&literal), result) {
            (Some(kind), Ok(applied)) => prop_assert_eq!(
                &applied.resource["emails"],
                &json!([{"type": kind, "value": "new@x.com"}]),
                "{}", path
            ),
            (None, Err(error)) => prop_assert_eq!(error.scim_type, ScimType::InvalidPath, "{}", path),
            (expected, result) => prop_assert!(false, "{path}: expected {expected:?}, got {result:?}"),
        }
    }

    #[test]
    fn any_sequence_of_dossier_user_operations_yields_a_resource_prepare_accepts(
        picks in proptest::collection::vec(0..20usize, 0..8)
    ) {
        let pool = user_pool();
        let operations: Vec<Value> = picks.iter().filter_map(|&i| pool.get(i).cloned()).collect();
        let _ = apply_and_prepare(&USER_RESOURCE_TYPE, U1, &alice(), &body(Value::Array(operations)));
    }

    #[test]
    fn any_sequence_of_dossier_group_operations_yields_a_resource_prepare_accepts(
        picks in proptest::collection::vec(0..8usize, 0..8)
    ) {
        let pool = group_pool();
        let operations: Vec<Value> = picks.iter().filter_map(|&i| pool.get(i).cloned()).collect();
        let applied = apply_and_prepare(&GROUP_RESOURCE_TYPE, GA1, &engineering(), &body(Value::Array(operations)));
        prop_assert!(applied.is_ok());
    }
}
