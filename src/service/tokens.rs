//! Token use cases, for every front end (management API, CLI, first start, the console to
//! come): create, list, show, edit, disable and enable, rotate, revoke, and the organization's
//! inactivity policy. Each runs inside the caller's write transaction and records its audit
//! event there; input arrives parsed ([`super::input`]).

use chrono::NaiveDateTime;
use secrecy::SecretString;
use serde_json::json;

use super::audit::{Actor, Event, EventKind};
use super::input::{Description, Grace, TokenName};
use super::push::notices::Notice;
use crate::auth::bounds::{self, Permissions};
use crate::auth::lifecycle::{self, Network, Restrictions};
use crate::auth::{AuthContext, Principal, Scopes, token};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::store::tokens::{self as stored, NewToken, TokenChanges, TokenRecord};
use crate::store::zones as zone_links;
use crate::store::{DbConn, OrgId, TokenId, orgs};

mod detail;
pub mod health;
pub mod leaks;
mod list;
mod network;
pub mod warnings;

pub use detail::{Party, TokenDetail, detail};
pub use health::Health;
pub use list::{
    MAX_PAGE, ShownToken, TokenListQuery, TokenPage, TokenSort, TokenSortKey, list,
    parse_status_filter,
};
pub use warnings::{EXPIRY_WARNING_DAYS, TokenWarning, WarningKind, expiry_warning, warnings};

/// Who asks, and within which bounds.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The operator at the command line, or the server itself: an administrator, not bounded.
    Admin(Actor),
    /// A request made with a tokens:manage credential: it may only create or hand out what
    /// it holds itself (`auth::bounds`).
    Credential(AuthContext),
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Admin(actor) => actor.clone(),
            Caller::Credential(auth) => Actor::of(auth),
        }
    }

    /// The permissions that bound the caller, read in the caller's transaction so that an
    /// edit a token makes to itself is judged against what it was; `None`: not bounded.
    pub(crate) fn bounds(&self, conn: &mut DbConn) -> Result<Option<Permissions>> {
        let Caller::Credential(auth) = self else {
            return Ok(None);
        };
        match &auth.principal {
            Principal::Token { id, .. } => {
                Permissions::of(&load(conn, &auth.org_id, id)?).map(Some)
            }
            Principal::SharedSecret => Ok(Some(Permissions {
                scopes: auth.scopes,
                expires_at: None,
                restrictions: Restrictions::default(),
            })),
        }
    }

    /// Refuses with 403 unless `requested` is within the caller's bounds.
    fn check_within(&self, conn: &mut DbConn, requested: &Permissions) -> Result<()> {
        match self.bounds(conn)? {
            Some(holder) => bounds::check_within(&holder, requested),
            None => Ok(()),
        }
    }

    /// Loads a token of `org` (or 404) that the caller may change by `edit`: the token as it
    /// will be must be within the caller's bounds (403 otherwise). Rotating mints a secret
    /// with the token's permissions, and re-enabling it or lifting its restrictions hands
    /// them back, so this is the rule for creating a token too. A token changing itself can
    /// thus tighten, never loosen, its own restrictions.
    fn load_manageable(
        &self,
        conn: &mut DbConn,
        org: &OrgId,
        id: &TokenId,
        edit: &RestrictionEdit,
    ) -> Result<TokenRecord> {
        let holder = self.bounds(conn)?;
        let record = load(conn, org, id)?;
        if let Some(holder) = holder {
            let mut after = Permissions::of(&record)?;
            if let Some(network) = &edit.network {
                after.restrictions.network.clone_from(network);
            }
            if let Some(limit) = edit.rate_limit_per_minute {
                after.restrictions.rate_limit_per_minute = limit;
            }
            bounds::check_within(&holder, &after)?;
        }
        Ok(record)
    }
}

/// A change to a token's network rule and rate limit; `None` leaves one alone.
#[derive(Debug, Clone, Default)]
struct RestrictionEdit {
    network: Option<Network>,
    rate_limit_per_minute: Option<Option<u32>>,
}

/// What a new token is called and may do.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: TokenName,
    pub description: Option<Description>,
    pub permissions: Permissions,
}

/// A token just minted. `plain` is the only copy of the secret there will ever be.
pub struct IssuedToken {
    pub id: TokenId,
    pub plain: SecretString,
    pub display_prefix: String,
}

