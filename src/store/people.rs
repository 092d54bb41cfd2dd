//! The console's people as stored: accounts, their memberships in organizations, their
//! sessions and their one-time set-up codes. Session secrets and set-up codes are kept only as
//! SHA-256 digests; the service layer decides what the rows mean.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{form_nonces, memberships, organizations, people, sessions, setup_codes};
use super::{DbConn, OrgId, PersonId, SessionId};
use crate::error::Result;

/// A person's stored record.
#[derive(Debug, Clone)]
pub struct PersonRecord {
    pub id: PersonId,
    /// Lower-cased.
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = people)]
struct PersonRow {
    id: String,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    created_at: NaiveDateTime,
    last_sign_in_at: Option<NaiveDateTime>,
}

impl From<PersonRow> for PersonRecord {
    fn from(row: PersonRow) -> Self {
        PersonRecord {
            id: PersonId::from_db(row.id),
            email: row.email,
            display_name: row.display_name,
            password_hash: row.password_hash,
            created_at: row.created_at,
            last_sign_in_at: row.last_sign_in_at,
        }
    }
}

/// Inserts a person; `email` must be lower-cased already. A taken address is `uniqueness`.
pub fn insert_person(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<PersonRecord> {
    let id = PersonId::generate();
    diesel::insert_into(people::table)
        .values((
            people::id.eq(id.as_str()),
            people::email.eq(email),
            people::display_name.eq(display_name),
            people::password_hash.eq(password_hash),
            people::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(PersonRecord {
        id,
        email: email.to_owned(),
        display_name: display_name.to_owned(),
        password_hash: password_hash.map(str::to_owned),
        created_at: now,
        last_sign_in_at: None,
    })
}

/// The person with this (lower-cased) address.
pub fn find_person_by_email(conn: &mut DbConn, email: &str) -> Result<Option<PersonRecord>> {
    Ok(people::table
        .filter(people::email.eq(email))
        .select(PersonRow::as_select())
        .get_result::<PersonRow>(conn)
        .optional()?
        .map(PersonRecord::from))
}

pub fn find_person(conn: &mut DbConn, id: &PersonId) -> Result<Option<PersonRecord>> {
    Ok(people::table
        .find(id.as_str())
        .select(PersonRow::as_select())
        .get_result::<PersonRow>(conn)
        .optional()?
        .map(PersonRecord::from))
}

pub fn set_password_hash(conn: &mut DbConn, id: &PersonId, hash: &str) -> Result<()> {
    diesel::update(people::table.find(id.as_str()))
        .set(people::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}

pub fn set_display_name(conn: &mut DbConn, id: &PersonId, display_name: &str) -> Result<()> {
    diesel::update(people::table.find(id.as_str()))
        .set(people::display_name.eq(display_name))
        .execute(conn)?;
    Ok(())
}

pub fn set_last_sign_in(conn: &mut DbConn, id: &PersonId, now: NaiveDateTime) -> Result<()> {
    diesel::update(people::table.find(id.as_str()))
        .set(people::last_sign_in_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Deletes a person; their memberships, sessions and set-up codes go with them.
pub fn delete_person(conn: &mut DbConn, id: &PersonId) -> Result<()> {
    // The rows that name the person go by ON DELETE CASCADE (both backends enforce keys).
    diesel::delete(people::table.find(id.as_str())).execute(conn)?;
    Ok(())
}

/// A person's role in one organization, as stored.
#[derive(Debug, Clone)]
pub struct MembershipRecord {
    pub org_id: OrgId,
    pub org_name: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_membership(
    conn: &mut DbConn,
    person: &PersonId,
    org: &OrgId,
    role: &str,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::person_id.eq(person.as_str()),
            memberships::org_id.eq(org.as_str()),
            memberships::role.eq(role),
            memberships::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The person's role in `org`, if they are a member.
pub fn find_role(conn: &mut DbConn, org: &OrgId, person: &PersonId) -> Result<Option<String>> {
    Ok(memberships::table
        .find((person.as_str(), org.as_str()))
        .select(memberships::role)
        .get_result::<String>(conn)
        .optional()?)
}

/// Changes the person's role in `org`; answers whether they were a member.
pub fn set_role(conn: &mut DbConn, org: &OrgId, person: &PersonId, role: &str) -> Result<bool> {
    let changed = diesel::update(memberships::table.find((person.as_str(), org.as_str())))
        .set(memberships::role.eq(role))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Ends the person's membership in `org`; answers whether there was one.
pub fn delete_membership(conn: &mut DbConn, org: &OrgId, person: &PersonId) -> Result<bool> {
    let deleted =
        diesel::delete(memberships::table.find((person.as_str(), org.as_str()))).execute(conn)?;
    Ok(deleted == 1)
}

/// How many members of `org` hold `role`.
pub fn count_role(conn: &mut DbConn, org: &OrgId, role: &str) -> Result<i64> {
    Ok(memberships::table
        .filter(memberships::org_id.eq(org.as_str()))
        .filter(memberships::role.eq(role))
        .count()
        .get_result(conn)?)
}

/// The person's memberships, by organization name.
pub fn memberships_of(conn: &mut DbConn, person: &PersonId) -> Result<Vec<MembershipRecord>> {
    let rows = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::person_id.eq(person.as_str()))
        .order(organizations::name.asc())
        .select((
            memberships::org_id,
            organizations::name,
            memberships::role,
            memberships::created_at,
        ))
        .load::<(String, String, String, NaiveDateTime)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(org_id, org_name, role, created_at)| MembershipRecord {
            org_id: OrgId::from_db(org_id),
            org_name,
            role,
            created_at,
        })
        .collect())
}

/// The members of `org` with their role and when they joined, by e-mail address.
pub fn members_of(
    conn: &mut DbConn,
    org: &OrgId,
) -> Result<Vec<(PersonRecord, String, NaiveDateTime)>> {
    let rows = memberships::table
        .inner_join(people::table)
        .filter(memberships::org_id.eq(org.as_str()))
        .order(people::email.asc())
        .select((
            PersonRow::as_select(),
            memberships::role,
            memberships::created_at,
        ))
        .load::<(PersonRow, String, NaiveDateTime)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(person, role, joined)| (PersonRecord::from(person), role, joined))
        .collect())
}

/// A console session as stored; the cookie's secret is only a digest here.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub person_id: PersonId,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    person_id: String,
    csrf_token: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    user_agent: Option<String>,
    client_addr: Option<String>,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            id: SessionId::from_db(row.id),
            person_id: PersonId::from_db(row.person_id),
            csrf_token: row.csrf_token,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            client_addr: row.client_addr,
        }
    }
}

/// What is stored for a new session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub secret_digest: &'a str,
    pub person_id: &'a PersonId,
    pub csrf_token: &'a str,
    pub expires_at: NaiveDateTime,
    pub user_agent: Option<&'a str>,
    pub client_addr: Option<&'a str>,
}

