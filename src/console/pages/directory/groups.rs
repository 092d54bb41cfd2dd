//! `/directory/groups` and `/directory/groups/{id}` (members a page at a time).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{ListQuery, Listed, Pager, text};
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::scim::resource::MemberType;
use crate::service::people::Action;
use crate::service::resources::{self, Groups, Kind};
use crate::store::Store;
use crate::store::render::ResourceView;

/// Members per page of a group: a group may have 100,000.
const MEMBERS_PER_PAGE: i64 = 100;

pub struct GroupRow {
    pub href: String,
    pub display_name: String,
    pub external_id: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/directory_groups.html")]
struct GroupsPage {
    frame: Frame,
    q: String,
    search_error: Option<String>,
    groups: Vec<GroupRow>,
    pager: Option<Pager>,
    users_url: String,
}

pub async fn list(
    page: OrgPage,
    request: HttpRequest,
    store: web::Data<Store>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let mut view = GroupsPage {
        frame: page.frame("Directory: groups", Section::Directory),
        q: query.q.clone(),
        search_error: None,
        groups: Vec::new(),
        pager: None,
        users_url: page.url("directory/users"),
    };
    let base = page.url("directory/groups");
    let names = ["displayName"];
    match super::list::<Groups>(
        &page,
        &request,
        &store,
        &query,
        &base,
        &names,
        "displayName",
    )
    .await?
    {
        Listed::Refused(message) => {
            view.search_error = Some(message);
            page::html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Listed::Found { rows, pager } => {
            view.groups = rows
                .into_iter()
                .map(|(href, rendered)| GroupRow {
                    href,
                    display_name: text(&rendered, "/displayName"),
                    external_id: text(&rendered, "/externalId"),
                    created: text(&rendered, "/meta/created"),
                })
                .collect();
            view.pager = Some(pager);
            page::html(&view)
        }
    }
}

pub struct MemberRow {
    pub href: String,
    pub display: String,
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "console/directory_group.html")]
struct GroupPage {
    frame: Frame,
    groups_url: String,
    display_name: String,
    facts: Vec<(&'static str, String)>,
    members: Vec<MemberRow>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct MembersQuery {
    page: Option<i64>,
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let (_, id) = path.into_inner();
    let group_id = Groups::parse_id(&id)?;
    // Without its members: they come a page at a time below.
    let group = resources::get::<Groups>(&store, page.org.clone(), group_id.clone(), false).await?;
    let rendered = group.into_rendered(None);
    let members_page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (total, members) = resources::group_members(
        &store,
        page.org.clone(),
        group_id,
        (members_page - 1) * MEMBERS_PER_PAGE,
        MEMBERS_PER_PAGE,
    )
    .await?;
    let users_base = page.url("directory/users");
    let groups_base = page.url("directory/groups");
    let members: Vec<MemberRow> = members
        .into_iter()
        .map(|member| {
            let is_group = member.member_type == Some(MemberType::Group);
            MemberRow {
                href: if is_group {
                    format!("{groups_base}/{}", member.value)
                } else {
                    format!("{users_base}/{}", member.value)
                },
                display: member.display.unwrap_or_else(|| member.value.clone()),
                kind: if is_group { "Group" } else { "User" },
            }
        })
        .collect();
    let here = format!("{groups_base}/{id}");
    let pager = Pager::new(members_page, MEMBERS_PER_PAGE, total, members.len(), |n| {
        format!("{here}?page={n}")
    });
    let facts = [
        ("External id", "/externalId"),
        ("Created", "/meta/created"),
        ("Last modified", "/meta/lastModified"),
    ]
    .into_iter()
    .map(|(label, pointer)| (label, text(&rendered, pointer)))
    .filter(|(_, value)| !value.is_empty())
    .collect();
    page::html(&GroupPage {
        frame: page.frame("Directory: group", Section::Directory),
        groups_url: groups_base,
        display_name: text(&rendered, "/displayName"),
        facts,
        members,
        pager,
    })
}
