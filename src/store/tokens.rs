//! API tokens as stored: a SHA-256 digest and a display prefix, never the token itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_tokens, network_zones, organizations, token_zones};
use super::zones::{self, ZoneUse};
use super::{DbConn, OrgId, TokenId};
use crate::error::Result;

mod search;
pub use search::{SortKey, StatusFilter, Suspicion, TokenSearch, search_tokens, suspicious_among};

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
    /// Space-separated CIDRs the token may be used from; `None`: no such networks.
    pub allowed_cidrs: Option<String>,
    /// Space-separated CIDRs the token may not be used from; `None`: no such networks.
    pub denied_cidrs: Option<String>,
    /// The zones the token's network rule names, by name, with their current networks.
    pub zones: Vec<ZoneUse>,
    pub rate_limit_per_minute: Option<i32>,
    pub first_used_at: Option<NaiveDateTime>,
    /// The token this one was rotated from.
    pub rotated_from: Option<TokenId>,
    /// The token minted to replace this one.
    pub superseded_by: Option<TokenId>,
    pub rotation_grace_seconds: Option<i64>,
    /// When a superseded token stops working: set at its successor's first use.
    pub grace_until: Option<NaiveDateTime>,
}

/// A token's row as selected; [`record`] gives it its typed ids.
#[derive(Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
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
    allowed_cidrs: Option<String>,
    rate_limit_per_minute: Option<i32>,
    first_used_at: Option<NaiveDateTime>,
    rotated_from: Option<String>,
    superseded_by: Option<String>,
    rotation_grace_seconds: Option<i64>,
    grace_until: Option<NaiveDateTime>,
    denied_cidrs: Option<String>,
}

/// The record of a row, without its zones: [`with_zones`] adds them.
fn record(row: TokenRow) -> TokenRecord {
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
        allowed_cidrs: row.allowed_cidrs,
        denied_cidrs: row.denied_cidrs,
        zones: Vec::new(),
        rate_limit_per_minute: row.rate_limit_per_minute,
        first_used_at: row.first_used_at,
        rotated_from: row.rotated_from.map(TokenId::from_db),
        superseded_by: row.superseded_by.map(TokenId::from_db),
        rotation_grace_seconds: row.rotation_grace_seconds,
        grace_until: row.grace_until,
    }
}

/// The records of `rows` with the zones their rules name: one query for all of them.
fn with_zones(conn: &mut DbConn, rows: Vec<TokenRow>) -> Result<Vec<TokenRecord>> {
    let mut records: Vec<TokenRecord> = rows.into_iter().map(record).collect();
    let ids: Vec<&str> = records.iter().map(|token| token.id.as_str()).collect();
    let uses = zones::zone_uses(conn, &ids)?;
    attach(&mut records, uses);
    Ok(records)
}

fn attach(records: &mut [TokenRecord], uses: Vec<(String, ZoneUse)>) {
    if !uses.is_empty() {
        let mut by_token: std::collections::HashMap<String, Vec<ZoneUse>> =
            std::collections::HashMap::new();
        for (token, zone) in uses {
            by_token.entry(token).or_default().push(zone);
        }
        for token in records.iter_mut() {
            if let Some(found) = by_token.remove(token.id.as_str()) {
                token.zones = found;
            }
        }
    }
}