/// Creates a token within the caller's bounds; records `token.created`.
pub fn create(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    request: &TokenRequest,
    now: NaiveDateTime,
) -> Result<IssuedToken> {
    caller.check_within(conn, &request.permissions)?;
    mint(conn, org, request, &caller.actor(), None, now)
}

/// Stores a new token's digest and records `token.created`; `rotated_from` names the token
/// this one replaces.
fn mint(
    conn: &mut DbConn,
    org: &OrgId,
    request: &TokenRequest,
    actor: &Actor,
    rotated_from: Option<&TokenId>,
    now: NaiveDateTime,
) -> Result<IssuedToken> {
    let Permissions {
        scopes,
        expires_at,
        restrictions,
    } = &request.permissions;
    if scopes.is_empty() {
        return Err(ProtocolError::invalid_value("a token needs at least one scope").into());
    }
    if expires_at.is_some_and(|expiry| expiry <= now) {
        return Err(ProtocolError::invalid_value("the expiry must lie in the future").into());
    }
    restrictions.validate()?;
    let generated = token::generate().map_err(Error::internal)?;
    let scopes = scopes.to_string();
    let network = network::stored_network(conn, org, &restrictions.network)?;
    let created_by = actor.to_string();
    let id = stored::insert_token(
        conn,
        &NewToken {
            org_id: org,
            name: request.name.as_str(),
            description: request.description.as_ref().map(Description::as_str),
            token_digest: generated.digest.as_str(),
            display_prefix: &generated.display_prefix,
            scopes: &scopes,
            created_by: &created_by,
            expires_at: *expires_at,
            allowed_cidrs: network.allowed_cidrs.as_deref(),
            denied_cidrs: network.denied_cidrs.as_deref(),
            rate_limit_per_minute: restrictions.rate_limit_i32(),
            rotated_from,
        },
        now,
    )?;
    zone_links::set_token_zones(conn, org, &id, &network.zones)?;
    let details = json!({
        "name": request.name.as_str(),
        "prefix": generated.display_prefix,
        "scopes": scopes,
    });
    Event::on_token(EventKind::TokenCreated, org, actor, &id, details).record(conn, now)?;
    Ok(IssuedToken {
        id,
        plain: generated.plain,
        display_prefix: generated.display_prefix,
    })
}

/// Loads a token of `org`, or 404.
fn load(conn: &mut DbConn, org: &OrgId, id: &TokenId) -> Result<TokenRecord> {
    stored::find_token(conn, org, id)?.ok_or_else(|| Error::not_found(format_args!("token {id}")))
}

/// The fewest leading characters of a token id the operator may give.
pub const MIN_ID_PREFIX: usize = 8;

/// The one token of any organization whose id starts with `prefix` (at least
/// [`MIN_ID_PREFIX`] characters): ids are long, and the short form the CLI's tables show is
/// what an operator copies.
pub fn find_by_id_prefix(conn: &mut DbConn, prefix: &str) -> Result<TokenRecord> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.chars().count() < MIN_ID_PREFIX {
        return Err(ProtocolError::invalid_value(format!(
            "'{prefix}' is too short: give at least {MIN_ID_PREFIX} characters of the token id"
        ))
        .into());
    }
    let mut found = stored::find_tokens_by_id_prefix(conn, &prefix, 2)?;
    match (found.pop(), found.is_empty()) {
        (Some(token), true) => Ok(token),
        (Some(_), false) => Err(ProtocolError::invalid_value(format!(
            "'{prefix}' is ambiguous: several token ids start with it; give more characters"
        ))
        .into()),
        (None, _) => Err(Error::NotFound(format!(
            "no token with id starting '{prefix}', see `scimd token list`"
        ))),
    }
}

/// The working tokens of `org` already named `name` (ignoring case): a second one is allowed,
/// but the operator who tells tokens apart by name should hear about it.
pub fn active_namesakes(
    conn: &mut DbConn,
    org: &OrgId,
    name: &TokenName,
    now: NaiveDateTime,
) -> Result<Vec<TokenRecord>> {
    let query = TokenListQuery {
        name_contains: Some(name.as_str().to_owned()),
        status: Some(stored::StatusFilter::Active),
        sort: TokenSort {
            key: TokenSortKey::Created,
            descending: true,
        },
        limit: MAX_PAGE,
        offset: 0,
    };
    let wanted = name.as_str().to_lowercase();
    Ok(list(conn, org, &query, now)?
        .tokens
        .into_iter()
        .map(|shown| shown.record)
        .filter(|token| token.name.to_lowercase() == wanted)
        .collect())
}

