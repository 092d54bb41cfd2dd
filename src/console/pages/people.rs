//! `/console/orgs/{org}/people`: who administers the organization. Every member sees the
//! list; owners invite (the set-up link is shown once, to hand over), change roles and remove
//! people, deciding for each token the person created whether it keeps working. E-mail
//! addresses travel in form fields and the query string, never in the path: the access log
//! records paths.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::{self, OrgPage};
use crate::error::Error;
use crate::service::people::{self, Action, DisplayName, Email, MemberView, Role, TokenDecision};
use crate::service::views::rfc3339;
use crate::store::tokens::TokenRecord;
use crate::store::{self, Store, TokenId};

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage {
    frame: Frame,
    members: Vec<MemberRow>,
    /// Owners see the forms; everyone else the list alone.
    manage: bool,
    roles: [&'static str; 3],
    invite: InviteForm,
    invited: Option<Invited>,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

struct MemberRow {
    email: String,
    display_name: String,
    role: &'static str,
    added: String,
    last_sign_in: Option<String>,
    /// Their set-up link is unused: they cannot sign in yet.
    pending: bool,
    is_self: bool,
    /// The removal page for them: the address in the query, which the access log leaves out.
    remove_href: String,
}

impl MemberRow {
    fn new(member: MemberView, own_email: &str, page: &OrgPage) -> MemberRow {
        let query = serde_urlencoded::to_string([("email", &member.email)]).unwrap_or_default();
        MemberRow {
            remove_href: page.url(&format!("people/remove?{query}")),
            is_self: member.email == own_email,
            role: member.role.as_str(),
            added: rfc3339(member.created_at),
            last_sign_in: member.last_sign_in_at.map(rfc3339),
            pending: !member.has_password,
            email: member.email,
            display_name: member.display_name,
        }
    }
}

/// The invitation form as typed, and its errors.
#[derive(Default)]
struct InviteForm {
    email: String,
    display_name: String,
    role: &'static str,
    email_error: Option<String>,
    name_error: Option<String>,
    role_error: Option<String>,
}

/// An invitation just made, shown once.
struct Invited {
    email: String,
    role: &'static str,
    /// `None`: they have a password already and sign in as before.
    link: Option<String>,
    expires: String,
}

/// What a redirect after a change says, by a fixed word in the query: nothing typed by
/// anyone travels in the URL.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "role" => Some("Role changed."),
        "removed" => Some("Person removed from the organization."),
        _ => None,
    }
}

async fn render(
    page: &OrgPage,
    store: &Store,
    status: StatusCode,
    invite: InviteForm,
    invited: Option<Invited>,
    notice: Option<&'static str>,
    form_error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let org = page.org.clone();
    let members = store.read(move |conn| people::list(conn, &org)).await?;
    let own_email = page.signed.person.email.clone();
    page::html_with_status(
        status,
        &PeoplePage {
            frame: page.frame("People", Section::People),
            members: members
                .into_iter()
                .map(|member| MemberRow::new(member, &own_email, page))
                .collect(),
            manage: page.may(Action::ManagePeople),
            roles: Role::ALL.map(Role::as_str),
            invite,
            invited,
            notice,
            form_error,
        },
    )
}

/// The page again with the person's invitation and the errors beside its fields.
async fn rerender_invite(
    page: &OrgPage,
    store: &Store,
    form: InviteForm,
) -> Result<HttpResponse, ConsoleError> {
    render(
        page,
        store,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
        None,
        None,
        None,
    )
    .await
}

fn blank_invite() -> InviteForm {
    InviteForm {
        role: Role::Viewer.as_str(),
        ..InviteForm::default()
    }
}

