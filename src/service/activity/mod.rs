//! The activity log of SCIM requests, for every front end: what the `/scim/v2` middleware
//! captured becomes a row (IdP, resource, summary, redacted bodies) off the request path, in
//! [`recorder`]; the console, `GET /api/v1/activity` and `scimd activity` read it here.

pub mod describe;
pub mod recorder;

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audit_log::{decode_cursor, encode_cursor};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::redact;
use crate::store::activity::{ActivityQuery, ActivityRow, find_activity, search_activity};
use crate::store::{DbConn, OrgId, TokenId};
use describe::{Addressed, Facts, Idp};

pub use recorder::{ActivityLog, ActivitySettings, ActivityWorkers};

/// Entries per page unless the caller says otherwise, and the most one page may hold.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 1000;

/// A request as the middleware saw it: cheap to take (the body chunks are shared, not copied),
/// told apart and redacted later by [`entry_of`].
#[derive(Debug)]
pub struct Captured {
    pub org: OrgId,
    pub at: NaiveDateTime,
    pub request_id: Option<String>,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration: Duration,
    /// `None`: the shared secret.
    pub token: Option<TokenId>,
    pub client_addr: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The request body as it arrived (writes only).
    pub request_body: Vec<Bytes>,
    /// The response body (writes and failures only).
    pub response_body: Option<Bytes>,
}

