//! Minting and revoking tokens: shared by the CLI, the first start and the management API.

use chrono::NaiveDateTime;
use secrecy::SecretString;
use serde_json::json;

use super::Scopes;
use super::lifecycle::Restrictions;
use super::token;
use crate::error::{Error, Result};
use crate::scim::error::{ProtocolError, ScimType};
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::tokens::{self, NewToken};
use crate::store::{DbConn, OrgId, TokenId};

/// Longest token name accepted.
pub const MAX_NAME_LEN: usize = 100;
/// Longest token description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 1000;

/// Checks a token's name (1 to [`MAX_NAME_LEN`] characters once trimmed) and description (at
/// most [`MAX_DESCRIPTION_LEN`]), as given at creation or in an edit.
pub fn check_labels(name: Option<&str>, description: Option<&str>) -> Result<()> {
    if name.is_some_and(|name| {
        let name = name.trim();
        name.is_empty() || name.chars().count() > MAX_NAME_LEN
    }) {
        return Err(invalid(format!(
            "a token name must be 1 to {MAX_NAME_LEN} characters"
        )));
    }
    if description.is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_LEN) {
        return Err(invalid(format!(
            "a token description has at most {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    Ok(())
}

/// What an admin asks for when creating a token.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub description: Option<String>,
    pub scopes: Scopes,
    pub expires_at: Option<NaiveDateTime>,
    /// Who asked: `cli`, `first-start`, or `token:<id>`.
    pub created_by: String,
}

/// A token just minted. `plain` is the only copy of the secret there will ever be.
pub struct IssuedToken {
    pub id: TokenId,
    pub plain: SecretString,
    pub display_prefix: String,
}

/// Validates the request, stores the token's digest and records `token.created`.
pub fn issue_token(
    conn: &mut DbConn,
    org: &OrgId,
    request: &TokenRequest,
    now: NaiveDateTime,
) -> Result<IssuedToken> {
    issue_restricted_token(conn, org, request, &Restrictions::default(), None, now)
}

/// Like [`issue_token`], with an IP allowlist and a rate limit; `rotated_from` names the
/// token this one replaces.
pub fn issue_restricted_token(
    conn: &mut DbConn,
    org: &OrgId,
    request: &TokenRequest,
    restrictions: &Restrictions,
    rotated_from: Option<&TokenId>,
    now: NaiveDateTime,
) -> Result<IssuedToken> {
    check_labels(Some(&request.name), request.description.as_deref())?;
    let name = request.name.trim();
    if request.scopes.is_empty() {
        return Err(invalid("a token needs at least one scope".into()));
    }
    if request.expires_at.is_some_and(|expiry| expiry <= now) {
        return Err(invalid("the expiry must lie in the future".into()));
    }
    restrictions.validate()?;
    let generated = token::generate().map_err(Error::internal)?;
    let scopes = request.scopes.to_string();
    let allowed_cidrs = restrictions.allowed_cidrs_text();
    let id = tokens::insert_token(
        conn,
        &NewToken {
            org_id: org,
            name,
            description: request.description.as_deref(),
            token_digest: generated.digest.as_str(),
            display_prefix: &generated.display_prefix,
            scopes: &scopes,
            created_by: &request.created_by,
            expires_at: request.expires_at,
            allowed_cidrs: allowed_cidrs.as_deref(),
            rate_limit_per_minute: restrictions.rate_limit_i32(),
            rotated_from,
        },
        now,
    )?;
    insert_audit_event(
        conn,
        &NewAuditEvent {
            org_id: Some(org),
            event_type: "token.created",
            actor: Some(&request.created_by),
            target: Some(id.as_str()),
            remote_addr: None,
            details: json!({
                "name": name,
                "prefix": generated.display_prefix,
                "scopes": scopes,
            }),
        },
        now,
    )?;
    Ok(IssuedToken {
        id,
        plain: generated.plain,
        display_prefix: generated.display_prefix,
    })
}

/// Revokes a token for good and records `token.revoked`; answers whether it was live.
pub fn revoke_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let revoked = tokens::revoke_token(conn, org, id, now)?;
    if revoked {
        insert_audit_event(
            conn,
            &NewAuditEvent {
                org_id: Some(org),
                event_type: "token.revoked",
                actor: Some(actor),
                target: Some(id.as_str()),
                remote_addr: None,
                details: json!({}),
            },
            now,
        )?;
    }
    Ok(revoked)
}

pub(crate) fn invalid(detail: String) -> Error {
    Error::Protocol(ProtocolError::new(ScimType::InvalidValue, detail))
}
