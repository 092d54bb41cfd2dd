//! What `scimd serve` sets up on a database it finds empty.

pub mod token_file;

use secrecy::ExposeSecret;

use crate::auth::Scopes;
use crate::auth::bounds::Permissions;
use crate::auth::lifecycle::{self, Refusal, Restrictions};
use crate::auth::token::digest;
use crate::error::{Error, Result};
use crate::scim::error::ScimType;
use crate::service::audit::Actor;
use crate::service::input::{Description, TokenName};
use crate::service::people::{self, SetupLink};
use crate::service::tokens::{self, Caller, IssuedToken, TokenRequest};
use crate::store::tokens::TokenRecord;
use crate::store::{
    self, DbConn, OrgId, Store, TokenId, orgs, people as person_rows, state, tokens as token_rows,
};

/// The organization a first start creates.
pub const DEFAULT_ORG: &str = "default";
const FIRST_START_KEY: &str = "first_start";
/// The id of the token the first start minted, so later starts can tell whether it was used.
const FIRST_TOKEN_KEY: &str = "first_start_token";
/// The digest of the first owner's set-up code, so later starts can tell whether it was used.
const FIRST_SETUP_KEY: &str = "first_start_setup_code";

/// The organization, token and console set-up link a first start created; the token and the
/// link are shown once.
pub struct FirstStart {
    pub org_name: String,
    pub token: IssuedToken,
    /// Makes whoever follows it the organization's first owner, within 24 hours.
    pub setup_link: SetupLink,
}

/// On a database without organizations, creates `default`, one token for it and a link that
/// makes its first console owner. Decided in
/// one write transaction on a key recorded for good, so it happens once per database even
/// when several instances start together, and never again after.
pub fn first_start(store: &Store) -> Result<Option<FirstStart>> {
    store.write_blocking(|conn| {
        let now = store::now();
        if !state::claim_once(conn, FIRST_START_KEY, &now.to_string())? {
            return Ok(None);
        }
        if orgs::count_orgs(conn)? > 0 {
            return Ok(None);
        }
        let org = orgs::insert_org(conn, DEFAULT_ORG, now)?;
        let request = TokenRequest {
            name: TokenName::parse("first-start token")?,
            description: Some(Description::parse(
                "Created by scimd on its first start".to_owned(),
            )?),
            permissions: Permissions {
                scopes: Scopes::SCIM,
                expires_at: None,
                restrictions: Restrictions::default(),
            },
        };
        let caller = Caller::Admin(Actor::FirstStart);
        let token = tokens::create(conn, &org.id, &caller, &request, now)?;
        state::claim_once(conn, FIRST_TOKEN_KEY, token.id.as_str())?;
        let setup_link = people::first_owner_link(conn, &org.id, now)?;
        let code_digest = digest(setup_link.code.expose_secret());
        state::claim_once(conn, FIRST_SETUP_KEY, code_digest.as_str())?;
        Ok(Some(FirstStart {
            org_name: org.name,
            token,
            setup_link,
        }))
    })
}

/// The first start's token while it waits for its first use: never used, and still usable
/// (a disabled one may be enabled again; a revoked, expired, superseded or inactive one will
/// never be used). Whoever holds it has not needed it yet, or nobody holds it.
pub fn unused_first_token(store: &Store) -> Result<Option<TokenRecord>> {
    store.run_blocking(|conn| {
        let Some(id) = state::get(conn, FIRST_TOKEN_KEY)?.and_then(|id| TokenId::parse(&id)) else {
            return Ok(None);
        };
        pending_first_use(conn, &id)
    })
}

/// Token `id` while it has never been used and still can be (see [`unused_first_token`]).
pub fn pending_first_use(conn: &mut DbConn, id: &TokenId) -> Result<Option<TokenRecord>> {
    let Some(record) = token_rows::find_token_any_org(conn, id)? else {
        return Ok(None);
    };
    let now = store::now();
    let shown = tokens::show(conn, &record.org_id, id, now)?;
    let record = shown.record;
    let usable = matches!(
        lifecycle::refusal(&record, shown.inactivity_days, now),
        None | Some(Refusal::Disabled)
    );
    Ok((record.first_used_at.is_none() && usable).then_some(record))
}

/// Whether the first start's set-up link can still be used: unused and unexpired.
pub fn first_setup_link_pending(store: &Store) -> Result<bool> {
    store.run_blocking(|conn| {
        let Some(code_digest) = state::get(conn, FIRST_SETUP_KEY)? else {
            return Ok(false);
        };
        Ok(person_rows::find_setup_code(conn, &code_digest)?
            .is_some_and(|code| code.used_at.is_none() && code.expires_at > store::now()))
    })
}

/// Finds the organization named `name`, creating it if missing.
pub fn ensure_org(store: &Store, name: &str) -> Result<OrgId> {
    let find_or_insert = || {
        store.write_blocking(|conn| match orgs::find_org_by_name(conn, name)? {
            Some(org) => Ok(org.id),
            None => Ok(orgs::insert_org(conn, name, store::now())?.id),
        })
    };
    match find_or_insert() {
        // Another instance starting at the same moment inserted it between our look and our
        // insert (PostgreSQL lets both look first); it is there now.
        Err(Error::Protocol(error)) if error.scim_type == ScimType::Uniqueness => find_or_insert(),
        other => other,
    }
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart")
            .field("org_name", &self.org_name)
            .field("token_id", &self.token.id)
            .field("setup_link_expires_at", &self.setup_link.expires_at)
            .finish_non_exhaustive()
    }
}
