//! SCIM PATCH (RFC 7644 §3.5.2): parse the PatchOp envelope, rewrite IdP dialects into RFC form,
//! apply the operations to a stored resource.
//!
//! ```text
//! body ──op::PatchRequest::parse──▶ RawOperation* ──compat::normalize──▶ Operation* ──apply──▶ Applied
//! ```
//!
//! The server then validates `Applied::resource` with
//! `resource::prepare(rt, &applied.resource, Some(stored))` (types, required, immutable, primary
//! are checked there once for POST, PUT and PATCH), stores it when `changed`, hashes
//! `Applied::password`, and turns `Applied::member_changes` into membership row changes (after
//! checking that added member ids exist in the organisation, dossier G-29).

pub mod apply;
pub mod compat;
mod members;
pub mod op;
mod path;
mod values;

#[cfg(test)]
mod tests;

pub use apply::{Applied, apply};
pub use members::MemberChange;
pub use op::{OpKind, Operation, PatchRequest, RawOperation};

use serde_json::Value;

use crate::scim::error::ProtocolError;
use crate::scim::limits::Limits;
use crate::scim::schema::ResourceTypeDef;

/// Parses `body`, normalises Okta/Entra dialects and applies the operations to `stored` (the
/// resource as `prepare` produced it) of the resource `resource_id`. Pure and atomic: on error
/// nothing is returned but the error, which names the operation (numbered from 1) and its path.
pub fn patch(
    rt: &ResourceTypeDef,
    resource_id: &str,
    stored: &Value,
    body: &Value,
    limits: &Limits,
) -> Result<Applied, ProtocolError> {
    let request = PatchRequest::parse(body, limits)?;
    let operations = compat::normalize(rt, resource_id, &request.operations)?;
    apply(rt, stored, &operations)
}
