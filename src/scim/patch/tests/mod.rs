//! PATCH tests: every PATCH request of the IdP dossier (`shared/scim-cases/idp-dossier.md`)
//! with its real body, the RFC 7644 §3.5.2 examples, and the engine's own guarantees.
//!
//! Every successful patch goes through [`apply_and_prepare`], which also runs the server's
//! validation step and checks that `prepare` accepts `apply`'s output unchanged.

mod envelope;
mod errors;
mod groups;
mod properties;
mod rfc;
mod semantics;
mod users;

use serde_json::{Value, json};

use super::{Applied, MemberChange, patch};
use crate::scim::PATCH_OP_URN;
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::limits::Limits;
use crate::scim::resource::{MemberRef, MemberType, prepare};
use crate::scim::schema::{GROUP_RESOURCE_TYPE, ResourceTypeDef, USER_RESOURCE_TYPE};

pub(super) const U1: &str = "6f1b3c9e-0d2a-4b1e-9a51-1c0f5d1e2a01";
pub(super) const U2: &str = "7a2c4d0f-1e3b-4c2f-8b62-2d1a6e2f3b02";
pub(super) const U3: &str = "8b3d5e1a-2f4c-4d3a-9c73-3e2b7f3a4c03";
pub(super) const GA1: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";
pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(super) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A POST body as the server would store it.
pub(super) fn stored(rt: &ResourceTypeDef, body: Value) -> Value {
    prepare(rt, &body, None)
        .unwrap_or_else(|error| panic!("fixture rejected: {error}"))
        .resource
}

/// Dossier §4.0 U1.
pub(super) fn alice() -> Value {
    stored(
        &USER_RESOURCE_TYPE,
        json!({
            "userName": "alice@a.example", "externalId": "ext-alice",
            "name": {"givenName": "Alice", "familyName": "Anders"},
            "emails": [{"value": "alice@a.example", "type": "work", "primary": true}],
            "active": true
        }),
    )
}

/// Dossier §4.0 U1 as stored, with `changes` merged over it (`null` removes a key).
pub(super) fn alice_with(changes: Value) -> Value {
    let mut user = alice();
    merge(&mut user, changes);
    user
}

/// A user without emails (dossier P-10, P-11).
pub(super) fn bob_without_email() -> Value {
    stored(
        &USER_RESOURCE_TYPE,
        json!({"userName": "bob@a.example", "externalId": "ext-bob", "active": true}),
    )
}

/// Dossier §4.0 GA1, without its members (the server keeps them as rows).
pub(super) fn engineering() -> Value {
    stored(
        &GROUP_RESOURCE_TYPE,
        json!({"displayName": "Engineering", "externalId": "ga1-ext"}),
    )
}

pub(super) fn merge(target: &mut Value, changes: Value) {
    if let (Value::Object(target), Value::Object(changes)) = (target, changes) {
        for (key, value) in changes {
            if value.is_null() {
                target.shift_remove(&key);
            } else {
                target.insert(key, value);
            }
        }
    }
}

/// A PatchOp body around `operations`.
pub(super) fn body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP_URN], "Operations": operations})
}

/// `patch`, then the server's validation: `prepare` must accept the output unchanged.
pub(super) fn apply_and_prepare(
    rt: &ResourceTypeDef,
    id: &str,
    stored: &Value,
    body: &Value,
) -> Result<Applied, ProtocolError> {
    let original = stored.clone();
    let result = patch(rt, id, stored, body, &Limits::default());
    assert_eq!(stored, &original, "the stored resource must never change");
    let applied = result?;
    let prepared = prepare(rt, &applied.resource, Some(stored))?;
    assert_eq!(
        prepared.resource, applied.resource,
        "prepare must accept apply's output as it is"
    );
    assert!(
        applied.resource.get("password").is_none(),
        "no password in the resource"
    );
    Ok(applied)
}

pub(super) fn patch_user(stored: &Value, operations: Value) -> Result<Applied, ProtocolError> {
    apply_and_prepare(&USER_RESOURCE_TYPE, U1, stored, &body(operations))
}

pub(super) fn patch_group(operations: Value) -> Result<Applied, ProtocolError> {
    apply_and_prepare(&GROUP_RESOURCE_TYPE, GA1, &engineering(), &body(operations))
}

/// The scimType of a failed patch, or the test fails.
pub(super) fn scim_type(result: Result<Applied, ProtocolError>) -> ScimType {
    match result {
        Ok(applied) => panic!("expected an error, got {}", applied.resource),
        Err(error) => error.scim_type,
    }
}

/// A member as Okta and Entra send it: only `value` (and maybe `display`).
pub(super) fn member(id: &str) -> MemberRef {
    MemberRef {
        value: id.to_owned(),
        member_type: None,
        display: None,
    }
}

pub(super) fn member_shown(id: &str, display: &str) -> MemberRef {
    MemberRef {
        display: Some(display.to_owned()),
        ..member(id)
    }
}

pub(super) fn member_typed(id: &str, kind: MemberType) -> MemberRef {
    MemberRef {
        member_type: Some(kind),
        ..member(id)
    }
}

pub(super) fn removed(ids: &[&str]) -> MemberChange {
    MemberChange::Remove(ids.iter().map(|id| (*id).to_owned()).collect())
}