/// The names of the tokens among `ids` (of `org`, if given), by id; unknown ids are left
/// out.
pub fn names_by_id(
    conn: &mut DbConn,
    org: Option<&OrgId>,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    stored::token_names(conn, org, ids)
}

/// One token of `org` (or 404), with its organization's policy and its suspicion.
pub fn show(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    now: NaiveDateTime,
) -> Result<ShownToken> {
    let record = load(conn, org, id)?;
    let days = inactivity_policy(conn, org)?;
    let mut shown = list::annotated(conn, org, vec![record], days, now)?;
    shown
        .pop()
        .ok_or_else(|| Error::not_found(format_args!("token {id}")))
}

fn inactivity_policy(conn: &mut DbConn, org: &OrgId) -> Result<Option<i32>> {
    Ok(orgs::find_org(conn, org)?.and_then(|org| org.inactivity_days))
}

/// The state an edit may put a token in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Active,
    Disabled,
    /// For good.
    Revoked,
}

impl StatusChange {
    pub fn parse(text: &str) -> Result<StatusChange> {
        match text {
            "active" => Ok(StatusChange::Active),
            "disabled" => Ok(StatusChange::Disabled),
            "revoked" => Ok(StatusChange::Revoked),
            _ => Err(
                ProtocolError::invalid_value("status is 'active', 'disabled' or 'revoked'").into(),
            ),
        }
    }
}

/// Changes to a token; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct TokenEdit {
    pub name: Option<TokenName>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<Description>>,
    pub status: Option<StatusChange>,
    /// The whole network rule; `Some(Network::Any)` removes it.
    pub network: Option<Network>,
    /// `Some(None)` removes the token's own limit.
    pub rate_limit_per_minute: Option<Option<u32>>,
}

impl TokenEdit {
    /// Stopping a token is open to every caller that may manage tokens, as revoking is;
    /// anything else may hand power back.
    fn stops_only(&self) -> bool {
        matches!(
            self.status,
            Some(StatusChange::Revoked | StatusChange::Disabled)
        ) && self.name.is_none()
            && self.description.is_none()
            && self.network.is_none()
            && self.rate_limit_per_minute.is_none()
    }
}

