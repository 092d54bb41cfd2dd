//! The protocol core's error vocabulary: RFC 7644 §3.12 `scimType` keywords, no HTTP.

use serde::Serialize;

/// An RFC 7644 §3.12 `scimType` detail error keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    /// The filter syntax was invalid or the filter is not supported.
    InvalidFilter,
    /// The filter yields more results than the server is willing to return.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The request tried to modify an immutable attribute.
    Mutability,
    /// The request body structure was invalid.
    InvalidSyntax,
    /// The path attribute was invalid or malformed.
    InvalidPath,
    /// The path did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value was missing or a value was not compatible.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because of sensitive information (e.g. in the URI).
    Sensitive,
}

impl ScimType {
    /// The camelCase keyword as it appears in the `scimType` field of an error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client error found by the protocol core; the server answers 400 (409 for `Uniqueness`).
///
/// `detail` is safe to show to the client: it names the offending attribute, never server internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ProtocolError {
    /// The RFC 7644 §3.12 keyword.
    pub scim_type: ScimType,
    /// A human-readable explanation naming the attribute or construct at fault.
    pub detail: String,
}

impl ProtocolError {
    /// An error of any kind.
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }

    /// `invalidFilter`: the filter is malformed or unsupported.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidFilter, detail)
    }

    /// `tooMany`: the request exceeds a limit on results or operations.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(ScimType::TooMany, detail)
    }

    /// `uniqueness`: a value that must be unique is already taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(ScimType::Uniqueness, detail)
    }

    /// `mutability`: an immutable attribute would change.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(ScimType::Mutability, detail)
    }

    /// `invalidSyntax`: the body is not the expected JSON structure.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidSyntax, detail)
    }

    /// `invalidPath`: an attribute path is malformed or names no attribute.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidPath, detail)
    }

    /// `noTarget`: a path matched nothing that can be operated on.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(ScimType::NoTarget, detail)
    }

    /// `invalidValue`: a value is missing, of the wrong type, or not allowed.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidValue, detail)
    }

    /// `invalidVers`: the requested protocol version is not supported.
    pub fn invalid_vers(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidVers, detail)
    }

    /// `sensitive`: the request carries sensitive data where it must not (e.g. the URI).
    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::new(ScimType::Sensitive, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scim_type_renders_its_rfc_keyword() {
        let cases = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::TooMany, "tooMany"),
            (ScimType::Uniqueness, "uniqueness"),
            (ScimType::Mutability, "mutability"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::InvalidVers, "invalidVers"),
            (ScimType::Sensitive, "sensitive"),
        ];
        for (scim_type, keyword) in cases {
            assert_eq!(scim_type.as_str(), keyword);
            assert_eq!(scim_type.to_string(), keyword);
            assert_eq!(
                serde_json::to_value(scim_type).ok(),
                Some(serde_json::Value::from(keyword))
            );
        }
    }

    #[test]
    fn protocol_error_displays_only_its_detail() {
        let error = ProtocolError::invalid_value("attribute 'userName' is required");
        assert_eq!(error.scim_type, ScimType::InvalidValue);
        assert_eq!(error.to_string(), "attribute 'userName' is required");
    }

    #[test]
    fn constructors_pick_the_matching_scim_type() {
        let cases = [
            (ProtocolError::invalid_filter("x"), ScimType::InvalidFilter),
            (ProtocolError::too_many("x"), ScimType::TooMany),
            (ProtocolError::uniqueness("x"), ScimType::Uniqueness),
            (ProtocolError::mutability("x"), ScimType::Mutability),
            (ProtocolError::invalid_syntax("x"), ScimType::InvalidSyntax),
            (ProtocolError::invalid_path("x"), ScimType::InvalidPath),
            (ProtocolError::no_target("x"), ScimType::NoTarget),
            (ProtocolError::invalid_value("x"), ScimType::InvalidValue),
            (ProtocolError::invalid_vers("x"), ScimType::InvalidVers),
            (ProtocolError::sensitive("x"), ScimType::Sensitive),
        ];
        for (error, scim_type) in cases {
            assert_eq!(error.scim_type, scim_type);
        }
    }
}
