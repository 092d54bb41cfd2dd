//! JSON helpers for `apply`: case-insensitive member access (RFC 7643 §2.1) and `primary`
//! bookkeeping (RFC 7643 §2.4, RFC 7644 §3.5.2).

use serde_json::{Map, Value};

use crate::scim::error::ProtocolError;

pub(crate) fn is_primary(value: &Value) -> bool {
    value.get("primary") == Some(&Value::Bool(true))
}

/// Sets `primary: false` on every primary value except those at `keep`.
pub(crate) fn clear_primary(items: &mut [Value], keep: &[usize]) {
    for (index, item) in items.iter_mut().enumerate() {
        if keep.contains(&index) || !is_primary(item) {
            continue;
        }
        if let Value::Object(object) = item {
            object.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

/// RFC 7643 §2.4: `primary: true` at most once.
pub(crate) fn check_one_primary(items: &[Value], attribute: &str) -> Result<(), ProtocolError> {
    let primaries = items.iter().filter(|item| is_primary(item)).count();
    if primaries > 1 {
        return Err(ProtocolError::invalid_value(format!(
            "attribute '{attribute}' would have {primaries} values with primary true; at most \
             one is allowed"
        )));
    }
    Ok(())
}

pub(crate) fn key_ignore_case(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_owned());
    }
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
}

pub(crate) fn get_ignore_case<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// Inserts under `name`, replacing a differently-cased key in place.
pub(crate) fn insert_canonical(object: &mut Map<String, Value>, name: &str, value: Value) {
    match key_ignore_case(object, name) {
        Some(key) if key == name => {
            object.insert(key, value);
        }
        Some(key) => {
            object.shift_remove(&key);
            object.insert(name.to_owned(), value);
        }
        None => {
            object.insert(name.to_owned(), value);
        }
    }
}

pub(crate) fn remove_ignore_case(object: &mut Map<String, Value>, name: &str) {
    object.retain(|key, _| !key.eq_ignore_ascii_case(name));
}
