//! One event of one stream as a Security Event Token (RFC 8417) in the SCIM profile (RFC
//! 9967), signed as a compact JWS with the organization's key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Map, Value, json};

use super::{Activation, PROV_PREFIX, event_uri, keys};
use crate::error::{Error, Result};
use crate::scim::etag::etag_for_version;
use crate::store::events::{EventRow, KeyRow, StreamRow};
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
    if full || super::is_own_event(&event.event_type) {
        if let Some(data) = event.data.as_deref().and_then(parse) {
            payload.insert("data".to_owned(), data);
        }
    } else if let Some(attributes) = event.attributes.as_deref().and_then(parse) {
        payload.insert("attributes".to_owned(), attributes);
    }
    if let Some(version) = event.version {
        payload.insert("version".to_owned(), json!(etag_for_version(version)));
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

/// An organization's signing key, parsed: what signing a SET needs beside the claims.
///
/// Signing goes to `ring` directly rather than through a JWT crate, which parsed the PKCS#8
/// key anew for every SET it signed: deriving the public point from it costs about as much as
/// the signature itself, and was a third of the deliverer's signing time (issue 14's push
/// benchmark). Parsed once here, a key serves every SET until it is rotated.
pub struct Signer {
    org: OrgId,
    kid: String,
    key: EcdsaKeyPair,
    /// The JWS protected header, encoded: the same for every SET this key signs.
    header: String,
    random: SystemRandom,
}

impl Signer {
    /// The key `org` signs with, made on first use.
    pub fn of(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<Signer> {
        Signer::parse(&keys::signing_key(conn, org, now)?)
    }

    fn parse(key: &KeyRow) -> Result<Signer> {
        let random = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.private_key, &random)
                .map_err(|error| Error::internal(format!("unusable signing key: {error}")))?;
        // RFC 7515 §4.1 and RFC 8417 §2.3: the algorithm, the key's id, and `typ`.
        let header = json!({"typ": SET_TYPE, "alg": keys::ALGORITHM, "kid": key.kid});
        Ok(Signer {
            org: OrgId::from_db(key.org_id.clone()),
            kid: key.kid.clone(),
            key: pair,
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            random,
        })
    }

    /// `event` as `stream` (of this signer's organization) receives it: a compact JWS signed
    /// ES256 (RFC 7515 §7.1; the signature is R and S side by side, RFC 7518 §3.4), its `kid`
    /// in the header. `base_url` is the server's, for `iss`.
    pub fn sign(
        &self,
        stream: &StreamRow,
        event: &EventRow,
        base_url: &str,
        now: NaiveDateTime,
    ) -> Result<String> {
        if stream.org_id != self.org.as_str() || event.org_id != self.org.as_str() {
            return Err(Error::internal(
                "a SET signed with another organization's key",
            ));
        }
        let claims = claims(stream, event, &issuer(base_url, &self.org), now);
        let mut jws = self.header.clone();
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.to_string(), &mut jws);
        let signature = self
            .key
            .sign(&self.random, jws.as_bytes())
            .map_err(|_| Error::internal("signing a SET failed"))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        Ok(jws)
    }
}

/// The parsed keys of the organizations a long-running deliverer signs for, one each: the
/// key in use is still read per batch (a rotation takes effect at the next one), but parsed
/// only when its `kid` changed.
#[derive(Default)]
pub struct Signers {
    by_org: Mutex<HashMap<String, Arc<Signer>>>,
}

impl Signers {
    /// The signer of `org`'s current key, made on first use.
    pub fn current(
        &self,
        conn: &mut DbConn,
        org: &OrgId,
        now: NaiveDateTime,
    ) -> Result<Arc<Signer>> {
        let key = keys::signing_key(conn, org, now)?;
        let cached = self
            .by_org
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(org.as_str())
            .filter(|signer| signer.kid == key.kid)
            .cloned();
        if let Some(signer) = cached {
            return Ok(signer);
        }
        let signer = Arc::new(Signer::parse(&key)?);
        self.by_org
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(org.as_str().to_owned(), Arc::clone(&signer));
        Ok(signer)
    }
}

/// `event` as `stream` receives it (see [`Signer::sign`]); for one SET. A poll's batch parses
/// the key once with [`Signer::of`], the push deliverer once per key with [`Signers`].
pub fn signed_set(
    conn: &mut DbConn,
    stream: &StreamRow,
    event: &EventRow,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<String> {
    Signer::of(conn, &stream.org(), now)?.sign(stream, event, base_url, now)
}
