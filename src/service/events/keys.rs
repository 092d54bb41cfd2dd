//! The keys an organization signs its SETs with: ES256 (P-256), generated on first use and
//! kept in the database (PKCS#8), published as a JWKS (RFC 7517), rotatable. A rotated key
//! stays published for [`ROTATION_GRACE`] so that SETs signed just before still verify.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::events::{self as stored, KeyRow};
use crate::store::{DbConn, OrgId};

/// How long a retired key stays in the JWKS.
pub const ROTATION_GRACE: TimeDelta = TimeDelta::days(7);

/// The JWS algorithm of every SET scimd signs (RFC 7518 §3.4).
pub const ALGORITHM: &str = "ES256";

/// The key `org` signs with, generated and stored when it has none.
pub fn signing_key(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<KeyRow> {
    match stored::current_key(conn, org)? {
        Some(key) => Ok(key),
        None => generate(conn, org, now),
    }
}

/// Retires the keys of `org` in use and makes a new one; answers its `kid`.
pub fn rotate(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<String> {
    stored::retire_keys(conn, org, now)?;
    Ok(generate(conn, org, now)?.kid)
}

fn generate(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<KeyRow> {
    let pair =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::internal)?;
    // An uncompressed SEC1 point: 0x04, then x and y, 32 bytes each.
    let point = pair.public_key_raw();
    let (x, y) = match point {
        [0x04, coordinates @ ..] if coordinates.len() == 64 => coordinates.split_at(32),
        _ => return Err(Error::internal("unexpected P-256 public key encoding")),
    };
    let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
    let key = KeyRow {
        kid: thumbprint(&x, &y),
        org_id: org.as_str().to_owned(),
        private_key: pair.serialize_der(),
        public_x: x,
        public_y: y,
        created_at: now,
        retired_at: None,
    };
    stored::insert_key(conn, &key)?;
    Ok(key)
}

/// The JWK thumbprint (RFC 7638 §3): the key's id, the same wherever it is computed.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public half of `key` as a JWK.
fn jwk(key: &KeyRow) -> Value {
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": key.public_x,
        "y": key.public_y,
        "kid": key.kid,
        "use": "sig",
        "alg": ALGORITHM,
    })
}

/// The JWKS of organization `org`: its key in use and those retired within the grace period.
/// Only public keys; an organization that never signed, or none of that id, has none.
pub fn jwks(conn: &mut DbConn, org: &str, now: NaiveDateTime) -> Result<Value> {
    let keys = stored::published_keys(conn, org, now - ROTATION_GRACE)?;
    Ok(json!({ "keys": keys.iter().map(jwk).collect::<Vec<_>>() }))
}
