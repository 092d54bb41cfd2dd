//! Cross-site request forgery: every console POST carries a `csrf` field equal to a secret
//! the attacker's page cannot read, and, when the browser says where the form came from
//! (`Origin`), it must be this server. Both are checked here, before a handler sees the form,
//! so no page can forget them.
//!
//! Signed-in forms use the session's own token ([`CsrfForm`]). The sign-in and set-up forms
//! come before any session, so they compare the field with a cookie set when the form was
//! shown ([`PublicForm`], a double-submit token): a forged sign-in would otherwise sign the
//! victim in to the attacker's account.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::session::{self, Signed};
use crate::error::Error;

/// The cookie of the pre-session forms.
pub const FORM_COOKIE: &str = "scimd_form";

/// Console forms are small; anything larger is not one of ours.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form posted by a signed-in person, with a valid CSRF token and origin.
pub struct CsrfForm<T>(pub T);

/// A sign-in or set-up form, with a token matching its cookie and a valid origin.
pub struct PublicForm<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let body = web::Bytes::from_request(&request, payload);
        Box::pin(async move {
            check_origin(&request)?;
            let signed = Signed::extract(&request).await?;
            let body = body.await.map_err(|_| unreadable())?;
            if !signed.csrf_matches(&sent_token(&body)?) {
                return Err(refused_token());
            }
            parse(&body).map(CsrfForm)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for PublicForm<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let body = web::Bytes::from_request(&request, payload);
        Box::pin(async move {
            check_origin(&request)?;
            let expected = request
                .cookie(FORM_COOKIE)
                .map(|cookie| cookie.value().to_owned())
                .ok_or(ConsoleError::Forbidden)?;
            let body = body.await.map_err(|_| unreadable())?;
            let sent = sent_token(&body)?;
            let equal: bool = sent.as_bytes().ct_eq(expected.as_bytes()).into();
            if expected.is_empty() || !equal {
                return Err(refused_token());
            }
            parse(&body).map(PublicForm)
        })
    }
}

fn unreadable() -> ConsoleError {
    ConsoleError::BadRequest("The form could not be read.".to_owned())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConsoleError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(ConsoleError::Service(Error::PayloadTooLarge(
            "the form is too large".to_owned(),
        )));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| unreadable())
}

/// The form's `csrf` field (empty when missing).
fn sent_token(body: &[u8]) -> Result<String, ConsoleError> {
    let sent: TokenField = serde_urlencoded::from_bytes(body).map_err(|_| unreadable())?;
    Ok(sent.csrf)
}

fn refused_token() -> ConsoleError {
    log::info!("console form refused: missing or wrong CSRF token");
    ConsoleError::Forbidden
}

/// Where the browser says the form came from must be this server. `Origin`, when it names a
/// site, must be ours (scheme and host). Chromium sends `Origin: null` for a same-origin form
/// under `Referrer-Policy: no-referrer` (the Fetch standard's rule for non-CORS POSTs), so
/// `null` says nothing; `Sec-Fetch-Site`, which pages cannot forge, then decides when sent.
/// Without either (a non-browser client) the token alone decides, as it also does after
/// these checks.
fn check_origin(request: &HttpRequest) -> Result<(), ConsoleError> {
    let headers = request.headers();
    let origin = headers
        .get(header::ORIGIN)
        .map(|value| value.to_str().unwrap_or("?"))
        .filter(|origin| *origin != "null");
    if let Some(origin) = origin {
        let own = session::own_origin(request);
        if !own.is_some_and(|own| origin.eq_ignore_ascii_case(&own)) {
            log::info!("console form refused: Origin is another site");
            return Err(ConsoleError::Forbidden);
        }
    }
    let fetch_site = headers
        .get("sec-fetch-site")
        .map(|value| value.to_str().unwrap_or("?"));
    if let Some(site) = fetch_site
        && site != "same-origin"
        && site != "none"
    {
        log::info!("console form refused: Sec-Fetch-Site is {site}");
        return Err(ConsoleError::Forbidden);
    }
    Ok(())
}

/// A new random secret: 32 bytes from the operating system, base64url.
pub fn random_token() -> Result<String, ConsoleError> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| ConsoleError::Service(Error::internal(error)))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The token for a pre-session form: the browser's current one, or a new one with the
/// cookie that carries it (to be set on the response showing the form).
pub fn public_token(
    request: &HttpRequest,
) -> Result<(String, Option<Cookie<'static>>), ConsoleError> {
    if let Some(existing) = request.cookie(FORM_COOKIE)
        && existing.value().len() >= 32
    {
        return Ok((existing.value().to_owned(), None));
    }
    let token = random_token()?;
    let cookie = Cookie::build(FORM_COOKIE, token.clone())
        .path(super::PREFIX)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(session::is_https(request))
        .finish();
    Ok((token, Some(cookie)))
}
