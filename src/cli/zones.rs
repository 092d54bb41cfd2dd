//! `scimd zone …` and `scimd token edit`: an organization's named network zones, and a
//! token's network rule, which names CIDRs and zones (`zone:NAME`). Parsed with
//! `crate::service::input`, run through the use cases as an administrator.

use anyhow::anyhow;
use clap::{Args, Subcommand};

use super::lookup::{find_any, find_org};
use super::output::{self, Format};
use super::tables::{self, column, network_text};
use crate::auth::lifecycle::Network;
use crate::service::audit::Actor;
use crate::service::input::{self, ZoneName};
use crate::service::tokens::{self, Caller, TokenEdit};
use crate::service::views::ZoneView;
use crate::service::zones::{self, Zone, ZoneEdit, ZoneRequest};
use crate::store::{self, Store};

const CLI: Caller = Caller::Admin(Actor::Cli);

#[derive(Debug, Subcommand)]
pub enum ZoneCommand {
    /// Create a zone: a name and the networks it holds
    Create {
        /// The organization the zone belongs to (see `scimd org list`)
        #[arg(long)]
        org: String,
        /// Its name, unique in the organization (ignoring case): no spaces or commas
        name: String,
        /// Networks (CIDRs or addresses, IPv4 or IPv6), repeatable, comma- or
        /// space-separated
        #[arg(long = "network", required = true)]
        networks: Vec<String>,
    },
    /// List an organization's zones, with the tokens whose rules name them
    List {
        /// The organization whose zones to list (see `scimd org list`)
        #[arg(long)]
        org: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show one zone
    Show {
        /// The organization the zone belongs to (see `scimd org list`)
        #[arg(long)]
        org: String,
        /// The zone's name (ignoring case)
        name: String,
        #[command(flatten)]
        format: Format,
    },
    /// Rename a zone or replace its networks; every token naming it follows at once
    Update {
        /// The organization the zone belongs to (see `scimd org list`)
        #[arg(long)]
        org: String,
        /// The zone's name (ignoring case)
        name: String,
        /// The new name
        #[arg(long)]
        rename: Option<String>,
        /// The zone's new networks, replacing the old ones
        #[arg(long = "network")]
        networks: Vec<String>,
    },
    /// Delete a zone that no working token's rule names
    Delete {
        /// The organization the zone belongs to (see `scimd org list`)
        #[arg(long)]
        org: String,
        /// The zone's name (ignoring case)
        name: String,
    },
}

/// `scimd token edit`: a token's network rule.
#[derive(Debug, Args)]
pub struct EditTokenArgs {
    /// The token's id as `token list` shows it: the first 8 or more characters will do
    id: String,
    #[command(flatten)]
    network: NetworkArgs,
}

/// The network-rule flags of `token create` and `token edit`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Only accept the token from these networks: CIDRs, addresses or zone:NAME, repeatable,
    /// comma- or space-separated
    #[arg(long = "only-from", conflicts_with_all = ["not_from", "anywhere"])]
    pub only_from: Vec<String>,
    /// Refuse the token from these networks: CIDRs, addresses or zone:NAME
    #[arg(long = "not-from", conflicts_with_all = ["only_from", "anywhere"])]
    pub not_from: Vec<String>,
    /// Accept the token from anywhere (lifts its network rule)
    #[arg(long, conflicts_with_all = ["only_from", "not_from"])]
    pub anywhere: bool,
}

impl NetworkArgs {
    /// The rule the flags give, `None` when none was given; `allow_ip` is the older
    /// `--allow-ip`, an only-from list of CIDRs.
    pub fn rule(&self, allow_ip: &[String]) -> anyhow::Result<Option<Network>> {
        if self.anywhere {
            return Ok(Some(Network::Any));
        }
        let mut only_from = input::split_list(&self.only_from);
        only_from.extend(input::split_list(allow_ip));
        let not_from = input::split_list(&self.not_from);
        if only_from.is_empty() && not_from.is_empty() {
            return Ok(None);
        }
        if !only_from.is_empty() && !not_from.is_empty() {
            return Err(anyhow!(
                "give --only-from (or --allow-ip) or --not-from, not both"
            ));
        }
        input::parse_network_rule(Some(&only_from), Some(&not_from))
            .map(Some)
            .map_err(|e| {
                let flag = if !not_from.is_empty() {
                    "--not-from"
                } else if self.only_from.is_empty() {
                    "--allow-ip"
                } else {
                    "--only-from"
                };
                anyhow!("{flag} {e}")
            })
    }
}

