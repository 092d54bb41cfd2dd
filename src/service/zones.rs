//! Named network zones (Okta's model), for every front end: create, list, show, update and
//! delete an organization's zones. A change to a zone is
//! one commit, seen by the next authentication of every token using it on every instance.

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde_json::json;

use super::audit::{Event, EventKind, Target};
use super::input::ZoneName;
use super::tokens::Caller;
use crate::auth::bounds::{self, Permissions};
use crate::auth::lifecycle;
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::store::tokens::find_token;
use crate::store::zones::{self as stored, ZoneRecord, ZoneUser};
use crate::store::{DbConn, OrgId, ZoneId};

/// A zone and the tokens whose rules name it.
#[derive(Debug, Clone)]
pub struct Zone {
    pub record: ZoneRecord,
    pub networks: Vec<IpNet>,
    pub used_by: Vec<ZoneUser>,
}

/// What a new zone is called and holds.
#[derive(Debug, Clone)]
pub struct ZoneRequest {
    pub name: ZoneName,
    pub networks: Vec<IpNet>,
}

/// Changes to a zone; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ZoneEdit {
    pub name: Option<ZoneName>,
    pub networks: Option<Vec<IpNet>>,
}

/// Creates a zone; records `zone.created`. A new zone is used by no token, so creating one
/// gives nobody anything: open to every caller that may manage tokens.
pub fn create(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    request: &ZoneRequest,
    now: NaiveDateTime,
) -> Result<Zone> {
    refuse_taken_name(conn, org, &request.name, None)?;
    let cidrs = lifecycle::cidrs_text(&request.networks).unwrap_or_default();
    let id = stored::insert_zone(conn, org, request.name.as_str(), &cidrs, now)?;
    let details = json!({ "name": request.name.as_str(), "networks": cidrs });
    record_event(conn, EventKind::ZoneCreated, org, caller, &id, details, now)?;
    show(conn, org, &id)
}

/// The organization's zones by name, each with the tokens using it.
pub fn list(conn: &mut DbConn, org: &OrgId) -> Result<Vec<Zone>> {
    stored::list_zones(conn, org)?
        .into_iter()
        .map(|record| with_users(conn, record))
        .collect()
}

/// One zone of the organization, or 404.
pub fn show(conn: &mut DbConn, org: &OrgId, id: &ZoneId) -> Result<Zone> {
    let record = load(conn, org, id)?;
    with_users(conn, record)
}

/// The zone of the organization called `name` (ignoring case), or 404.
pub fn find_by_name(conn: &mut DbConn, org: &OrgId, name: &str) -> Result<Zone> {
    let record = stored::find_zone_by_name(conn, org, name)?
        .ok_or_else(|| Error::NotFound(format!("no zone named '{name}' in this organization")))?;
    with_users(conn, record)
}

/// Renames a zone or replaces its networks, which changes at once where every token naming
/// it may be used from. A token-bound caller may do so only where it could have made that
/// change to those tokens itself: its own rule must not name the zone, and every live token
/// naming it must be within its bounds (`auth::bounds`). Records `zone.updated`.
pub fn update(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &ZoneId,
    edit: &ZoneEdit,
    now: NaiveDateTime,
) -> Result<Zone> {
    let before = show(conn, org, id)?;
    if edit.networks.is_some() {
        check_may_reshape(conn, org, caller, &before)?;
    }
    if let Some(name) = &edit.name {
        refuse_taken_name(conn, org, name, Some(id))?;
    }
    let cidrs = edit
        .networks
        .as_ref()
        .map(|networks| lifecycle::cidrs_text(networks).unwrap_or_default());
    let name = edit.name.as_ref().map(ZoneName::as_str);
    stored::update_zone(conn, org, id, name, cidrs.as_deref(), now)?;
    let mut details = serde_json::Map::new();
    details.insert("name".into(), json!(name.unwrap_or(&before.record.name)));
    if name.is_some() {
        details.insert("previous_name".into(), json!(before.record.name));
    }
    if let Some(cidrs) = &cidrs {
        details.insert("networks".into(), json!(cidrs));
        details.insert("previous_networks".into(), json!(before.record.cidrs));
    }
    let details = serde_json::Value::Object(details);
    record_event(conn, EventKind::ZoneUpdated, org, caller, id, details, now)?;
    show(conn, org, id)
}