fn parse(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

/// The members of a response body a row is told from. A resource's body is most of what the
/// log reads: built into a `Value`, redacted and written out again, it was more than half of
/// the log's CPU under `PATCH /Users` (issue 15). Read into these alone, and kept as it came
/// where it holds no secret, it costs one pass over its bytes.
#[derive(Debug, Default, Deserialize)]
struct ResponseFacts {
    id: Option<Value>,
    #[serde(rename = "scimType")]
    scim_type: Option<Value>,
    #[serde(rename = "userName")]
    user_name: Option<Value>,
    #[serde(rename = "displayName")]
    display_name: Option<Value>,
}

impl ResponseFacts {
    /// The facts of a response body and the body as the log keeps it.
    fn read(bytes: &[u8]) -> (ResponseFacts, String) {
        if let Ok(facts) = serde_json::from_slice::<ResponseFacts>(bytes) {
            let kept = redact::keep_unless_secret(bytes)
                .or_else(|| redact::keep_body(bytes))
                .unwrap_or_default();
            return (facts, kept);
        }
        // Not an object, not JSON, or a member twice (which a `Value` takes the last of).
        match parse(bytes) {
            Some(value) => {
                let facts = ResponseFacts::deserialize(&value).unwrap_or_default();
                (facts, redact::keep_value(value))
            }
            None => (ResponseFacts::default(), redact::not_json(bytes.len())),
        }
    }

    /// The resource's name, as [`describe::name_in`] tells it from a body.
    fn name(&self) -> Option<&str> {
        [&self.user_name, &self.display_name]
            .into_iter()
            .find_map(|member| member.as_ref().and_then(Value::as_str))
    }
}

/// A captured request with its bodies parsed: all a row needs but the names kept in the
/// database, and the one that is looked up only when neither body carries it.
pub struct Parsed {
    captured: Captured,
    request_bytes: Vec<u8>,
    request: Option<Value>,
    /// What the row needs of the response body, and the body as kept (`None`: there was none).
    response: ResponseFacts,
    kept_response: Option<String>,
    addressed: Addressed,
    /// The resource's name as a body gives it.
    name: Option<String>,
}

impl Parsed {
    pub fn of(captured: Captured) -> Parsed {
        let request_bytes: Vec<u8> = captured.request_body.concat();
        let request = parse(&request_bytes);
        let (response, kept_response) = match captured.response_body.as_deref() {
            None | Some([]) => (ResponseFacts::default(), None),
            Some(bytes) => {
                let (facts, kept) = ResponseFacts::read(bytes);
                (facts, Some(kept))
            }
        };
        let addressed = describe::addressed(&captured.path);
        let resource = addressed.resource_type.is_some();
        let failed = captured.status >= 400;
        let name = response
            .name()
            .filter(|_| resource && !failed)
            .map(str::to_owned)
            .or_else(|| describe::name_in(request.as_ref().filter(|_| resource)));
        Parsed {
            captured,
            request_bytes,
            request,
            response,
            kept_response,
            addressed,
            name,
        }
    }

    pub fn org(&self) -> &OrgId {
        &self.captured.org
    }

    pub fn token(&self) -> Option<&TokenId> {
        self.captured.token.as_ref()
    }

    /// The id of the resource whose stored name the row needs: one its path addresses and
    /// neither body names (a Group PATCH answered 204, a DELETE). A user's PATCH or PUT
    /// answers its `userName`, so the busiest writes cost the log no database lookup.
    pub fn unnamed_resource(&self) -> Option<&str> {
        self.addressed.id.as_deref().filter(|_| self.name.is_none())
    }
}

/// The row a parsed request becomes; `token_name` is the token's name when it has one,
/// `stored_name` the resource's name as stored (see [`Parsed::unnamed_resource`]).
pub fn entry_of(
    parsed: Parsed,
    token_name: Option<String>,
    stored_name: Option<String>,
) -> ActivityRow {
    let (captured, request, response) = (parsed.captured, parsed.request, parsed.response);
    let response_body = parsed.kept_response;
    let addressed = parsed.addressed;
    let path = match redact::keep_query(&captured.query) {
        Some(query) => format!("{}?{query}", captured.path),
        None => captured.path.clone(),
    };
    let idp = describe::detect_idp(captured.user_agent.as_deref(), &path, request.as_ref());
    let failed = captured.status >= 400;
    let scim_type = response
        .scim_type
        .as_ref()
        .filter(|_| failed)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let resource = addressed.resource_type.is_some();
    let name = parsed.name.or(stored_name);
    let id = addressed.id.clone().or_else(|| {
        response
            .id
            .as_ref()
            .filter(|_| resource && !failed)
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let who = match (idp.label(), &token_name, &captured.token) {
        (Some(label), ..) => label.to_owned(),
        (None, Some(name), _) => format!("token '{name}'"),
        (None, None, Some(token)) => format!("token {token}"),
        (None, None, None) => "AUTH_SECRET".to_owned(),
    };
    let addressed = Addressed {
        id: id.clone(),
        ..addressed
    };
    let summary = describe::summarize(&Facts {
        who: &who,
        method: &captured.method,
        addressed: &addressed,
        name: name.as_deref(),
        status: captured.status,
        scim_type: scim_type.as_deref(),
        request: request.as_ref(),
    });
    let request_body = match request {
        Some(value) => Some(redact::keep_value(value)),
        None if parsed.request_bytes.is_empty() => None,
        None => Some(redact::not_json(parsed.request_bytes.len())),
    };
    ActivityRow {
        // Time-ordered (UUIDv7): each insert lands at the end of the primary key's B-tree.
        // A random id touched a page anywhere in it, and every batch dirtied hundreds of pages
        // that the writer then had to log and checkpoint beside the SCIM writes.
        id: uuid::Uuid::now_v7().to_string(),
        org_id: captured.org.as_str().to_owned(),
        occurred_at: captured.at,
        request_id: captured.request_id,
        method: captured.method,
        path,
        status: i32::from(captured.status),
        status_class: i32::from(captured.status / 100),
        scim_type,
        duration_us: i64::try_from(captured.duration.as_micros()).unwrap_or(i64::MAX),
        token_id: captured.token.map(|token| token.to_string()),
        token_name,
        client_addr: captured.client_addr.map(|address| address.to_string()),
        user_agent: captured
            .user_agent
            .map(|agent| redact::truncate(agent, 512)),
        idp: idp.as_str().to_owned(),
        resource_type: addressed.resource_type.map(str::to_owned),
        resource_id: id,
        resource_key: name.as_ref().map(|name| name.to_lowercase()),
        resource_name: name,
        summary,
        request_body,
        response_body,
    }
}

/// `status=`: a class, or every failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Success,
    ClientError,
    ServerError,
    /// 4xx and 5xx.
    Failed,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<StatusFilter> {
        match text.trim().to_ascii_lowercase().as_str() {
            "2xx" => Some(StatusFilter::Success),
            "4xx" => Some(StatusFilter::ClientError),
            "5xx" => Some(StatusFilter::ServerError),
            "failed" => Some(StatusFilter::Failed),
            _ => None,
        }
    }

    fn classes(self) -> Vec<i32> {
        match self {
            StatusFilter::Success => vec![2],
            StatusFilter::ClientError => vec![4],
            StatusFilter::ServerError => vec![5],
            StatusFilter::Failed => vec![4, 5],
        }
    }
}

/// Which entries: every condition holds.
#[derive(Debug, Clone)]
pub struct ActivityFilter {
    pub org: OrgId,
    pub status: Option<StatusFilter>,
    pub method: Option<String>,
    /// A resource's id, or its `userName`/`displayName` in any case.
    pub resource: Option<String>,
    /// A token id.
    pub token: Option<String>,
    pub idp: Option<Idp>,
    pub since: Option<NaiveDateTime>,
    /// Exclusive.
    pub until: Option<NaiveDateTime>,
}

impl ActivityFilter {
    /// Everything of `org`.
    pub fn of(org: OrgId) -> ActivityFilter {
        ActivityFilter {
            org,
            status: None,
            method: None,
            resource: None,
            token: None,
            idp: None,
            since: None,
            until: None,
        }
    }
}

/// One page, newest first (bodies left out); `next_cursor` continues it.
#[derive(Debug, Clone)]
pub struct ActivityPage {
    pub entries: Vec<ActivityRow>,
    pub next_cursor: Option<String>,
}

/// The page of entries matching `filter` after `cursor`, at most `limit` (1 to
/// [`MAX_LIMIT`]). Stable under inserts: a cursor names the last entry shown, and new entries
/// sort before it.
pub fn search(
    conn: &mut DbConn,
    filter: &ActivityFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<ActivityPage> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ProtocolError::invalid_value(format!("limit is 1 to {MAX_LIMIT}")).into());
    }
    let query = ActivityQuery {
        org: filter.org.clone(),
        status_classes: filter.status.map(StatusFilter::classes).unwrap_or_default(),
        method: filter
            .method
            .as_ref()
            .map(|method| method.trim().to_ascii_uppercase()),
        resource: filter.resource.clone(),
        token: filter.token.clone(),
        idp: filter.idp.map(|idp| idp.as_str().to_owned()),
        since: filter.since,
        until: filter.until,
        before: cursor.map(decode_cursor).transpose()?,
        limit,
    };
    let entries = search_activity(conn, &query)?;
    let next_cursor = entries
        .last()
        .filter(|_| i64::try_from(entries.len()).is_ok_and(|n| n == limit))
        .map(|last| encode_cursor(last.occurred_at, &last.id));
    Ok(ActivityPage {
        entries,
        next_cursor,
    })
}

