//! Every organization's tokens counted by status in one grouped query, for `/metrics`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use crate::error::Result;

/// One organization's tokens at a moment. Statuses as [`crate::auth::lifecycle::status`]
/// names them, except that the organizations' inactivity policies are not applied: a token
/// unused for too long still counts as active here.
#[derive(Debug, Clone, QueryableByName)]
pub struct OrgTokenStats {
    #[diesel(sql_type = Text)]
    pub org: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub revoked: i64,
    #[diesel(sql_type = BigInt)]
    pub disabled: i64,
    #[diesel(sql_type = BigInt)]
    pub expired: i64,
    /// The soonest expiry among the active tokens.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub soonest_expiry: Option<NaiveDateTime>,
    /// The soonest end of a rotation's grace period among the active tokens.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub soonest_grace_end: Option<NaiveDateTime>,
}

impl OrgTokenStats {
    pub fn active(&self) -> i64 {
        self.total - self.revoked - self.disabled - self.expired
    }

    /// When the organization's next active token stops working on its own.
    pub fn soonest_end(&self) -> Option<NaiveDateTime> {
        match (self.soonest_expiry, self.soonest_grace_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `$1` is now; SQLite reads it as `?1`. `usable` is a token neither revoked nor disabled.
const STATS_SQL: &str = "\
    SELECT o.name AS org, COUNT(t.id) AS total, \
      COALESCE(SUM(CASE WHEN t.revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS revoked, \
      COALESCE(SUM(CASE WHEN t.revoked_at IS NULL AND t.disabled_at IS NOT NULL \
        THEN 1 ELSE 0 END), 0) AS disabled, \
      COALESCE(SUM(CASE WHEN t.revoked_at IS NULL AND t.disabled_at IS NULL \
        AND (t.expires_at <= $1 OR t.grace_until <= $1) THEN 1 ELSE 0 END), 0) AS expired, \
      MIN(CASE WHEN t.revoked_at IS NULL AND t.disabled_at IS NULL AND t.expires_at > $1 \
        AND (t.grace_until IS NULL OR t.grace_until > $1) THEN t.expires_at END) \
        AS soonest_expiry, \
      MIN(CASE WHEN t.revoked_at IS NULL AND t.disabled_at IS NULL AND t.grace_until > $1 \
        AND (t.expires_at IS NULL OR t.expires_at > $1) THEN t.grace_until END) \
        AS soonest_grace_end \
    FROM organizations o LEFT JOIN api_tokens t ON t.org_id = o.id \
    GROUP BY o.id, o.name";

/// Every organization (those without tokens too), with its tokens counted as of `now`.
pub fn token_stats(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<OrgTokenStats>> {
    Ok(match conn {
        DbConn::Sqlite(inner) => diesel::sql_query(STATS_SQL.replace("$1", "?1"))
            .bind::<Timestamp, _>(now)
            .load(inner)?,
        DbConn::Postgres(inner) => diesel::sql_query(STATS_SQL)
            .bind::<Timestamp, _>(now)
            .load(inner)?,
    })
}
