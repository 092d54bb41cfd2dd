//! List query parameters (RFC 7644 §3.4.2).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::scim::limits::Limits;
use crate::store::resources::Page;

/// The query string of a list request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub filter: Option<String>,
    #[serde(skip)]
    limits: Limits,
}

/// Which page of results to return, in RFC terms and in rows.
#[derive(Debug, Clone, Copy)]
pub struct ListPage {
    pub start_index: usize,
    pub rows: Page,
}

impl ListQuery {
    /// `startIndex` is 1-based and values below 1 mean 1; `count` is capped at the advertised
    /// `filter.maxResults` and a negative one means 0 (RFC 7644 §3.4.2.4).
    pub fn page(&self) -> Result<ListPage> {
        if self.filter.is_some() {
            return Err(Error::NotImplemented(
                "filtering is not supported by this server yet (see ServiceProviderConfig)"
                    .to_owned(),
            ));
        }
        let start_index = self.start_index.unwrap_or(1).max(1);
        let limit = self.limits.page_size(self.count);
        Ok(ListPage {
            start_index: usize::try_from(start_index).unwrap_or(usize::MAX),
            rows: Page {
                offset: start_index - 1,
                limit: i64::try_from(limit).unwrap_or(i64::MAX),
            },
        })
    }
}

impl FromRequest for ListQuery {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limits = request
            .app_data::<web::Data<Limits>>()
            .map(|limits| *limits.get_ref())
            .unwrap_or_default();
        let query = web::Query::<ListQuery>::from_request(request, payload).into_inner();
        ready(query.map(|query| ListQuery {
            limits,
            ..query.into_inner()
        }))
    }
}
