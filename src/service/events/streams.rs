//! An organization's event streams: create (with the poll stream's own `events:read` token),
//! list, show, pause, resume, delete. Each runs in the caller's write transaction.

use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};

use super::keys;
use crate::auth::bounds::Permissions;
use crate::auth::lifecycle::Restrictions;
use crate::auth::{Scope, Scopes};
use crate::error::{Error, Result};
use crate::scim::discovery::SECURITY_EVENT_URIS;
use crate::scim::error::ProtocolError;
use crate::service::audit::{Event, EventKind, Target};
use crate::service::input::TokenName;
use crate::service::push::PushDestinations;
use crate::service::tokens::{self, Caller, IssuedToken, TokenRequest};
use crate::store::events::{self as stored, NewStream, StreamRow};
use crate::store::{DbConn, OrgId, StreamId, TokenId};

/// How a stream's receiver gets its SETs.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// The receiver polls (RFC 8936) with the stream's token.
    Poll,
    /// scimd POSTs each SET (RFC 8935) to `url`, with `authorization` as the Authorization
    /// header when given.
    Push {
        url: String,
        authorization: Option<SecretString>,
    },
}

/// A new stream, its input parsed.
#[derive(Debug, Clone)]
pub struct StreamRequest {
    pub name: String,
    pub delivery: Delivery,
    /// `full` events carry the resource; `notice` events only the changed attribute names.
    pub full: bool,
    /// Event URIs wanted; empty: all.
    pub event_types: Vec<String>,
    /// `User`, `Group`; empty: all.
    pub resource_types: Vec<String>,
    /// The SETs' `aud`; default: the push URL, or the stream's id.
    pub audience: Option<String>,
}

impl StreamRequest {
    /// Refuses a push URL the operator's rule forbids (`invalidValue`), before anything is
    /// written: every front end asks this before [`create`], which runs in a write
    /// transaction where no name lookup belongs.
    pub async fn check_destination(&self, rule: &PushDestinations) -> Result<()> {
        match &self.delivery {
            Delivery::Push { url, .. } => rule.check_new_stream(url).await,
            Delivery::Poll => Ok(()),
        }
    }
}

/// A stream just made; `poll_token` is the only time its secret is shown.
pub struct CreatedStream {
    pub stream: StreamRow,
    pub poll_token: Option<IssuedToken>,
}

/// Longest stream name.
const MAX_NAME: usize = 100;

/// Creates a stream of `org`. A poll stream gets its own token with only `events:read`,
/// within the caller's bounds; the org's signing key is made now if it has none, so that
/// delivery never has to write one.
pub fn create(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    request: &StreamRequest,
    now: NaiveDateTime,
) -> Result<CreatedStream> {
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ProtocolError::invalid_value(format!(
            "name: 1 to {MAX_NAME} printable characters"
        ))
        .into());
    }
    validate_types(request)?;
    if stored::list_streams(conn, org)?
        .iter()
        .any(|stream| stream.name == name)
    {
        return Err(
            ProtocolError::uniqueness(format!("an event stream named '{name}' exists")).into(),
        );
    }
    let id = StreamId::generate();
    let poll_token = match &request.delivery {
        Delivery::Poll => Some(tokens::create(
            conn,
            org,
            caller,
            &TokenRequest {
                name: TokenName::parse(&format!("events: {name}"))?,
                description: Some(crate::service::input::Description::parse(format!(
                    "polls event stream {id}"
                ))?),
                permissions: Permissions {
                    scopes: Scopes::default().with(Scope::EventsRead),
                    expires_at: None,
                    restrictions: Restrictions::default(),
                },
            },
            now,
        )?),
        Delivery::Push { .. } => None,
    };
    let (push_url, push_authorization) = match &request.delivery {
        Delivery::Push { url, authorization } => (
            Some(url.as_str()),
            authorization.as_ref().map(|secret| secret.expose_secret()),
        ),
        Delivery::Poll => (None, None),
    };
    let audience = request
        .audience
        .clone()
        .or_else(|| push_url.map(str::to_owned))
        .unwrap_or_else(|| id.to_string());
    let event_types = request.event_types.join(" ");
    let resource_types = request.resource_types.join(" ");
    stored::insert_stream(
        conn,
        &NewStream {
            id: id.as_str(),
            org_id: org.as_str(),
            name,
            delivery: match request.delivery {
                Delivery::Poll => "poll",
                Delivery::Push { .. } => "push",
            },
            detail: if request.full { "full" } else { "notice" },
            event_types: (!event_types.is_empty()).then_some(event_types.as_str()),
            resource_types: (!resource_types.is_empty()).then_some(resource_types.as_str()),
            poll_token_id: poll_token.as_ref().map(|token| token.id.as_str()),
            push_url,
            push_authorization,
            audience: &audience,
            status: "enabled",
            created_at: now,
            updated_at: now,
        },
    )?;
    keys::signing_key(conn, org, now)?;
    let stream = show(conn, org, &id)?;
    let details = serde_json::json!({
        "name": stream.name,
        "delivery": stream.delivery,
        "detail": stream.detail,
        "push_url": stream.push_url,
        "poll_token": stream.poll_token_id,
    });
    record(
        conn,
        EventKind::EventStreamCreated,
        org,
        caller,
        id.as_str(),
        details,
        now,
    )?;
    Ok(CreatedStream { stream, poll_token })
}

