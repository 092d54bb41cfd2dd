//! The part of the Generate and edit forms that says where a token may be used from and how
//! often, shared by both pages.

use serde::Deserialize;

use crate::auth::lifecycle::{Network, Restrictions};
use crate::console::error::ConsoleError;
use crate::console::session::OrgPage;
use crate::service::{input, orgs, zones};
use crate::store::Store;

/// The fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkForm {
    /// `any` (default), `only` or `not`.
    #[serde(default)]
    pub network: String,
    /// CIDRs, addresses and `zone:NAME`, one per line or comma-separated.
    #[serde(default)]
    pub networks: String,
    /// Requests per minute; empty: the default.
    #[serde(default)]
    pub rate_limit: String,
}

/// Errors of the network list and of the rate limit, each beside its field.
pub type NetworkErrors = (Option<String>, Option<String>);

impl NetworkForm {
    pub fn any() -> NetworkForm {
        NetworkForm {
            network: "any".to_owned(),
            ..NetworkForm::default()
        }
    }

    /// The form as a stored token fills it.
    pub fn of(restrictions: &Restrictions) -> NetworkForm {
        let (network, sources) = match &restrictions.network {
            Network::Any => ("any", None),
            Network::OnlyFrom(sources) => ("only", Some(sources)),
            Network::NotFrom(sources) => ("not", Some(sources)),
        };
        NetworkForm {
            network: network.to_owned(),
            networks: sources.map(|s| s.entries().join("\n")).unwrap_or_default(),
            rate_limit: restrictions
                .rate_limit_per_minute
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }

    /// The network rule the form describes.
    pub fn network(&self) -> Result<Network, String> {
        let entries = input::split_list(std::slice::from_ref(&self.networks));
        let sources = || input::parse_sources(&entries);
        match self.network.as_str() {
            "only" | "not" if entries.is_empty() => {
                Err("Name at least one network or zone, or choose Any IP.".to_owned())
            }
            "only" => sources().map(Network::OnlyFrom),
            "not" => sources().map(Network::NotFrom),
            _ => Ok(Network::Any),
        }
    }

    pub fn rate_limit(&self) -> Result<Option<u32>, String> {
        match self.rate_limit.trim() {
            "" => Ok(None),
            text => input::parse_rate_limit(text).map(Some).map_err(capitalized),
        }
    }

    /// Both, checked as the use case will; or each field's error.
    pub fn restrictions(&self) -> Result<Restrictions, NetworkErrors> {
        let network = self.network();
        let rate_limit = self.rate_limit();
        match (network, rate_limit) {
            (Ok(network), Ok(rate_limit)) => input::restrictions(network, rate_limit)
                .map_err(|error| (Some(capitalized(error.to_string())), None)),
            (network, rate_limit) => Err((
                network.err().map(capitalized),
                rate_limit.err().map(capitalized),
            )),
        }
    }
}

fn capitalized(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// What an empty rate limit means for this organization, and which zones it may name.
pub struct RateLimitHint {
    org_default: Option<i32>,
    server_default: Option<u32>,
    pub zone_names: Vec<String>,
}

impl RateLimitHint {
    /// `server_default`: the authenticator's, from `--rate-limit`.
    pub async fn load(
        page: &OrgPage,
        store: &Store,
        server_default: Option<u32>,
    ) -> Result<RateLimitHint, ConsoleError> {
        let org = page.org.clone();
        let (org, zones) = store
            .read(move |conn| Ok((orgs::show(conn, &org)?, zones::list(conn, &org)?)))
            .await?;
        Ok(RateLimitHint {
            org_default: org.default_rate_limit_per_minute,
            server_default,
            zone_names: zones.into_iter().map(|zone| zone.record.name).collect(),
        })
    }

    /// "Empty: the organization's default, 600 requests per minute."
    pub fn text(&self) -> String {
        match (self.org_default, self.server_default) {
            (Some(n), _) => format!("Empty: the organization's default, {n} requests per minute."),
            (None, Some(n)) => format!("Empty: the server's default, {n} requests per minute."),
            (None, None) => "Empty: no limit (the server sets no default).".to_owned(),
        }
    }

    /// "Zones: zone:Office, zone:VPN", or nothing when the organization has none.
    pub fn zones_text(&self) -> String {
        if self.zone_names.is_empty() {
            return String::new();
        }
        let names: Vec<String> = self
            .zone_names
            .iter()
            .map(|name| format!("zone:{name}"))
            .collect();
        format!("Network zones of this organization: {}.", names.join(", "))
    }
}