/// The record of one row, if any, with its zones.
fn one_with_zones(conn: &mut DbConn, row: Option<TokenRow>) -> Result<Option<TokenRecord>> {
    Ok(with_zones(conn, row.into_iter().collect())?.pop())
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
    pub allowed_cidrs: Option<&'a str>,
    pub denied_cidrs: Option<&'a str>,
    pub rate_limit_per_minute: Option<i32>,
    pub rotated_from: Option<&'a TokenId>,
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
            api_tokens::allowed_cidrs.eq(token.allowed_cidrs),
            api_tokens::denied_cidrs.eq(token.denied_cidrs),
            api_tokens::rate_limit_per_minute.eq(token.rate_limit_per_minute),
            api_tokens::rotated_from.eq(token.rotated_from.map(TokenId::as_str)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The per-request lookup: one probe of the unique digest index.
pub fn find_token_by_digest(conn: &mut DbConn, digest: &str) -> Result<Option<TokenRecord>> {
    let row = api_tokens::table
        .filter(api_tokens::token_digest.eq(digest))
        .select(TokenRow::as_select())
        .get_result::<TokenRow>(conn)
        .optional()?;
    one_with_zones(conn, row)
}

/// Finds a token by id in any organization: for the operator's CLI only.
pub fn find_token_any_org(conn: &mut DbConn, id: &TokenId) -> Result<Option<TokenRecord>> {
    let row = api_tokens::table
        .find(id.as_str())
        .select(TokenRow::as_select())
        .get_result::<TokenRow>(conn)
        .optional()?;
    one_with_zones(conn, row)
}

/// Up to `limit` tokens of any organization whose id starts with `prefix`, for the operator
/// who types the first characters of an id. A `LIKE 'prefix%'` on the primary key: `%`, `_`
/// and the escape character in `prefix` match only themselves.
pub fn find_tokens_by_id_prefix(
    conn: &mut DbConn,
    prefix: &str,
    limit: i64,
) -> Result<Vec<TokenRecord>> {
    let escaped = search::escape_like(prefix);
    let rows = api_tokens::table
        .filter(api_tokens::id.like(format!("{escaped}%")).escape('\\'))
        .order(api_tokens::id)
        .limit(limit)
        .select(TokenRow::as_select())
        .load::<TokenRow>(conn)?;
    with_zones(conn, rows)
}

/// The names of the tokens among `ids` that exist (in `org`, if given), by id: for the
/// audit log's readers.
pub fn token_names(
    conn: &mut DbConn,
    org: Option<&OrgId>,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut query = api_tokens::table
        .filter(api_tokens::id.eq_any(ids.to_vec()))
        .select((api_tokens::id, api_tokens::name))
        .into_boxed();
    if let Some(org) = org {
        query = query.filter(api_tokens::org_id.eq(org.as_str().to_owned()));
    }
    Ok(conn.planned_per_run(query).load::<(String, String)>(conn)?)
}

/// The organization's unrevoked tokens that `creator` (an actor as stored) created, newest
/// first: the tokens a person's removal hands over.
pub fn unrevoked_tokens_created_by(
    conn: &mut DbConn,
    org: &OrgId,
    creator: &str,
) -> Result<Vec<TokenRecord>> {
    let rows = api_tokens::table
        .filter(api_tokens::org_id.eq(org.as_str()))
        .filter(api_tokens::created_by.eq(creator))
        .filter(api_tokens::revoked_at.is_null())
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(TokenRow::as_select())
        .load::<TokenRow>(conn)?;
    with_zones(conn, rows)
}

/// What a token's organization adds to the checks of each of its requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgPolicy {
    pub inactivity_days: Option<i32>,
    pub default_rate_limit_per_minute: Option<i32>,
}

/// The per-request lookup with the organization's policy and the zones the token's rule
/// names: one query, a probe of the unique digest index joined to the organization's primary
/// key and, for a token that names zones, to their rows. The policy and the zones thus ride
/// along with the token (and with it in the authenticator's cache) at no extra query, a
/// change to either is seen by the next lookup, and a token without zones pays nothing.
pub fn find_token_for_auth(
    conn: &mut DbConn,
    digest: &str,
) -> Result<Option<(TokenRecord, OrgPolicy)>> {
    type ZoneColumns = Option<(String, String, String, String)>;
    let rows = crate::on_backend!(conn, |inner| {
        api_tokens::table
            .inner_join(organizations::table)
            .left_join(token_zones::table.inner_join(network_zones::table))
            .filter(api_tokens::token_digest.eq(digest))
            .order(network_zones::name_lower.nullable())
            .select((
                TokenRow::as_select(),
                organizations::inactivity_days,
                organizations::default_rate_limit_per_minute,
                (
                    token_zones::rule,
                    network_zones::id,
                    network_zones::name,
                    network_zones::cidrs,
                )
                    .nullable(),
            ))
            .load::<(TokenRow, Option<i32>, Option<i32>, ZoneColumns)>(inner)
    })?;
    let mut found: Option<(TokenRecord, OrgPolicy)> = None;
    for (row, inactivity_days, default_rate_limit_per_minute, zone) in rows {
        let (token, _) = found.get_or_insert_with(|| {
            (
                record(row),
                OrgPolicy {
                    inactivity_days,
                    default_rate_limit_per_minute,
                },
            )
        });
        token.zones.extend(zone.map(ZoneUse::from_row));
    }
    Ok(found)
}

/// One token of the organization.
pub fn find_token(conn: &mut DbConn, org: &OrgId, id: &TokenId) -> Result<Option<TokenRecord>> {
    let row = api_tokens::table
        .filter(api_tokens::id.eq(id.as_str()))
        .filter(api_tokens::org_id.eq(org.as_str()))
        .select(TokenRow::as_select())
        .get_result::<TokenRow>(conn)
        .optional()?;
    one_with_zones(conn, row)
}

/// Sets or clears `disabled_at` on a token that is not revoked; answers whether it changed.
pub fn set_token_disabled(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    disabled_at: Option<NaiveDateTime>,
) -> Result<bool> {
    let scoped = api_tokens::table
        .filter(api_tokens::id.eq(id.as_str()))
        .filter(api_tokens::org_id.eq(org.as_str()))
        .filter(api_tokens::revoked_at.is_null());
    let changed = match disabled_at {
        Some(at) => diesel::update(scoped.filter(api_tokens::disabled_at.is_null()))
            .set(api_tokens::disabled_at.eq(at))
            .execute(conn)?,
        None => diesel::update(scoped.filter(api_tokens::disabled_at.is_not_null()))
            .set(api_tokens::disabled_at.eq(None::<NaiveDateTime>))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Changes to a token's editable properties; `None` leaves a property alone.
#[derive(Debug, Clone, Default)]
pub struct TokenChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub network: Option<StoredNetwork>,
    pub rate_limit_per_minute: Option<Option<i32>>,
}

/// A token's whole network rule as stored: at most one of the two lists is used.
#[derive(Debug, Clone, Default)]
pub struct StoredNetwork {
    pub allowed_cidrs: Option<String>,
    pub denied_cidrs: Option<String>,
    pub zones: Vec<(super::ZoneId, zones::ZoneRule)>,
}

/// Applies `changes` to a token of the organization.
pub fn update_token(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    changes: &TokenChanges,
) -> Result<()> {
    let target = || {
        api_tokens::table
            .filter(api_tokens::id.eq(id.as_str()))
            .filter(api_tokens::org_id.eq(org.as_str()))
    };
    if let Some(name) = &changes.name {
        diesel::update(target())
            .set(api_tokens::name.eq(name))
            .execute(conn)?;
    }
    if let Some(description) = &changes.description {
        diesel::update(target())
            .set(api_tokens::description.eq(description))
            .execute(conn)?;
    }
    if let Some(network) = &changes.network {
        diesel::update(target())
            .set((
                api_tokens::allowed_cidrs.eq(&network.allowed_cidrs),
                api_tokens::denied_cidrs.eq(&network.denied_cidrs),
            ))
            .execute(conn)?;
        zones::set_token_zones(conn, org, id, &network.zones)?;
    }
    if let Some(limit) = changes.rate_limit_per_minute {
        diesel::update(target())
            .set(api_tokens::rate_limit_per_minute.eq(limit))
            .execute(conn)?;
    }
    Ok(())
}

/// Marks `id` as replaced by `successor`, to die `grace_seconds` after the successor's first use.
pub fn mark_superseded(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    successor: &TokenId,
    grace_seconds: i64,
) -> Result<()> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id.as_str()))
            .filter(api_tokens::org_id.eq(org.as_str())),
    )
    .set((
        api_tokens::superseded_by.eq(successor.as_str()),
        api_tokens::rotation_grace_seconds.eq(grace_seconds),
    ))
    .execute(conn)?;
    Ok(())
}

/// Records a token's first use and, when it replaced a predecessor, starts the predecessor's
/// grace period. Conditional updates, so instances racing on the first use agree.
pub fn record_first_use(conn: &mut DbConn, token: &TokenRecord, now: NaiveDateTime) -> Result<()> {
    let first = diesel::update(
        api_tokens::table
            .find(token.id.as_str())
            .filter(api_tokens::first_used_at.is_null()),
    )
    .set(api_tokens::first_used_at.eq(now))
    .execute(conn)?;
    let Some(predecessor) = token.rotated_from.as_ref().filter(|_| first == 1) else {
        return Ok(());
    };
    let grace = api_tokens::table
        .find(predecessor.as_str())
        .filter(api_tokens::superseded_by.eq(token.id.as_str()))
        .select(api_tokens::rotation_grace_seconds)
        .get_result::<Option<i64>>(conn)
        .optional()?
        .flatten();
    if let Some(grace) = grace {
        diesel::update(
            api_tokens::table
                .find(predecessor.as_str())
                .filter(api_tokens::grace_until.is_null()),
        )
        .set(api_tokens::grace_until.eq(now + chrono::TimeDelta::seconds(grace)))
        .execute(conn)?;
    }
    Ok(())
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
