//! Organizations: the tenants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::organizations;
use super::{DbConn, OrgId};
use crate::error::{Error, Result};
use crate::scim::error::{ProtocolError, ScimType};

/// A tenant, as stored.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: NaiveDateTime,
    /// Tokens unused for this many days stop working; `None` means no such policy.
    pub inactivity_days: Option<i32>,
    /// Requests per minute for its tokens without a limit of their own; `None`: the
    /// server's `--rate-limit`.
    pub default_rate_limit_per_minute: Option<i32>,
}

#[derive(Queryable)]
struct OrganizationRow {
    id: String,
    name: String,
    created_at: NaiveDateTime,
    inactivity_days: Option<i32>,
    default_rate_limit_per_minute: Option<i32>,
}

impl From<OrganizationRow> for Organization {
    fn from(row: OrganizationRow) -> Self {
        Organization {
            id: OrgId::from_db(row.id),
            name: row.name,
            created_at: row.created_at,
            inactivity_days: row.inactivity_days,
            default_rate_limit_per_minute: row.default_rate_limit_per_minute,
        }
    }
}

/// Inserts an organization; an invalid name is `invalidValue`, a taken one `uniqueness`.
pub fn insert_org(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> Result<Organization> {
    validate_org_name(name)?;
    let id = OrgId::generate();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id.as_str()),
            organizations::name.eq(name),
            organizations::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(|error| match Error::from(error) {
            // The index only knows the column; the admin needs to hear which name.
            Error::Protocol(taken) if taken.scim_type == ScimType::Uniqueness => {
                ProtocolError::new(
                    ScimType::Uniqueness,
                    format!("an organization named '{name}' already exists"),
                )
                .into()
            }
            other => other,
        })?;
    Ok(Organization {
        id,
        name: name.to_owned(),
        created_at: now,
        inactivity_days: None,
        default_rate_limit_per_minute: None,
    })
}

/// The columns of [`OrganizationRow`], in its order.
const COLUMNS: (
    organizations::id,
    organizations::name,
    organizations::created_at,
    organizations::inactivity_days,
    organizations::default_rate_limit_per_minute,
) = (
    organizations::id,
    organizations::name,
    organizations::created_at,
    organizations::inactivity_days,
    organizations::default_rate_limit_per_minute,
);

pub fn find_org_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Organization>> {
    Ok(organizations::table
        .filter(organizations::name.eq(name))
        .select(COLUMNS)
        .get_result::<OrganizationRow>(conn)
        .optional()?
        .map(Organization::from))
}

pub fn find_org(conn: &mut DbConn, id: &OrgId) -> Result<Option<Organization>> {
    Ok(organizations::table
        .find(id.as_str())
        .select(COLUMNS)
        .get_result::<OrganizationRow>(conn)
        .optional()?
        .map(Organization::from))
}

pub fn list_orgs(conn: &mut DbConn) -> Result<Vec<Organization>> {
    Ok(organizations::table
        .order(organizations::name.asc())
        .select(COLUMNS)
        .load::<OrganizationRow>(conn)?
        .into_iter()
        .map(Organization::from)
        .collect())
}

/// Sets or clears the organization's inactivity policy.
pub fn set_inactivity_days(conn: &mut DbConn, id: &OrgId, days: Option<i32>) -> Result<()> {
    diesel::update(organizations::table.find(id.as_str()))
        .set(organizations::inactivity_days.eq(days))
        .execute(conn)?;
    Ok(())
}

/// Sets or clears the organization's default rate limit.
pub fn set_default_rate_limit(
    conn: &mut DbConn,
    id: &OrgId,
    per_minute: Option<i32>,
) -> Result<()> {
    diesel::update(organizations::table.find(id.as_str()))
        .set(organizations::default_rate_limit_per_minute.eq(per_minute))
        .execute(conn)?;
    Ok(())
}

pub fn count_orgs(conn: &mut DbConn) -> Result<i64> {
    Ok(organizations::table.count().get_result(conn)?)
}

/// Organization names appear in URLs, scripts and logs, so they stay plain.
fn validate_org_name(name: &str) -> Result<(), ProtocolError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ProtocolError::new(
            ScimType::InvalidValue,
            format!(
                "'{name}' is not a valid organization name: use 1-64 letters, digits, '-', '_' or '.'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_names_stay_plain() {
        assert!(validate_org_name("acme-prod_1.eu").is_ok());
        assert!(validate_org_name("").is_err());
        assert!(validate_org_name("acme prod").is_err());
        assert!(validate_org_name(&"a".repeat(65)).is_err());
    }
}
