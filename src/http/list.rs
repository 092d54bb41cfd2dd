//! List and search requests: query strings and SearchRequest bodies become one validated
//! [`ListRequest`], which becomes one store search.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::extract::ScimBase;
use super::response::{scim_json, shown_response};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::discovery::page_response;
use crate::scim::limits::Limits;
use crate::scim::projection::Projection;
use crate::scim::query::{Paging, QueryParams};
use crate::scim::schema::ResourceTypeDef;
use crate::service::resources::{self, Kind, ShownCache};
use crate::store::Store;

/// The query string of a list request (RFC 7644 §3.4.2), or of any request that takes
/// `attributes`/`excludedAttributes` (§3.9).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryString {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    cursor: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// The list parameters of a request's query string.
#[derive(Debug, Clone)]
pub struct ListQuery(pub QueryParams);

impl FromRequest for ListQuery {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let query = web::Query::<QueryString>::from_request(request, payload).into_inner();
        ready(query.map(|query| {
            let query = query.into_inner();
            ListQuery(QueryParams {
                filter: query.filter,
                sort_by: query.sort_by,
                sort_order: query.sort_order,
                start_index: query.start_index,
                count: query.count,
                cursor: query.cursor,
                attributes: query.attributes,
                excluded_attributes: query.excluded_attributes,
            })
        }))
    }
}

impl ListQuery {
    /// `attributes`/`excludedAttributes` alone, for single-resource responses.
    pub fn projection(&self, rt: &ResourceTypeDef) -> Result<Projection> {
        Ok(self.0.projection(rt)?)
    }
}

/// The ListResponse of a page (see [`page_response`]).
pub fn list_page(
    resources: Vec<Value>,
    total: i64,
    paging: &Paging,
    next_cursor: Option<String>,
) -> HttpResponse {
    scim_json(page_response(resources, total, paging, next_cursor))
}

/// `GET /Users`, `GET /Groups` (RFC 7644 §3.4.2).
pub async fn list<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    cache: web::Data<ShownCache>,
    limits: web::Data<Limits>,
    base: ScimBase,
    query: ListQuery,
) -> Result<HttpResponse> {
    respond::<K>(auth, &store, &cache, &limits, base, &query.0).await
}

/// `POST /Users/.search`, `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search<K: Kind>(
    auth: AuthContext,
    store: web::Data<Store>,
    cache: web::Data<ShownCache>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    respond::<K>(auth, &store, &cache, &limits, base, &search_params(&body)?).await
}

/// Answers a list or search request for one resource type.
async fn respond<K: Kind>(
    auth: AuthContext,
    store: &Store,
    cache: &ShownCache,
    limits: &Limits,
    base: ScimBase,
    params: &QueryParams,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let shown = resources::search_shown::<K>(
        store,
        cache,
        auth.data_version,
        auth.org_id,
        params,
        limits,
        &base.0,
    )
    .await?;
    Ok(shown_response(&shown))
}

/// Reads the SearchRequest of a `.search` POST.
pub fn search_params(body: &Value) -> Result<QueryParams> {
    QueryParams::from_search_request(body).map_err(Error::from)
}
