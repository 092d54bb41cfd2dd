//! `/console/orgs/{org}/activity`: the organization's SCIM requests, newest first, failed
//! ones marked; filters (failed only, user, IdP) and pages; one entry with its redacted
//! request and response JSON.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::token_view::Moment;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::service::activity::{self, ActivityFilter, ActivityLog, StatusFilter, describe::Idp};
use crate::service::people::Action;
use crate::store::activity::ActivityRow;

/// Entries per page.
const PAGE_SIZE: i64 = 50;

/// An entry as the list shows it.
pub struct EntryRow {
    pub at: Moment,
    pub status: i32,
    pub failed: bool,
    pub method: String,
    pub summary: String,
    pub sender: String,
    pub url: String,
}

fn sender(row: &ActivityRow) -> String {
    match (&row.token_id, &row.token_name) {
        (None, _) => "AUTH_SECRET".to_owned(),
        (Some(_), Some(name)) => name.clone(),
        (Some(id), None) => id.clone(),
    }
}

/// The filters as typed, which are also the page's query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActivityQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    failed: String,
    /// A userName, displayName or id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    user: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    idp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

pub struct IdpChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/activity.html")]
struct ListPage {
    frame: Frame,
    query: ActivityQuery,
    failed_only: bool,
    idps: Vec<IdpChoice>,
    entries: Vec<EntryRow>,
    error: Option<String>,
    older_url: Option<String>,
    newest_url: Option<String>,
}

pub async fn list(
    page: OrgPage,
    log: web::Data<ActivityLog>,
    query: web::Query<ActivityQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let query = query.into_inner();
    let failed_only = !query.failed.is_empty();
    let idp = Idp::parse(&query.idp);
    let idps = Idp::ALL
        .iter()
        .map(|choice| IdpChoice {
            value: choice.as_str(),
            label: choice.label().unwrap_or("Other"),
            selected: Some(*choice) == idp,
        })
        .collect();
    let filter = ActivityFilter {
        status: failed_only.then_some(StatusFilter::Failed),
        resource: Some(query.user.trim().to_owned()).filter(|user| !user.is_empty()),
        idp,
        ..ActivityFilter::of(page.org.clone())
    };
    let cursor = query.cursor.clone();
    let found = log
        .store()
        .read(move |conn| activity::search(conn, &filter, cursor.as_deref(), PAGE_SIZE))
        .await;
    let (entries, next_cursor, error) = match found {
        Ok(found) => (found.entries, found.next_cursor, None),
        Err(crate::error::Error::Protocol(refusal)) => {
            (Vec::new(), None, Some(refusal.to_string()))
        }
        Err(other) => return Err(other.into()),
    };
    let base = page.url("activity");
    let link = |cursor: Option<String>| {
        let query = ActivityQuery {
            cursor,
            ..query.clone()
        };
        match serde_urlencoded::to_string(&query).unwrap_or_default() {
            text if text.is_empty() => base.clone(),
            text => format!("{base}?{text}"),
        }
    };
    let entries = entries
        .into_iter()
        .map(|row| EntryRow {
            at: Moment::new(row.occurred_at),
            failed: row.status >= 400,
            sender: sender(&row),
            url: format!("{base}/{}", row.id),
            status: row.status,
            method: row.method,
            summary: row.summary,
        })
        .collect();
    page::html(&ListPage {
        frame: page.frame("Activity", Section::Activity),
        failed_only,
        idps,
        entries,
        error,
        older_url: next_cursor.map(|cursor| link(Some(cursor))),
        newest_url: query.cursor.as_ref().map(|_| link(None)),
        query,
    })
}

#[derive(Template)]
#[template(path = "console/activity_entry.html")]
struct EntryPage {
    frame: Frame,
    list_url: String,
    at: Moment,
    status: i32,
    failed: bool,
    summary: String,
    facts: Vec<(&'static str, String)>,
    request_body: Option<String>,
    response_body: Option<String>,
}

/// A kept body, pretty-printed when it is (still) JSON.
fn pretty(text: Option<String>) -> Option<String> {
    text.map(|text| match serde_json::from_str::<Value>(&text) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or(text),
        Err(_) => text,
    })
}

pub async fn show(
    page: OrgPage,
    log: web::Data<ActivityLog>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let (_, id) = path.into_inner();
    let org = page.org.clone();
    let row = log
        .store()
        .read(move |conn| activity::get(conn, &org, &id))
        .await?;
    let sent_by = sender(&row);
    let resource = [
        row.resource_type.clone(),
        row.resource_name.clone(),
        row.resource_id.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let facts = [
        ("Request", format!("{} {}", row.method, row.path)),
        (
            "Status",
            match &row.scim_type {
                Some(kind) => format!("{} ({kind})", row.status),
                None => row.status.to_string(),
            },
        ),
        (
            "Duration",
            format!("{:.1} ms", row.duration_us as f64 / 1000.0),
        ),
        ("Sent with", sent_by),
        (
            "Identity provider",
            Idp::parse(&row.idp)
                .and_then(Idp::label)
                .unwrap_or("Other")
                .to_owned(),
        ),
        ("Resource", resource),
        (
            "Client address",
            row.client_addr.clone().unwrap_or_default(),
        ),
        ("User-Agent", row.user_agent.clone().unwrap_or_default()),
        ("Request id", row.request_id.clone().unwrap_or_default()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    page::html(&EntryPage {
        frame: page.frame("Activity entry", Section::Activity),
        list_url: page.url("activity"),
        at: Moment::new(row.occurred_at),
        status: row.status,
        failed: row.status >= 400,
        summary: row.summary,
        facts,
        request_body: pretty(row.request_body),
        response_body: pretty(row.response_body),
    })
}
