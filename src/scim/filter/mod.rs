//! The SCIM filter and attribute-path language (RFC 7644 §3.4.2.2, §3.5.2, §3.9).
//!
//! Text is parsed into an [`ast::Filter`] / [`ast::PatchPath`], checked against the attribute
//! registry by [`resolve`] (canonical names, types, case sensitivity), then either compiled to
//! SQL by the store or evaluated in memory by [`eval`].

pub mod ast;
pub mod eval;
pub mod parser;
mod print;
pub mod resolve;

#[cfg(test)]
mod tests;

pub use ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath, Span};
pub use eval::{matches, matches_element};
pub use parser::{parse_attribute_list, parse_filter, parse_patch_path};
pub use resolve::{
    ResolvedFilter, ResolvedPatchPath, ResolvedTarget, ResolvedValue, resolve, resolve_patch_path,
};

use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::limits::Limits;

/// Bounds on filter text that the IdP controls, enforced while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Longest accepted text, in bytes.
    pub max_length: usize,
    /// Deepest accepted nesting: each `(…)`, `not (…)`, value filter `[…]` and each run of
    /// `and` or of `or` opens one level; a lone comparison is level 0.
    pub max_depth: usize,
}

impl From<&Limits> for FilterLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            max_length: limits.max_filter_length,
            max_depth: limits.max_filter_depth,
        }
    }
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self::from(&Limits::default())
    }
}

/// Why a filter, PATCH path or attribute list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at position {position}: {detail}")]
pub struct FilterError {
    /// Byte offset (from 0) in the text where parsing stopped.
    pub position: usize,
    /// What was expected or wrong there; safe to show to the client.
    pub detail: String,
}

impl FilterError {
    /// An error at `position`.
    pub fn new(position: usize, detail: impl Into<String>) -> Self {
        Self {
            position,
            detail: detail.into(),
        }
    }

    /// The error for a PATCH `path`: `invalidPath` (RFC 7644 §3.5.2).
    pub fn into_invalid_path(self) -> ProtocolError {
        self.into_protocol_error(ScimType::InvalidPath, "path")
    }

    /// The error as `scim_type`, its detail reading "invalid {subject} at position …".
    pub fn into_protocol_error(self, scim_type: ScimType, subject: &str) -> ProtocolError {
        ProtocolError::new(
            scim_type,
            format!(
                "invalid {subject} at position {}: {}",
                self.position, self.detail
            ),
        )
    }
}

impl From<FilterError> for ProtocolError {
    /// A filter that does not parse is `invalidFilter` (RFC 7644 §3.4.2.2).
    fn from(error: FilterError) -> Self {
        error.into_protocol_error(ScimType::InvalidFilter, "filter")
    }
}
