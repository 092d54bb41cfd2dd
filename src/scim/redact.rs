//! Secrets out of request and response bodies before anything keeps them (the activity log):
//! every attribute the schema marks `returned: never` (`password`), wherever it appears: as a
//! member of a resource, under an extension or a full-URN key, as a PATCH operation's `path`,
//! or inside Bulk operations' `data`.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::Value;

use super::schema::{AttributeDef, Returned, SCHEMAS};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The most bytes of one body that are kept; longer ones are cut with a marker.
pub const MAX_KEPT_BODY: usize = 64 * 1024;

/// Whether `name` (an attribute name, `name.sub`, `urn:…:User:password`, a PATCH path) names
/// an attribute that is never returned. Compared case-insensitively, as SCIM names are;
/// a filter in brackets is ignored, only the attribute path around it counts.
pub fn names_secret(name: &str) -> bool {
    // Most names (every member name of a body) have no filter: nothing to allocate for them.
    let without_filters = if name.contains('[') {
        Cow::Owned(
            name.split('[')
                .enumerate()
                .map(|(index, part)| match index {
                    0 => part,
                    _ => part.split_once(']').map_or("", |(_, rest)| rest),
                })
                .collect::<String>(),
        )
    } else {
        Cow::Borrowed(name)
    };
    // The attribute follows the last `:` of a URN prefix.
    let path = without_filters
        .rsplit(':')
        .next()
        .unwrap_or(&without_filters);
    path.split('.').any(is_never_returned)
}

/// The names of the attributes the schemas mark `returned: never`, gathered once: walking
/// every schema's attribute tree for each member of each body the activity log keeps was most
/// of what redacting cost.
static SECRET_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    fn gather(attribute: &'static AttributeDef, names: &mut Vec<&'static str>) {
        if attribute.returned == Returned::Never {
            names.push(attribute.name);
        }
        for sub in attribute.sub_attributes {
            gather(sub, names);
        }
    }
    let mut names = Vec::new();
    for attribute in SCHEMAS.iter().flat_map(|schema| schema.attributes) {
        gather(attribute, &mut names);
    }
    names
});

fn is_never_returned(name: &str) -> bool {
    !name.is_empty()
        && SECRET_NAMES
            .iter()
            .any(|secret| secret.eq_ignore_ascii_case(name))
}

