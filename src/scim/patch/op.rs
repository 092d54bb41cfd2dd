//! The PatchOp message (RFC 7644 §3.5.2): parsing the body as sent, and the RFC-form operation
//! that `apply` consumes.
//!
//! [`PatchRequest::parse`] checks only the envelope: a JSON object with an `Operations` array of
//! objects, each with a string `op`. It keeps `op` and `path` as sent; [`super::compat`] maps
//! them to [`Operation`]s, so that IdP spellings (`"Replace"`) are a dialect handled in one place.

use serde_json::{Map, Value};

use crate::scim::error::ProtocolError;
use crate::scim::filter::PatchPath;
use crate::scim::limits::Limits;
use crate::scim::resource::json_kind;

/// A PATCH body whose envelope is valid: the operations as the client sent them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    /// The operations, in request order.
    pub operations: Vec<RawOperation>,
}

/// One element of `Operations`, before dialect normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOperation {
    /// Position in `Operations`, from 0.
    pub index: usize,
    /// `op` as sent (`add`, `Replace`, ...).
    pub op: String,
    /// `path` as sent; `None` when absent, `null` or blank.
    pub path: Option<String>,
    /// `value`: `None` when the member is absent, `Some(Value::Null)` for an explicit `null`.
    pub value: Option<Value>,
}

/// The three PATCH operations of RFC 7644 §3.5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// §3.5.2.1.
    Add,
    /// §3.5.2.2.
    Remove,
    /// §3.5.2.3.
    Replace,
}

impl OpKind {
    /// The RFC keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }

    /// The operation named `keyword` in any case (Entra sends `Add`, `Replace`, `Remove`).
    pub fn parse(keyword: &str) -> Option<Self> {
        [Self::Add, Self::Remove, Self::Replace]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(keyword.trim()))
    }
}

/// An operation in RFC form, as [`super::apply`] expects it.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Position of the client's operation this one came from, from 0 (one client operation may
    /// become several, e.g. a path-less object with dotted keys).
    pub index: usize,
    /// What to do.
    pub op: OpKind,
    /// Where; `None` for a path-less `add`/`replace` whose value is an object of attributes.
    pub path: Option<PatchPath>,
    /// The value; `None` when absent (only valid for `remove`).
    pub value: Option<Value>,
}

impl Operation {
    /// `add`, `replace emails[type eq "work"].value`: how error details name the operation.
    pub fn label(&self) -> String {
        match &self.path {
            Some(path) => format!("{} {path}", self.op.as_str()),
            None => self.op.as_str().to_owned(),
        }
    }
}

/// Prefixes an error detail with the operation it belongs to: `operation 2 (replace title): …`.
///
/// Operations are numbered from 1, in the order of the request's `Operations` array.
pub(crate) fn in_operation(index: usize, label: &str, error: ProtocolError) -> ProtocolError {
    ProtocolError::new(
        error.scim_type,
        format!("operation {} ({label}): {}", index + 1, error.detail),
    )
}

impl PatchRequest {
    /// Checks the envelope of a PATCH body (RFC 7644 §3.5.2).
    ///
    /// - The body must be an object with an `Operations` array (key matched case-insensitively);
    ///   anything else is `invalidSyntax`. `schemas` is not checked: the PatchOp URN should be
    ///   there, but its absence or a wrong URN says nothing the `Operations` array does not.
    /// - More than `limits.max_patch_operations` operations is `tooMany` (the core's keyword for
    ///   "exceeds a limit on results or operations"; checked before any operation is read).
    /// - `"Operations": []` is a valid request that changes nothing (dossier P-24, §5.3).
    /// - Each operation must be an object with a string `op`; `path` must be a string or `null`
    ///   (a blank one counts as absent); member names are matched case-insensitively.
    pub fn parse(body: &Value, limits: &Limits) -> Result<Self, ProtocolError> {
        let Value::Object(body) = body else {
            return Err(ProtocolError::invalid_syntax(format!(
                "a PATCH body must be a PatchOp object with an 'Operations' array, not {}",
                json_kind(body)
            )));
        };
        let operations = match member(body, "Operations") {
            Some(Value::Array(operations)) => operations,
            Some(other) => {
                return Err(ProtocolError::invalid_syntax(format!(
                    "'Operations' must be an array of operations, not {}",
                    json_kind(other)
                )));
            }
            None => {
                return Err(ProtocolError::invalid_syntax(
                    "a PATCH body must be a PatchOp object with an 'Operations' array \
                     (RFC 7644 §3.5.2); to replace a whole resource use PUT",
                ));
            }
        };
        if operations.len() > limits.max_patch_operations {
            return Err(ProtocolError::too_many(format!(
                "a PATCH request may carry at most {} operations; this one has {}",
                limits.max_patch_operations,
                operations.len()
            )));
        }
        let operations = operations
            .iter()
            .enumerate()
            .map(|(index, operation)| RawOperation::parse(index, operation))
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }
}

impl RawOperation {
    fn parse(index: usize, operation: &Value) -> Result<Self, ProtocolError> {
        let number = index + 1;
        let Value::Object(operation) = operation else {
            return Err(ProtocolError::invalid_syntax(format!(
                "operation {number} must be an object with 'op', 'path' and 'value', not {}",
                json_kind(operation)
            )));
        };
        let op = match member(operation, "op") {
            Some(Value::String(op)) => op.clone(),
            Some(other) => {
                return Err(ProtocolError::invalid_syntax(format!(
                    "operation {number}: 'op' must be \"add\", \"remove\" or \"replace\", not {}",
                    json_kind(other)
                )));
            }
            None => {
                return Err(ProtocolError::invalid_syntax(format!(
                    "operation {number} has no 'op'; use \"add\", \"remove\" or \"replace\""
                )));
            }
        };
        let path = match member(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) if path.trim().is_empty() => None,
            Some(Value::String(path)) => Some(path.clone()),
            Some(other) => {
                return Err(ProtocolError::invalid_syntax(format!(
                    "operation {number}: 'path' must be a string, not {}",
                    json_kind(other)
                )));
            }
        };
        Ok(Self {
            index,
            op,
            path,
            value: member(operation, "value").cloned(),
        })
    }
}

/// A member by name: the exact spelling first, then any case.
pub(crate) fn member<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}
