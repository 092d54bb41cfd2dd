//! The change feed (issue 14): SCIM events (RFC 9967) appended to an outbox in the
//! transaction of the write they describe, fanned out to the organization's streams, and
//! handed to receivers as signed Security Event Tokens (RFC 8417) by poll (RFC 8936) or push
//! (RFC 8935).
//!
//! The API the deliverers use:
//! - [`emit`]: appends one event in the caller's write transaction (resource writes call it
//!   through [`ResourceChange::emit`]; token notices with scimd's own URIs).
//! - [`next_pending`]: the next undelivered events of a stream, in order.
//! - [`signed_set`]: the compact JWS a receiver gets for one event of one stream.
//! - [`mark_delivered`], [`record_failure`]: the outcome of a delivery.

pub mod keys;
pub mod poll;
pub mod retention;
pub mod set;
pub mod streams;

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::scim::schema::ResourceTypeDef;
use crate::store::events::{self as stored, EventRow, StreamRow};
use crate::store::outbox::{self, NewEvent, StreamInterest};
use crate::store::{DbConn, OrgId, StreamId};

pub use set::{Signer, Signers, signed_set};

/// How the change feed runs: `scimd serve --events-retention`, `--events-long-poll`.
#[derive(Debug, Clone, Copy)]
pub struct EventSettings {
    /// How long events are kept once every stream had them (and for replay).
    pub retention: std::time::Duration,
    /// Longest time a poll waits for events when none are pending.
    pub long_poll: std::time::Duration,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            retention: DEFAULT_RETENTION,
            long_poll: DEFAULT_LONG_POLL,
        }
    }
}

/// Seven days: long enough to replay a week-end's changes.
pub const DEFAULT_RETENTION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// Thirty seconds: under the idle timeouts of common proxies.
pub const DEFAULT_LONG_POLL: std::time::Duration = std::time::Duration::from_secs(30);

/// The prefix of the provisioning events RFC 9967 §2.4 defines.
pub const PROV_PREFIX: &str = "urn:ietf:params:scim:event:prov:";

/// What happened to a resource: the four SCIM writes (RFC 9967 §2.4.1–§2.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Put,
    Patch,
    Delete,
}

impl Operation {
    /// As stored, and the verb in the event URI.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Put => "put",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
        }
    }
}

/// A change of a User's `active` (RFC 9967 §2.4.5, §2.4.6): sent with the write's own event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Activate,
    Deactivate,
}

impl Activation {
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Activate => "activate",
            Activation::Deactivate => "deactivate",
        }
    }

    /// The activation between two states of a resource, if `active` changed.
    pub fn between(before: &Value, after: &Value) -> Option<Activation> {
        match (is_active(before), is_active(after)) {
            (false, true) => Some(Activation::Activate),
            (true, false) => Some(Activation::Deactivate),
            _ => None,
        }
    }
}

/// `active` as SCIM answers it: absent is true.
fn is_active(resource: &Value) -> bool {
    resource
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// One event to append: a resource write, or one of scimd's own notices.
#[derive(Default)]
pub struct EventDraft<'a> {
    /// A provisioning verb (`create`, `put`, `patch`, `delete`), or a whole event URI of
    /// scimd's own (`urn:scimd:event:token:expiring`).
    pub event_type: String,
    pub activation: Option<Activation>,
    /// `User`, `Group`; for scimd's own events whatever names the subject (`Token`).
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub external_id: Option<String>,
    /// The resource's version after the write (its ETag in the payload's `version`).
    pub version: Option<i64>,
    /// The attribute names the write changed (the `notice` events' `attributes`).
    pub attributes: Vec<String>,
    /// The resource as a SCIM answer renders it, for `full` streams; computed only when one
    /// wants it. For scimd's own events: the event's payload.
    pub data: Option<&'a dyn Fn() -> Value>,
    pub members_added: Vec<String>,
    pub members_removed: Vec<String>,
}

impl EventDraft<'_> {
    /// The event URIs a stream in `detail` receives for this event.
    fn uris(&self, full: bool) -> Vec<String> {
        let mut uris = vec![event_uri(&self.event_type, full)];
        if let Some(activation) = self.activation {
            uris.push(format!("{PROV_PREFIX}{}", activation.as_str()));
        }
        uris
    }
}

