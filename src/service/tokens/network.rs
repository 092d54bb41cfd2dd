//! The translation of a token's network rule between zone names (what people write) and zone
//! ids (what the store links). Only token use cases write rules; zone use cases depend on
//! tokens (for `Caller`), so the translation lives here and the dependency points one way.

use crate::auth::lifecycle::{self, Network};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::store::tokens::StoredNetwork;
use crate::store::zones::{self as stored, ZoneRule};
use crate::store::{DbConn, OrgId, ZoneId};

/// A token's network rule as stored: zone names resolved to the zones of `org`, each of which
/// must exist (400 otherwise).
pub(crate) fn stored_network(
    conn: &mut DbConn,
    org: &OrgId,
    network: &Network,
) -> Result<StoredNetwork> {
    let (sources, rule) = match network {
        Network::Any => return Ok(StoredNetwork::default()),
        Network::OnlyFrom(sources) => (sources, ZoneRule::OnlyFrom),
        Network::NotFrom(sources) => (sources, ZoneRule::NotFrom),
    };
    let mut zones: Vec<(ZoneId, ZoneRule)> = Vec::new();
    for name in &sources.zones {
        let zone = stored::find_zone_by_name(conn, org, name)?.ok_or_else(|| {
            ProtocolError::invalid_value(format!("no zone named '{name}' in this organization"))
        })?;
        if !zones.iter().any(|(id, _)| *id == zone.id) {
            zones.push((zone.id, rule));
        }
    }
    let cidrs = lifecycle::cidrs_text(&sources.cidrs);
    Ok(match rule {
        ZoneRule::OnlyFrom => StoredNetwork {
            allowed_cidrs: cidrs,
            denied_cidrs: None,
            zones,
        },
        ZoneRule::NotFrom => StoredNetwork {
            allowed_cidrs: None,
            denied_cidrs: cidrs,
            zones,
        },
    })
}
