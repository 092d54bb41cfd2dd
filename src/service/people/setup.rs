//! One-time set-up links: the first owner's, an invitation's, a password reset's. A link
//! carries a random code; the store keeps only its digest, and a code works once, until it
//! expires.

use chrono::{NaiveDateTime, TimeDelta};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::fields::{DisplayName, Email, check_password_policy};
use super::{PersonView, Role, find_by_email, record_for_person};
use crate::auth::token::digest;
use crate::error::{Error, Result};
use crate::scim::error::{ProtocolError, ScimType};
use crate::service::audit::{Actor, Event, EventKind, Target};
use crate::store::people::{self as stored, NewSetupCode, PersonRecord};
use crate::store::{DbConn, OrgId, PersonId, Store, orgs};

/// How long a first owner's or a password reset's link works.
pub const SETUP_LINK_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// How long an invitation works: the owner hands it over by hand, which may take days.
pub const INVITATION_LIFETIME: TimeDelta = TimeDelta::days(7);

/// The one answer for a code that is unknown, used or expired: which of the three it is helps
/// only someone guessing codes.
const LINK_NOT_VALID: &str = "This set-up link is not valid: it may have been used already or have expired. Ask an \
     owner for a new one, or run `scimd admin reset-password EMAIL`.";

/// Why a link was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupPurpose {
    /// The first owner's link, or `scimd admin create` without a password.
    Setup,
    /// An owner invited someone.
    Invite,
    /// A new password for someone who has an account.
    Reset,
}

impl SetupPurpose {
    fn as_str(self) -> &'static str {
        match self {
            SetupPurpose::Setup => "setup",
            SetupPurpose::Invite => "invite",
            SetupPurpose::Reset => "reset",
        }
    }

    fn stored(text: &str) -> Result<SetupPurpose> {
        match text {
            "setup" => Ok(SetupPurpose::Setup),
            "invite" => Ok(SetupPurpose::Invite),
            "reset" => Ok(SetupPurpose::Reset),
            other => Err(Error::internal(format!("unknown set-up purpose '{other}'"))),
        }
    }
}

/// A link just made. `code` is the only copy there will ever be: hand it over, never log it.
#[derive(Debug)]
pub struct SetupLink {
    pub code: SecretString,
    pub expires_at: NaiveDateTime,
}

impl SetupLink {
    /// The link's path on the server, code included: prefix the server's public URL.
    pub fn path(&self) -> String {
        format!("/console/setup?code={}", self.code.expose_secret())
    }
}

/// What a valid link will do, for the page that asks for the password.
#[derive(Debug, Clone)]
pub struct PendingSetup {
    pub purpose: SetupPurpose,
    /// `None` for the first owner's link: the form asks for it.
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub org_name: Option<String>,
    pub role: Option<Role>,
    pub expires_at: NaiveDateTime,
}

/// What the person types on the set-up page.
#[derive(Debug)]
pub struct SetupAnswers {
    /// Needed when [`PendingSetup::email`] is `None`, ignored otherwise.
    pub email: Option<Email>,
    /// Keeps the name given at invitation when `None`.
    pub display_name: Option<DisplayName>,
    pub password: SecretString,
}

