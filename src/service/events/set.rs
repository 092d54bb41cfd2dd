//! One event of one stream as a Security Event Token (RFC 8417) in the SCIM profile (RFC
//! 9967), signed as a compact JWS with the organization's key.

use chrono::NaiveDateTime;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use super::{Activation, PROV_PREFIX, event_uri, keys};
use crate::error::{Error, Result};
use crate::store::events::{EventRow, StreamRow};
use crate::store::{DbConn, OrgId};

/// The JWS `typ` of a SET (RFC 8417 §2.3).
pub const SET_TYPE: &str = "secevent+jwt";

/// The member of a group event's payload that lists the members a write added and removed:
/// scimd's extension, so that a membership change of a large group names only its changes.
pub const MEMBERS_EXTENSION: &str = "urn:scimd:event:members";

/// The issuer of an organization's SETs: the server's base URL (no trailing slash) and the
/// organization, under which its JWKS is published (`{iss}/jwks`).
pub fn issuer(base_url: &str, org: &OrgId) -> String {
    format!("{}/api/v1/orgs/{org}", base_url.trim_end_matches('/'))
}

/// The claims of `event` as `stream` receives it.
pub fn claims(stream: &StreamRow, event: &EventRow, issuer: &str, now: NaiveDateTime) -> Value {
    let full = stream.detail == "full";
    let mut payload = Map::new();
    if full {
        if let Some(data) = event.data.as_deref().and_then(parse) {
            payload.insert("data".to_owned(), data);
        }
    } else if let Some(attributes) = event.attributes.as_deref().and_then(parse) {
        payload.insert("attributes".to_owned(), attributes);
    }
    let added = event.members_added.as_deref().and_then(parse);
    let removed = event.members_removed.as_deref().and_then(parse);
    if added.is_some() || removed.is_some() {
        let mut members = Map::new();
        members.extend(added.map(|ids| ("added".to_owned(), ids)));
        members.extend(removed.map(|ids| ("removed".to_owned(), ids)));
        payload.insert(MEMBERS_EXTENSION.to_owned(), Value::Object(members));
    }
    let mut events = Map::new();
    events.insert(event_uri(&event.event_type, full), Value::Object(payload));
    let activation = match event.activation.as_deref() {
        Some("activate") => Some(Activation::Activate),
        Some("deactivate") => Some(Activation::Deactivate),
        _ => None,
    };
    if let Some(activation) = activation {
        events.insert(format!("{PROV_PREFIX}{}", activation.as_str()), json!({}));
    }
    json!({
        "iss": issuer,
        "aud": stream.audience,
        "iat": now.and_utc().timestamp(),
        "toe": event.occurred_at.and_utc().timestamp(),
        "jti": event.id,
        "txn": event.txn_id,
        "sub_id": subject(event),
        "events": events,
    })
}

/// The subject (RFC 9967 §2.1; `sub` is never used): a SCIM resource by its path, id and
/// externalId, or an opaque id (RFC 9493 §3.2.4) for scimd's own events.
fn subject(event: &EventRow) -> Value {
    let endpoint = match event.resource_type.as_deref() {
        Some("User") => Some("Users"),
        Some("Group") => Some("Groups"),
        _ => None,
    };
    let id = event.resource_id.clone().unwrap_or_default();
    match endpoint {
        Some(endpoint) => {
            let mut subject = json!({
                "format": "scim",
                "uri": format!("/{endpoint}/{id}"),
                "id": id,
            });
            if let (Some(external_id), Some(object)) = (&event.external_id, subject.as_object_mut())
            {
                object.insert("externalId".to_owned(), json!(external_id));
            }
            subject
        }
        None => json!({ "format": "opaque", "id": id }),
    }
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// `event` as `stream` receives it: a compact JWS signed ES256 with the organization's key
/// (made on first use), its `kid` in the header. `base_url` is the server's, for `iss`.
pub fn signed_set(
    conn: &mut DbConn,
    stream: &StreamRow,
    event: &EventRow,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<String> {
    let org = stream.org();
    let key = keys::signing_key(conn, &org, now)?;
    let claims = claims(stream, event, &issuer(base_url, &org), now);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    header.typ = Some(SET_TYPE.to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_der(&key.private_key),
    )
    .map_err(Error::internal)
}