pub(super) fn run_zone(store: &Store, command: ZoneCommand) -> anyhow::Result<()> {
    match command {
        ZoneCommand::Create {
            org,
            name,
            networks,
        } => {
            let org = find_org(store, &org)?;
            let request = ZoneRequest {
                name: ZoneName::parse(&name).map_err(|e| anyhow!(e))?,
                networks: zone_networks(&networks)?,
            };
            let zone = store.write_blocking(|conn| {
                zones::create(conn, &org.id, &CLI, &request, store::now())
            })?;
            output::line(format_args!(
                "created zone '{}' in '{}': {}",
                zone.record.name, org.name, zone.record.cidrs
            ))
        }
        ZoneCommand::List { org, format } => {
            let org = find_org(store, &org)?;
            let list = store.run_blocking(|conn| zones::list(conn, &org.id))?;
            if format.json {
                let views: Vec<ZoneView> = list.into_iter().map(ZoneView::from).collect();
                return output::json(&serde_json::json!({ "zones": views }));
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|zone| {
                    vec![
                        zone.record.name.clone(),
                        zone.record.cidrs.clone(),
                        users(zone),
                    ]
                })
                .collect();
            let columns = [
                column("NAME", 20),
                column("NETWORKS", 34),
                column("USED BY", 20),
            ];
            output::line(tables::render(&columns, &rows, format.wide))
        }
        ZoneCommand::Show { org, name, format } => {
            let org = find_org(store, &org)?;
            let zone = store.run_blocking(|conn| zones::find_by_name(conn, &org.id, &name))?;
            if format.json {
                return output::json(&ZoneView::from(zone));
            }
            output::line(format_args!(
                "{:<15} {}\n{:<15} {}\n{:<15} {}\n{:<15} {}",
                "id",
                zone.record.id,
                "name",
                zone.record.name,
                "networks",
                zone.record.cidrs,
                "used by",
                users(&zone)
            ))
        }
        ZoneCommand::Update {
            org,
            name,
            rename,
            networks,
        } => {
            let org = find_org(store, &org)?;
            let edit = ZoneEdit {
                name: rename
                    .as_deref()
                    .map(ZoneName::parse)
                    .transpose()
                    .map_err(|e| anyhow!("--rename {e}"))?,
                networks: (!networks.is_empty())
                    .then(|| zone_networks(&networks))
                    .transpose()?,
            };
            if edit.name.is_none() && edit.networks.is_none() {
                return Err(anyhow!("give --rename or --network"));
            }
            let zone = store.write_blocking(|conn| {
                let zone = zones::find_by_name(conn, &org.id, &name)?;
                zones::update(conn, &org.id, &CLI, &zone.record.id, &edit, store::now())
            })?;
            output::line(format_args!(
                "updated zone '{}': {} (used by {})",
                zone.record.name,
                zone.record.cidrs,
                users(&zone)
            ))
        }
        ZoneCommand::Delete { org, name } => {
            let org = find_org(store, &org)?;
            store.write_blocking(|conn| {
                let zone = zones::find_by_name(conn, &org.id, &name)?;
                zones::delete(conn, &org.id, &CLI, &zone.record.id, store::now())
            })?;
            output::line(format_args!("deleted zone '{name}'"))
        }
    }
}

pub(super) fn edit_token(store: &Store, args: &EditTokenArgs) -> anyhow::Result<()> {
    let network = args
        .network
        .rule(&[])?
        .ok_or_else(|| anyhow!("give --only-from, --not-from or --anywhere"))?;
    let token = find_any(store, &args.id)?;
    let edit = TokenEdit {
        network: Some(network),
        ..TokenEdit::default()
    };
    let updated = store
        .write_blocking(|conn| {
            tokens::edit(conn, &token.org_id, &CLI, &token.id, &edit, store::now())
        })?
        .record;
    output::line(format_args!(
        "token '{}' ({}…) may now be used {}",
        updated.name,
        updated.display_prefix,
        network_text(&updated)
    ))
}

fn zone_networks(texts: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    input::parse_zone_networks(&input::split_list(texts)).map_err(|e| anyhow!("--network {e}"))
}

/// The tokens naming a zone, revoked ones marked.
fn users(zone: &Zone) -> String {
    if zone.used_by.is_empty() {
        return "-".to_owned();
    }
    zone.used_by
        .iter()
        .map(|token| {
            let id = tables::id(token.id.as_str(), false);
            if token.revoked {
                format!("{} ({id}, revoked)", token.name)
            } else {
                format!("{} ({id})", token.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
