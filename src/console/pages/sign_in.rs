//! `/console/sign-in` and `/console/sign-out`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::console::csrf::{self, CsrfForm, PublicForm};
use crate::console::error::ConsoleError;
use crate::console::page::{self, Head};
use crate::console::session::{self, Signed};
use crate::console::{PREFIX, see_other};
use crate::error::Error;
use crate::http::auth::client_ip;
use crate::service::people::{self, SignInAttempt, SignInThrottle, SignedIn};
use crate::store::{self, Store};

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    head: Head,
    csrf: String,
    email: String,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn show(
    request: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let next = query.into_inner().next;
    render(&request, String::new(), next, None, StatusCode::OK)
}

fn render(
    request: &HttpRequest,
    email: String,
    next: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let (token, cookie) = csrf::public_token(request)?;
    let mut response = page::html_with_status(
        status,
        &SignInPage {
            head: Head::new("Sign in"),
            csrf: token,
            email,
            next: next
                .as_deref()
                .and_then(session::safe_next)
                .map(str::to_owned),
            error,
        },
    )?;
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|error| ConsoleError::Service(Error::internal(error)))?;
    }
    Ok(response)
}

pub async fn submit(
    request: HttpRequest,
    store: web::Data<Store>,
    PublicForm(form): PublicForm<SignInForm>,
) -> Result<HttpResponse, ConsoleError> {
    let password = SecretString::from(form.password);
    start_session(&request, &store, form.email, password, form.next).await
}

/// Signs in and sends the browser on to `next` (or the console) with the new session's
/// cookie; on failure, the sign-in page again with one message that never tells whether the
/// address has an account.
pub async fn start_session(
    request: &HttpRequest,
    store: &Store,
    email: String,
    password: SecretString,
    next: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let throttle = request
        .app_data::<web::Data<SignInThrottle>>()
        .ok_or_else(|| Error::internal("the sign-in throttle is not registered"))?;
    let attempt = SignInAttempt {
        email: email.clone(),
        password,
        client_addr: client_ip(request),
        user_agent: session::user_agent(request),
    };
    let message = match people::sign_in(store, throttle, attempt, store::now()).await {
        Ok(new_session) => {
            let target = next
                .as_deref()
                .and_then(session::safe_next)
                .unwrap_or(PREFIX)
                .to_owned();
            let mut response = see_other(&target);
            response
                .add_cookie(&session::session_cookie(
                    request,
                    new_session.secret.expose_secret(),
                ))
                .map_err(|error| ConsoleError::Service(Error::internal(error)))?;
            return Ok(response);
        }
        Err(error) => match people::refusal_message(&error) {
            Some(message) => message,
            None => return Err(error.into()),
        },
    };
    render(
        request,
        email,
        next,
        Some(message),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// The sign-out form holds nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    request: HttpRequest,
    signed: Signed,
    store: web::Data<Store>,
    _form: CsrfForm<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    let remote_addr = client_ip(&request).map(|address| address.to_string());
    let signed_in = SignedIn::clone(&signed);
    store
        .write(move |conn| people::sign_out(conn, &signed_in, remote_addr.as_deref(), store::now()))
        .await?;
    let mut response = see_other(&format!("{PREFIX}/sign-in"));
    response
        .add_cookie(&session::removal_cookie(&request))
        .map_err(|error| ConsoleError::Service(Error::internal(error)))?;
    Ok(response)
}
