//! `/console/orgs/{org}/tokens`: the organization's API tokens. (A first, read-only list;
//! the API Tokens page proper replaces it.)

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::service::people::Action;
use crate::service::tokens::{self, MAX_PAGE, TokenListQuery, TokenSort};
use crate::service::views::TokenView;
use crate::store::{self, Store};

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    frame: Frame,
    tokens: Vec<TokenView>,
}

pub async fn list(page: OrgPage, store: web::Data<Store>) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let org = page.org.clone();
    let query = TokenListQuery {
        name_contains: None,
        status: None,
        sort: TokenSort::parse(None, None).map_err(ConsoleError::BadRequest)?,
        limit: MAX_PAGE,
        offset: 0,
    };
    let now = store::now();
    let listed = store
        .read(move |conn| tokens::list(conn, &org, &query, now))
        .await?;
    page::html(&TokensPage {
        frame: page.frame("API Tokens", Section::Tokens),
        tokens: listed
            .tokens
            .into_iter()
            .map(|shown| TokenView::new(shown, now))
            .collect(),
    })
}
