//! The members of an organization: listing them, changing roles, removing them. An
//! organization always keeps an owner, and removing a person never silently breaks the
//! tokens they created: each is kept or revoked, as the owner decides.

use chrono::NaiveDateTime;
use serde_json::json;

use super::fields::Email;
use super::{MemberView, Role, find_member};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::service::audit::{Actor, Event, EventKind, Target};
use crate::service::tokens::{self, Caller};
use crate::store::people as stored;
use crate::store::tokens::{self as stored_tokens, TokenRecord};
use crate::store::{DbConn, OrgId, TokenId};

/// What becomes of a token made by a person who is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDecision {
    /// It keeps working: the IdP that uses it keeps provisioning.
    Keep,
    /// It stops at once.
    Revoke,
}

/// The members of `org`, by e-mail address.
pub fn list(conn: &mut DbConn, org: &OrgId) -> Result<Vec<MemberView>> {
    stored::members_of(conn, org)?
        .into_iter()
        .map(|(person, role, joined)| {
            Ok(MemberView {
                role: Role::stored(&role)?,
                has_password: person.password_hash.is_some(),
                email: person.email,
                display_name: person.display_name,
                created_at: joined,
                last_sign_in_at: person.last_sign_in_at,
            })
        })
        .collect()
}

/// Gives a member of `org` another role; the last owner stays one. Records
/// `person.role_changed` when the role changed.
pub fn change_role(
    conn: &mut DbConn,
    org: &OrgId,
    actor: &Actor,
    email: &Email,
    role: Role,
    now: NaiveDateTime,
) -> Result<()> {
    let (person, current) = find_member(conn, org, email)?;
    if current == role {
        return Ok(());
    }
    if current == Role::Owner {
        keep_an_owner(conn, org, "change the role of")?;
    }
    stored::set_role(conn, org, &person.id, role.as_str())?;
    Event {
        kind: EventKind::PersonRoleChanged,
        org: Some(org),
        actor: Some(actor),
        target: Some(Target::Person(email.as_str())),
        remote_addr: None,
        details: json!({ "from": current.as_str(), "to": role.as_str() }),
    }
    .record(conn, now)
}

/// The working tokens of `org` that `email` created in the console, newest first: what the
/// owner decides about when removing them.
pub fn tokens_created_by(
    conn: &mut DbConn,
    org: &OrgId,
    email: &Email,
) -> Result<Vec<TokenRecord>> {
    let creator = Actor::Person(email.as_str().to_owned()).to_string();
    stored_tokens::unrevoked_tokens_created_by(conn, org, &creator)
}

/// Removes `email` from `org`: the tokens they created are revoked where `decisions` says
/// [`TokenDecision::Revoke`] (through the token use case, which records each) and kept
/// otherwise; a decision about a token they did not create is refused. A person left in no
/// organization is deleted with their sessions; one who stays elsewhere loses this
/// organization on their next request. The last owner cannot be removed. Records
/// `person.removed`.
pub fn remove(
    conn: &mut DbConn,
    org: &OrgId,
    actor: &Actor,
    email: &Email,
    decisions: &[(TokenId, TokenDecision)],
    now: NaiveDateTime,
) -> Result<()> {
    let (person, role) = find_member(conn, org, email)?;
    if role == Role::Owner {
        keep_an_owner(conn, org, "remove")?;
    }
    let theirs = tokens_created_by(conn, org, email)?;
    let caller = Caller::Admin(actor.clone());
    let mut revoked = Vec::new();
    for (id, decision) in decisions {
        if !theirs.iter().any(|token| &token.id == id) {
            return Err(Error::NotFound(format!(
                "{email} created no working token {id} in this organization"
            )));
        }
        if *decision == TokenDecision::Revoke {
            tokens::revoke(conn, org, &caller, id, now)?;
            revoked.push(id.as_str());
        }
    }
    stored::delete_membership(conn, org, &person.id)?;
    if stored::memberships_of(conn, &person.id)?.is_empty() {
        stored::delete_person(conn, &person.id)?;
    }
    Event {
        kind: EventKind::PersonRemoved,
        org: Some(org),
        actor: Some(actor),
        target: Some(Target::Person(email.as_str())),
        remote_addr: None,
        details: json!({
            "role": role.as_str(),
            "revoked_tokens": revoked,
            "kept_tokens": theirs.len() - revoked.len(),
        }),
    }
    .record(conn, now)
}

/// Refuses to take the owner role from `org`'s only owner.
fn keep_an_owner(conn: &mut DbConn, org: &OrgId, doing: &str) -> Result<()> {
    if stored::count_role(conn, org, Role::Owner.as_str())? <= 1 {
        return Err(ProtocolError::invalid_value(format!(
            "cannot {doing} the organization's only owner: make someone else an owner first"
        ))
        .into());
    }
    Ok(())
}
