//! The authenticated caller, as an actix extractor.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::{Authenticator, Scope, Scopes};
use crate::error::{Error, Result};
use crate::store::{OrgId, TokenId};

/// Who made the request and what it may do. Handlers take it as an argument; a request
/// without valid credentials never reaches them.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub org_id: OrgId,
    pub principal: Principal,
    pub scopes: Scopes,
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
        let remote_ip = request.peer_addr().map(|address| address.ip().to_string());
        Box::pin(async move {
            let authenticator = authenticator
                .ok_or_else(|| Error::internal("the authenticator is not registered"))?;
            authenticator
                .authenticate(authorization.as_deref(), remote_ip)
                .await
        })
    }
}
