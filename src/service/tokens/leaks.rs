//! Leak intake: anyone who finds a leaked token (a secret scanner, a colleague) can report
//! it, unauthenticated, and it is revoked at once. Holding the token is the proof.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::token::{TokenDigest, WellFormedToken};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::service::audit::{Actor, Event, EventKind, Target};
use crate::service::push::notices::{self, Notice};
use crate::store::DbConn;
use crate::store::tokens as stored;

/// Tokens one report may carry.
pub const MAX_TOKENS_PER_REPORT: usize = 100;

/// The digests of the reported strings that can be tokens; malformed ones are skipped
/// without a query. A report holds at most [`MAX_TOKENS_PER_REPORT`] strings.
pub fn reported_digests(reported: &[String]) -> Result<Vec<TokenDigest>> {
    if reported.len() > MAX_TOKENS_PER_REPORT {
        return Err(ProtocolError::invalid_value(format!(
            "a report holds at most {MAX_TOKENS_PER_REPORT} tokens"
        ))
        .into());
    }
    Ok(reported
        .iter()
        .filter_map(|text| WellFormedToken::parse(text.trim()).ok())
        .map(|token| token.digest())
        .collect())
}

/// The reported digests that name a token not yet revoked: looked up in a read, so that a
/// report of strings that match nothing (most do) never holds the writer.
pub fn unrevoked(conn: &mut DbConn, digests: Vec<TokenDigest>) -> Result<Vec<TokenDigest>> {
    let mut found = Vec::new();
    for digest in digests {
        if stored::find_token_by_digest(conn, digest.as_str())?
            .is_some_and(|record| record.revoked_at.is_none())
        {
            found.push(digest);
        }
    }
    Ok(found)
}

/// Revokes each reported token that is live, recording `token.revoked_as_leaked`; answers
/// how many were. Unknown and already revoked tokens are skipped silently.
pub fn revoke_leaked(
    conn: &mut DbConn,
    digests: &[TokenDigest],
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize> {
    let mut revoked = 0;
    for digest in digests {
        let Some(record) = stored::find_token_by_digest(conn, digest.as_str())? else {
            continue;
        };
        if stored::revoke_token(conn, &record.org_id, &record.id, now)? {
            revoked += 1;
            Event {
                kind: EventKind::TokenRevokedAsLeaked,
                org: Some(&record.org_id),
                actor: Some(&Actor::LeakReport),
                target: Some(Target::Token(&record.id)),
                remote_addr,
                details: json!({ "prefix": record.display_prefix }),
            }
            .record(conn, now)?;
            notices::emit_for(conn, &record.org_id, &record.id, Notice::Leaked, now)?;
        }
    }
    Ok(revoked)
}
