//! The warnings above the API Tokens page: tokens about to stop working, stopped, or reported
//! as leaked, each named, so that nobody learns of an expiry from a failed sync. The same
//! thresholds as the token notices pushed to event streams (`service::push::notices`).

use chrono::{NaiveDateTime, TimeDelta};

use super::health::SUSPICION_DAYS;
use crate::error::Result;
use crate::store::token_notices::{self as stored, NoticedToken};
use crate::store::{DbConn, OrgId};

/// Warned of this many days ahead, and the last warning this many before.
pub const EXPIRY_WARNING_DAYS: [i64; 2] = [14, 1];
/// An expired token is shown for this many days; after that it is history, not news.
pub const EXPIRED_SHOWN_DAYS: i64 = 14;
/// Warnings of each kind shown at most.
const MAX_PER_KIND: i64 = 20;

/// Why a token needs a look, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WarningKind {
    Leaked,
    Expired,
    /// Stops working within a day.
    ExpiresWithinDay,
    /// Stops working within [`EXPIRY_WARNING_DAYS`]' first entry.
    ExpiresSoon,
}

/// One warning: which token, why, and the moment it concerns (expiry or leak report).
#[derive(Debug, Clone)]
pub struct TokenWarning {
    pub token: NoticedToken,
    pub kind: WarningKind,
    pub at: NaiveDateTime,
}

/// Which expiry warning applies to a token expiring at `expires_at`, if any.
pub fn expiry_warning(expires_at: NaiveDateTime, now: NaiveDateTime) -> Option<WarningKind> {
    let [soon, last] = EXPIRY_WARNING_DAYS;
    if expires_at <= now {
        Some(WarningKind::Expired)
    } else if expires_at - now <= TimeDelta::days(last) {
        Some(WarningKind::ExpiresWithinDay)
    } else if expires_at - now <= TimeDelta::days(soon) {
        Some(WarningKind::ExpiresSoon)
    } else {
        None
    }
}

/// The organization's token warnings at `now`: two indexed queries.
pub fn warnings(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<Vec<TokenWarning>> {
    let [soon, _] = EXPIRY_WARNING_DAYS;
    let mut found: Vec<TokenWarning> = stored::org_leaked_since(
        conn,
        org,
        now - TimeDelta::days(SUSPICION_DAYS),
        MAX_PER_KIND,
    )?
    .into_iter()
    .map(|(token, reported)| TokenWarning {
        token,
        kind: WarningKind::Leaked,
        at: reported,
    })
    .collect();
    let expiring = stored::org_expiring_between(
        conn,
        org,
        now - TimeDelta::days(EXPIRED_SHOWN_DAYS),
        now + TimeDelta::days(soon),
        MAX_PER_KIND * 3,
    )?;
    found.extend(expiring.into_iter().filter_map(|token| {
        let at = token.expires_at?;
        Some(TokenWarning {
            kind: expiry_warning(at, now)?,
            token,
            at,
        })
    }));
    // A leaked token was revoked, so it is not among the expiring ones: no duplicates.
    found.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.at.cmp(&b.at)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_warnings_follow_the_thresholds() {
        let now = NaiveDateTime::default();
        let cases = [
            (TimeDelta::days(-3), Some(WarningKind::Expired)),
            (TimeDelta::zero(), Some(WarningKind::Expired)),
            (TimeDelta::hours(23), Some(WarningKind::ExpiresWithinDay)),
            (TimeDelta::days(1), Some(WarningKind::ExpiresWithinDay)),
            (TimeDelta::days(2), Some(WarningKind::ExpiresSoon)),
            (TimeDelta::days(14), Some(WarningKind::ExpiresSoon)),
            (TimeDelta::days(15), None),
        ];
        for (left, expected) in cases {
            assert_eq!(expiry_warning(now + left, now), expected, "{left}");
        }
    }
}
