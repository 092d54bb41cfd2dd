//! `/console/orgs/{org}/audit`: the System log. The organization's events, newest first,
//! filtered by type, actor, token and time, in pages; who acted and on what, by name.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::token_view::{Moment, Named};
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::service::audit::EventKind;
use crate::service::audit_log::{self, AuditFilter, NamedEvent};
use crate::service::input::parse_time;
use crate::service::people::Action;
use crate::store::Store;

/// Events per page.
const PAGE_SIZE: i64 = 50;

/// An event as the tables show it.
pub struct EventRow {
    pub at: Moment,
    pub event_type: String,
    pub actor: Option<Named>,
    pub target: Option<Named>,
    pub remote_addr: String,
    /// `key: value` pairs of the event's details.
    pub details: String,
}

impl EventRow {
    pub fn new(page: &OrgPage, named: NamedEvent) -> EventRow {
        let event = named.event;
        EventRow {
            at: Moment::new(event.occurred_at),
            actor: named.actor.as_ref().map(|party| Named::of(page, party)),
            target: named.target.as_ref().map(|party| Named::of(page, party)),
            remote_addr: event.remote_addr.unwrap_or_default(),
            details: details_text(&event.details),
            event_type: event.event_type,
        }
    }
}

/// `{"fields":["name"],"prefix":"wxt_…"}` as `fields: name · prefix: wxt_…`.
fn details_text(json: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    map.iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{key}: {value}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The filters as typed, which are also the page's query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LogQuery {
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    event_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    token: String,
    /// A date, inclusive.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    from: String,
    /// A date, inclusive (the whole day).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

pub struct TypeChoice {
    pub value: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct LogPage {
    frame: Frame,
    query: LogQuery,
    types: Vec<TypeChoice>,
    events: Vec<EventRow>,
    error: Option<String>,
    older_url: Option<String>,
    newest_url: Option<String>,
}

/// The filter the query describes, or what is wrong with it.
fn filter_of(page: &OrgPage, query: &LogQuery) -> Result<AuditFilter, String> {
    let kinds = match query.event_type.as_str() {
        "" => Vec::new(),
        text => vec![EventKind::parse(text).ok_or("Choose an event type from the list.")?],
    };
    let date = |text: &str, label: &str| match text.trim() {
        "" => Ok(None),
        text => parse_time(text)
            .map(Some)
            .ok_or_else(|| format!("{label} is not a date, such as 2026-12-01.")),
    };
    Ok(AuditFilter {
        org: Some(page.org.clone()),
        kinds,
        actor: Some(query.actor.trim().to_owned()).filter(|actor| !actor.is_empty()),
        token: Some(query.token.trim().to_owned()).filter(|token| !token.is_empty()),
        since: date(&query.from, "From")?,
        // The whole of the last day.
        until: date(&query.to, "To")?.map(|day| day + TimeDelta::days(1)),
    })
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let query = query.into_inner();
    let types = EventKind::ALL
        .iter()
        .map(|kind| TypeChoice {
            value: kind.as_str(),
            selected: kind.as_str() == query.event_type,
        })
        .collect();
    let (events, next_cursor, error) = match filter_of(&page, &query) {
        Ok(filter) => {
            let cursor = query.cursor.clone();
            let found = store
                .read(move |conn| audit_log::search(conn, &filter, cursor.as_deref(), PAGE_SIZE))
                .await;
            match found {
                Ok(found) => (found.events, found.next_cursor, None),
                Err(crate::error::Error::Protocol(refusal)) => {
                    (Vec::new(), None, Some(refusal.to_string()))
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(error) => (Vec::new(), None, Some(error)),
    };
    let base = page.url("audit");
    let link = |cursor: Option<String>| {
        let query = LogQuery {
            cursor,
            ..query.clone()
        };
        match serde_urlencoded::to_string(&query).unwrap_or_default() {
            text if text.is_empty() => base.clone(),
            text => format!("{base}?{text}"),
        }
    };
    page::html(&LogPage {
        frame: page.frame("System log", Section::Audit),
        types,
        events: events
            .into_iter()
            .map(|event| EventRow::new(&page, event))
            .collect(),
        error,
        older_url: next_cursor.map(|cursor| link(Some(cursor))),
        newest_url: query.cursor.as_ref().map(|_| link(None)),
        query,
    })
}