/// A link that makes whoever follows it the first owner of `org`.
pub fn first_owner_link(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<SetupLink> {
    new_link(
        conn,
        None,
        Some((org, Role::Owner)),
        SetupPurpose::Setup,
        now + SETUP_LINK_LIFETIME,
        now,
    )
}

/// Makes `email` a member of `org` with `role`, creating their account when they have none.
/// Answers the link they set their password with, or `None` when the account existed already
/// (they sign in as before, or finish the set-up they were given, and find the new
/// organization). Records `person.invited`.
pub fn invite(
    conn: &mut DbConn,
    org: &OrgId,
    actor: &Actor,
    email: &Email,
    display_name: Option<&DisplayName>,
    role: Role,
    now: NaiveDateTime,
) -> Result<Option<SetupLink>> {
    // A set-up link sets the account's password, so only the organization that made the
    // account may hand one out. An account invited to another organization and not set up
    // yet keeps its own link: a new one would let an owner of this organization choose its
    // password, and so sign in to the other organization as that person.
    let existed = stored::find_person_by_email(conn, email.as_str())?.is_some();
    let person = add_member(conn, org, actor, email, display_name, role, now)?;
    if existed {
        return Ok(None);
    }
    let link = new_link(
        conn,
        Some(&person.id),
        Some((org, role)),
        SetupPurpose::Invite,
        now + INVITATION_LIFETIME,
        now,
    )?;
    Ok(Some(link))
}

/// Like [`invite`], with the password given at once (`scimd admin create --password-stdin`).
/// Refuses a person who has a password already: that is a reset, done by its owner.
pub async fn create_with_password(
    store: &Store,
    org: OrgId,
    actor: Actor,
    email: Email,
    display_name: Option<DisplayName>,
    role: Role,
    password: SecretString,
) -> Result<PersonView> {
    check_password_policy(&password)?;
    let hash = store
        .passwords()
        .hash(password.expose_secret().to_owned())
        .await?;
    store
        .write(move |conn| {
            let now = crate::store::now();
            let person = add_member(conn, &org, &actor, &email, display_name.as_ref(), role, now)?;
            if person.password_hash.is_some() {
                return Err(ProtocolError::invalid_value(format!(
                    "{email} has a password already; they can reset it with \
                     `scimd admin reset-password {email}`"
                ))
                .into());
            }
            stored::set_password_hash(conn, &person.id, &hash)?;
            stored::retire_setup_codes_of(conn, &person.id, now)?;
            password_set(conn, &person, &actor, now)
        })
        .await
}

/// A link that lets `email` choose a new password; older unused links of theirs stop working.
/// Their password and sessions stay until the link is used.
pub fn reset_password(conn: &mut DbConn, email: &Email, now: NaiveDateTime) -> Result<SetupLink> {
    let person = find_by_email(conn, email)?;
    stored::retire_setup_codes_of(conn, &person.id, now)?;
    new_link(
        conn,
        Some(&person.id),
        None,
        SetupPurpose::Reset,
        now + SETUP_LINK_LIFETIME,
        now,
    )
}

/// What the link with `code` will do, or the one 404 for an unknown, used or expired code.
pub fn pending_setup(
    conn: &mut DbConn,
    code: &SecretString,
    now: NaiveDateTime,
) -> Result<PendingSetup> {
    let record = stored::find_setup_code(conn, digest(code.expose_secret()).as_str())?
        .filter(|record| record.used_at.is_none() && record.expires_at > now)
        .ok_or_else(|| Error::NotFound(LINK_NOT_VALID.to_owned()))?;
    let person = match &record.person_id {
        Some(id) => Some(
            stored::find_person(conn, id)?
                .ok_or_else(|| Error::NotFound(LINK_NOT_VALID.to_owned()))?,
        ),
        None => None,
    };
    let org_name = match &record.org_id {
        Some(org) => orgs::find_org(conn, org)?.map(|org| org.name),
        None => None,
    };
    Ok(PendingSetup {
        purpose: SetupPurpose::stored(&record.purpose)?,
        email: person.as_ref().map(|person| person.email.clone()),
        display_name: person.map(|person| person.display_name),
        org_name,
        role: record.role.as_deref().map(Role::stored).transpose()?,
        expires_at: record.expires_at,
    })
}

/// Sets the password (and the name, and for the first owner the address) through the link
/// with `code`, once: the code is used up in the same transaction. The person's other
/// sessions end, since someone who needed a reset may have lost a device. Records
/// `person.password_set`.
pub async fn complete_setup(
    store: &Store,
    code: SecretString,
    answers: SetupAnswers,
) -> Result<PersonView> {
    check_password_policy(&answers.password)?;
    let pending_code = code.clone();
    let pending = store
        .read(move |conn| pending_setup(conn, &pending_code, crate::store::now()))
        .await?;
    if pending.email.is_none() && answers.email.is_none() {
        return Err(ProtocolError::invalid_value("enter your e-mail address").into());
    }
    // Slow on purpose: outside the transaction, so the writer is not held while it runs.
    let hash = store
        .passwords()
        .hash(answers.password.expose_secret().to_owned())
        .await?;
    store
        .write(move |conn| {
            let now = crate::store::now();
            let code_digest = digest(code.expose_secret());
            let not_valid = || Error::NotFound(LINK_NOT_VALID.to_owned());
            let record =
                stored::find_setup_code(conn, code_digest.as_str())?.ok_or_else(not_valid)?;
            if !stored::redeem_setup_code(conn, code_digest.as_str(), now)? {
                return Err(not_valid());
            }
            let person = match &record.person_id {
                Some(id) => stored::find_person(conn, id)?.ok_or_else(not_valid)?,
                None => {
                    let email = answers.email.as_ref().ok_or_else(not_valid)?;
                    new_person(conn, email, answers.display_name.as_ref(), now)?
                }
            };
            if let Some(name) = &answers.display_name {
                stored::set_display_name(conn, &person.id, name.as_str())?;
            }
            stored::set_password_hash(conn, &person.id, &hash)?;
            if record.person_id.is_none()
                && let (Some(org), Some(role)) = (&record.org_id, &record.role)
            {
                stored::insert_membership(conn, &person.id, org, role, now)?;
            }
            stored::delete_sessions_of(conn, &person.id, None)?;
            let actor = Actor::Person(person.email.clone());
            password_set(conn, &person, &actor, now)
        })
        .await
}

/// Changes a person's own display name (the Account page).
pub fn set_display_name(conn: &mut DbConn, person: &PersonId, name: &DisplayName) -> Result<()> {
    stored::set_display_name(conn, person, name.as_str())
}

/// Adds `email` to `org`, creating the person when needed; a member already is `uniqueness`.
fn add_member(
    conn: &mut DbConn,
    org: &OrgId,
    actor: &Actor,
    email: &Email,
    display_name: Option<&DisplayName>,
    role: Role,
    now: NaiveDateTime,
) -> Result<PersonRecord> {
    let person = match stored::find_person_by_email(conn, email.as_str())? {
        Some(person) => person,
        None => new_person(conn, email, display_name, now)?,
    };
    if stored::find_role(conn, org, &person.id)?.is_some() {
        return Err(ProtocolError::new(
            ScimType::Uniqueness,
            format!("{email} is already a member of this organization"),
        )
        .into());
    }
    stored::insert_membership(conn, &person.id, org, role.as_str(), now)?;
    Event {
        kind: EventKind::PersonInvited,
        org: Some(org),
        actor: Some(actor),
        target: Some(Target::Person(email.as_str())),
        remote_addr: None,
        details: json!({ "role": role.as_str() }),
    }
    .record(conn, now)?;
    Ok(person)
}

fn new_person(
    conn: &mut DbConn,
    email: &Email,
    display_name: Option<&DisplayName>,
    now: NaiveDateTime,
) -> Result<PersonRecord> {
    if stored::find_person_by_email(conn, email.as_str())?.is_some() {
        return Err(ProtocolError::new(
            ScimType::Uniqueness,
            format!("{email} has an account already: sign in, or ask an owner to invite it"),
        )
        .into());
    }
    let name = display_name.map_or(email.local_part(), DisplayName::as_str);
    stored::insert_person(conn, email.as_str(), name, None, now)
}

fn new_link(
    conn: &mut DbConn,
    person: Option<&PersonId>,
    membership: Option<(&OrgId, Role)>,
    purpose: SetupPurpose,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<SetupLink> {
    let code = super::random_secret()?;
    stored::insert_setup_code(
        conn,
        &NewSetupCode {
            code_digest: digest(code.expose_secret()).as_str(),
            person_id: person,
            org_id: membership.map(|(org, _)| org),
            role: membership.map(|(_, role)| role.as_str()),
            purpose: purpose.as_str(),
            expires_at,
        },
        now,
    )?;
    Ok(SetupLink { code, expires_at })
}

/// The end of every way a password gets set: the audit event, and the person as now stored.
fn password_set(
    conn: &mut DbConn,
    person: &PersonRecord,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<PersonView> {
    record_for_person(
        conn,
        EventKind::PersonPasswordSet,
        person,
        Some(actor),
        None,
        now,
    )?;
    load_view(conn, &person.id)
}

fn load_view(conn: &mut DbConn, id: &PersonId) -> Result<PersonView> {
    stored::find_person(conn, id)?
        .map(PersonView::from)
        .ok_or_else(|| Error::internal("a person vanished inside their own transaction"))
}