/// Applies `edit` to a token of `org`: the token as changed must be within the caller's
/// bounds, unless the edit only stops it. Records `token.updated` for changed fields and
/// `token.disabled`, `token.enabled` or `token.revoked` for a changed status. Answers the
/// token as it is now.
pub fn edit(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &TokenId,
    edit: &TokenEdit,
    now: NaiveDateTime,
) -> Result<ShownToken> {
    let restrictions = Restrictions {
        network: edit.network.clone().unwrap_or_default(),
        rate_limit_per_minute: edit.rate_limit_per_minute.flatten(),
    };
    // Checked as a whole, like a new token's, before anything is looked up.
    restrictions.validate()?;
    if edit.stops_only() {
        load(conn, org, id)?;
    } else {
        let restriction_edit = RestrictionEdit {
            network: edit.network.clone(),
            rate_limit_per_minute: edit.rate_limit_per_minute,
        };
        caller.load_manageable(conn, org, id, &restriction_edit)?;
    }
    let network = edit
        .network
        .as_ref()
        .map(|network| network::stored_network(conn, org, network))
        .transpose()?;
    let changes = TokenChanges {
        name: edit.name.as_ref().map(|name| name.as_str().to_owned()),
        description: edit
            .description
            .as_ref()
            .map(|text| text.as_ref().map(|text| text.as_str().to_owned())),
        network,
        rate_limit_per_minute: edit
            .rate_limit_per_minute
            .map(|_| restrictions.rate_limit_i32()),
    };
    let actor = caller.actor();
    stored::update_token(conn, org, id, &changes)?;
    let fields: Vec<&str> = [
        changes.name.as_ref().map(|_| "name"),
        changes.description.as_ref().map(|_| "description"),
        changes.network.as_ref().map(|_| "network"),
        changes
            .rate_limit_per_minute
            .as_ref()
            .map(|_| "rate_limit_per_minute"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !fields.is_empty() {
        let details = json!({ "fields": fields });
        Event::on_token(EventKind::TokenUpdated, org, &actor, id, details).record(conn, now)?;
    }
    match edit.status {
        Some(StatusChange::Revoked) => {
            revoke_loaded(conn, org, id, &actor, now)?;
        }
        Some(status) => {
            switch(conn, org, id, status == StatusChange::Active, &actor, now)?;
        }
        None => {}
    }
    show(conn, org, id, now)
}

/// Disables (reversible) or re-enables a token of `org`; re-enabling hands its permissions
/// back, so the token must be within the caller's bounds. Records `token.disabled` or
/// `token.enabled` when it changed. A revoked token stays revoked.
pub fn set_enabled(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &TokenId,
    enabled: bool,
    now: NaiveDateTime,
) -> Result<TokenRecord> {
    if enabled {
        caller.load_manageable(conn, org, id, &RestrictionEdit::default())?;
    }
    switch(conn, org, id, enabled, &caller.actor(), now)
}

fn switch(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    enabled: bool,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<TokenRecord> {
    let record = load(conn, org, id)?;
    if record.revoked_at.is_some() {
        return Err(ProtocolError::invalid_value(format!(
            "token {id} is revoked; revocation cannot be undone"
        ))
        .into());
    }
    if stored::set_token_disabled(conn, org, id, (!enabled).then_some(now))? {
        let kind = if enabled {
            EventKind::TokenEnabled
        } else {
            EventKind::TokenDisabled
        };
        Event::on_token(kind, org, actor, id, json!({})).record(conn, now)?;
    }
    load(conn, org, id)
}

/// Revokes a token of `org` (or 404) for good, at once, on every instance; answers whether it
/// was live. Open to every caller, whatever the token holds: revocation is the emergency
/// brake for a leaked token and gives nobody anything. Records `token.revoked`, naming both
/// the caller and the token.
pub fn revoke(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &TokenId,
    now: NaiveDateTime,
) -> Result<bool> {
    load(conn, org, id)?;
    revoke_loaded(conn, org, id, &caller.actor(), now)
}

fn revoke_loaded(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool> {
    let revoked = stored::revoke_token(conn, org, id, now)?;
    if revoked {
        Event::on_token(EventKind::TokenRevoked, org, actor, id, json!({})).record(conn, now)?;
        super::push::notices::emit_for(conn, org, id, Notice::Revoked, now)?;
    }
    Ok(revoked)
}

/// A rotation's outcome: the successor's secret and both tokens as they are now.
pub struct Rotation {
    pub issued: IssuedToken,
    pub successor: ShownToken,
    pub predecessor: ShownToken,
}

/// Mints a successor with the predecessor's name, scopes, restrictions and expiry: the same
/// moment, not the same length from now, or a token could live forever by rotating itself.
/// Both work until the successor is first used; the predecessor then keeps `grace` and dies.
/// The token must be within the caller's bounds. Records `token.created` and `token.rotated`.
pub fn rotate(
    conn: &mut DbConn,
    org: &OrgId,
    caller: &Caller,
    id: &TokenId,
    grace: Grace,
    now: NaiveDateTime,
) -> Result<Rotation> {
    let predecessor = caller.load_manageable(conn, org, id, &RestrictionEdit::default())?;
    if let Some(reason) = lifecycle::refusal(&predecessor, None, now) {
        return Err(ProtocolError::invalid_value(format!(
            "token {id} is {}; only a working token can be rotated",
            reason.as_str()
        ))
        .into());
    }
    if let Some(successor) = &predecessor.superseded_by {
        return Err(ProtocolError::invalid_value(format!(
            "token {id} was already rotated; rotate its successor {successor}"
        ))
        .into());
    }
    let request = TokenRequest {
        // Stored names were trimmed and checked when written.
        name: TokenName::parse(&predecessor.name)?,
        description: predecessor
            .description
            .clone()
            .map(Description::parse)
            .transpose()?,
        permissions: Permissions {
            scopes: Scopes::parse(&predecessor.scopes).map_err(Error::internal)?,
            expires_at: predecessor.expires_at,
            restrictions: Restrictions::of(&predecessor),
        },
    };
    let actor = caller.actor();
    let issued = mint(conn, org, &request, &actor, Some(id), now)?;
    stored::mark_superseded(conn, org, id, &issued.id, grace.as_seconds())?;
    let details = json!({
        "successor": issued.id,
        "successor_prefix": issued.display_prefix,
        "grace_period_seconds": grace.as_seconds(),
    });
    Event::on_token(EventKind::TokenRotated, org, &actor, id, details).record(conn, now)?;
    let successor = show(conn, org, &issued.id, now)?;
    let predecessor = show(conn, org, id, now)?;
    Ok(Rotation {
        issued,
        successor,
        predecessor,
    })
}
