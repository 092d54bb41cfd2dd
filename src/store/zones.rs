//! Named network zones as stored, and the links that make a token's network rule name them.
//! A zone's networks are read where a token is read, so a change to a zone is one commit that
//! every token using it sees at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_tokens, network_zones, token_zones};
use super::{DbConn, OrgId, TokenId, ZoneId};
use crate::error::{Error, Result};

/// A zone's stored record.
#[derive(Debug, Clone)]
pub struct ZoneRecord {
    pub id: ZoneId,
    pub org_id: OrgId,
    pub name: String,
    /// Space-separated CIDRs.
    pub cidrs: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = network_zones)]
struct ZoneRow {
    id: String,
    org_id: String,
    name: String,
    cidrs: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn record(row: ZoneRow) -> ZoneRecord {
    ZoneRecord {
        id: ZoneId::from_db(row.id),
        org_id: OrgId::from_db(row.org_id),
        name: row.name,
        cidrs: row.cidrs,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// How a token's rule uses a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneRule {
    /// The token may be used only from the zone (or its other allowed networks).
    OnlyFrom,
    /// The token may not be used from the zone.
    NotFrom,
}

impl ZoneRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneRule::OnlyFrom => "only_from",
            ZoneRule::NotFrom => "not_from",
        }
    }

    /// A stored rule. Anything else is read as `only_from`: of the two, it is the one that
    /// refuses every address outside the zone.
    pub fn from_db(text: &str) -> ZoneRule {
        match text {
            "not_from" => ZoneRule::NotFrom,
            _ => ZoneRule::OnlyFrom,
        }
    }
}

/// A zone as one token's rule uses it, with the zone's current networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneUse {
    pub zone_id: ZoneId,
    pub name: String,
    pub rule: ZoneRule,
    /// Space-separated CIDRs.
    pub cidrs: String,
}

impl ZoneUse {
    /// From the columns of a join of `token_zones` and `network_zones`.
    pub(super) fn from_row((rule, zone_id, name, cidrs): (String, String, String, String)) -> Self {
        ZoneUse {
            zone_id: ZoneId::from_db(zone_id),
            name,
            rule: ZoneRule::from_db(&rule),
            cidrs,
        }
    }
}