/// One entry of `org`, bodies included; another organization's is a 404 like a missing one.
pub fn get(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<ActivityRow> {
    find_activity(conn, org, id)?.ok_or_else(|| Error::NotFound("no such activity entry".into()))
}

/// An entry as the API and `--json` show it.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub id: String,
    pub time: String,
    pub request_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub scim_type: Option<String>,
    pub duration_ms: f64,
    /// `None` with `shared_secret` true: `AUTH_SECRET`.
    pub token: Option<TokenRef>,
    pub shared_secret: bool,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub idp: String,
    pub resource: Option<ResourceRef>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A kept body as JSON again; a cut or unreadable one as its text.
fn body_value(text: Option<String>) -> Option<Value> {
    text.map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl From<ActivityRow> for ActivityView {
    fn from(row: ActivityRow) -> ActivityView {
        let resource =
            (row.resource_type.is_some() || row.resource_id.is_some()).then_some(ResourceRef {
                resource_type: row.resource_type,
                id: row.resource_id,
                name: row.resource_name,
            });
        ActivityView {
            id: row.id,
            time: row
                .occurred_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            request_id: row.request_id,
            method: row.method,
            path: row.path,
            status: row.status,
            scim_type: row.scim_type,
            // Thousandths of a millisecond: exact in an f64.
            duration_ms: row.duration_us as f64 / 1000.0,
            shared_secret: row.token_id.is_none(),
            token: row.token_id.map(|id| TokenRef {
                id,
                name: row.token_name,
            }),
            client_addr: row.client_addr,
            user_agent: row.user_agent,
            idp: row.idp,
            resource,
            summary: row.summary,
            request_body: body_value(row.request_body),
            response_body: body_value(row.response_body),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_response_is_read_for_its_facts_and_kept_as_a_value_would_be() {
        let body = json!({"id": "u1", "userName": "bjensen", "displayName": "Babs"}).to_string();
        let (facts, kept) = ResponseFacts::read(body.as_bytes());
        assert_eq!(facts.id, Some(json!("u1")));
        assert_eq!(facts.name(), Some("bjensen"));
        assert_eq!(kept, body);

        let error = json!({"status": "409", "scimType": "uniqueness"}).to_string();
        let (facts, _) = ResponseFacts::read(error.as_bytes());
        assert_eq!(facts.scim_type, Some(json!("uniqueness")));
        assert_eq!(facts.name(), None);

        // Read as a `Value` reads them: the last of a member given twice, any JSON kept.
        let (facts, kept) = ResponseFacts::read(br#"{"displayName":"a","displayName":"b"}"#);
        assert_eq!(
            (facts.name(), kept.as_str()),
            (Some("b"), r#"{"displayName":"b"}"#)
        );
        let (facts, kept) = ResponseFacts::read(br#"[ {"id": 1} ]"#);
        assert_eq!((facts.id, kept.as_str()), (None, r#"[{"id":1}]"#));
        let (_, kept) = ResponseFacts::read(b"<html>");
        assert_eq!(kept, redact::not_json(6));
    }
}
