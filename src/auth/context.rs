//! The authenticated caller, as an actix extractor.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use chrono::NaiveDateTime;

use super::{Authenticator, Scope, Scopes};
use crate::error::{Error, Result};
use crate::http::extract::TrustedProxies;
use crate::store::{OrgId, TokenId};

/// Who made the request and what it may do. Handlers take it as an argument; a request
/// without valid credentials never reaches them.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub org_id: OrgId,
    pub principal: Principal,
    pub scopes: Scopes,
    /// When the token stops working, if that is within the warning window: answered to the
    /// client as `Sunset` (RFC 8594).
    pub sunset: Option<NaiveDateTime>,
}

/// The credential behind a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Token { id: TokenId, display_prefix: String },
    SharedSecret,
}

impl AuthContext {
    /// Refuses with 403 unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this token lacks the '{}' scope",
                scope.as_str()
            )))
        }
    }

    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Token { id, .. } => format!("token:{id}"),
            Principal::SharedSecret => "auth_secret".to_owned(),
        }
    }
}

impl FromRequest for AuthContext {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticator = request.app_data::<web::Data<Authenticator>>().cloned();
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let client_ip = client_ip(request);
        let request = request.clone();
        Box::pin(async move {
            let authenticator = authenticator
                .ok_or_else(|| Error::internal("the authenticator is not registered"))?;
            let context = authenticator
                .authenticate(authorization.as_deref(), client_ip)
                .await?;
            // For middleware that acts on the caller after the handler: expiry warnings and
            // the audit of SCIM writes.
            request.extensions_mut().insert(context.clone());
            Ok(context)
        })
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left are
/// whatever the client chose to send).
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip().to_canonical();
    let Some(trusted) = request
        .app_data::<web::Data<TrustedProxies>>()
        .filter(|proxies| proxies.contains(peer))
    else {
        return Some(peer);
    };
    let forwarded: Vec<IpAddr> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .map(|address| address.to_canonical())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|address| !trusted.contains(**address))
        .or(forwarded.first())
        .copied()
        .or(Some(peer))
}
