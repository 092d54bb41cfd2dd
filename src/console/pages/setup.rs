//! `/console/setup?code=…`: the page a set-up link opens. The person chooses a display name
//! and a password (the first owner also gives their e-mail address), and is signed in.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::sign_in;
use crate::console::csrf::{self, PublicForm};
use crate::console::error::ConsoleError;
use crate::console::page::{self, Head};
use crate::error::Error;
use crate::service::people::{self, DisplayName, Email, PendingSetup, SetupAnswers};
use crate::store::{self, Store};

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    head: Head,
    csrf: String,
    code: String,
    /// The address the link is for; `None` for the first owner's link, which asks for it.
    known_email: Option<String>,
    email: String,
    org_name: Option<String>,
    role: Option<&'static str>,
    display_name: String,
    form_error: Option<String>,
    email_error: Option<String>,
    name_error: Option<String>,
    password_error: Option<String>,
    repeat_error: Option<String>,
}

impl SetupPage {
    fn new(csrf: String, code: String, pending: PendingSetup) -> SetupPage {
        SetupPage {
            head: Head::new("Set up your account"),
            csrf,
            code,
            known_email: pending.email,
            email: String::new(),
            org_name: pending.org_name,
            role: pending.role.map(|role| role.as_str()),
            display_name: pending.display_name.unwrap_or_default(),
            form_error: None,
            email_error: None,
            name_error: None,
            password_error: None,
            repeat_error: None,
        }
    }

    fn has_errors(&self) -> bool {
        self.email_error.is_some()
            || self.name_error.is_some()
            || self.password_error.is_some()
            || self.repeat_error.is_some()
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

async fn pending(store: &Store, code: &str) -> Result<PendingSetup, ConsoleError> {
    let code = SecretString::from(code.to_owned());
    match store
        .read(move |conn| people::pending_setup(conn, &code, store::now()))
        .await
    {
        Ok(pending) => Ok(pending),
        Err(Error::NotFound(_)) => Err(ConsoleError::SetupLinkInvalid),
        Err(other) => Err(other.into()),
    }
}

fn respond(
    status: StatusCode,
    page: &SetupPage,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, ConsoleError> {
    let mut response = page::html_with_status(status, page)?;
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|error| ConsoleError::Service(Error::internal(error)))?;
    }
    Ok(response)
}

pub async fn show(
    request: HttpRequest,
    store: web::Data<Store>,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let code = query.into_inner().code;
    let pending = pending(&store, &code).await?;
    let (token, cookie) = csrf::public_token(&request)?;
    respond(
        StatusCode::OK,
        &SetupPage::new(token, code, pending),
        cookie,
    )
}

/// A parsed field, or its error in the use case's words.
fn field<T>(parsed: crate::error::Result<T>, error: &mut Option<String>) -> Option<T> {
    parsed
        .map_err(|problem| *error = Some(problem.to_string()))
        .ok()
}

pub async fn submit(
    request: HttpRequest,
    store: web::Data<Store>,
    PublicForm(form): PublicForm<SetupForm>,
) -> Result<HttpResponse, ConsoleError> {
    let pending = pending(&store, &form.code).await?;
    let (token, _) = csrf::public_token(&request)?;
    let mut page = SetupPage::new(token, form.code.clone(), pending);
    page.email.clone_from(&form.email);
    page.display_name.clone_from(&form.display_name);
    let email = match page.known_email {
        Some(_) => None,
        None => field(Email::parse(&form.email), &mut page.email_error),
    };
    let display_name = field(DisplayName::parse(&form.display_name), &mut page.name_error);
    let password = SecretString::from(form.password);
    field(
        people::check_password_policy(&password),
        &mut page.password_error,
    );
    if secrecy::ExposeSecret::expose_secret(&password) != form.password_again {
        page.repeat_error = Some("The two passwords differ.".to_owned());
    }
    if page.has_errors() {
        return respond(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
    }
    let answers = SetupAnswers {
        email,
        display_name,
        password: password.clone(),
    };
    let person = match people::complete_setup(&store, SecretString::from(form.code), answers).await
    {
        Ok(person) => person,
        Err(Error::NotFound(_)) => return Err(ConsoleError::SetupLinkInvalid),
        Err(Error::Protocol(problem)) => {
            page.form_error = Some(problem.to_string());
            return respond(StatusCode::UNPROCESSABLE_ENTITY, &page, None);
        }
        Err(other) => return Err(other.into()),
    };
    // Signed in as if they had typed it on the sign-in page: one session-making path.
    sign_in::start_session(&request, &store, person.email, password, None).await
}
