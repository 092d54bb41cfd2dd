//! The change feed's endpoints: `/api/v1/events/streams` (management, `tokens:manage`), a
//! stream's poll (RFC 8936, its own `events:read` token), and `/api/v1/orgs/{org}/jwks`
//! (public).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PREFIX, json_response};
use crate::auth::{AuthContext, Principal, Scope};
use crate::error::{Error, Result};
use crate::http::shutdown::Stopping;
use crate::scim::error::ProtocolError;
use crate::service::events::poll::{self, PollBatch, PollRequest, SetError};
use crate::service::events::streams::{self, Delivery, StreamRequest, StreamView};
use crate::service::events::{EventSettings, keys};
use crate::service::push::PushDestinations;
use crate::service::tokens::Caller;
use crate::store::{self, Store, StreamId};

/// The organization's SET verification keys (RFC 7517 JWKS). Public and unauthenticated:
/// it holds public keys only, and receivers fetch it without a scimd credential.
pub async fn jwks(store: web::Data<Store>, org: web::Path<String>) -> Result<HttpResponse> {
    let org = org.into_inner();
    let now = store::now();
    let jwks = store.read(move |conn| keys::jwks(conn, &org, now)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        // Receivers cache it; a rotated key stays published longer than this.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(jwks))
}

fn stream_id(text: &str) -> Result<StreamId> {
    StreamId::parse(text).ok_or_else(|| Error::not_found(format_args!("event stream {text}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStream {
    name: String,
    /// `poll` or `push`.
    delivery: String,
    /// `notice` (default) or `full`.
    detail: Option<String>,
    event_types: Option<Vec<String>>,
    resource_types: Option<Vec<String>>,
    /// Push only: the receiver's URL.
    push_url: Option<String>,
    /// Push only: the `Authorization` header value scimd sends; never shown again.
    push_authorization: Option<String>,
    audience: Option<String>,
}

/// The answer to a create: the stream, and a poll stream's token (the only time its secret is
/// shown).
#[derive(Serialize)]
struct Created<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(flatten)]
    stream: StreamView,
}

pub async fn create_stream(
    auth: AuthContext,
    store: web::Data<Store>,
    destinations: web::Data<PushDestinations>,
    body: web::Json<CreateStream>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let request = stream_request(body.into_inner())?;
    request.check_destination(&destinations).await?;
    let now = store::now();
    let created = store
        .write(move |conn| {
            let org = auth.org_id.clone();
            streams::create(conn, &org, &Caller::Credential(auth), &request, now)
        })
        .await?;
    let token = created
        .poll_token
        .as_ref()
        .map(|issued| issued.plain.expose_secret());
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{PREFIX}/events/streams/{}", created.stream.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Created {
            token,
            stream: StreamView::from(&created.stream),
        }))
}

fn stream_request(body: CreateStream) -> Result<StreamRequest> {
    let invalid = |text: &str| Error::from(ProtocolError::invalid_value(text.to_owned()));
    let delivery = match body.delivery.as_str() {
        "poll" => {
            if body.push_url.is_some() || body.push_authorization.is_some() {
                return Err(invalid(
                    "push_url and push_authorization are for push streams",
                ));
            }
            Delivery::Poll
        }
        "push" => {
            let url = body
                .push_url
                .ok_or_else(|| invalid("a push stream needs push_url"))?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("push_url: an http or https URL"));
            }
            Delivery::Push {
                url,
                authorization: body.push_authorization.map(SecretString::from),
            }
        }
        _ => return Err(invalid("delivery: poll or push")),
    };
    let full = match body.detail.as_deref() {
        None | Some("notice") => false,
        Some("full") => true,
        Some(_) => return Err(invalid("detail: notice or full")),
    };
    Ok(StreamRequest {
        name: body.name,
        delivery,
        full,
        event_types: body.event_types.unwrap_or_default(),
        resource_types: body.resource_types.unwrap_or_default(),
        audience: body.audience,
    })
}

pub async fn list_streams(auth: AuthContext, store: web::Data<Store>) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let rows = store
        .read(move |conn| streams::list(conn, &auth.org_id))
        .await?;
    let views: Vec<StreamView> = rows.iter().map(StreamView::from).collect();
    Ok(json_response(&json!({ "streams": views })))
}

pub async fn get_stream(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = stream_id(&id)?;
    let row = store
        .read(move |conn| streams::show(conn, &auth.org_id, &id))
        .await?;
    Ok(json_response(&StreamView::from(&row)))
}

