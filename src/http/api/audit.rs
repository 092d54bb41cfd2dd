//! `/api/v1/audit`: the organization's audit log, newest first, in pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::json_response;
use crate::auth::{AuthContext, Scope};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::service::audit_log::{self, AuditFilter};
use crate::service::input;
use crate::service::views::EventView;
use crate::store::Store;

/// The most events one page of the API may hold.
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Event types, comma-separated (`token.created,auth.failed`).
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// A token id: events about it or made with it.
    token: Option<String>,
    /// As the log names it: `cli`, `token:<id>`, `person:<email>`…
    actor: Option<String>,
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub async fn list_audit_events(
    auth: AuthContext,
    store: web::Data<Store>,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let params = params.into_inner();
    let limit = params.limit.unwrap_or(audit_log::DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ProtocolError::invalid_value(format!("limit is 1 to {MAX_LIMIT}")).into());
    }
    let filter = AuditFilter {
        org: Some(auth.org_id.clone()),
        kinds: input::parse_event_kinds(params.event_type.as_slice())
            .map_err(ProtocolError::invalid_value)?,
        actor: params.actor.filter(|actor| !actor.is_empty()),
        token: params.token.filter(|token| !token.is_empty()),
        since: super::query_time("since", params.since.as_deref())?,
        until: super::query_time("until", params.until.as_deref())?,
    };
    let cursor = params.cursor;
    let page = store
        .read(move |conn| audit_log::search(conn, &filter, cursor.as_deref(), limit))
        .await?;
    let events: Vec<EventView> = page.events.into_iter().map(EventView::from).collect();
    Ok(json_response(&serde_json::json!({
        "events": events,
        "next_cursor": page.next_cursor,
    })))
}