pub async fn list(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let notice = notice(query.done.as_deref());
    render(
        &page,
        &store,
        StatusCode::OK,
        blank_invite(),
        None,
        notice,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct InviteFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

/// A parsed field, or its error in the use case's words.
fn field<T>(parsed: crate::error::Result<T>, error: &mut Option<String>) -> Option<T> {
    parsed
        .map_err(|problem| *error = Some(problem.to_string()))
        .ok()
}

/// Answers with the page itself, not a redirect: the link is shown once and must not be in a
/// URL (pages are `no-store`, so it is not cached either).
pub async fn invite(
    page: OrgPage,
    request: HttpRequest,
    store: web::Data<Store>,
    CsrfForm(fields): CsrfForm<InviteFields>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManagePeople)?;
    let mut form = blank_invite();
    let email = field(Email::parse(&fields.email), &mut form.email_error);
    let display_name = match fields.display_name.trim() {
        "" => Some(None),
        name => field(DisplayName::parse(name), &mut form.name_error).map(Some),
    };
    let role = field(Role::parse(&fields.role), &mut form.role_error);
    form.email = fields.email;
    form.display_name = fields.display_name;
    form.role = role.map_or(Role::Viewer.as_str(), Role::as_str);
    let (Some(email), Some(display_name), Some(role)) = (email, display_name, role) else {
        return rerender_invite(&page, &store, form).await;
    };
    let org = page.org.clone();
    let actor = page.signed.actor();
    let invited_email = email.clone();
    let result = store
        .write(move |conn| {
            people::invite(
                conn,
                &org,
                &actor,
                &email,
                display_name.as_ref(),
                role,
                store::now(),
            )
        })
        .await;
    match result {
        Ok(link) => {
            let origin = session::own_origin(&request).unwrap_or_default();
            let invited = Invited {
                email: invited_email.as_str().to_owned(),
                role: role.as_str(),
                expires: link
                    .as_ref()
                    .map(|link| rfc3339(link.expires_at))
                    .unwrap_or_default(),
                link: link.map(|link| format!("{origin}{}", link.path())),
            };
            render(
                &page,
                &store,
                StatusCode::OK,
                blank_invite(),
                Some(invited),
                None,
                None,
            )
            .await
        }
        Err(Error::Protocol(problem)) => {
            form.email_error = Some(problem.to_string());
            rerender_invite(&page, &store, form).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct RoleFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    page: OrgPage,
    store: web::Data<Store>,
    CsrfForm(fields): CsrfForm<RoleFields>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManagePeople)?;
    let email = Email::parse(&fields.email).map_err(|_| ConsoleError::NotFound)?;
    let role = Role::parse(&fields.role)
        .map_err(|problem| ConsoleError::BadRequest(problem.to_string()))?;
    let org = page.org.clone();
    let actor = page.signed.actor();
    let result = store
        .write(move |conn| people::change_role(conn, &org, &actor, &email, role, store::now()))
        .await;
    match result {
        Ok(()) => Ok(see_other(&page.url("people?done=role"))),
        Err(Error::Protocol(problem)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let error = Some(problem.to_string());
            render(&page, &store, status, blank_invite(), None, None, error).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "console/people_remove.html")]
struct RemovePage {
    frame: Frame,
    email: String,
    display_name: String,
    tokens: Vec<TokenChoice>,
    form_error: Option<String>,
}

struct TokenChoice {
    id: String,
    name: String,
    prefix: String,
    last_used: Option<String>,
    revoke: bool,
}

#[derive(Deserialize)]
pub struct Who {
    #[serde(default)]
    email: String,
}

/// The member and the working tokens they created, or the 404 page.
async fn member_and_tokens(
    page: &OrgPage,
    store: &Store,
    email: &str,
) -> Result<(MemberView, Vec<TokenRecord>), ConsoleError> {
    let email = Email::parse(email).map_err(|_| ConsoleError::NotFound)?;
    let org = page.org.clone();
    store
        .read(move |conn| {
            let member = people::list(conn, &org)?
                .into_iter()
                .find(|member| member.email == email.as_str())
                .ok_or_else(|| Error::not_found("member"))?;
            Ok((member, people::tokens_created_by(conn, &org, &email)?))
        })
        .await
        .map_err(ConsoleError::from)
}

fn remove_page(
    page: &OrgPage,
    member: MemberView,
    tokens: Vec<TokenRecord>,
    revoked: &[String],
    form_error: Option<String>,
) -> RemovePage {
    RemovePage {
        frame: page.frame("Remove a person", Section::People),
        email: member.email,
        display_name: member.display_name,
        tokens: tokens
            .into_iter()
            .map(|token| TokenChoice {
                revoke: revoked.contains(&token.id.to_string()),
                id: token.id.to_string(),
                name: token.name,
                prefix: format!("{}…", token.display_prefix),
                last_used: token.last_used_at.map(rfc3339),
            })
            .collect(),
        form_error,
    }
}

/// The confirmation, with a keep-or-revoke choice per token the person created.
pub async fn confirm_remove(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<Who>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManagePeople)?;
    let (member, tokens) = member_and_tokens(&page, &store, &query.email).await?;
    page::html(&remove_page(&page, member, tokens, &[], None))
}

/// The prefix of a token's choice field: `token-<id>` = `keep` or `revoke`.
const TOKEN_FIELD: &str = "token-";

/// Fields arrive as pairs: one per token, whose ids are not known in advance.
pub async fn remove(
    page: OrgPage,
    store: web::Data<Store>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManagePeople)?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let email_text = value("email").unwrap_or_default().to_owned();
    let email = Email::parse(&email_text).map_err(|_| ConsoleError::NotFound)?;
    let mut decisions = Vec::new();
    for (key, choice) in &fields {
        let Some(id) = key.strip_prefix(TOKEN_FIELD) else {
            continue;
        };
        let id = TokenId::parse(id).ok_or(ConsoleError::NotFound)?;
        let decision = match choice.as_str() {
            "keep" => TokenDecision::Keep,
            "revoke" => TokenDecision::Revoke,
            _ => {
                return Err(ConsoleError::BadRequest(
                    "Choose keep or revoke.".to_owned(),
                ));
            }
        };
        decisions.push((id, decision));
    }
    let revoked: Vec<String> = decisions
        .iter()
        .filter(|(_, decision)| *decision == TokenDecision::Revoke)
        .map(|(id, _)| id.to_string())
        .collect();
    let org = page.org.clone();
    let actor = page.signed.actor();
    let result = store
        .write(move |conn| people::remove(conn, &org, &actor, &email, &decisions, store::now()))
        .await;
    match result {
        Ok(()) => Ok(see_other(&page.url("people?done=removed"))),
        Err(Error::Protocol(problem)) => {
            let (member, tokens) = member_and_tokens(&page, &store, &email_text).await?;
            let error = Some(problem.to_string());
            page::html_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &remove_page(&page, member, tokens, &revoked, error),
            )
        }
        Err(other) => Err(other.into()),
    }
}
