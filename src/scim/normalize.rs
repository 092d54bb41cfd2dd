//! Checking and normalising one client-supplied value against its attribute definition.
//!
//! Used for POST/PUT bodies (`resource::prepare`) and, later, PATCH values, so that both accept
//! the same shapes and report the same details.

use serde_json::{Map, Value};

use super::error::ProtocolError;
use super::schema::{AttrType, AttributeDef, Mutability};

/// Normalises `value` for `attribute`; `label` names it in error details (e.g. `emails[1].value`).
///
/// Returns `None` when the value is unassigned: `null`, an empty array, or a complex value with
/// no known sub-attribute (RFC 7643 §2.5). Otherwise:
/// - attribute and sub-attribute names are rewritten to their canonical case (RFC 7643 §2.1);
///   unknown and readOnly sub-attributes are dropped;
/// - a multi-valued attribute given a single value is treated as a one-element array, and at
///   most one element may have `primary: true` (RFC 7643 §2.4);
/// - booleans also accept the strings `"true"`/`"false"` in any case, as Entra sends them;
/// - a single-valued complex attribute with a `value` sub-attribute (the enterprise `manager`)
///   also accepts a bare value or a one-element array, as Entra sends it.
pub fn normalize_value(
    attribute: &AttributeDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ProtocolError> {
    if !attribute.multi_valued {
        return normalize_single(attribute, value, label);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut normalized = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        if let Some(item) = normalize_single(attribute, item, &format!("{label}[{index}]"))? {
            normalized.push(item);
        }
    }
    check_single_primary(&normalized, label)?;
    Ok((!normalized.is_empty()).then_some(Value::Array(normalized)))
}

/// Reads a boolean the way Entra may send one: JSON `true`/`false` or the strings in any case.
pub fn coerce_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Whether `text` is an xsd:dateTime (RFC 7643 §2.3.5): RFC 3339, or without a time zone.
pub fn is_date_time(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

fn normalize_single(
    attribute: &AttributeDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ProtocolError> {
    let type_error = |expected: &str| {
        ProtocolError::invalid_value(format!("attribute '{label}' must be {expected}"))
    };
    match (attribute.attr_type, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::String | AttrType::Reference, Value::String(_)) => Ok(Some(value.clone())),
        (AttrType::String | AttrType::Reference, _) => Err(type_error("a string")),
        (AttrType::Boolean, _) => coerce_boolean(value)
            .map(|flag| Some(Value::Bool(flag)))
            .ok_or_else(|| type_error("a boolean")),
        (AttrType::Integer, Value::Number(number)) if number.is_i64() || number.is_u64() => {
            Ok(Some(value.clone()))
        }
        (AttrType::Integer, _) => Err(type_error("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (AttrType::Decimal, _) => Err(type_error("a number")),
        (AttrType::DateTime, Value::String(text)) if is_date_time(text) => Ok(Some(value.clone())),
        (AttrType::DateTime, _) => Err(type_error(
            "a dateTime string such as \"2015-09-01T12:00:00Z\"",
        )),
        (AttrType::Binary, Value::String(text)) if is_base64(text) => Ok(Some(value.clone())),
        (AttrType::Binary, _) => Err(type_error("a base64-encoded string")),
        (AttrType::Complex, _) => normalize_complex(attribute, value, label),
    }
}

fn normalize_complex(
    attribute: &AttributeDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ProtocolError> {
    let wraps_bare_value = !attribute.multi_valued && attribute.sub_attribute("value").is_some();
    let object = match value {
        Value::Object(object) => object,
        Value::Array(items) if wraps_bare_value => {
            return match items.as_slice() {
                [] => Ok(None),
                [single] => normalize_complex(attribute, single, label),
                _ => Err(ProtocolError::invalid_value(format!(
                    "attribute '{label}' is single-valued but got {} values",
                    items.len()
                ))),
            };
        }
        Value::String(_) if wraps_bare_value => {
            let mut wrapped = Map::new();
            wrapped.insert("value".to_owned(), value.clone());
            return normalize_complex(attribute, &Value::Object(wrapped), label);
        }
        _ => {
            return Err(ProtocolError::invalid_value(format!(
                "attribute '{label}' must be an object"
            )));
        }
    };
    let mut normalized = Map::new();
    for sub in attribute.sub_attributes {
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        // The last spelling wins when a client sends both `value` and `Value`.
        let given = object
            .iter()
            .rev()
            .find(|(key, _)| key.eq_ignore_ascii_case(sub.name))
            .map(|(_, given)| given);
        if let Some(given) = given {
            let sub_label = format!("{label}.{}", sub.name);
            if let Some(given) = normalize_value(sub, given, &sub_label)? {
                normalized.insert(sub.name.to_owned(), given);
            }
        }
    }
    Ok((!normalized.is_empty()).then_some(Value::Object(normalized)))
}

/// RFC 7643 §2.4: the primary attribute value `true` MUST appear no more than once.
fn check_single_primary(items: &[Value], label: &str) -> Result<(), ProtocolError> {
    let primaries = items
        .iter()
        .filter(|item| item.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ProtocolError::invalid_value(format!(
            "attribute '{label}' has {primaries} values with primary true; at most one is allowed"
        )));
    }
    Ok(())
}

/// Standard or URL-safe base64, padded or not, ignoring whitespace (line-wrapped certificates).
fn is_base64(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let data = compact.trim_end_matches('=');
    let padding = compact.len() - data.len();
    let alphabet_ok = data
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'));
    alphabet_ok
        && padding <= 2
        && data.len() % 4 != 1
        && (padding == 0 || compact.len().is_multiple_of(4))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::schema::USER_RESOURCE_TYPE;

    fn attribute(path: &str) -> &'static AttributeDef {
        match USER_RESOURCE_TYPE.resolve(path) {
            Some(resolved) => resolved.target(),
            None => unreachable!("test path {path} must resolve"),
        }
    }

    #[test]
    fn values_of_the_right_type_are_normalised() {
        let cases = [
            ("userName", json!("bjensen"), Some(json!("bjensen"))),
            ("userName", json!(""), Some(json!(""))),
            ("userName", json!(null), None),
            ("active", json!(false), Some(json!(false))),
            ("active", json!("True"), Some(json!(true))),
            ("active", json!("FALSE"), Some(json!(false))),
            ("emails", json!([]), None),
            (
                "emails",
                json!({"Value": "a@x"}),
                Some(json!([{"value": "a@x"}])),
            ),
            (
                "emails",
                json!([{"TYPE": "work", "value": "a@x", "primary": "true", "bogus": 1}]),
                Some(json!([{"value": "a@x", "type": "work", "primary": true}])),
            ),
            ("name", json!({"middleName": null}), None),
            ("manager", json!("m-1"), Some(json!({"value": "m-1"}))),
            (
                "manager",
                json!([{"value": "m-1"}]),
                Some(json!({"value": "m-1"})),
            ),
            ("manager", json!([]), None),
            (
                "manager",
                json!({"value": "m-1", "displayName": "read only"}),
                Some(json!({"value": "m-1"})),
            ),
            (
                "meta.created",
                json!("2010-01-23T04:56:22Z"),
                Some(json!("2010-01-23T04:56:22Z")),
            ),
            (
                "meta.created",
                json!("2010-01-23T04:56:22.5"),
                Some(json!("2010-01-23T04:56:22.5")),
            ),
            (
                "x509Certificates.value",
                json!("TUlJRA=="),
                Some(json!("TUlJRA==")),
            ),
            (
                "x509Certificates.value",
                json!("TUlJ\nRA"),
                Some(json!("TUlJ\nRA")),
            ),
        ];
        for (path, given, expected) in cases {
            let normalized = normalize_value(attribute(path), &given, path);
            assert_eq!(normalized, Ok(expected), "{path} given {given}");
        }
    }

    #[test]
    fn wrong_types_name_the_attribute_in_the_detail() {
        let cases = [
            (
                "userName",
                json!(7),
                "attribute 'userName' must be a string",
            ),
            (
                "active",
                json!("yes"),
                "attribute 'active' must be a boolean",
            ),
            ("active", json!(1), "attribute 'active' must be a boolean"),
            ("name", json!("Babs"), "attribute 'name' must be an object"),
            (
                "emails",
                json!([{"value": "a@x"}, {"value": 5}]),
                "attribute 'emails[1].value' must be a string",
            ),
            (
                "emails",
                json!(["a@x"]),
                "attribute 'emails[0]' must be an object",
            ),
            (
                "manager",
                json!([{"value": "a"}, {"value": "b"}]),
                "attribute 'manager' is single-valued but got 2 values",
            ),
            (
                "x509Certificates.value",
                json!("not base64!"),
                "attribute 'x509Certificates.value' must be a base64-encoded string",
            ),
            (
                "meta.created",
                json!("yesterday"),
                "attribute 'meta.created' must be a dateTime string such as \"2015-09-01T12:00:00Z\"",
            ),
        ];
        for (path, given, detail) in cases {
            let error = normalize_value(attribute(path), &given, path).err();
            assert_eq!(
                error,
                Some(ProtocolError::invalid_value(detail)),
                "{path} given {given}"
            );
        }
    }

    #[test]
    fn two_primary_values_are_invalid_value() {
        let given = json!([
            {"value": "a@x", "primary": true},
            {"value": "b@x", "primary": "True"}
        ]);
        let error = normalize_value(attribute("emails"), &given, "emails").err();
        assert_eq!(error.map(|e| e.scim_type), Some(ScimType::InvalidValue));
    }

    #[test]
    fn numbers_are_checked_by_kind() {
        let integer = AttributeDef::new("count", AttrType::Integer, "test");
        let decimal = AttributeDef::new("ratio", AttrType::Decimal, "test");
        assert_eq!(
            normalize_value(&integer, &json!(3), "count"),
            Ok(Some(json!(3)))
        );
        assert!(normalize_value(&integer, &json!(3.5), "count").is_err());
        assert!(normalize_value(&integer, &json!("3"), "count").is_err());
        assert_eq!(
            normalize_value(&decimal, &json!(3.5), "ratio"),
            Ok(Some(json!(3.5)))
        );
        assert!(normalize_value(&decimal, &json!("3.5"), "ratio").is_err());
    }
}