pub fn insert_session(
    conn: &mut DbConn,
    session: &NewSession<'_>,
    now: NaiveDateTime,
) -> Result<SessionRecord> {
    let id = SessionId::generate();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id.as_str()),
            sessions::secret_digest.eq(session.secret_digest),
            sessions::person_id.eq(session.person_id.as_str()),
            sessions::csrf_token.eq(session.csrf_token),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(session.expires_at),
            sessions::user_agent.eq(session.user_agent),
            sessions::client_addr.eq(session.client_addr),
        ))
        .execute(conn)?;
    Ok(SessionRecord {
        id,
        person_id: session.person_id.clone(),
        csrf_token: session.csrf_token.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: session.expires_at,
        user_agent: session.user_agent.map(str::to_owned),
        client_addr: session.client_addr.map(str::to_owned),
    })
}

/// The per-request lookup: one probe of the unique digest index.
pub fn find_session_by_digest(conn: &mut DbConn, digest: &str) -> Result<Option<SessionRecord>> {
    Ok(sessions::table
        .filter(sessions::secret_digest.eq(digest))
        .select(SessionRow::as_select())
        .get_result::<SessionRow>(conn)
        .optional()?
        .map(SessionRecord::from))
}

pub fn touch_session(conn: &mut DbConn, id: &SessionId, now: NaiveDateTime) -> Result<()> {
    diesel::update(sessions::table.find(id.as_str()))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The person's sessions, most recently used first.
pub fn sessions_of(conn: &mut DbConn, person: &PersonId) -> Result<Vec<SessionRecord>> {
    Ok(sessions::table
        .filter(sessions::person_id.eq(person.as_str()))
        .order((sessions::last_seen_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load::<SessionRow>(conn)?
        .into_iter()
        .map(SessionRecord::from)
        .collect())
}

/// Deletes one session of `person`; answers whether it existed.
pub fn delete_session(conn: &mut DbConn, person: &PersonId, id: &SessionId) -> Result<bool> {
    let deleted = diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id.as_str()))
            .filter(sessions::person_id.eq(person.as_str())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Deletes every session of `person` but `except`; answers how many went.
pub fn delete_sessions_of(
    conn: &mut DbConn,
    person: &PersonId,
    except: Option<&SessionId>,
) -> Result<usize> {
    let mut delete = diesel::delete(sessions::table)
        .filter(sessions::person_id.eq(person.as_str()))
        .into_boxed();
    if let Some(kept) = except {
        delete = delete.filter(sessions::id.ne(kept.as_str()));
    }
    Ok(delete.execute(conn)?)
}

/// Deletes the person's sessions that ended before `idle_since` or `now`.
pub fn delete_ended_sessions(
    conn: &mut DbConn,
    person: &PersonId,
    idle_since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::delete(
        sessions::table
            .filter(sessions::person_id.eq(person.as_str()))
            .filter(
                sessions::last_seen_at
                    .lt(idle_since)
                    .or(sessions::expires_at.le(now)),
            ),
    )
    .execute(conn)?;
    Ok(())
}

/// A one-time set-up code as stored.
#[derive(Debug, Clone)]
pub struct SetupCodeRecord {
    pub person_id: Option<PersonId>,
    pub org_id: Option<OrgId>,
    pub role: Option<String>,
    pub purpose: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// What is stored for a new set-up code.
#[derive(Debug, Clone)]
pub struct NewSetupCode<'a> {
    pub code_digest: &'a str,
    pub person_id: Option<&'a PersonId>,
    pub org_id: Option<&'a OrgId>,
    pub role: Option<&'a str>,
    pub purpose: &'a str,
    pub expires_at: NaiveDateTime,
}

pub fn insert_setup_code(
    conn: &mut DbConn,
    code: &NewSetupCode<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(setup_codes::table)
        .values((
            setup_codes::code_digest.eq(code.code_digest),
            setup_codes::person_id.eq(code.person_id.map(PersonId::as_str)),
            setup_codes::org_id.eq(code.org_id.map(OrgId::as_str)),
            setup_codes::role.eq(code.role),
            setup_codes::purpose.eq(code.purpose),
            setup_codes::created_at.eq(now),
            setup_codes::expires_at.eq(code.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

type SetupCodeRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

pub fn find_setup_code(conn: &mut DbConn, digest: &str) -> Result<Option<SetupCodeRecord>> {
    let row = setup_codes::table
        .find(digest)
        .select((
            setup_codes::person_id,
            setup_codes::org_id,
            setup_codes::role,
            setup_codes::purpose,
            setup_codes::expires_at,
            setup_codes::used_at,
        ))
        .get_result::<SetupCodeRow>(conn)
        .optional()?;
    Ok(row.map(
        |(person_id, org_id, role, purpose, expires_at, used_at)| SetupCodeRecord {
            person_id: person_id.map(PersonId::from_db),
            org_id: org_id.map(OrgId::from_db),
            role,
            purpose,
            expires_at,
            used_at,
        },
    ))
}

/// Marks a code used if it is unused and unexpired; answers whether this call did. The check
/// and the mark are one statement, so two instances cannot both redeem a code.
pub fn redeem_setup_code(conn: &mut DbConn, digest: &str, now: NaiveDateTime) -> Result<bool> {
    let changed = diesel::update(
        setup_codes::table
            .filter(setup_codes::code_digest.eq(digest))
            .filter(setup_codes::used_at.is_null())
            .filter(setup_codes::expires_at.gt(now)),
    )
    .set(setup_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends the person's unused codes: a newer link replaces them.
pub fn retire_setup_codes_of(
    conn: &mut DbConn,
    person: &PersonId,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::update(
        setup_codes::table
            .filter(setup_codes::person_id.eq(person.as_str()))
            .filter(setup_codes::used_at.is_null()),
    )
    .set(setup_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Records that `session` used the form nonce `nonce`; answers whether this call recorded it
/// (`false`: the form was sent before). Callers run it in the write transaction of what the
/// form does, so a failed action leaves the nonce unused.
pub fn use_form_nonce(
    conn: &mut DbConn,
    session: &SessionId,
    nonce: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let used = form_nonces::table
        .find((session.as_str(), nonce))
        .select(form_nonces::used_at)
        .get_result::<NaiveDateTime>(conn)
        .optional()?;
    if used.is_some() {
        return Ok(false);
    }
    // On PostgreSQL two sends of one form can both look before either inserts; the later
    // insert then waits on the key and fails once the first commits. In a savepoint, that
    // failure means "used already" and leaves the caller's transaction usable.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(form_nonces::table)
            .values((
                form_nonces::session_id.eq(session.as_str()),
                form_nonces::nonce.eq(nonce),
                form_nonces::used_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}