/// Deletes a zone no live token names, or refuses with 409 naming those that do: deleting a
/// zone would silently turn "only from the zone" into "from nowhere" and "not from the zone"
/// into "from anywhere", so each token's rule is changed first, by someone who sees it (as
/// Okta refuses to delete a zone a policy uses). Revoked tokens never work again and do not
/// hold a zone back; their links go with it. Records `zone.deleted`.
pub fn delete(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &ZoneId,
    now: NaiveDateTime,
) -> Result<()> {
    let zone = show(conn, org, id)?;
    let live: Vec<String> = zone
        .used_by
        .iter()
        .filter(|token| !token.revoked)
        .map(|token| format!("'{}' ({})", token.name, token.id))
        .collect();
    if !live.is_empty() {
        return Err(Error::InUse(format!(
            "zone '{}' is used by the network rule of {} {}; change their rules first",
            zone.record.name,
            if live.len() == 1 { "token" } else { "tokens" },
            live.join(", ")
        )));
    }
    stored::delete_zone(conn, org, id)?;
    let details = json!({ "name": zone.record.name, "networks": zone.record.cidrs });
    record_event(conn, EventKind::ZoneDeleted, org, caller, id, details, now)
}

/// Refuses with 403 a token-bound caller whose own rule names the zone (it would change its
/// own rule) or that is not at least as permissive as every live token naming it.
fn check_may_reshape(conn: &mut DbConn, org: &OrgId, caller: &Caller, zone: &Zone) -> Result<()> {
    let Some(holder) = caller.bounds(conn)? else {
        return Ok(());
    };
    let network = &holder.restrictions.network;
    let own_rule = network.only_from().or(network.not_from());
    if own_rule.is_some_and(|own| own.names_zone(&zone.record.name)) {
        return Err(Error::Forbidden(format!(
            "network: this token's own rule names zone '{}', so it cannot change the zone's \
             networks",
            zone.record.name
        )));
    }
    for user in zone.used_by.iter().filter(|token| !token.revoked) {
        let Some(token) = find_token(conn, org, &user.id)? else {
            continue;
        };
        bounds::check_within(&holder, &Permissions::of(&token)?).map_err(|refusal| {
            Error::Forbidden(format!(
                "zone '{}' is used by token '{}' ({}), which this token could not change \
                 either: {}",
                zone.record.name,
                user.name,
                user.id,
                refusal.detail()
            ))
        })?;
    }
    Ok(())
}

fn load(conn: &mut DbConn, org: &OrgId, id: &ZoneId) -> Result<ZoneRecord> {
    stored::find_zone(conn, org, id)?.ok_or_else(|| Error::not_found(format_args!("zone {id}")))
}

fn with_users(conn: &mut DbConn, record: ZoneRecord) -> Result<Zone> {
    let used_by = stored::tokens_using_zone(conn, &record.org_id, &record.id)?;
    Ok(Zone {
        networks: lifecycle::stored_cidrs(Some(&record.cidrs)),
        record,
        used_by,
    })
}

/// A clear 409 for a name another zone of the organization has, ignoring case (the unique
/// index answers a race the same way).
fn refuse_taken_name(
    conn: &mut DbConn,
    org: &OrgId,
    name: &ZoneName,
    except: Option<&ZoneId>,
) -> Result<()> {
    match stored::find_zone_by_name(conn, org, name.as_str())? {
        Some(other) if Some(&other.id) != except => Err(ProtocolError::new(
            crate::scim::error::ScimType::Uniqueness,
            format!(
                "a zone named '{}' already exists in this organization",
                other.name
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

fn record_event(
    conn: &mut DbConn,
    kind: EventKind,
    org: &OrgId,
    caller: &Caller,
    id: &ZoneId,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> Result<()> {
    let actor = caller.actor();
    Event {
        kind,
        org: Some(org),
        actor: Some(&actor),
        target: Some(Target::Zone(id)),
        remote_addr: None,
        details,
    }
    .record(conn, now)
}
