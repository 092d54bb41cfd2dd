//! How the console fails: an HTML page with a plain sentence, never SCIM JSON and never a
//! cause. Form mistakes do not come here: a page re-renders its form with the error beside
//! the field; this is for what a form cannot show (a missing page, a forbidden action, a
//! fault on our side).

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::head::{HTML, Head};
use crate::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Unknown page, or a page of an organization the person is not a member of: the same
    /// answer, so that nobody learns which organizations exist.
    #[error("not found")]
    NotFound,
    /// The person's role does not allow it, or a form came without its CSRF token.
    #[error("forbidden")]
    Forbidden,
    /// No valid session: the browser is sent to sign in, and back to `next` afterwards.
    #[error("sign-in required")]
    SignInRequired { next: Option<String> },
    /// A set-up link that is unknown, used or expired: one answer for all three.
    #[error("set-up link not valid")]
    SetupLinkInvalid,
    /// A signed-in person who belongs to no organization (all their memberships removed).
    #[error("no organization")]
    NoOrganization,
    /// A request no page of ours would send (a form field missing, a malformed value).
    #[error("{0}")]
    BadRequest(String),
    /// A use case failed; mapped to a status and a sentence in [`ConsoleError::status_code`].
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<askama::Error> for ConsoleError {
    fn from(error: askama::Error) -> Self {
        ConsoleError::Service(Error::internal(error))
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    head: Head,
    heading: &'static str,
    message: String,
}

impl ConsoleError {
    /// What the person reads: short, and never a cause or a stack.
    fn heading_and_message(&self) -> (&'static str, String) {
        match self {
            ConsoleError::NotFound | ConsoleError::Service(Error::NotFound(_)) => (
                "Page not found",
                "This page does not exist, or you do not have access to it.".to_owned(),
            ),
            ConsoleError::Forbidden | ConsoleError::Service(Error::Forbidden(_)) => (
                "Not allowed",
                "You do not have permission to do this, or the form was out of date. \
                 Go back, reload the page and try again."
                    .to_owned(),
            ),
            ConsoleError::SignInRequired { .. } => {
                ("Sign-in required", "Sign in to continue.".to_owned())
            }
            ConsoleError::SetupLinkInvalid => (
                "Set-up link not valid",
                "This set-up link is unknown, was already used, or has expired. Ask an owner \
                 of your organization for a new one."
                    .to_owned(),
            ),
            ConsoleError::NoOrganization => (
                "No organization",
                "You are not a member of any organization. Ask an owner to add you.".to_owned(),
            ),
            ConsoleError::BadRequest(detail) => ("Request not understood", detail.clone()),
            ConsoleError::Service(Error::TooManyRequests { retry_after_secs }) => (
                "Too many requests",
                format!("Try again in {retry_after_secs} seconds."),
            ),
            ConsoleError::Service(Error::Unavailable(_)) => (
                "Temporarily unavailable",
                "The database cannot be reached right now. Try again in a moment.".to_owned(),
            ),
            ConsoleError::Service(Error::Internal(_)) => (
                "Something went wrong",
                "The server could not complete this request. It has been logged.".to_owned(),
            ),
            // Details written for clients: the user's own mistake, told in its words.
            ConsoleError::Service(other) => ("Request not accepted", other.to_string()),
        }
    }

    /// The page itself (used for framework rejections too).
    pub fn page(&self) -> HttpResponse {
        self.error_response()
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound | ConsoleError::SetupLinkInvalid => StatusCode::NOT_FOUND,
            ConsoleError::NoOrganization => StatusCode::FORBIDDEN,
            ConsoleError::Forbidden => StatusCode::FORBIDDEN,
            ConsoleError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Service(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ConsoleError::SignInRequired { next } = self {
            return super::see_other(&super::sign_in_url(next.as_deref()));
        }
        let status = self.status_code();
        if status.is_server_error() {
            // The one log line of this failure, with its cause chain; the page says nothing
            // of it.
            log::error!("console request failed: {:#}", anyhow_chain(self));
        }
        let (heading, message) = self.heading_and_message();
        let page = ErrorPage {
            head: Head::new(heading),
            heading,
            message,
        };
        match page.render() {
            Ok(html) => HttpResponse::build(status).content_type(HTML).body(html),
            Err(error) => {
                log::error!("cannot render the console's error page: {error}");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(heading)
            }
        }
    }
}

/// The cause chain in one line, for the log.
fn anyhow_chain(error: &ConsoleError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Turns error responses the framework produced inside the console (a body too large, a
/// method a page does not serve) into the console's error page, as
/// [`crate::http::response::scim_error_pages`] does for the API.
pub fn html_error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        if is_html || response.status().is_redirection() {
            return Ok(ErrorHandlerResponse::Response(
                response.map_into_left_body(),
            ));
        }
        let error = match response.status() {
            StatusCode::NOT_FOUND => ConsoleError::NotFound,
            StatusCode::FORBIDDEN => ConsoleError::Forbidden,
            status if status.is_server_error() => {
                ConsoleError::Service(Error::internal(format!("the framework answered {status}")))
            }
            status => ConsoleError::BadRequest(
                status
                    .canonical_reason()
                    .unwrap_or("The request was not understood.")
                    .to_owned(),
            ),
        };
        let status = response.status();
        let (request, _) = response.into_parts();
        let mut page = error.page();
        // A 405 stays a 405: only the body changes.
        *page.status_mut() = status;
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(request, page).map_into_right_body::<B>(),
        ))
    })
}
