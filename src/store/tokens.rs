//! API tokens as stored: a SHA-256 digest and a display prefix, never the token itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_tokens;
use super::{DbConn, OrgId, TokenId};
use crate::error::Result;

/// A token's stored record.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub display_prefix: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub expires_at: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
}

type TokenColumns = (
    api_tokens::id,
    api_tokens::org_id,
    api_tokens::name,
    api_tokens::description,
    api_tokens::display_prefix,
    api_tokens::scopes,
    api_tokens::created_at,
    api_tokens::created_by,
    api_tokens::expires_at,
    api_tokens::disabled_at,
    api_tokens::revoked_at,
    api_tokens::last_used_at,
    api_tokens::last_used_ip,
);

const TOKEN_COLUMNS: TokenColumns = (
    api_tokens::id,
    api_tokens::org_id,
    api_tokens::name,
    api_tokens::description,
    api_tokens::display_prefix,
    api_tokens::scopes,
    api_tokens::created_at,
    api_tokens::created_by,
    api_tokens::expires_at,
    api_tokens::disabled_at,
    api_tokens::revoked_at,
    api_tokens::last_used_at,
    api_tokens::last_used_ip,
);

#[derive(Queryable)]
struct TokenRow {
    id: String,
    org_id: String,
    name: String,
    description: Option<String>,
    display_prefix: String,
    scopes: String,
    created_at: NaiveDateTime,
    created_by: String,
    expires_at: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    last_used_ip: Option<String>,
}

impl From<TokenRow> for TokenRecord {
    fn from(row: TokenRow) -> Self {
        TokenRecord {
            id: TokenId::from_db(row.id),
            org_id: OrgId::from_db(row.org_id),
            name: row.name,
            description: row.description,
            display_prefix: row.display_prefix,
            scopes: row.scopes,
            created_at: row.created_at,
            created_by: row.created_by,
            expires_at: row.expires_at,
            disabled_at: row.disabled_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
            last_used_ip: row.last_used_ip,
        }
    }
}

/// What is stored for a new token; `token_digest` is the only trace of the secret.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub org_id: &'a OrgId,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub token_digest: &'a str,
    pub display_prefix: &'a str,
    pub scopes: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn insert_token(
    conn: &mut DbConn,
    token: &NewToken<'_>,
    now: NaiveDateTime,
) -> Result<TokenId> {
    let id = TokenId::generate();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(id.as_str()),
            api_tokens::org_id.eq(token.org_id.as_str()),
            api_tokens::name.eq(token.name),
            api_tokens::description.eq(token.description),
            api_tokens::token_digest.eq(token.token_digest),
            api_tokens::display_prefix.eq(token.display_prefix),
            api_tokens::scopes.eq(token.scopes),
            api_tokens::created_at.eq(now),
            api_tokens::created_by.eq(token.created_by),
            api_tokens::expires_at.eq(token.expires_at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The per-request lookup: one probe of the unique digest index.
pub fn find_token_by_digest(conn: &mut DbConn, digest: &str) -> Result<Option<TokenRecord>> {
    Ok(api_tokens::table
        .filter(api_tokens::token_digest.eq(digest))
        .select(TOKEN_COLUMNS)
        .first::<TokenRow>(conn)
        .optional()?
        .map(TokenRecord::from))
}

/// Finds a token by id in any organization: for the operator's CLI only.
pub fn find_token_any_org(conn: &mut DbConn, id: &TokenId) -> Result<Option<TokenRecord>> {
    Ok(api_tokens::table
        .find(id.as_str())
        .select(TOKEN_COLUMNS)
        .first::<TokenRow>(conn)
        .optional()?
        .map(TokenRecord::from))
}

/// The organization's tokens, newest first.
pub fn list_tokens(conn: &mut DbConn, org: &OrgId) -> Result<Vec<TokenRecord>> {
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org.as_str()))
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(TOKEN_COLUMNS)
        .load::<TokenRow>(conn)?
        .into_iter()
        .map(TokenRecord::from)
        .collect())
}

/// Marks a token revoked; answers whether it was live until now (revoking twice is harmless).
pub fn revoke_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    now: NaiveDateTime,
) -> Result<bool> {
    let changed = diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id.as_str()))
            .filter(api_tokens::org_id.eq(org.as_str()))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Records a use of the token; callers throttle how often.
pub fn touch_token(
    conn: &mut DbConn,
    id: &TokenId,
    now: NaiveDateTime,
    remote_ip: Option<&str>,
) -> Result<()> {
    diesel::update(api_tokens::table.find(id.as_str()))
        .set((
            api_tokens::last_used_at.eq(now),
            api_tokens::last_used_ip.eq(remote_ip),
        ))
        .execute(conn)?;
    Ok(())
}
