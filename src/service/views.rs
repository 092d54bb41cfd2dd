//! Tokens, organizations and audit events as every front end shows them to machines: the
//! management API's JSON and `scimd … --json` serialize these same structs, so their field
//! names are one contract.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::auth::lifecycle::{Network, Sources};
use crate::auth::{Scope, Scopes, lifecycle};
use crate::service::audit_log::{NamedEvent, Party};
use crate::service::tokens::{Health, ShownToken};
use crate::service::zones::Zone;
use crate::store::TokenId;
use crate::store::orgs::Organization;

pub mod time;

pub use time::rfc3339;

/// A token as shown: never the secret, only its display prefix.
#[derive(Debug, Serialize)]
pub struct TokenView {
    pub id: TokenId,
    pub name: String,
    pub description: Option<String>,
    /// `wxt_` and the first 8 characters, then `…`.
    pub prefix: String,
    pub status: &'static str,
    /// What the console colours: `used_recently`, `idle`, `expiring`, `expired`,
    /// `suspicious`, `disabled` or `revoked`.
    pub health: Health,
    pub scopes: Vec<&'static str>,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    /// The CIDRs of an only-from rule, as before zones: kept for older clients.
    pub allowed_cidrs: Vec<String>,
    /// `any`, `only_from` or `not_from`.
    pub network: &'static str,
    /// An only-from rule's CIDRs and `zone:NAME` entries.
    pub only_from: Vec<String>,
    /// A not-from rule's CIDRs and `zone:NAME` entries.
    pub not_from: Vec<String>,
    pub rate_limit_per_minute: Option<i32>,
    pub rotated_from: Option<TokenId>,
    pub superseded_by: Option<TokenId>,
    pub grace_until: Option<String>,
}

impl TokenView {
    pub fn new(shown: ShownToken, now: NaiveDateTime) -> Self {
        let health = shown.health(now);
        let ShownToken {
            record,
            inactivity_days,
            ..
        } = shown;
        let network = Network::of(&record);
        let entries = |sources: Option<&Sources>| sources.map(Sources::entries).unwrap_or_default();
        TokenView {
            network: network.rule(),
            only_from: entries(network.only_from()),
            not_from: entries(network.not_from()),
            status: lifecycle::status(&record, inactivity_days, now),
            health,
            scopes: Scopes::parse(&record.scopes)
                .unwrap_or_default()
                .iter()
                .map(Scope::as_str)
                .collect(),
            allowed_cidrs: lifecycle::stored_cidrs(record.allowed_cidrs.as_deref())
                .iter()
                .map(ToString::to_string)
                .collect(),
            prefix: format!("{}…", record.display_prefix),
            id: record.id,
            name: record.name,
            description: record.description,
            created_at: rfc3339(record.created_at),
            created_by: record.created_by,
            expires_at: record.expires_at.map(rfc3339),
            last_used_at: record.last_used_at.map(rfc3339),
            last_used_ip: record.last_used_ip,
            rate_limit_per_minute: record.rate_limit_per_minute,
            rotated_from: record.rotated_from,
            superseded_by: record.superseded_by,
            grace_until: record.grace_until.map(rfc3339),
        }
    }
}

/// An audit event as shown; `details` as the JSON object it was recorded as.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: String,
    pub occurred_at: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: Option<String>,
    /// The actor token's name, when the actor is a token the server still knows.
    pub actor_name: Option<String>,
    pub target: Option<String>,
    /// The target token's name, when the target is a token the server still knows.
    pub target_name: Option<String>,
    pub remote_addr: Option<String>,
    pub details: serde_json::Value,
}

fn token_name(party: Option<&Party>) -> Option<String> {
    match party {
        Some(Party::Token { name, .. }) => name.clone(),
        _ => None,
    }
}

impl From<NamedEvent> for EventView {
    fn from(named: NamedEvent) -> Self {
        let event = named.event;
        EventView {
            actor_name: token_name(named.actor.as_ref()),
            target_name: token_name(named.target.as_ref()),
            id: event.id,
            occurred_at: rfc3339(event.occurred_at),
            event_type: event.event_type,
            actor: event.actor,
            target: event.target,
            remote_addr: event.remote_addr,
            details: serde_json::from_str(&event.details).unwrap_or_default(),
        }
    }
}

/// An organization as shown.
#[derive(Debug, Serialize)]
pub struct OrgView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// Tokens unused for this many days stop working; `null`: no such policy.
    pub inactivity_days: Option<i32>,
    /// Requests per minute for its tokens without a limit of their own; `null`: the
    /// server's.
    pub default_rate_limit_per_minute: Option<i32>,
}

impl From<Organization> for OrgView {
    fn from(org: Organization) -> Self {
        OrgView {
            id: org.id.as_str().to_owned(),
            name: org.name,
            created_at: rfc3339(org.created_at),
            inactivity_days: org.inactivity_days,
            default_rate_limit_per_minute: org.default_rate_limit_per_minute,
        }
    }
}

/// A network zone as shown, with the tokens whose rules name it.
#[derive(Debug, Serialize)]
pub struct ZoneView {
    pub id: String,
    pub name: String,
    pub networks: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub used_by: Vec<ZoneUserView>,
}

/// A token using a zone.
#[derive(Debug, Serialize)]
pub struct ZoneUserView {
    pub id: TokenId,
    pub name: String,
    pub revoked: bool,
}

impl From<Zone> for ZoneView {
    fn from(zone: Zone) -> Self {
        ZoneView {
            id: zone.record.id.as_str().to_owned(),
            name: zone.record.name,
            networks: zone.networks.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(zone.record.created_at),
            updated_at: rfc3339(zone.record.updated_at),
            used_by: zone
                .used_by
                .into_iter()
                .map(|user| ZoneUserView {
                    id: user.id,
                    name: user.name,
                    revoked: user.revoked,
                })
                .collect(),
        }
    }
}
