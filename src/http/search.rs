//! `POST /.search` (RFC 7644 §3.4.3): one query over Users and Groups. Users come first, then
//! Groups; a filter naming an attribute only one type has matches nothing of the other.

use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::ScimBase;
use super::list::{Plan, list_page, plan, search_params};
use super::response::{render_group, render_user};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::limits::Limits;
use crate::scim::query::Paging;
use crate::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
use crate::store::Store;
use crate::store::search::{self, Window};

pub async fn search_all(
    auth: AuthContext,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    body: web::Json<Value>,
) -> Result<HttpResponse> {
    auth.require(Scope::ScimRead)?;
    let params = search_params(&body)?;
    if params.cursor.is_some() {
        return Err(ProtocolError::invalid_value(
            "cursor paging is per resource type: use /Users/.search or /Groups/.search",
        )
        .into());
    }
    let (users_plan, groups_plan) = match (
        plan(&params, &USER_RESOURCE_TYPE, &limits),
        plan(&params, &GROUP_RESOURCE_TYPE, &limits),
    ) {
        (Err(error), Err(_)) => return Err(error),
        (users, groups) => (users.ok(), groups.ok()),
    };
    let (paging, offset, count) = match users_plan.as_ref().or(groups_plan.as_ref()) {
        Some(Plan { request, .. }) => match request.paging {
            Paging::Index { start_index } => {
                (request.paging.clone(), start_index - 1, request.count)
            }
            Paging::Cursor(_) => return Err(Error::internal("cursor paging was refused above")),
        },
        None => return Err(Error::internal("no resource type accepted the search")),
    };
    let org = auth.org_id.clone();
    let (total, resources) = store
        .read(move |conn| {
            let mut resources = Vec::new();
            let mut total = 0;
            if let Some(Plan {
                request,
                mut search,
            }) = users_plan
            {
                search.window = Window::Index {
                    offset,
                    limit: count,
                };
                let found =
                    search::search_users(conn, &org, &search, request.projection.needs_groups())?;
                total += found.total;
                resources.extend(
                    found
                        .items
                        .into_iter()
                        .map(|view| (request.projection.clone(), Some(view), None)),
                );
            }
            if let Some(Plan {
                request,
                mut search,
            }) = groups_plan
            {
                let skipped = i64::try_from(resources.len()).unwrap_or(i64::MAX);
                search.window = Window::Index {
                    offset: (offset - total).max(0),
                    limit: (count - skipped).max(0),
                };
                let found =
                    search::search_groups(conn, &org, &search, request.projection.needs_members())?;
                total += found.total;
                resources.extend(
                    found
                        .items
                        .into_iter()
                        .map(|view| (request.projection.clone(), None, Some(view))),
                );
            }
            Ok((total, resources))
        })
        .await?;
    let rendered = resources
        .into_iter()
        .filter_map(|(projection, user, group)| match (user, group) {
            (Some(user), _) => {
                Some(projection.apply(&USER_RESOURCE_TYPE, render_user(user, &base)))
            }
            (_, Some(group)) => {
                Some(projection.apply(&GROUP_RESOURCE_TYPE, render_group(group, &base)))
            }
            _ => None,
        })
        .collect();
    Ok(list_page(rendered, total, &paging, None))
}
