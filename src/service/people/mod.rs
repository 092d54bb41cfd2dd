//! People who administer organizations in the console: accounts with a role per
//! organization, one-time set-up links, sign-in and sessions. The console, the CLI and the
//! first start call these; role rules live in [`Role::may`] and nowhere else.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::audit::{Actor, Event, EventKind, Target};
use super::views::rfc3339;
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::store::people::{self as stored, PersonRecord};
use crate::store::{DbConn, OrgId, PersonId};

mod fields;
mod members;
mod sessions;
mod setup;
mod sign_in;

pub use fields::{DisplayName, Email, check_password_policy};
pub use members::{TokenDecision, change_role, list, remove, tokens_created_by};
pub use sessions::{
    ABSOLUTE_TIMEOUT, FormNonce, IDLE_TIMEOUT, Membership, SessionUpkeep, SessionView, SignedIn,
    keep_up, session, sessions_of, sign_out, sign_out_everywhere, use_form_nonce,
};
pub use setup::{
    PendingSetup, SetupAnswers, SetupLink, SetupPurpose, complete_setup, create_with_password,
    first_owner_link, invite, pending_setup, reset_password, set_display_name,
};
pub use sign_in::{
    NewSession, SIGN_IN_FAILED, SignInAttempt, SignInThrottle, refusal_message, sign_in,
};

/// What a person may be in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including people and the organization's settings.
    Owner,
    /// Tokens, network zones and token policies.
    Admin,
    /// Reads everything, changes nothing.
    Viewer,
}

/// Something a page or command lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the organization: tokens, directory, audit log, connection details.
    ViewConsole,
    /// Create, edit, disable, enable, rotate and revoke tokens.
    ManageTokens,
    /// Define network zones.
    ManageZones,
    /// See and manage the change feed's event streams (their events hold the directory).
    ManageEvents,
    /// Change the organization's settings and token policies.
    ManageSettings,
    /// Invite people, change their roles, remove them.
    ManagePeople,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Viewer];

    /// The one place the role rules live.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::ViewConsole => true,
            Action::ManageTokens | Action::ManageZones | Action::ManageEvents => {
                matches!(self, Role::Owner | Role::Admin)
            }
            // The issue gives admins "org policies" and owners "org settings": policies are
            // the token rules (inactivity, default rate limit), which is what settings hold.
            Action::ManageSettings => matches!(self, Role::Owner | Role::Admin),
            Action::ManagePeople => self == Role::Owner,
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => {
                Err(ProtocolError::invalid_value("the role is 'owner', 'admin' or 'viewer'").into())
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// A role read back from the store, written by [`Role::as_str`].
    fn stored(text: &str) -> Result<Role> {
        Role::parse(text).map_err(|_| Error::internal(format!("unknown stored role '{text}'")))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person as shown; never their password hash.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    #[serde(skip)]
    pub id: PersonId,
    pub email: String,
    pub display_name: String,
    /// False until they follow their set-up link.
    pub has_password: bool,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

impl From<PersonRecord> for PersonView {
    fn from(record: PersonRecord) -> Self {
        PersonView {
            id: record.id,
            email: record.email,
            display_name: record.display_name,
            has_password: record.password_hash.is_some(),
            created_at: record.created_at,
            last_sign_in_at: record.last_sign_in_at,
        }
    }
}

/// A member of one organization as listed (the console's People page, `scimd admin list`).
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// False while their set-up link is unused.
    pub has_password: bool,
    /// When they joined the organization.
    #[serde(serialize_with = "as_rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "as_optional_rfc3339")]
    pub last_sign_in_at: Option<NaiveDateTime>,
}

fn as_rfc3339<S: serde::Serializer>(time: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*time))
}

fn as_optional_rfc3339<S: serde::Serializer>(
    time: &Option<NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => s.serialize_str(&rfc3339(*time)),
        None => s.serialize_none(),
    }
}

/// A new random secret for a cookie, a set-up code or a CSRF token: 32 bytes from the
/// operating system, base64url without padding (safe in URLs and cookies as it is).
fn random_secret() -> Result<SecretString> {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).map_err(Error::internal)?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
}

/// The person with this address, or the one 404 every lookup by address gives.
fn find_by_email(conn: &mut DbConn, email: &Email) -> Result<PersonRecord> {
    stored::find_person_by_email(conn, email.as_str())?
        .ok_or_else(|| Error::NotFound(format!("no person with e-mail address {email}")))
}

/// A member of `org` and their role, or 404: another organization's people are not there.
fn find_member(conn: &mut DbConn, org: &OrgId, email: &Email) -> Result<(PersonRecord, Role)> {
    let not_member = || Error::NotFound(format!("{email} is not a member of this organization"));
    let person = stored::find_person_by_email(conn, email.as_str())?.ok_or_else(not_member)?;
    let role = stored::find_role(conn, org, &person.id)?.ok_or_else(not_member)?;
    Ok((person, Role::stored(&role)?))
}

/// Records `kind` about `person` once in each organization they belong to (each owner reads
/// their own organization's log), or once server-wide when they belong to none.
fn record_for_person(
    conn: &mut DbConn,
    kind: EventKind,
    person: &PersonRecord,
    actor: Option<&Actor>,
    remote_addr: Option<&str>,
    now: NaiveDateTime,
) -> Result<()> {
    let orgs: Vec<Option<OrgId>> = match stored::memberships_of(conn, &person.id)? {
        list if list.is_empty() => vec![None],
        list => list.into_iter().map(|m| Some(m.org_id)).collect(),
    };
    for org in &orgs {
        Event {
            kind,
            org: org.as_ref(),
            actor,
            target: Some(Target::Person(&person.email)),
            remote_addr,
            details: json!({}),
        }
        .record(conn, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_do_everything_admins_all_but_people_viewers_only_look() {
        let actions = [
            Action::ViewConsole,
            Action::ManageTokens,
            Action::ManageZones,
            Action::ManageSettings,
            Action::ManagePeople,
        ];
        let allowed = |role: Role| -> Vec<bool> { actions.iter().map(|a| role.may(*a)).collect() };
        assert_eq!(allowed(Role::Owner), [true, true, true, true, true]);
        assert_eq!(allowed(Role::Admin), [true, true, true, true, false]);
        assert_eq!(allowed(Role::Viewer), [true, false, false, false, false]);
    }

    #[test]
    fn roles_read_back_as_written() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert_eq!(Role::parse(" Owner ").unwrap(), Role::Owner);
        assert!(Role::parse("root").is_err());
    }
}
