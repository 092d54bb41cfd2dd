//! `/console/orgs/{org}/connection`: what to type into Okta or Microsoft Entra ID to
//! provision into this organization.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::{self, OrgPage};
use crate::service::people::Action;

#[derive(Template)]
#[template(path = "console/connection.html")]
struct ConnectionPage {
    frame: Frame,
    /// `https://host/scim/v2`, as this browser reached the server.
    base_url: String,
    /// IdPs provision only to HTTPS; over plain HTTP the page says so.
    is_https: bool,
    /// Where "Generate token" leads, for people who may create one.
    new_token_url: Option<String>,
}

pub async fn show(page: OrgPage, request: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let origin = session::own_origin(&request).unwrap_or_default();
    page::html(&ConnectionPage {
        frame: page.frame("SCIM connection", Section::Connection),
        base_url: format!("{origin}/scim/v2"),
        is_https: session::is_https(&request),
        new_token_url: page
            .may(Action::ManageTokens)
            .then(|| page.url("tokens/new")),
    })
}