/// Refuses event and resource types scimd never emits, so that a typo is not a stream that
/// silently receives nothing.
fn validate_types(request: &StreamRequest) -> Result<()> {
    for resource_type in &request.resource_types {
        if !matches!(resource_type.as_str(), "User" | "Group") {
            return Err(ProtocolError::invalid_value(format!(
                "resource_types: unknown resource type '{resource_type}' (known: User, Group)"
            ))
            .into());
        }
    }
    for uri in &request.event_types {
        if !SECURITY_EVENT_URIS.contains(&uri.as_str()) && !uri.starts_with("urn:scimd:event:") {
            return Err(ProtocolError::invalid_value(format!(
                "event_types: unknown event type '{uri}'"
            ))
            .into());
        }
    }
    Ok(())
}

/// A stream of `org`, or 404.
pub fn show(conn: &mut DbConn, org: &OrgId, id: &StreamId) -> Result<StreamRow> {
    stored::find_stream(conn, org, id)?
        .ok_or_else(|| Error::not_found(format_args!("event stream {id}")))
}

/// The streams of `org`, by name.
pub fn list(conn: &mut DbConn, org: &OrgId) -> Result<Vec<StreamRow>> {
    stored::list_streams(conn, org)
}

/// Pauses (`enabled` false) or resumes a stream; resuming also clears a `failed` status.
pub fn set_enabled(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &StreamId,
    enabled: bool,
    now: NaiveDateTime,
) -> Result<StreamRow> {
    let status = if enabled { "enabled" } else { "paused" };
    let before = show(conn, org, id)?;
    stored::set_stream_status(conn, org, id, status, None, now)?;
    let details =
        serde_json::json!({"name": before.name, "status": status, "previous": before.status});
    record(
        conn,
        EventKind::EventStreamUpdated,
        org,
        caller,
        id.as_str(),
        details,
        now,
    )?;
    show(conn, org, id)
}

/// Records a change to a stream in the audit log, in the change's transaction.
fn record(
    conn: &mut DbConn,
    kind: EventKind,
    org: &OrgId,
    caller: &Caller,
    id: &str,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> Result<()> {
    let actor = caller.actor();
    Event {
        kind,
        org: Some(org),
        actor: Some(&actor),
        target: Some(Target::EventStream(id)),
        remote_addr: None,
        details,
    }
    .record(conn, now)
}

/// Marks a push stream failed with the reason (the deliverer gave up).
pub fn mark_failed(
    conn: &mut DbConn,
    org: &OrgId,
    id: &StreamId,
    error: &str,
    now: NaiveDateTime,
) -> Result<()> {
    stored::set_stream_status(conn, org, id, "failed", Some(error), now)?;
    Ok(())
}

/// Deletes a stream, its pending deliveries and its poll token (revoked).
pub fn delete(conn: &mut DbConn, org: &OrgId, caller: &Caller, id: &StreamId) -> Result<()> {
    let stream = show(conn, org, id)?;
    if let Some(token) = &stream.poll_token_id {
        let token = TokenId::from_db(token.clone());
        tokens::revoke(conn, org, caller, &token, crate::store::now())?;
    }
    stored::delete_stream(conn, org, id)?;
    let details = serde_json::json!({"name": stream.name});
    let now = crate::store::now();
    record(
        conn,
        EventKind::EventStreamDeleted,
        org,
        caller,
        id.as_str(),
        details,
        now,
    )
}

/// The stream a poll token reads, or 404: a token reads its own stream only.
pub fn of_token(conn: &mut DbConn, token: &TokenId) -> Result<StreamRow> {
    stored::stream_of_token(conn, token)?
        .ok_or_else(|| Error::Forbidden("this token polls no event stream".to_owned()))
}

/// A stream as the API, CLI and console show it: never the push authorization, only whether
/// there is one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamView {
    pub id: String,
    pub name: String,
    pub delivery: String,
    pub detail: String,
    pub event_types: Vec<String>,
    pub resource_types: Vec<String>,
    pub audience: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_token_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_url: Option<String>,
    pub push_authorization_set: bool,
    pub status: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&StreamRow> for StreamView {
    fn from(row: &StreamRow) -> StreamView {
        let list = |text: &Option<String>| -> Vec<String> {
            text.as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        let time = |at: NaiveDateTime| at.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        StreamView {
            id: row.id.clone(),
            name: row.name.clone(),
            delivery: row.delivery.clone(),
            detail: row.detail.clone(),
            event_types: list(&row.event_types),
            resource_types: list(&row.resource_types),
            audience: row.audience.clone(),
            poll_token_id: row.poll_token_id.clone(),
            push_url: row.push_url.clone(),
            push_authorization_set: row.push_authorization.is_some(),
            status: row.status.clone(),
            last_error: row.last_error.clone(),
            last_error_at: row.last_error_at.map(time),
            created_at: time(row.created_at),
            updated_at: time(row.updated_at),
        }
    }
}

/// The stream of `org` named `name`, or 404.
pub fn find_by_name(conn: &mut DbConn, org: &OrgId, name: &str) -> Result<StreamRow> {
    stored::list_streams(conn, org)?
        .into_iter()
        .find(|stream| stream.name == name)
        .ok_or_else(|| Error::not_found(format_args!("event stream '{name}'")))
}
