//! `/console/orgs/{org}/tokens`: the API Tokens page. The list (filter by name and status,
//! sort, page, columns), and its per-row actions: the "Active" switch and the trash icon
//! (revoke, confirmed in a dialog, or on a page of its own without JavaScript).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::token_view::{TokenRow, token_id};
use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::OrgPage;
use crate::service::people::Action;
use crate::service::tokens::{self, Caller, TokenListQuery, TokenSort, TokenWarning, WarningKind};
use crate::store::{self, Store};

/// Tokens per page.
const PAGE_SIZE: i64 = 50;

/// The list's query string; every field optional, so that a bare link works.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    /// Empty: active and disabled (revoked and expired tokens are under "Inactive").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    status: String,
    /// `created-desc` (empty), `created-asc`, `name-asc`, `name-desc`, `last_used-desc`,
    /// `expires-asc`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sort: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<i64>,
}

impl ListQuery {
    fn to_query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    fn with_page(&self, page: i64) -> String {
        let mut query = self.clone();
        query.page = (page > 1).then_some(page);
        query.to_query_string()
    }
}

/// The choices of a `<select>`.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

const STATUS_CHOICES: [(&str, &str); 5] = [
    ("", "Active and disabled"),
    ("active", "Active"),
    ("disabled", "Disabled"),
    ("inactive", "Inactive (revoked or expired)"),
    ("suspicious", "Suspicious"),
];

const SORT_CHOICES: [(&str, &str); 6] = [
    ("", "Newest first"),
    ("created-asc", "Oldest first"),
    ("name-asc", "Name (A to Z)"),
    ("name-desc", "Name (Z to A)"),
    ("last_used-desc", "Last used"),
    ("expires-asc", "Expires soonest"),
];

fn choices(options: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice {
            value,
            label,
            selected: value == current,
        })
        .collect()
}

/// The columns the "Columns" toggle may hide: key and heading.
pub const COLUMNS: [(&str, &str); 6] = [
    ("token", "Token"),
    ("scopes", "Scopes"),
    ("created", "Created"),
    ("last-used", "Last used"),
    ("expires", "Expires"),
    ("status", "Status"),
];

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    frame: Frame,
    tokens: Vec<TokenRow>,
    may_manage: bool,
    new_url: String,
    name: String,
    statuses: Vec<Choice>,
    sorts: Vec<Choice>,
    columns: Vec<(&'static str, &'static str)>,
    /// "Showing 51–100 of 243".
    range: String,
    previous_url: Option<String>,
    next_url: Option<String>,
    /// Where a row's action returns to: this list as it is.
    return_query: String,
    filtered: bool,
    warnings: Vec<WarningRow>,
}

/// A warning above the list, naming its token with a link to it.
pub struct WarningRow {
    pub url: String,
    pub name: String,
    pub text: String,
    /// The alert's class: `alert-error` when the token stopped or stops within a day.
    pub class: &'static str,
}

impl WarningRow {
    fn new(page: &OrgPage, warning: TokenWarning, now: chrono::NaiveDateTime) -> WarningRow {
        let day = warning.at.format("%Y-%m-%d");
        let text = match warning.kind {
            WarningKind::Leaked => {
                format!("was reported as leaked and revoked on {day}; replace it where it was used")
            }
            WarningKind::Expired => format!("expired on {day}"),
            WarningKind::ExpiresWithinDay => format!(
                "expires within a day, at {}",
                warning.at.format("%Y-%m-%d %H:%M UTC")
            ),
            WarningKind::ExpiresSoon => format!(
                "expires in {} days, on {day}",
                (warning.at - now).num_days().max(1)
            ),
        };
        WarningRow {
            url: page.url(&format!("tokens/{}", warning.token.id)),
            name: warning.token.name,
            text,
            class: if warning.kind == WarningKind::ExpiresSoon {
                "alert-info"
            } else {
                "alert-error"
            },
        }
    }
}