pub fn insert_zone(
    conn: &mut DbConn,
    org: &OrgId,
    name: &str,
    cidrs: &str,
    now: NaiveDateTime,
) -> Result<ZoneId> {
    let id = ZoneId::generate();
    diesel::insert_into(network_zones::table)
        .values((
            network_zones::id.eq(id.as_str()),
            network_zones::org_id.eq(org.as_str()),
            network_zones::name.eq(name),
            network_zones::name_lower.eq(name.to_lowercase()),
            network_zones::cidrs.eq(cidrs),
            network_zones::created_at.eq(now),
            network_zones::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// One zone of the organization.
pub fn find_zone(conn: &mut DbConn, org: &OrgId, id: &ZoneId) -> Result<Option<ZoneRecord>> {
    Ok(network_zones::table
        .filter(network_zones::id.eq(id.as_str()))
        .filter(network_zones::org_id.eq(org.as_str()))
        .select(ZoneRow::as_select())
        .get_result::<ZoneRow>(conn)
        .optional()?
        .map(record))
}

/// The zone of the organization with this name, ignoring case.
pub fn find_zone_by_name(conn: &mut DbConn, org: &OrgId, name: &str) -> Result<Option<ZoneRecord>> {
    Ok(network_zones::table
        .filter(network_zones::org_id.eq(org.as_str()))
        .filter(network_zones::name_lower.eq(name.to_lowercase()))
        .select(ZoneRow::as_select())
        .get_result::<ZoneRow>(conn)
        .optional()?
        .map(record))
}

/// The organization's zones by name.
pub fn list_zones(conn: &mut DbConn, org: &OrgId) -> Result<Vec<ZoneRecord>> {
    Ok(network_zones::table
        .filter(network_zones::org_id.eq(org.as_str()))
        .order(network_zones::name_lower)
        .select(ZoneRow::as_select())
        .load::<ZoneRow>(conn)?
        .into_iter()
        .map(record)
        .collect())
}

/// Renames a zone and/or replaces its networks; `None` leaves one alone.
pub fn update_zone(
    conn: &mut DbConn,
    org: &OrgId,
    id: &ZoneId,
    name: Option<&str>,
    cidrs: Option<&str>,
    now: NaiveDateTime,
) -> Result<()> {
    let target = || {
        network_zones::table
            .filter(network_zones::id.eq(id.as_str()))
            .filter(network_zones::org_id.eq(org.as_str()))
    };
    if let Some(name) = name {
        diesel::update(target())
            .set((
                network_zones::name.eq(name),
                network_zones::name_lower.eq(name.to_lowercase()),
            ))
            .execute(conn)?;
    }
    if let Some(cidrs) = cidrs {
        diesel::update(target())
            .set(network_zones::cidrs.eq(cidrs))
            .execute(conn)?;
    }
    diesel::update(target())
        .set(network_zones::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Deletes a zone and every token's link to it; callers decide which links may go.
pub fn delete_zone(conn: &mut DbConn, org: &OrgId, id: &ZoneId) -> Result<()> {
    diesel::delete(
        token_zones::table
            .filter(token_zones::zone_id.eq(id.as_str()))
            .filter(token_zones::org_id.eq(org.as_str())),
    )
    .execute(conn)?;
    diesel::delete(
        network_zones::table
            .filter(network_zones::id.eq(id.as_str()))
            .filter(network_zones::org_id.eq(org.as_str())),
    )
    .execute(conn)?;
    Ok(())
}

/// A token whose rule names a zone.
#[derive(Debug, Clone)]
pub struct ZoneUser {
    pub id: TokenId,
    pub name: String,
    pub revoked: bool,
}

/// The tokens of the organization whose rule names the zone, by name.
pub fn tokens_using_zone(conn: &mut DbConn, org: &OrgId, id: &ZoneId) -> Result<Vec<ZoneUser>> {
    let rows = crate::on_backend!(conn, |inner| {
        token_zones::table
            .inner_join(api_tokens::table)
            .filter(token_zones::zone_id.eq(id.as_str()))
            .filter(token_zones::org_id.eq(org.as_str()))
            .order((api_tokens::name, api_tokens::id))
            .select((api_tokens::id, api_tokens::name, api_tokens::revoked_at))
            .load::<(String, String, Option<NaiveDateTime>)>(inner)
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name, revoked_at)| ZoneUser {
            id: TokenId::from_db(id),
            name,
            revoked: revoked_at.is_some(),
        })
        .collect())
}

/// The zones named by the rules of the tokens, with each token's id, by zone name.
pub fn zone_uses(conn: &mut DbConn, token_ids: &[&str]) -> Result<Vec<(String, ZoneUse)>> {
    if token_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = crate::on_backend!(conn, |inner| {
        token_zones::table
            .inner_join(network_zones::table)
            .filter(token_zones::token_id.eq_any(token_ids))
            .order(network_zones::name_lower)
            .select((
                token_zones::token_id,
                (
                    token_zones::rule,
                    network_zones::id,
                    network_zones::name,
                    network_zones::cidrs,
                ),
            ))
            .load::<(String, (String, String, String, String))>(inner)
    })?;
    Ok(rows
        .into_iter()
        .map(|(token, zone)| (token, ZoneUse::from_row(zone)))
        .collect())
}

/// Makes the token's rule name exactly `zones`, each zone of the token's organization.
pub fn set_token_zones(
    conn: &mut DbConn,
    org: &OrgId,
    token: &TokenId,
    zones: &[(ZoneId, ZoneRule)],
) -> Result<()> {
    diesel::delete(
        token_zones::table
            .filter(token_zones::token_id.eq(token.as_str()))
            .filter(token_zones::org_id.eq(org.as_str())),
    )
    .execute(conn)?;
    for (zone, rule) in zones {
        if find_zone(conn, org, zone)?.is_none() {
            return Err(Error::internal(format!("zone {zone} is not of {org}")));
        }
        diesel::insert_into(token_zones::table)
            .values((
                token_zones::token_id.eq(token.as_str()),
                token_zones::zone_id.eq(zone.as_str()),
                token_zones::org_id.eq(org.as_str()),
                token_zones::rule.eq(rule.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
