//! `/directory/users` and `/directory/users/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::{ListQuery, Listed, Pager, primary_email, text};
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::service::people::Action;
use crate::service::resources::{self, Kind, Users};
use crate::store::Store;
use crate::store::render::ResourceView;

pub struct UserRow {
    pub href: String,
    pub user_name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/directory_users.html")]
struct UsersPage {
    frame: Frame,
    q: String,
    search_error: Option<String>,
    users: Vec<UserRow>,
    pager: Option<Pager>,
    groups_url: String,
}

pub async fn list(
    page: OrgPage,
    request: HttpRequest,
    store: web::Data<Store>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let mut view = UsersPage {
        frame: page.frame("Directory: users", Section::Directory),
        q: query.q.clone(),
        search_error: None,
        users: Vec::new(),
        pager: None,
        groups_url: page.url("directory/groups"),
    };
    let names = ["userName", "displayName", "emails.value"];
    let base = page.url("directory/users");
    match super::list::<Users>(&page, &request, &store, &query, &base, &names, "userName").await? {
        Listed::Refused(message) => {
            view.search_error = Some(message);
            page::html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Listed::Found { rows, pager } => {
            view.users = rows
                .into_iter()
                .map(|(href, rendered)| UserRow {
                    href,
                    user_name: text(&rendered, "/userName"),
                    display_name: text(&rendered, "/displayName"),
                    email: primary_email(&rendered),
                    active: rendered.get("active") != Some(&Value::Bool(false)),
                    created: text(&rendered, "/meta/created"),
                })
                .collect();
            view.pager = Some(pager);
            page::html(&view)
        }
    }
}

/// A group of the user, linked.
pub struct GroupLink {
    pub href: String,
    pub display: String,
    /// "direct" or "indirect" (through a nested group).
    pub kind: String,
}

#[derive(Template)]
#[template(path = "console/directory_user.html")]
struct UserPage {
    frame: Frame,
    users_url: String,
    activity_url: String,
    user_name: String,
    display_name: String,
    active: bool,
    facts: Vec<(&'static str, String)>,
    emails: Vec<String>,
    groups: Vec<GroupLink>,
    /// Every attribute, as the SCIM API returns it.
    json: String,
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let (_, id) = path.into_inner();
    let user_id = id.clone();
    let id = Users::parse_id(&id)?;
    let user = resources::get::<Users>(&store, page.org.clone(), id, true).await?;
    let rendered = user.into_rendered(None);
    let groups_base = page.url("directory/groups");
    let facts = [
        ("External id", "/externalId"),
        ("Name", "/name/formatted"),
        ("Given name", "/name/givenName"),
        ("Family name", "/name/familyName"),
        ("Title", "/title"),
        (
            "Department",
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department",
        ),
        ("Created", "/meta/created"),
        ("Last modified", "/meta/lastModified"),
    ]
    .into_iter()
    .map(|(label, pointer)| (label, text(&rendered, pointer)))
    .filter(|(_, value)| !value.is_empty())
    .collect();
    let emails = rendered
        .get("emails")
        .and_then(Value::as_array)
        .map(|emails| emails.iter().map(|email| text(email, "/value")).collect())
        .unwrap_or_default();
    let groups = rendered
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .map(|group| GroupLink {
                    href: format!("{groups_base}/{}", text(group, "/value")),
                    display: text(group, "/display"),
                    kind: text(group, "/type"),
                })
                .collect()
        })
        .unwrap_or_default();
    page::html(&UserPage {
        frame: page.frame("Directory: user", Section::Directory),
        users_url: page.url("directory/users"),
        activity_url: format!(
            "{}?{}",
            page.url("activity"),
            serde_urlencoded::to_string([("user", user_id.as_str())]).unwrap_or_default()
        ),
        user_name: text(&rendered, "/userName"),
        display_name: text(&rendered, "/displayName"),
        active: rendered.get("active") != Some(&Value::Bool(false)),
        facts,
        emails,
        groups,
        json: serde_json::to_string_pretty(&rendered).unwrap_or_default(),
    })
}
