//! Minting and revoking moved to `crate::service::tokens`. These names remain only for
//! `auth/mod.rs`, which another branch is changing now; they go when that branch is merged.

use chrono::NaiveDateTime;

use crate::error::Result;
use crate::service::audit::Actor;
use crate::service::tokens::{self, Caller};
pub use crate::service::tokens::{IssuedToken, TokenRequest};
use crate::store::{DbConn, OrgId, TokenId};

/// Creates a token as the server itself.
pub fn issue_token(
    conn: &mut DbConn,
    org: &OrgId,
    request: &TokenRequest,
    now: NaiveDateTime,
) -> Result<IssuedToken> {
    tokens::create(conn, org, &Caller::Admin(Actor::FirstStart), request, now)
}

/// Revokes a token, recording `actor` as a person.
pub fn revoke_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let caller = Caller::Admin(Actor::Person(actor.to_owned()));
    tokens::revoke(conn, org, &caller, id, now)
}
