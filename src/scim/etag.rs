//! Resource versions as entity tags, and `If-Match`/`If-None-Match` evaluation (RFC 7644 §3.14).
//!
//! Pure string logic: the server passes header values in and decides the status code.

use super::error::ProtocolError;

/// The weak entity tag for a resource version: `W/"<version>"` (RFC 7644 §3.14).
pub fn etag_for_version(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// One entity tag from a precondition header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// Whether it carried the `W/` prefix.
    pub weak: bool,
    /// The opaque tag, without quotes.
    pub opaque: String,
}

/// A parsed `If-Match` or `If-None-Match` header value (RFC 7232 §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// A comma-separated list of entity tags.
    Tags(Vec<EntityTag>),
}

impl Precondition {
    /// Parses a header value such as `W/"3"`, `"3", W/"4"` or `*`.
    ///
    /// Malformed values (unquoted tags, stray text, an empty list) are `invalidSyntax`, so the
    /// server can tell the client rather than silently answering 412.
    pub fn parse(header: &str) -> Result<Self, ProtocolError> {
        let header = header.trim();
        if header == "*" {
            return Ok(Self::Any);
        }
        let mut tags = Vec::new();
        // Opaque tags cannot contain `"`, so splitting on commas outside quotes is a plain scan.
        let mut rest = header;
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
            if rest.is_empty() {
                break;
            }
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let body = quoted.strip_prefix('"').ok_or_else(|| malformed(header))?;
            let (opaque, after) = body.split_once('"').ok_or_else(|| malformed(header))?;
            if opaque.chars().any(|c| c.is_ascii_control()) {
                return Err(malformed(header));
            }
            let after = after.trim_start();
            if !(after.is_empty() || after.starts_with(',')) {
                return Err(malformed(header));
            }
            tags.push(EntityTag {
                weak,
                opaque: opaque.to_owned(),
            });
            rest = after;
        }
        if tags.is_empty() {
            return Err(malformed(header));
        }
        Ok(Self::Tags(tags))
    }

    /// Whether a resource at `version` satisfies the list (`*` matches any existing resource).
    ///
    /// Comparison is weak (RFC 7232 §2.3.2) for both headers: scimd only issues weak tags, and
    /// RFC 7644 §3.14 shows them used with `If-Match`, where a strong comparison never matches.
    pub fn matches_version(&self, version: i64) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => {
                let wanted = version.to_string();
                tags.iter().any(|tag| tag.opaque == wanted)
            }
        }
    }
}

fn malformed(header: &str) -> ProtocolError {
    let shown: String = header.chars().take(64).collect();
    ProtocolError::invalid_syntax(format!(
        "malformed entity tag list '{shown}': expected '*' or quoted tags such as W/\"3\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;

    #[test]
    fn version_renders_as_a_weak_etag() {
        assert_eq!(etag_for_version(3), "W/\"3\"");
    }

    #[test]
    fn preconditions_match_versions() {
        let cases = [
            ("*", 7, true),
            (" * ", 1, true),
            ("W/\"7\"", 7, true),
            ("W/\"7\"", 8, false),
            ("\"7\"", 7, true),
            ("\"1\", W/\"7\"", 7, true),
            ("\"1\",W/\"2\" ,  \"3\"", 3, true),
            ("\"1\", W/\"2\"", 3, false),
            ("W/\"abc\"", 0, false),
            ("W/\"07\"", 7, false),
            ("W/\"\"", 0, false),
        ];
        for (header, version, expected) in cases {
            let parsed = Precondition::parse(header);
            assert_eq!(
                parsed.map(|p| p.matches_version(version)),
                Ok(expected),
                "{header} vs version {version}"
            );
        }
    }

    #[test]
    fn parse_keeps_weakness_and_opaque_tags() {
        assert_eq!(
            Precondition::parse("W/\"1\", \"x y\""),
            Ok(Precondition::Tags(vec![
                EntityTag {
                    weak: true,
                    opaque: "1".to_owned()
                },
                EntityTag {
                    weak: false,
                    opaque: "x y".to_owned()
                },
            ]))
        );
    }

    #[test]
    fn garbage_preconditions_are_invalid_syntax() {
        for header in [
            "",
            "   ",
            "7",
            "W/7",
            "\"7",
            "W/\"7\" junk",
            "**",
            "w/\"7\"",
            ",",
            "\"7\" \"8\"",
        ] {
            let parsed = Precondition::parse(header);
            assert_eq!(
                parsed.map_err(|e| e.scim_type),
                Err(ScimType::InvalidSyntax),
                "header {header:?}"
            );
        }
    }
}
