//! `/console/orgs/{org}/directory/…`: the users and groups the organization's identity
//! provider pushed, read-only (the IdP owns them). Searches go through the SCIM filter engine,
//! the same use case the SCIM API's list requests call.

pub mod groups;
pub mod users;

use serde::Deserialize;
use serde_json::Value;

use actix_web::HttpRequest;

use crate::console::error::ConsoleError;
use crate::console::session::OrgPage;
use crate::error::Error;
use crate::scim::limits::Limits;
use crate::scim::query::QueryParams;
use crate::scim::schema::ResourceTypeDef;
use crate::service::resources::{self, Kind, Plan, plan, search_box};
use crate::store::Store;
use crate::store::render::ResourceView;

/// Rows per page of a list.
const PAGE_SIZE: i64 = 50;

/// `?q=…&page=…` of a list page.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// "Showing 51–100 of 240", with links to the pages around.
pub struct Pager {
    pub first: i64,
    pub last: i64,
    pub total: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// For page `page` (1-based) of `per_page` rows out of `total`, `shown` of them here;
    /// `link(page)` is the URL of another page.
    pub fn new(
        page: i64,
        per_page: i64,
        total: i64,
        shown: usize,
        link: impl Fn(i64) -> String,
    ) -> Pager {
        let first = (page - 1) * per_page + 1;
        let shown = i64::try_from(shown).unwrap_or_default();
        Pager {
            first: if shown == 0 { 0 } else { first },
            last: first + shown - 1,
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: (first + shown - 1 < total).then(|| link(page + 1)),
        }
    }
}

/// What a list page asks the store for, or the filter's error to show beside the search box.
struct Listing {
    plan: Plan,
    page: i64,
}

fn listing(
    query: &ListQuery,
    rt: &ResourceTypeDef,
    name_attributes: &[&str],
    sort_by: &str,
    limits: &Limits,
) -> Result<Listing, String> {
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let params = QueryParams {
        filter: search_box(&query.q, name_attributes),
        sort_by: Some(sort_by.to_owned()),
        start_index: Some((page - 1) * PAGE_SIZE + 1),
        count: Some(PAGE_SIZE),
        ..QueryParams::default()
    };
    match plan(&params, rt, limits) {
        Ok(plan) => Ok(Listing { plan, page }),
        Err(error) => Err(search_error(&error)),
    }
}

/// What a list page shows under its search box.
enum Listed {
    /// One page of resources, rendered as SCIM renders them, each with its page's URL.
    Found {
        rows: Vec<(String, Value)>,
        pager: Pager,
    },
    /// A search the filter engine refused, in its words, for beside the search box.
    Refused(String),
}

/// One page of the organization's resources of kind `K` for a list page at `base`.
async fn list<K: Kind>(
    page: &OrgPage,
    request: &HttpRequest,
    store: &Store,
    query: &ListQuery,
    base: &str,
    name_attributes: &[&str],
    sort_by: &str,
) -> Result<Listed, ConsoleError> {
    let limits = limits_of(request)?;
    let listing = match listing(query, K::RESOURCE_TYPE, name_attributes, sort_by, &limits) {
        Ok(listing) => listing,
        Err(message) => return Ok(Listed::Refused(message)),
    };
    let found =
        match resources::search::<K>(store, page.org.clone(), listing.plan.search, false).await {
            Ok(found) => found,
            Err(error @ (Error::Protocol(_) | Error::TooManyRequests { .. })) => {
                return Ok(Listed::Refused(search_error(&error)));
            }
            Err(other) => return Err(other.into()),
        };
    let rows: Vec<(String, Value)> = found
        .items
        .into_iter()
        .map(|item| {
            let href = format!("{base}/{}", item.stored().id);
            (href, item.into_rendered(None))
        })
        .collect();
    let pager = Pager::new(listing.page, PAGE_SIZE, found.total, rows.len(), |number| {
        page_link(base, &query.q, number)
    });
    Ok(Listed::Found { rows, pager })
}

/// A filter the engine refused, in its words.
fn search_error(error: &Error) -> String {
    format!("This search is not a valid SCIM filter: {error}")
}

/// The URL of page `page` of a list at `base` for search `q`.
fn page_link(base: &str, q: &str, page: i64) -> String {
    let query =
        serde_urlencoded::to_string([("q", q), ("page", &page.to_string())]).unwrap_or_default();
    format!("{base}?{query}")
}

/// The string at `pointer` in a rendered resource, or "".
fn text(resource: &Value, pointer: &str) -> String {
    resource
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A user's primary e-mail address, or their first.
fn primary_email(user: &Value) -> String {
    let emails = user
        .get("emails")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    emails
        .iter()
        .find(|email| email.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| emails.first())
        .map(|email| text(email, "/value"))
        .unwrap_or_default()
}

/// The limits of the filter engine, as the SCIM API applies them.
fn limits_of(request: &actix_web::HttpRequest) -> Result<Limits, ConsoleError> {
    request
        .app_data::<actix_web::web::Data<Limits>>()
        .map(|limits| *limits.get_ref())
        .ok_or_else(|| Error::internal("the limits are not registered").into())
}
