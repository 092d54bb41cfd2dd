//! Turning a PATCH body into a store [`Edit`]: engine and validation, run inside the write
//! transaction on the stored state it read; a new password is hashed before it.

use std::sync::Arc;

use serde_json::Value;

use crate::auth::password::PasswordHasher;
use crate::error::{Error, Result};
use crate::scim::limits::Limits;
use crate::scim::patch::patch;
use crate::scim::resource::prepare;
use crate::scim::schema::ResourceTypeDef;
use crate::store::resources::{Edit, StoredResource};

/// A password a PATCH sets, hashed before its transaction starts: argon2id takes about 50 ms,
/// which inside the transaction would hold SQLite's writer lock through every password sync.
pub struct PrehashedPassword {
    plain: String,
    hash: String,
}

impl PrehashedPassword {
    /// The password `body` sets when applied to `resource` (the resource `id`): `None` when it
    /// sets none, an error when it cannot apply there. The value an operation gives the
    /// password does not depend on the resource, so an empty one usually finds it.
    pub fn plain_set_by(
        rt: &ResourceTypeDef,
        body: &Value,
        limits: &Limits,
        id: &str,
        resource: &Value,
    ) -> Result<Option<String>> {
        if !mentions_password(body) {
            return Ok(None);
        }
        Ok(patch(rt, id, resource, body, limits)?.password)
    }

    /// Hashes `plain` through the bound on concurrent hashes.
    pub async fn hash(passwords: &Arc<PasswordHasher>, plain: String) -> Result<Self> {
        let hash = passwords.hash(plain.clone()).await?;
        Ok(PrehashedPassword { plain, hash })
    }
}

/// Whether a key or a string (a `path`) anywhere in `value` names a password: a cheap test
/// that lets every other PATCH skip the trial run.
fn mentions_password(value: &Value) -> bool {
    let names = |text: &str| text.to_ascii_lowercase().contains("password");
    match value {
        Value::String(text) => names(text),
        Value::Array(items) => items.iter().any(mentions_password),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| names(key) || mentions_password(item)),
        _ => false,
    }
}

/// Applies `body` to `stored` and validates the result as PUT would. A new password takes the
/// `prehashed` hash; one that is not that password means the stored resource changed since the
/// password was found, and is a conflict rather than a hash here, which would hold the
/// writer through it and bypass the bound on concurrent hashes.
pub fn edit(
    rt: &ResourceTypeDef,
    stored: &StoredResource,
    body: &Value,
    limits: &Limits,
    prehashed: Option<&PrehashedPassword>,
) -> Result<Edit> {
    let applied = patch(rt, &stored.id, &stored.resource, body, limits)?;
    let password_hash = match (applied.password.as_deref(), prehashed) {
        (Some(plain), Some(prehashed)) if prehashed.plain == plain => Some(prehashed.hash.clone()),
        (Some(_), _) => return Err(Error::Conflict),
        (None, _) => None,
    };
    let prepared = if applied.changed || password_hash.is_some() {
        Some(prepare(rt, &applied.resource, Some(&stored.resource))?)
    } else {
        None
    };
    Ok(Edit {
        prepared,
        member_changes: applied.member_changes,
        password_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::USER_RESOURCE_TYPE;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    use serde_json::json;

    fn alice() -> StoredResource {
        let resource = json!({"userName": "alice@a.example", "active": true});
        StoredResource::from_row(
            "2819c223-7f76-453a-919d-413861904646".to_owned(),
            &resource.to_string(),
            3,
            crate::store::now(),
            crate::store::now(),
        )
        .unwrap()
    }

    fn verifies(hash: &str, password: &str) -> bool {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &PasswordHash::new(hash).unwrap())
            .is_ok()
    }

    #[tokio::test]
    async fn both_password_dialects_are_hashed_before_the_transaction_and_the_hash_is_used() {
        let limits = Limits::default();
        for body in [
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "value": {"password": "N3w-p@ss"}}]}),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "password", "value": "N3w-p@ss"}]}),
        ] {
            let plain = PrehashedPassword::plain_set_by(
                &USER_RESOURCE_TYPE,
                &body,
                &limits,
                "",
                &json!({}),
            )
            .unwrap()
            .expect("a password to hash");
            let prehashed = PrehashedPassword::hash(&Arc::default(), plain)
                .await
                .unwrap();
            assert!(verifies(&prehashed.hash, "N3w-p@ss"));
            let edit = edit(
                &USER_RESOURCE_TYPE,
                &alice(),
                &body,
                &limits,
                Some(&prehashed),
            )
            .unwrap();
            // argon2id salts every hash: an equal string is the prehashed one, not a new one.
            assert_eq!(edit.password_hash.as_deref(), Some(prehashed.hash.as_str()));
        }
    }

    #[test]
    fn a_body_without_a_password_hashes_nothing_and_another_password_is_a_conflict() {
        let limits = Limits::default();
        let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                "Operations": [{"op": "replace", "value": {"active": false}}]});
        assert!(
            PrehashedPassword::plain_set_by(
                &USER_RESOURCE_TYPE,
                &deactivate,
                &limits,
                "",
                &json!({})
            )
            .unwrap()
            .is_none()
        );
        let edit_without = edit(&USER_RESOURCE_TYPE, &alice(), &deactivate, &limits, None).unwrap();
        assert_eq!(edit_without.password_hash, None);

        let stale = PrehashedPassword {
            plain: "0ld-p@ss".to_owned(),
            hash: "not used".to_owned(),
        };
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "path": "password", "value": "N3w-p@ss"}]});
        for prehashed in [Some(&stale), None] {
            let outcome = edit(&USER_RESOURCE_TYPE, &alice(), &body, &limits, prehashed);
            assert!(matches!(outcome, Err(Error::Conflict)), "{outcome:?}");
        }
    }

    #[test]
    fn a_password_beside_a_filter_is_found_on_the_stored_resource_only() {
        let limits = Limits::default();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [
                              {"op": "replace", "path": "emails[value sw \"alice\"].value",
                               "value": "alice@b.example"},
                              {"op": "replace", "path": "password", "value": "N3w-p@ss"}]});
        let set_by = |resource: &Value| {
            PrehashedPassword::plain_set_by(&USER_RESOURCE_TYPE, &body, &limits, "", resource)
        };
        assert!(set_by(&json!({})).is_err(), "no e-mail to replace");
        let stored = json!({"userName": "alice@a.example",
                            "emails": [{"value": "alice@a.example", "type": "work"}]});
        assert_eq!(set_by(&stored).unwrap().as_deref(), Some("N3w-p@ss"));
    }
}
