//! `/console/account`: the signed-in person's own name and sessions, and "Sign out
//! everywhere" for a lost laptop or a shared computer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::Signed;
use crate::error::Error;
use crate::http::auth::client_ip;
use crate::service::people::{self, DisplayName, SessionView};
use crate::service::views::rfc3339;
use crate::store::{self, Store};

/// Where this page lives.
const ACCOUNT: &str = "/console/account";

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    frame: Frame,
    email: String,
    display_name: String,
    name_error: Option<String>,
    sessions: Vec<SessionRow>,
    notice: Option<String>,
}

struct SessionRow {
    current: bool,
    browser: String,
    address: String,
    signed_in: String,
    last_seen: String,
    ends: String,
}

impl SessionRow {
    fn new(session: SessionView, current: &Signed) -> SessionRow {
        SessionRow {
            current: session.id == current.session_id,
            browser: session
                .user_agent
                .unwrap_or_else(|| "Unknown browser".to_owned()),
            address: session.client_addr.unwrap_or_default(),
            signed_in: rfc3339(session.created_at),
            last_seen: rfc3339(session.last_seen_at),
            ends: rfc3339(session.ends_at),
        }
    }
}

/// What a redirect after a change says, by a fixed word.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    ended: Option<usize>,
}

/// The frame of a page outside any one organization: the switcher shows the person's first.
fn frame(signed: &Signed) -> Result<Frame, ConsoleError> {
    let first = signed
        .memberships
        .first()
        .ok_or(ConsoleError::NoOrganization)?;
    Ok(Frame::new(
        "Account",
        Section::Account,
        &first.org_name,
        signed.organization_names(),
        (&signed.person.display_name, &signed.person.email),
        first.role.as_str(),
        signed.csrf_token.expose_secret(),
    ))
}

async fn render(
    signed: &Signed,
    store: &Store,
    status: StatusCode,
    display_name: String,
    name_error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let person = signed.person.id.clone();
    let sessions = store
        .read(move |conn| people::sessions_of(conn, &person, store::now()))
        .await?;
    page::html_with_status(
        status,
        &AccountPage {
            frame: frame(signed)?,
            email: signed.person.email.clone(),
            display_name,
            name_error,
            sessions: sessions
                .into_iter()
                .map(|session| SessionRow::new(session, signed))
                .collect(),
            notice,
        },
    )
}

pub async fn show(
    signed: Signed,
    store: web::Data<Store>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    let notice = match (query.done.as_deref(), query.ended) {
        (Some("name"), _) => Some("Name saved.".to_owned()),
        (Some("everywhere"), Some(1)) => Some("Signed out of 1 other session.".to_owned()),
        (Some("everywhere"), Some(n)) => Some(format!("Signed out of {n} other sessions.")),
        _ => None,
    };
    let name = signed.person.display_name.clone();
    render(&signed, &store, StatusCode::OK, name, None, notice).await
}

#[derive(Deserialize)]
pub struct NameFields {
    #[serde(default)]
    display_name: String,
}

pub async fn change_name(
    signed: Signed,
    store: web::Data<Store>,
    CsrfForm(fields): CsrfForm<NameFields>,
) -> Result<HttpResponse, ConsoleError> {
    let name = match DisplayName::parse(&fields.display_name) {
        Ok(name) => name,
        Err(Error::Protocol(problem)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let error = Some(problem.to_string());
            return render(&signed, &store, status, fields.display_name, error, None).await;
        }
        Err(other) => return Err(other.into()),
    };
    let person = signed.person.id.clone();
    store
        .write(move |conn| people::set_display_name(conn, &person, &name))
        .await?;
    Ok(see_other(&format!("{ACCOUNT}?done=name")))
}

#[derive(Deserialize)]
pub struct NoFields {}

/// Ends every other session of the person; this one stays, so they can see the result.
pub async fn sign_out_everywhere(
    signed: Signed,
    request: HttpRequest,
    store: web::Data<Store>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let person = signed.person.id.clone();
    let current = signed.session_id.clone();
    let remote_addr = client_ip(&request).map(|address| address.to_string());
    let ended = store
        .write(move |conn| {
            people::sign_out_everywhere(
                conn,
                &person,
                Some(&current),
                remote_addr.as_deref(),
                store::now(),
            )
        })
        .await?;
    Ok(see_other(&format!(
        "{ACCOUNT}?done=everywhere&ended={ended}"
    )))
}
