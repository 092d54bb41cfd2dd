//! Which token notices went out: a row per token and notice, written once, so that every
//! notice reaches an organization's streams once whichever instance scans first. Also the
//! scan's two lookups: tokens near or past their expiry, and recent uses after rotation.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::audit::EventKind;
use super::schema::{api_tokens, audit_events, token_notices};
use super::{DbConn, OrgId, TokenId};
use crate::error::Result;

/// What a notice needs to name its token (never its secret or digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticedToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub name: String,
    pub display_prefix: String,
    pub expires_at: Option<NaiveDateTime>,
}

type NoticedRow = (String, String, String, String, Option<NaiveDateTime>);

fn noticed((id, org_id, name, display_prefix, expires_at): NoticedRow) -> NoticedToken {
    NoticedToken {
        id: TokenId::from_db(id),
        org_id: OrgId::from_db(org_id),
        name,
        display_prefix,
        expires_at,
    }
}

const NOTICED_COLUMNS: (
    api_tokens::id,
    api_tokens::org_id,
    api_tokens::name,
    api_tokens::display_prefix,
    api_tokens::expires_at,
) = (
    api_tokens::id,
    api_tokens::org_id,
    api_tokens::name,
    api_tokens::display_prefix,
    api_tokens::expires_at,
);

/// Unrevoked tokens of every organization whose expiry lies in `[from, until]`, soonest
/// first, with the notices each already had: one range scan of `api_tokens_expires_idx`.
pub fn expiring_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(NoticedToken, Vec<String>)>> {
    let rows: Vec<NoticedRow> = api_tokens::table
        .filter(api_tokens::expires_at.between(from, until))
        .filter(api_tokens::revoked_at.is_null())
        .order((api_tokens::expires_at.asc(), api_tokens::id.asc()))
        .limit(limit)
        .select(NOTICED_COLUMNS)
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
    let sent: Vec<(String, String)> = token_notices::table
        .filter(token_notices::token_id.eq_any(&ids))
        .select((token_notices::token_id, token_notices::notice))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let notices = sent
                .iter()
                .filter(|(token, _)| *token == row.0)
                .map(|(_, notice)| notice.clone())
                .collect();
            (noticed(row), notices)
        })
        .collect())
}

/// Tokens refused as used after their rotation's grace since `since` (the audit log's
/// `token.stale_use`, by its `(event_type, occurred_at)` index), without the ones that had
/// `notice` already.
pub fn used_after_rotation_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
    notice: &str,
) -> Result<Vec<NoticedToken>> {
    let already = token_notices::table
        .filter(token_notices::notice.eq(notice.to_owned()))
        .select(token_notices::token_id);
    let rows: Vec<NoticedRow> = audit_events::table
        .inner_join(api_tokens::table.on(audit_events::target.eq(api_tokens::id.nullable())))
        .filter(audit_events::event_type.eq(EventKind::TokenStaleUse.as_str()))
        .filter(audit_events::occurred_at.gt(since))
        .filter(api_tokens::id.ne_all(already))
        .select(NOTICED_COLUMNS)
        .distinct()
        .load(conn)?;
    Ok(rows.into_iter().map(noticed).collect())
}

/// One token, for the notices sent where a token is revoked.
pub fn find_noticed(conn: &mut DbConn, org: &OrgId, id: &TokenId) -> Result<Option<NoticedToken>> {
    let row: Option<NoticedRow> = api_tokens::table
        .filter(api_tokens::org_id.eq(org.as_str()))
        .filter(api_tokens::id.eq(id.as_str()))
        .select(NOTICED_COLUMNS)
        .get_result(conn)
        .optional()?;
    Ok(row.map(noticed))
}

/// Records `notice` as sent for `token`; `false` if it was already (another instance's scan
/// won the race: PostgreSQL makes this insert wait for it, then skips it).
pub fn mark_sent(
    conn: &mut DbConn,
    token: &TokenId,
    notice: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let inserted = match conn {
        DbConn::Sqlite(inner) => diesel::sql_query(
            "INSERT INTO token_notices (token_id, notice, sent_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(token.as_str())
        .bind::<Text, _>(notice)
        .bind::<Timestamp, _>(now)
        .execute(inner)?,
        DbConn::Postgres(inner) => diesel::sql_query(
            "INSERT INTO token_notices (token_id, notice, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(token.as_str())
        .bind::<Text, _>(notice)
        .bind::<Timestamp, _>(now)
        .execute(inner)?,
    };
    Ok(inserted == 1)
}

/// The organization's unrevoked tokens whose expiry lies in `[from, until]`, soonest first:
/// a range of `api_tokens_org_expires_idx`.
pub fn org_expiring_between(
    conn: &mut DbConn,
    org: &OrgId,
    from: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<NoticedToken>> {
    let rows: Vec<NoticedRow> = api_tokens::table
        .filter(api_tokens::org_id.eq(org.as_str()))
        .filter(api_tokens::expires_at.between(from, until))
        .filter(api_tokens::revoked_at.is_null())
        .order((api_tokens::expires_at.asc(), api_tokens::id.asc()))
        .limit(limit)
        .select(NOTICED_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(noticed).collect())
}

/// The organization's tokens reported as leaked since `since`, newest report first.
pub fn org_leaked_since(
    conn: &mut DbConn,
    org: &OrgId,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(NoticedToken, NaiveDateTime)>> {
    let rows: Vec<(NoticedRow, NaiveDateTime)> = audit_events::table
        .inner_join(api_tokens::table.on(audit_events::target.eq(api_tokens::id.nullable())))
        .filter(audit_events::org_id.eq(org.as_str()))
        .filter(audit_events::event_type.eq(EventKind::TokenRevokedAsLeaked.as_str()))
        .filter(audit_events::occurred_at.gt(since))
        .filter(api_tokens::org_id.eq(org.as_str()))
        .order(audit_events::occurred_at.desc())
        .limit(limit)
        .select((NOTICED_COLUMNS, audit_events::occurred_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, reported)| (noticed(row), reported))
        .collect())
}