pub async fn list(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let query = query.into_inner();
    let (sort_key, order) = query.sort.split_once('-').unwrap_or(("created", "desc"));
    let sort = TokenSort::parse(Some(sort_key), Some(order)).map_err(ConsoleError::BadRequest)?;
    let status_text = if query.status.is_empty() {
        "current"
    } else {
        query.status.as_str()
    };
    let status =
        tokens::parse_status_filter(Some(status_text)).map_err(ConsoleError::BadRequest)?;
    let page_number = query.page.unwrap_or(1).max(1);
    let list_query = TokenListQuery {
        name_contains: Some(query.name.clone()),
        status,
        sort,
        limit: PAGE_SIZE,
        offset: (page_number - 1).saturating_mul(PAGE_SIZE),
    };
    let org = page.org.clone();
    let now = store::now();
    let (listed, warnings) = store
        .read(move |conn| {
            Ok((
                tokens::list(conn, &org, &list_query, now)?,
                tokens::warnings(conn, &org, now)?,
            ))
        })
        .await?;
    let base = page.url("tokens");
    let first = (page_number - 1) * PAGE_SIZE + 1;
    let shown = i64::try_from(listed.tokens.len()).unwrap_or(PAGE_SIZE);
    let range = if shown == 0 {
        String::new()
    } else {
        format!("Showing {first}–{} of {}", first + shown - 1, listed.total)
    };
    let link = |number: i64| {
        let query = query.with_page(number);
        if query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{query}")
        }
    };
    page::html(&TokensPage {
        frame: page.frame("API Tokens", Section::Tokens),
        may_manage: page.may(Action::ManageTokens),
        tokens: listed
            .tokens
            .into_iter()
            .map(|shown| TokenRow::new(&page, shown, now))
            .collect(),
        new_url: page.url("tokens/new"),
        name: query.name.clone(),
        statuses: choices(&STATUS_CHOICES, &query.status),
        sorts: choices(&SORT_CHOICES, &query.sort),
        columns: COLUMNS.to_vec(),
        range,
        previous_url: (page_number > 1).then(|| link(page_number - 1)),
        next_url: (first + shown - 1 < listed.total).then(|| link(page_number + 1)),
        return_query: query.to_query_string(),
        filtered: !query.name.is_empty() || !query.status.is_empty(),
        warnings: warnings
            .into_iter()
            .map(|warning| WarningRow::new(&page, warning, now))
            .collect(),
    })
}

/// Where a row's action sends the browser back to: the list as it was, or the token's page.
#[derive(Debug, Deserialize)]
pub struct ReturnTo {
    /// `detail`, or the list's query string.
    #[serde(default)]
    back: String,
    #[serde(default)]
    return_query: String,
}

impl ReturnTo {
    fn location(&self, page: &OrgPage, id: &str) -> String {
        if self.back == "detail" {
            return page.url(&format!("tokens/{id}"));
        }
        // Re-encoded through the list's own query type, so nothing but its fields returns.
        let query: ListQuery = serde_urlencoded::from_str(&self.return_query).unwrap_or_default();
        let query = query.to_query_string();
        if query.is_empty() {
            page.url("tokens")
        } else {
            format!("{}?{query}", page.url("tokens"))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    /// `yes` enables, anything else disables.
    #[serde(default)]
    active: String,
    #[serde(flatten)]
    back: ReturnTo,
}

/// `POST …/tokens/{id}/status`: the "Active" switch.
pub async fn set_active(
    page: OrgPage,
    store: web::Data<Store>,
    id: web::Path<(String, String)>,
    form: CsrfForm<ActiveForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let CsrfForm(form) = form;
    let id = token_id(&id.1)?;
    let location = form.back.location(&page, id.as_str());
    let enabled = form.active == "yes";
    let org = page.org.clone();
    let caller = Caller::Admin(page.signed.actor());
    store
        .write(move |conn| tokens::set_enabled(conn, &org, &caller, &id, enabled, store::now()))
        .await?;
    Ok(see_other(&location))
}

#[derive(Template)]
#[template(path = "console/token_revoke.html")]
struct RevokePage {
    frame: Frame,
    token: TokenRow,
    list_url: String,
}

/// `GET …/tokens/{id}/revoke`: the confirmation, for browsers without JavaScript.
pub async fn confirm_revoke(
    page: OrgPage,
    store: web::Data<Store>,
    id: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let id = token_id(&id.1)?;
    let org = page.org.clone();
    let now = store::now();
    let shown = store
        .read(move |conn| tokens::show(conn, &org, &id, now))
        .await?;
    page::html(&RevokePage {
        frame: page.frame("Revoke token", Section::Tokens),
        token: TokenRow::new(&page, shown, now),
        list_url: page.url("tokens"),
    })
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    /// `yes` once confirmed, in the dialog or on the confirmation page.
    #[serde(default)]
    confirmed: String,
    #[serde(flatten)]
    back: ReturnTo,
}

/// `POST …/tokens/{id}/revoke`: revokes once confirmed; unconfirmed (the trash icon without
/// JavaScript), leads to the confirmation page.
pub async fn revoke(
    page: OrgPage,
    store: web::Data<Store>,
    id: web::Path<(String, String)>,
    form: CsrfForm<RevokeForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let CsrfForm(form) = form;
    let id = token_id(&id.1)?;
    if form.confirmed != "yes" {
        return Ok(see_other(&page.url(&format!("tokens/{id}/revoke"))));
    }
    let org = page.org.clone();
    let caller = Caller::Admin(page.signed.actor());
    store
        .write(move |conn| tokens::revoke(conn, &org, &caller, &id, store::now()))
        .await?;
    // The token's own page would show it revoked; the list is where people go next.
    let back = ReturnTo {
        back: String::new(),
        ..form.back
    };
    Ok(see_other(&back.location(&page, "")))
}
