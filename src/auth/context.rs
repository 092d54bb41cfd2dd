//! The authenticated caller. `crate::http::auth` reads it from a request.

use chrono::NaiveDateTime;

use super::{Scope, Scopes};
use crate::error::{Error, Result};
use crate::store::data_version::Version;
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
    /// The database's version, read before the credential was looked up (on SQLite: see
    /// [`crate::store::data_version`]); a cache of other reads in the same request may take it
    /// instead of reading it again. `None` when it was not read.
    pub data_version: Option<Version>,
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
}
