//! A token as the console's templates show it: every value prepared here (times, names,
//! the status colour), so that templates only place them.

use chrono::NaiveDateTime;

use crate::auth::lifecycle::{self, Refusal};
use crate::auth::{Scope, Scopes};
use crate::console::error::ConsoleError;
use crate::console::session::OrgPage;
use crate::service::audit_log::Party;
use crate::service::tokens::{Health, ShownToken};
use crate::service::views::rfc3339;
use crate::store::TokenId;

/// A time: RFC 3339 for `<time datetime>` (the script shows it relative, in the browser's
/// zone), and a readable UTC text for browsers without JavaScript.
pub struct Moment {
    pub iso: String,
    pub text: String,
}

impl Moment {
    pub fn new(at: NaiveDateTime) -> Moment {
        Moment {
            iso: rfc3339(at),
            text: at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// For expiry dates in a table: the day, with the exact time on the detail page.
    pub fn day(at: NaiveDateTime) -> Moment {
        Moment {
            iso: rfc3339(at),
            text: at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A name with a link when the console has a page for it.
pub struct Named {
    pub label: String,
    pub url: Option<String>,
}

impl Named {
    /// `party` as a person reads it; a token of this organization links to its page.
    pub fn of(page: &OrgPage, party: &Party) -> Named {
        let url = match party {
            Party::Token { id, name: Some(_) } => Some(page.url(&format!("tokens/{id}"))),
            _ => None,
        };
        Named {
            label: party.label(),
            url,
        }
    }
}

pub struct TokenRow {
    pub id: String,
    pub url: String,
    pub name: String,
    pub description: String,
    pub prefix: String,
    pub scopes: String,
    pub created: Moment,
    pub created_by: Named,
    pub last_used: Option<Moment>,
    pub last_used_ip: String,
    pub expires: Option<Moment>,
    pub expires_day: Option<Moment>,
    /// `active`, `disabled`, `expired` or `revoked`.
    pub status: &'static str,
    pub health: &'static str,
    /// The badge's class: its colour.
    pub health_class: &'static str,
    /// Disabled, revoked or expired: shown dimmed.
    pub dimmed: bool,
    /// Whether the "Active" switch is on.
    pub active: bool,
    /// Whether it can be switched at all: a revoked or expired token stays as it is.
    pub switchable: bool,
    /// Whether it can be rotated: working, and not rotated already.
    pub rotatable: bool,
    pub revoked: bool,
}

impl TokenRow {
    pub fn new(page: &OrgPage, shown: ShownToken, now: NaiveDateTime) -> TokenRow {
        let health = shown.health(now);
        let refusal = lifecycle::refusal(&shown.record, shown.inactivity_days, now);
        let created_by = Named::of(page, &shown.created_by);
        let record = shown.record;
        TokenRow {
            url: page.url(&format!("tokens/{}", record.id)),
            id: record.id.to_string(),
            scopes: Scopes::parse(&record.scopes)
                .unwrap_or_default()
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            prefix: format!("{}…", record.display_prefix),
            created: Moment::new(record.created_at),
            created_by,
            last_used: record.last_used_at.map(Moment::new),
            last_used_ip: record.last_used_ip.unwrap_or_default(),
            expires: record.expires_at.map(Moment::new),
            expires_day: record.expires_at.map(Moment::day),
            status: refusal.map_or("active", Refusal::status),
            health: health.label(),
            health_class: badge(health),
            dimmed: refusal.is_some(),
            active: refusal.is_none(),
            switchable: matches!(refusal, None | Some(Refusal::Disabled)),
            rotatable: refusal.is_none() && record.superseded_by.is_none(),
            revoked: record.revoked_at.is_some(),
            name: record.name,
            description: record.description.unwrap_or_default(),
        }
    }
}

/// The stylesheet's badge for a health: green, grey, yellow or red.
pub fn badge(health: Health) -> &'static str {
    match health.colour() {
        "green" => "badge-ok",
        "yellow" => "badge-warn",
        "red" => "badge-bad",
        _ => "badge-idle",
    }
}

/// A token id from the URL; anything else is a page that does not exist.
pub fn token_id(text: &str) -> Result<TokenId, ConsoleError> {
    TokenId::parse(text).ok_or(ConsoleError::NotFound)
}
