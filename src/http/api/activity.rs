//! `/api/v1/activity`: the organization's SCIM requests, newest first, in pages, and one
//! entry with its (redacted) bodies. Open to `activity:read` and `tokens:manage` tokens.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::json_response;
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::service::activity::{
    self, ActivityFilter, ActivityLog, ActivityView, StatusFilter, describe::Idp,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    /// `2xx`, `4xx`, `5xx` or `failed`.
    status: Option<String>,
    method: Option<String>,
    /// A resource id, or a `userName`/`displayName`.
    resource: Option<String>,
    /// A token id.
    token: Option<String>,
    /// `okta`, `entra` or `other`.
    idp: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn require_reader(auth: &AuthContext) -> Result<()> {
    if auth.scopes.contains(Scope::ActivityRead) || auth.scopes.contains(Scope::TokensManage) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "this token lacks the 'activity:read' or 'tokens:manage' scope".to_owned(),
        ))
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

pub async fn list_activity(
    auth: AuthContext,
    log: web::Data<ActivityLog>,
    params: web::Query<ActivityParams>,
) -> Result<HttpResponse> {
    require_reader(&auth)?;
    let params = params.into_inner();
    let limit = params.limit.unwrap_or(activity::DEFAULT_LIMIT);
    let status = non_empty(params.status)
        .map(|text| {
            StatusFilter::parse(&text).ok_or_else(|| {
                ProtocolError::invalid_value(format!(
                    "status '{text}' is not 2xx, 4xx, 5xx or failed"
                ))
            })
        })
        .transpose()?;
    let idp = non_empty(params.idp)
        .map(|text| {
            Idp::parse(&text).ok_or_else(|| {
                ProtocolError::invalid_value(format!("idp '{text}' is not okta, entra or other"))
            })
        })
        .transpose()?;
    let filter = ActivityFilter {
        status,
        method: non_empty(params.method),
        resource: non_empty(params.resource),
        token: non_empty(params.token),
        idp,
        since: super::query_time("since", params.since.as_deref())?,
        until: super::query_time("until", params.until.as_deref())?,
        ..ActivityFilter::of(auth.org_id.clone())
    };
    let cursor = params.cursor;
    let page = log
        .store()
        .read(move |conn| activity::search(conn, &filter, cursor.as_deref(), limit))
        .await?;
    let entries: Vec<ActivityView> = page.entries.into_iter().map(ActivityView::from).collect();
    Ok(json_response(&serde_json::json!({
        "activity": entries,
        "next_cursor": page.next_cursor,
    })))
}

pub async fn get_activity(
    auth: AuthContext,
    log: web::Data<ActivityLog>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    require_reader(&auth)?;
    let org = auth.org_id.clone();
    let id = id.into_inner();
    let entry = log
        .store()
        .read(move |conn| activity::get(conn, &org, &id))
        .await?;
    Ok(json_response(&ActivityView::from(entry)))
}
