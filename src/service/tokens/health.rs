//! A token's health, as the console colours it and every front end names it: computed here
//! once, from the token's record and whether something suspicious happened to it lately.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use crate::auth::lifecycle::{self, Refusal};
use crate::store::audit::EventKind;
use crate::store::tokens::{Suspicion, TokenRecord};

/// Used within this many days: "Used recently".
pub const RECENT_USE_DAYS: i64 = 3;
/// Stops working within this many days: "Expiring".
pub const EXPIRING_DAYS: i64 = 7;
/// Suspicious events count for this many days.
pub const SUSPICION_DAYS: i64 = 7;

/// Used from outside its allowlist, used after its rotation, or reported as leaked.
pub const SUSPICIOUS_EVENTS: [EventKind; 3] = [
    EventKind::AuthIpDenied,
    EventKind::TokenStaleUse,
    EventKind::TokenRevokedAsLeaked,
];

/// The suspicious events that count at `now`.
pub fn suspicion(now: NaiveDateTime) -> Suspicion {
    Suspicion {
        kinds: SUSPICIOUS_EVENTS.to_vec(),
        since: now - TimeDelta::days(SUSPICION_DAYS),
    }
}

/// In the order they take precedence: a suspicious token is flagged whatever else holds,
/// since a leaked one is revoked and still needs a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Yellow.
    Suspicious,
    Revoked,
    /// Red: expired, retired after its rotation's grace, or by inactivity.
    Expired,
    /// Dimmed.
    Disabled,
    /// Red: stops working within [`EXPIRING_DAYS`].
    Expiring,
    /// Green: used within [`RECENT_USE_DAYS`].
    UsedRecently,
    /// Grey.
    Idle,
}

impl Health {
    pub fn of(
        record: &TokenRecord,
        inactivity_days: Option<i32>,
        suspicious: bool,
        now: NaiveDateTime,
    ) -> Health {
        if suspicious {
            return Health::Suspicious;
        }
        match lifecycle::refusal(record, inactivity_days, now) {
            Some(Refusal::Revoked) => return Health::Revoked,
            Some(Refusal::Disabled) => return Health::Disabled,
            Some(Refusal::Expired | Refusal::Superseded | Refusal::Inactive) => {
                return Health::Expired;
            }
            None => {}
        }
        if lifecycle::end_of_life(record)
            .is_some_and(|end| end - now <= TimeDelta::days(EXPIRING_DAYS))
        {
            Health::Expiring
        } else if record
            .last_used_at
            .is_some_and(|used| now - used <= TimeDelta::days(RECENT_USE_DAYS))
        {
            Health::UsedRecently
        } else {
            Health::Idle
        }
    }

    /// What the console writes beside the colour, so that colour is never the only signal.
    pub fn label(self) -> &'static str {
        match self {
            Health::Suspicious => "Suspicious",
            Health::Revoked => "Revoked",
            Health::Expired => "Expired",
            Health::Disabled => "Disabled",
            Health::Expiring => "Expiring",
            Health::UsedRecently => "Used recently",
            Health::Idle => "Idle",
        }
    }

    /// The colour's name, for a style class.
    pub fn colour(self) -> &'static str {
        match self {
            Health::Suspicious => "yellow",
            Health::Expired | Health::Expiring => "red",
            Health::UsedRecently => "green",
            Health::Revoked | Health::Disabled | Health::Idle => "grey",
        }
    }
}