/// The URI of an event type as stored, for a `full` or a `notice` stream: the create, put and
/// patch events come in both (RFC 9967 §2.4), delete and scimd's own events in one form.
pub fn event_uri(event_type: &str, full: bool) -> String {
    match event_type {
        "create" | "put" | "patch" => {
            let detail = if full { "full" } else { "notice" };
            format!("{PROV_PREFIX}{event_type}:{detail}")
        }
        "delete" | "activate" | "deactivate" => format!("{PROV_PREFIX}{event_type}"),
        other => other.to_owned(),
    }
}

/// scimd's own events (token notices) carry their payload in `data` for every stream: it is
/// what names the token, and it holds nothing a notice stream should not see.
pub fn is_own_event(event_type: &str) -> bool {
    event_type.starts_with("urn:scimd:")
}

/// Whether `stream` wants an event of these URIs about `resource_type`.
fn wants(stream: &StreamInterest, uris: &[String], resource_type: Option<&str>) -> bool {
    let types_ok = match (&stream.resource_types, resource_type) {
        (Some(list), Some(resource_type)) if !list.trim().is_empty() => {
            list.split_whitespace().any(|name| name == resource_type)
        }
        _ => true,
    };
    let events_ok = match &stream.event_types {
        Some(list) if !list.trim().is_empty() => list
            .split_whitespace()
            .any(|wanted| uris.iter().any(|uri| uri == wanted)),
        _ => true,
    };
    types_ok && events_ok
}

/// Appends `draft` to the outbox of `org` in the caller's transaction, with a pending delivery
/// for each stream that wants it; answers its `jti`, or `None` when no stream does (then
/// nothing is written: an organization without streams pays one index probe per write).
pub fn emit(
    conn: &mut DbConn,
    org: &OrgId,
    draft: &EventDraft<'_>,
    txn: &str,
    now: NaiveDateTime,
) -> Result<Option<String>> {
    let interests = outbox::interests(conn, org)?;
    if interests.is_empty() {
        return Ok(None);
    }
    let resource_type = draft.resource_type.as_deref();
    let (notice_uris, full_uris) = (draft.uris(false), draft.uris(true));
    let mut targets = Vec::new();
    let mut any_full = false;
    for stream in &interests {
        let full = stream.detail == "full";
        let uris = if full { &full_uris } else { &notice_uris };
        if wants(stream, uris, resource_type) {
            any_full |= full;
            targets.push(stream.id.clone());
        }
    }
    if targets.is_empty() {
        return Ok(None);
    }
    // Time-ordered (UUIDv7), for the unique index's sake: appended, not scattered (see the
    // activity log's ids). A SET carries its time in `iat` anyway.
    let jti = uuid::Uuid::now_v7().to_string();
    let data = match (&draft.data, any_full || is_own_event(&draft.event_type)) {
        (Some(render), true) => Some(render().to_string()),
        _ => None,
    };
    let json_list = |list: &[String]| -> Result<Option<String>> {
        if list.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(list)
            .map(Some)
            .map_err(Error::internal)
    };
    let attributes = json_list(&draft.attributes)?;
    let members_added = json_list(&draft.members_added)?;
    let members_removed = json_list(&draft.members_removed)?;
    outbox::append(
        conn,
        NewEvent {
            id: jti.clone(),
            org_id: org.as_str().to_owned(),
            event_type: draft.event_type.clone(),
            activation: draft.activation.map(Activation::as_str),
            resource_type: draft.resource_type.clone(),
            resource_id: draft.resource_id.clone(),
            external_id: draft.external_id.clone(),
            version: draft.version,
            attributes,
            data,
            members_added,
            members_removed,
            txn_id: txn.to_owned(),
            occurred_at: now,
        },
        targets,
    )?;
    Ok(Some(jti))
}

/// A resource write, as the resource use cases describe it to [`emit`].
pub struct ResourceChange<'a> {
    pub operation: Operation,
    pub resource_type: &'static ResourceTypeDef,
    pub id: &'a str,
    /// The resource before the write (`None` for a create or delete).
    pub before: Option<&'a Value>,
    /// The resource after the write (`None` for a delete).
    pub after: Option<&'a Value>,
    /// Its version after the write (`None` for a delete).
    pub version: Option<i64>,
    pub members_added: Vec<String>,
    pub members_removed: Vec<String>,
    /// Whether the write touched the membership in a way not listed member by member (a
    /// replacement or a filtered removal): `members` is named as changed.
    pub members_rewritten: bool,
}

