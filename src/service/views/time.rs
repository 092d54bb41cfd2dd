//! Times as clients read them, on their own so that code the views depend on (token notices)
//! can format a time without depending on the views.

use chrono::NaiveDateTime;

/// RFC 3339 in UTC, to the microsecond both backends store.
pub fn rfc3339(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
