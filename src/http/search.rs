//! `POST /.search` (RFC 7644 §3.4.3): one query over Users and Groups. Users come first, then
//! Groups; a filter naming an attribute only one type has matches nothing of the other.

use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::extract::ScimBase;
use super::list::{list_page, search_params};
use crate::auth::{AuthContext, Scope};
use crate::error::{Error, Result};
use crate::scim::error::ProtocolError;
use crate::scim::limits::Limits;
use crate::scim::query::Paging;
use crate::service::resources::{Groups, Kind, Users};
use crate::service::resources::{Plan, plan};
use crate::store::render::ResourceView;
use crate::store::search::Window;
use crate::store::{DbConn, OrgId, Store};

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
        plan(&params, Users::RESOURCE_TYPE, &limits),
        plan(&params, Groups::RESOURCE_TYPE, &limits),
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
    let org = auth.org_id;
    let base_url = base.0;
    let page = store
        .read(move |conn| {
            let mut page = Page {
                offset,
                count,
                total: 0,
                resources: Vec::new(),
            };
            page.add::<Users>(conn, &org, users_plan, &base_url)?;
            page.add::<Groups>(conn, &org, groups_plan, &base_url)?;
            Ok(page)
        })
        .await?;
    Ok(list_page(page.resources, page.total, &paging, None))
}

/// The page being filled, one resource type after the other: a type's matches are skipped
/// where the page's offset lies beyond them, and a later type fills what room is left.
struct Page {
    offset: i64,
    count: i64,
    total: i64,
    resources: Vec<Value>,
}

impl Page {
    fn add<K: Kind>(
        &mut self,
        conn: &mut DbConn,
        org: &OrgId,
        plan: Option<Plan>,
        base_url: &str,
    ) -> Result<()> {
        let Some(Plan {
            request,
            mut search,
        }) = plan
        else {
            return Ok(());
        };
        let skipped = i64::try_from(self.resources.len()).unwrap_or(i64::MAX);
        search.window = Window::Index {
            offset: (self.offset - self.total).max(0),
            limit: (self.count - skipped).max(0),
        };
        let found = K::search(
            conn,
            org,
            &search,
            K::shows_memberships(&request.projection),
        )?;
        self.total += found.total;
        self.resources.extend(found.items.into_iter().map(|view| {
            request
                .projection
                .apply(K::RESOURCE_TYPE, view.into_rendered(Some(base_url)))
        }));
        Ok(())
    }
}
