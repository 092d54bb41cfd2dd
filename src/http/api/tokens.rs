//! `/api/v1/tokens`: create, list, show, edit, revoke and rotate API tokens.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer, Serialize};

use super::{PREFIX, json_response};
use crate::auth::bounds::Permissions;
use crate::auth::lifecycle::Network;
use crate::auth::{AuthContext, Scope, Scopes};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::service::input::{self, Description, Expiry, Grace, TokenName};
use crate::service::tokens::{
    self, Caller, IssuedToken, StatusChange, TokenEdit, TokenListQuery, TokenRequest, TokenSort,
};
use crate::service::views::TokenView;
use crate::store::{self, Store, TokenId};

/// The answer to a create or rotate: the only time the secret is shown.
#[derive(Serialize)]
struct Minted<'a> {
    token: &'a str,
    #[serde(flatten)]
    view: TokenView,
    #[serde(skip_serializing_if = "Option::is_none")]
    predecessor: Option<TokenView>,
}

fn minted(issued: &IssuedToken, view: TokenView, predecessor: Option<TokenView>) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{PREFIX}/tokens/{}", issued.id)))
        // The body holds a live secret: no cache or proxy may keep a copy.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Minted {
            token: issued.plain.expose_secret(),
            view,
            predecessor,
        })
}

fn token_id(text: &str) -> Result<TokenId> {
    TokenId::parse(text).ok_or_else(|| Error::not_found(format_args!("token {text}")))
}

/// Tokens per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: i64 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only tokens whose name contains this, ignoring case.
    name: Option<String>,
    /// `active`, `disabled`, `current` (active or disabled), `inactive` (revoked or expired)
    /// or `suspicious`.
    status: Option<String>,
    /// `created` (default), `name`, `last_used` or `expires`.
    sort: Option<String>,
    /// `desc` (default for `created` and `last_used`) or `asc`.
    order: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
    /// Tokens to skip.
    offset: Option<i64>,
}

pub async fn list_tokens(
    auth: AuthContext,
    store: web::Data<Store>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let params = params.into_inner();
    let query = TokenListQuery {
        sort: TokenSort::parse(params.sort.as_deref(), params.order.as_deref())
            .map_err(ProtocolError::invalid_value)?,
        status: tokens::parse_status_filter(params.status.as_deref())
            .map_err(ProtocolError::invalid_value)?,
        name_contains: params.name,
        limit: params.limit.unwrap_or(DEFAULT_LIMIT),
        offset: params.offset.unwrap_or(0),
    };
    let now = store::now();
    let page = store
        .read(move |conn| tokens::list(conn, &auth.org_id, &query, now))
        .await?;
    let tokens: Vec<TokenView> = page
        .tokens
        .into_iter()
        .map(|shown| TokenView::new(shown, now))
        .collect();
    Ok(json_response(&serde_json::json!({
        "tokens": tokens,
        "total": page.total,
    })))
}