pub async fn delete_stream(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = stream_id(&id)?;
    store
        .write(move |conn| {
            let org = auth.org_id.clone();
            streams::delete(conn, &org, &Caller::Credential(auth), &id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateStream {
    /// `enabled` (resume: also after a failure) or `paused`.
    status: String,
}

pub async fn update_stream(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    body: web::Json<UpdateStream>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = stream_id(&id)?;
    let enabled = match body.status.as_str() {
        "enabled" => true,
        "paused" => false,
        _ => {
            return Err(ProtocolError::invalid_value("status: enabled or paused").into());
        }
    };
    let now = store::now();
    let row = store
        .write(move |conn| {
            let org = auth.org_id.clone();
            streams::set_enabled(conn, &org, &Caller::Credential(auth), &id, enabled, now)
        })
        .await?;
    Ok(json_response(&StreamView::from(&row)))
}

/// A poll request (RFC 8936 §2.4). Unknown members are ignored, as the RFC's extensibility
/// asks.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PollBody {
    ack: Vec<String>,
    set_errs: BTreeMap<String, SetErrBody>,
    max_events: Option<i64>,
    return_immediately: bool,
    /// scimd's replay extension: SETs from this position on, acknowledged or not.
    from: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct SetErrBody {
    err: String,
    description: Option<String>,
}

/// How often a waiting poll looks for events written by other instances, whose wake-ups do
/// not reach this one.
const RECHECK: Duration = Duration::from_secs(1);

/// `POST /api/v1/events/streams/{id}/poll` (RFC 8936 §2.4, §2.5) with the stream's own
/// `events:read` token: records `ack` and `setErrs`, then answers the next SETs, waiting for
/// some up to the long-poll bound unless `returnImmediately`.
pub async fn poll_stream(
    auth: AuthContext,
    request: HttpRequest,
    store: web::Data<Store>,
    settings: web::Data<EventSettings>,
    stopping: web::Data<Stopping>,
    id: web::Path<String>,
    body: web::Json<PollBody>,
) -> Result<HttpResponse> {
    auth.require(Scope::EventsRead)?;
    let id = stream_id(&id)?;
    let Principal::Token { id: token, .. } = &auth.principal else {
        return Err(Error::not_found(format_args!("event stream {id}")));
    };
    let token = token.clone();
    let body = body.into_inner();
    if body.max_events.is_some_and(|max| max < 0) || body.from.is_some_and(|from| from < 0) {
        return Err(ProtocolError::invalid_value("maxEvents and from: 0 or more").into());
    }
    let poll = PollRequest {
        ack: body.ack,
        set_errs: body
            .set_errs
            .into_iter()
            .map(|(jti, error)| {
                let error = SetError {
                    err: error.err,
                    description: error.description,
                };
                (jti, error)
            })
            .collect(),
        max_events: body.max_events.unwrap_or(poll::DEFAULT_EVENTS),
        from: body.from,
    };
    let now = store::now();
    let poll = Arc::new(poll);
    let stream = if poll.ack.is_empty() && poll.set_errs.is_empty() {
        // Nothing to record: no write transaction, which on SQLite would queue for the writer.
        store
            .read(move |conn| poll::stream_for_poll(conn, &token, &id))
            .await?
    } else {
        let poll = Arc::clone(&poll);
        store
            .write(move |conn| {
                let stream = poll::stream_for_poll(conn, &token, &id)?;
                poll::acknowledge(conn, &stream.stream_id(), &poll, now)?;
                Ok(stream)
            })
            .await?
    };
    let base_url = server_base_url(&request);
    let waits = !body.return_immediately
        && poll.max_events > 0
        && poll.from.is_none()
        && stream.status == "enabled";
    let deadline = Instant::now() + settings.long_poll;
    let stream = Arc::new(stream);
    loop {
        // Armed before the look, so that a write committing in between still wakes us.
        let mut wake = std::pin::pin!(poll::next_wake());
        wake.as_mut().enable();
        let batch = if stream.status == "paused" {
            PollBatch::default()
        } else {
            let (stream, poll, base_url) =
                (Arc::clone(&stream), Arc::clone(&poll), base_url.clone());
            store
                .read(move |conn| poll::next_batch(conn, &stream, &poll, &base_url, store::now()))
                .await?
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if !batch.is_empty() || !waits || remaining.is_zero() || stopping.has_begun() {
            return Ok(poll_answer(batch));
        }
        tokio::select! {
            _ = actix_web::rt::time::timeout(remaining.min(RECHECK), wake) => {}
            () = stopping.wait() => {}
        }
    }
}

/// `{"sets": {jti: SET}, "moreAvailable": bool}` (RFC 8936 §2.5), and the events' positions
/// for replay (scimd's extension).
fn poll_answer(batch: PollBatch) -> HttpResponse {
    let sets: serde_json::Map<String, serde_json::Value> = batch
        .sets
        .into_iter()
        .map(|(jti, set)| (jti, serde_json::Value::String(set)))
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "sets": sets,
            "moreAvailable": batch.more_available,
            "positions": batch.positions,
        }))
}

/// The server's own base URL as the client addressed it (`iss` of the SETs).
fn server_base_url(request: &HttpRequest) -> String {
    let scim = crate::http::extract::scim_base_url(request);
    scim.trim_end_matches("/scim/v2").to_owned()
}
