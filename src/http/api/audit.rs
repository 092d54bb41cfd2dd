//! `/api/v1/audit`: the organization's audit log, newest first, in pages.

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::json_response;
use crate::auth::{AuthContext, Scope};
use crate::error::Result;
use crate::scim::error::ProtocolError;
use crate::service::input::{self, parse_time};
use crate::service::views::EventView;
use crate::store::Store;
use crate::store::audit::{AuditQuery, search_audit_events};

/// Events per page unless `limit` says otherwise, and the most `limit` may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
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
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Builds the store query from request parameters (shared with the CLI's wording).
pub fn audit_query(params: &AuditParams) -> Result<AuditQuery> {
    let time = |name: &str, text: &Option<String>| -> Result<Option<NaiveDateTime>> {
        text.as_deref()
            .map(|text| {
                parse_time(text).ok_or_else(|| {
                    ProtocolError::invalid_value(format!(
                        "{name} '{text}' is not a date or an RFC 3339 time"
                    ))
                    .into()
                })
            })
            .transpose()
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ProtocolError::invalid_value(format!("limit is 1 to {MAX_LIMIT}")).into());
    }
    Ok(AuditQuery {
        org: None,
        event_types: input::parse_event_kinds(params.event_type.as_slice())
            .map_err(ProtocolError::invalid_value)?
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect(),
        since: time("since", &params.since)?,
        until: time("until", &params.until)?,
        token: params.token.clone(),
        before: params.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    })
}

pub async fn list_audit_events(
    auth: AuthContext,
    store: web::Data<Store>,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let query = AuditQuery {
        org: Some(auth.org_id.clone()),
        ..audit_query(&params)?
    };
    let limit = query.limit;
    let events = store
        .read(move |conn| search_audit_events(conn, &query))
        .await?;
    let next_cursor = events
        .last()
        .filter(|_| i64::try_from(events.len()).is_ok_and(|n| n == limit))
        .map(|last| encode_cursor(last.occurred_at, &last.id));
    let events: Vec<EventView> = events.into_iter().map(EventView::from).collect();
    Ok(json_response(&serde_json::json!({
        "events": events,
        "next_cursor": next_cursor,
    })))
}

fn encode_cursor(at: NaiveDateTime, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.format("%Y-%m-%dT%H:%M:%S%.6f")))
}

fn decode_cursor(text: &str) -> Result<(NaiveDateTime, String)> {
    let invalid = || ProtocolError::invalid_value("cursor is not one this server returned");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| invalid())?;
    Ok((at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_micro_opt(12, 0, 0, 123_456)
            .unwrap();
        let cursor = encode_cursor(at, "abc");
        assert_eq!(decode_cursor(&cursor).unwrap(), (at, "abc".to_owned()));
        assert!(decode_cursor("garbage!").is_err());
    }
}