pub async fn get_token(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = token_id(&id)?;
    let now = store::now();
    let shown = store
        .read(move |conn| tokens::show(conn, &auth.org_id, &id, now))
        .await?;
    Ok(json_response(&TokenView::new(shown, now)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
    description: Option<String>,
    /// Default: `scim:read`, `scim:write`, `scim:delete`.
    scopes: Option<Vec<String>>,
    /// A date (`2027-01-31`) or an RFC 3339 time.
    expires_at: Option<String>,
    expires_in_days: Option<i64>,
    /// Only from these CIDRs: the older spelling of an `only_from` without zones.
    allowed_cidrs: Option<Vec<String>>,
    /// Only from these CIDRs and `zone:NAME` zones.
    only_from: Option<Vec<String>>,
    /// Not from these CIDRs and `zone:NAME` zones.
    not_from: Option<Vec<String>>,
    rate_limit_per_minute: Option<u32>,
}

pub async fn create_token(
    auth: AuthContext,
    store: web::Data<Store>,
    body: web::Json<CreateToken>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let body = body.into_inner();
    let now = store::now();
    let scopes = match &body.scopes {
        Some(list) => Scopes::parse(&list.join(" ")).map_err(ProtocolError::invalid_value)?,
        None => Scopes::SCIM,
    };
    let expires_at = Expiry::from_fields(body.expires_at.as_deref(), body.expires_in_days, now)
        .map_err(ProtocolError::invalid_value)?;
    let network = network_rule(
        body.allowed_cidrs.as_deref(),
        body.only_from.as_deref(),
        body.not_from.as_deref(),
    )?;
    let restrictions = input::restrictions(network, body.rate_limit_per_minute)?;
    let request = TokenRequest {
        name: TokenName::parse(&body.name)?,
        description: body.description.map(Description::parse).transpose()?,
        permissions: Permissions {
            scopes,
            expires_at,
            restrictions,
        },
    };
    let (issued, shown) = store
        .write(move |conn| {
            let org = auth.org_id.clone();
            let issued = tokens::create(conn, &org, &Caller::Credential(auth), &request, now)?;
            let shown = tokens::show(conn, &org, &issued.id, now)?;
            Ok((issued, shown))
        })
        .await?;
    Ok(minted(&issued, TokenView::new(shown, now), None))
}

/// The network rule from whichever of `allowed_cidrs` (the older field: CIDRs only),
/// `only_from` and `not_from` is given; none or an empty list is anywhere.
fn network_rule(
    allowed_cidrs: Option<&[String]>,
    only_from: Option<&[String]>,
    not_from: Option<&[String]>,
) -> Result<Network> {
    let given = [allowed_cidrs, only_from, not_from]
        .iter()
        .filter(|list| list.is_some_and(|list| !list.is_empty()))
        .count();
    if given > 1 {
        return Err(ProtocolError::invalid_value(
            "give at most one of allowed_cidrs, only_from and not_from",
        )
        .into());
    }
    if let Some(cidrs) = allowed_cidrs {
        let cidrs = input::parse_networks(cidrs)
            .map_err(|e| ProtocolError::invalid_value(format!("allowed_cidrs: {e}")))?;
        if !cidrs.is_empty() {
            return Ok(Network::allowlist(cidrs));
        }
    }
    input::parse_network_rule(only_from, not_from)
        .map_err(|e| ProtocolError::invalid_value(e).into())
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn explicit<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateToken {
    name: Option<String>,
    #[serde(default, deserialize_with = "explicit")]
    description: Option<Option<String>>,
    /// `active`, `disabled` or `revoked` (for good).
    status: Option<String>,
    #[serde(default, deserialize_with = "explicit")]
    allowed_cidrs: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "explicit")]
    only_from: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "explicit")]
    not_from: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "explicit")]
    rate_limit_per_minute: Option<Option<u32>>,
}

pub async fn update_token(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    body: web::Json<UpdateToken>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = token_id(&id)?;
    let body = body.into_inner();
    // Any of the three fields replaces the whole rule; `null` or `[]` lifts it.
    let fields = [&body.allowed_cidrs, &body.only_from, &body.not_from];
    let network = match fields.iter().filter(|field| field.is_some()).count() {
        0 => None,
        1 => {
            let list = |field: &Option<Option<Vec<String>>>| field.clone().flatten();
            Some(network_rule(
                list(&body.allowed_cidrs).as_deref(),
                list(&body.only_from).as_deref(),
                list(&body.not_from).as_deref(),
            )?)
        }
        _ => {
            return Err(ProtocolError::invalid_value(
                "give at most one of allowed_cidrs, only_from and not_from",
            )
            .into());
        }
    };
    let edit = TokenEdit {
        name: body.name.as_deref().map(TokenName::parse).transpose()?,
        description: body
            .description
            .map(|text| text.map(Description::parse).transpose())
            .transpose()?,
        status: body
            .status
            .as_deref()
            .map(StatusChange::parse)
            .transpose()?,
        network,
        rate_limit_per_minute: body.rate_limit_per_minute,
    };
    let now = store::now();
    let shown = store
        .write(move |conn| {
            let org = auth.org_id.clone();
            tokens::edit(conn, &org, &Caller::Credential(auth), &id, &edit, now)
        })
        .await?;
    Ok(json_response(&TokenView::new(shown, now)))
}

/// `DELETE`: revokes for good, at once, on every instance. Revoking twice is harmless. Any
/// tokens:manage token may revoke any token of its organization (see
/// [`tokens::revoke`]).
pub async fn revoke_token(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = token_id(&id)?;
    store
        .write(move |conn| {
            let org = auth.org_id.clone();
            tokens::revoke(conn, &org, &Caller::Credential(auth), &id, store::now())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateToken {
    grace_period_seconds: Option<i64>,
}

/// `POST …/rotate`: mints the successor; the body (optional) may set the grace period.
pub async fn rotate_token(
    auth: AuthContext,
    store: web::Data<Store>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let id = token_id(&id)?;
    let request: RotateToken = if body.iter().all(u8::is_ascii_whitespace) {
        RotateToken::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ProtocolError::invalid_syntax(format!("the body is not valid JSON: {error}"))
        })?
    };
    let grace = request
        .grace_period_seconds
        .map_or_else(|| Ok(Grace::default()), Grace::seconds)?;
    let now = store::now();
    let rotation = store
        .write(move |conn| {
            let org = auth.org_id.clone();
            tokens::rotate(conn, &org, &Caller::Credential(auth), &id, grace, now)
        })
        .await?;
    Ok(minted(
        &rotation.issued,
        TokenView::new(rotation.successor, now),
        Some(TokenView::new(rotation.predecessor, now)),
    ))
}