/// Replaces every secret in `value` with [`REDACTED`]: members named by a secret attribute,
/// and the `value` of any object (a PATCH operation) whose `path` names one.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let path_is_secret = map.iter().any(|(key, path)| {
                key.eq_ignore_ascii_case("path") && path.as_str().is_some_and(names_secret)
            });
            for (key, item) in map.iter_mut() {
                if names_secret(key) || (path_is_secret && key.eq_ignore_ascii_case("value")) {
                    *item = Value::String(REDACTED.to_owned());
                } else {
                    redact(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A body as the log keeps it: parsed, redacted, serialized, cut at [`MAX_KEPT_BODY`] bytes
/// with a marker. A body that is not JSON cannot be redacted, so only its size is kept.
/// `None` for no body.
pub fn keep_body(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    Some(match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => keep_value(value),
        Err(_) => not_json(bytes.len()),
    })
}

/// A JSON body as the log keeps it when it cannot hold a secret, taken as it is instead of
/// parsed and written anew: a member or a `path` names a secret attribute only where that
/// name stands in the text (in any case) or behind an escape (`\u0070assword`), and `bytes`
/// have neither. Then [`redact`] would change nothing, and for the compact bodies scimd answers
/// the text is the one [`keep_value`] would write. `None`: the body needs [`keep_value`].
pub fn keep_unless_secret(bytes: &[u8]) -> Option<String> {
    let may_name_a_secret = bytes.contains(&b'\\')
        || SECRET_NAMES
            .iter()
            .any(|name| contains_ignoring_ascii_case(bytes, name));
    if may_name_a_secret {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    Some(truncate(text.to_owned(), MAX_KEPT_BODY))
}

fn contains_ignoring_ascii_case(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A parsed body as the log keeps it: redacted, serialized, cut at [`MAX_KEPT_BODY`] bytes.
pub fn keep_value(mut value: Value) -> String {
    redact(&mut value);
    truncate(value.to_string(), MAX_KEPT_BODY)
}

/// What stands for a body that is not JSON: its size only.
pub fn not_json(len: usize) -> String {
    format!("[{len} bytes that are not JSON: not kept, since secrets in them cannot be redacted]")
}

/// `text` cut to at most `limit` bytes (at a character boundary), with a marker saying so.
pub fn truncate(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let total = text.len();
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!("…[truncated: {total} bytes in all]"));
    text
}

/// A query string with a secret attribute in it (a filter on `password`) is not kept.
pub fn keep_query(query: &str) -> Option<String> {
    if query.is_empty() {
        return None;
    }
    let secret = SECRET_NAMES
        .iter()
        .any(|name| contains_ignoring_ascii_case(query.as_bytes(), name));
    Some(if secret {
        "[query redacted: it names a secret attribute]".to_owned()
    } else {
        query.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_names_are_recognised_in_every_spelling() {
        let cases = [
            ("password", true),
            ("Password", true),
            ("urn:ietf:params:scim:schemas:core:2.0:User:password", true),
            ("password[value eq \"x\"]", true),
            ("userName", false),
            ("emails[value eq \"password\"].value", false),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                false,
            ),
            ("", false),
        ];
        for (name, expected) in cases {
            assert_eq!(names_secret(name), expected, "{name}");
        }
    }

    /// The shortcut may keep a body only where redacting it would change nothing.
    #[test]
    fn a_body_is_kept_as_it_came_only_when_no_secret_can_hide_in_it() {
        let plain = json!({"id": "u1", "userName": "bjensen", "emails": [{"value": "b@x"}]});
        let text = plain.to_string();
        assert_eq!(
            keep_unless_secret(text.as_bytes()),
            Some(keep_value(plain)),
            "a compact body without secrets is kept as keep_value writes it"
        );
        for body in [
            r#"{"userName":"b","password":"hunter2"}"#,
            r#"{"userName":"b","PassWord":"hunter2"}"#,
            r#"{"Operations":[{"op":"replace","path":"password","value":"hunter2"}]}"#,
            r#"{"userName":"b","\u0070assword":"hunter2"}"#,
            r#"{"userName":"b\"","x":"hunter2"}"#,
        ] {
            assert_eq!(keep_unless_secret(body.as_bytes()), None, "{body}");
            let kept = keep_body(body.as_bytes()).unwrap();
            assert!(
                !kept.contains("hunter2") || !body.contains("assword"),
                "{kept}"
            );
        }
        let long = format!(r#"{{"displayName":"{}"}}"#, "x".repeat(MAX_KEPT_BODY));
        let kept = keep_unless_secret(long.as_bytes()).unwrap();
        assert!(kept.ends_with(&format!("…[truncated: {} bytes in all]", long.len())));
    }

    #[test]
    fn passwords_are_redacted_wherever_they_appear() {
        let cases = [
            // POST and PUT bodies.
            (
                json!({"userName": "a", "password": "s3cret"}),
                json!({"userName": "a", "password": REDACTED}),
            ),
            // PATCH with a path, in either spelling.
            (
                json!({"Operations": [
                    {"op": "replace", "path": "password", "value": "s3cret"},
                    {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "s3cret"},
                    {"op": "replace", "path": "active", "value": false}
                ]}),
                json!({"Operations": [
                    {"op": "replace", "path": "password", "value": REDACTED},
                    {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": REDACTED},
                    {"op": "replace", "path": "active", "value": false}
                ]}),
            ),
            // PATCH without a path (Okta, Entra): an object of values, full-URN keys too.
            (
                json!({"Operations": [{"op": "replace", "value": {
                    "password": "s3cret",
                    "urn:ietf:params:scim:schemas:core:2.0:User:password": "s3cret",
                    "active": true
                }}]}),
                json!({"Operations": [{"op": "replace", "value": {
                    "password": REDACTED,
                    "urn:ietf:params:scim:schemas:core:2.0:User:password": REDACTED,
                    "active": true
                }}]}),
            ),
            // Bulk operations' data.
            (
                json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "1",
                    "data": {"userName": "b", "password": "s3cret"}}]}),
                json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "1",
                    "data": {"userName": "b", "password": REDACTED}}]}),
            ),
        ];
        for (mut body, expected) in cases {
            redact(&mut body);
            assert_eq!(body, expected);
        }
    }

    #[test]
    fn long_bodies_are_cut_with_a_marker_and_non_json_is_not_kept() {
        let long = json!({"displayName": "x".repeat(MAX_KEPT_BODY * 2)}).to_string();
        let kept = keep_body(long.as_bytes()).unwrap();
        assert!(kept.len() < MAX_KEPT_BODY + 64);
        assert!(kept.ends_with(&format!("…[truncated: {} bytes in all]", long.len())));
        let not_json = keep_body(b"password=s3cret").unwrap();
        assert!(!not_json.contains("s3cret"), "{not_json}");
        assert_eq!(keep_body(b""), None);
        assert_eq!(
            truncate("héllo".to_owned(), 2),
            "h…[truncated: 6 bytes in all]"
        );
    }

    #[test]
    fn queries_naming_a_secret_are_not_kept() {
        assert_eq!(
            keep_query("filter=userName+eq+%22a%22").as_deref(),
            Some("filter=userName+eq+%22a%22")
        );
        assert!(
            !keep_query("filter=password+eq+%22x%22")
                .unwrap()
                .contains("x%22")
        );
        assert_eq!(keep_query(""), None);
    }
}
