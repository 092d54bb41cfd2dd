//! `/api/v1/orgs/{org}/jwks` (public) and, in time, `/api/v1/events/streams`: the change
//! feed's management and poll endpoints.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PREFIX, json_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::service::events::keys;
use crate::service::events::streams::{self, Delivery, StreamRequest, StreamView};
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
    body: web::Json<CreateStream>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let request = stream_request(body.into_inner())?;
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