impl ResourceChange<'_> {
    /// Appends the write's event (with its activation event, RFC 9967 §2.4.5) in the write's
    /// transaction. `render` gives the resource as SCIM answers it, for `full` streams.
    pub fn emit(self, conn: &mut DbConn, org: &OrgId, render: impl Fn() -> Value) -> Result<()> {
        let mut attributes = match (self.before, self.after) {
            (Some(before), Some(after)) => changed_attributes(before, after),
            (None, Some(after)) => present_attributes(after),
            _ => Vec::new(),
        };
        let members_changed = self.members_rewritten
            || !self.members_added.is_empty()
            || !self.members_removed.is_empty();
        if members_changed && !attributes.iter().any(|name| name == "members") {
            attributes.push("members".to_owned());
        }
        if matches!(self.operation, Operation::Put | Operation::Patch) && attributes.is_empty() {
            // Nothing changed: nothing happened that a receiver must learn of.
            return Ok(());
        }
        let activation = match (self.before, self.after) {
            (Some(before), Some(after)) => Activation::between(before, after),
            _ => None,
        };
        let external_id = self
            .after
            .or(self.before)
            .and_then(|resource| resource.get("externalId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let draft = EventDraft {
            event_type: self.operation.as_str().to_owned(),
            activation,
            resource_type: Some(self.resource_type.name.to_owned()),
            resource_id: Some(self.id.to_owned()),
            external_id,
            version: self.version,
            attributes,
            data: (self.operation != Operation::Delete).then_some(&render as &dyn Fn() -> Value),
            members_added: self.members_added,
            members_removed: self.members_removed,
        };
        let txn = uuid::Uuid::new_v4().to_string();
        emit(conn, org, &draft, &txn, crate::store::now())?;
        Ok(())
    }
}

/// Attribute names a receiver may see: never `password` (RFC 7643 §4.1.1, `returned: never`),
/// nor the server's own `id` and `meta`.
fn reportable(name: &str) -> bool {
    !matches!(name, "password" | "id" | "meta" | "schemas")
}

/// The attributes of a new resource, extension attributes as `urn:…:name`.
fn present_attributes(resource: &Value) -> Vec<String> {
    changed_attributes(&Value::Object(serde_json::Map::new()), resource)
}

/// The attributes that differ between two states of a resource; an extension's attributes
/// are named by their full path (`urn:…:enterprise:2.0:User:department`, RFC 7644 §3.10).
fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut names: Vec<String> = Vec::new();
    let keys = after
        .keys()
        .chain(before.keys().filter(|key| !after.contains_key(*key)));
    for key in keys {
        if !reportable(key) {
            continue;
        }
        let (old, new) = (before.get(key), after.get(key));
        if old == new {
            continue;
        }
        if key.starts_with("urn:") {
            let old = old.and_then(Value::as_object).unwrap_or(&empty);
            let new = new.and_then(Value::as_object).unwrap_or(&empty);
            let inner = new
                .keys()
                .chain(old.keys().filter(|inner| !new.contains_key(*inner)));
            for inner in inner {
                if old.get(inner) != new.get(inner) && reportable(inner) {
                    names.push(format!("{key}:{inner}"));
                }
            }
        } else {
            names.push(key.clone());
        }
    }
    names
}

/// An event waiting for a stream, with its delivery state.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub event: EventRow,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
}

impl PendingEvent {
    pub fn jti(&self) -> &str {
        &self.event.id
    }

    pub fn seq(&self) -> i64 {
        self.event.seq
    }
}

/// The first `limit` events `stream` has not been delivered, in order.
pub fn next_pending(conn: &mut DbConn, stream: &StreamId, limit: i64) -> Result<Vec<PendingEvent>> {
    Ok(stored::next_pending(conn, stream, limit)?
        .into_iter()
        .map(|(event, delivery)| PendingEvent {
            event,
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            last_error: delivery.last_error,
        })
        .collect())
}

/// Marks events (by position) delivered to `stream`; answers how many were pending.
pub fn mark_delivered(conn: &mut DbConn, stream: &StreamId, seqs: &[i64]) -> Result<usize> {
    stored::mark_delivered(conn, stream, seqs)
}

/// Records a failed delivery: the event stays pending, retried from `next_attempt_at`. The
/// error is shown to admins: it must not hold the receiver's credentials.
pub fn record_failure(
    conn: &mut DbConn,
    stream: &StreamId,
    seq: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> Result<()> {
    stored::record_failure(conn, stream, seq, error, next_attempt_at)
}

/// A stream of any organization (for deliverers).
pub fn stream(conn: &mut DbConn, id: &StreamId) -> Result<StreamRow> {
    stored::find_stream_any_org(conn, id)?
        .ok_or_else(|| Error::not_found(format_args!("event stream {id}")))
}
