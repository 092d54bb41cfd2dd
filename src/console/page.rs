//! What every console page has around its content: the `<head>`, and for a signed-in person
//! the frame (organization switcher, navigation, account menu). Pages build a [`Frame`] from
//! their [`super::session::OrgPage`] and render through [`html`].

use actix_web::HttpResponse;
use askama::Template;

use super::error::ConsoleError;

pub use super::head::{HTML, Head};

/// The sections of an organization, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Tokens,
    Zones,
    Events,
    Audit,
    Directory,
    Connection,
    People,
    Settings,
    /// A page outside the organization's sections (the person's own account).
    Account,
}

impl Section {
    const NAVIGATION: [Section; 8] = [
        Section::Tokens,
        Section::Zones,
        Section::Events,
        Section::Audit,
        Section::Directory,
        Section::Connection,
        Section::People,
        Section::Settings,
    ];

    /// The words of the navigation entry.
    pub fn label(self) -> &'static str {
        match self {
            Section::Tokens => "API Tokens",
            Section::Zones => "Network zones",
            Section::Events => "Change feed",
            Section::Audit => "System log",
            Section::Directory => "Directory",
            Section::Connection => "SCIM connection",
            Section::People => "People",
            Section::Settings => "Settings",
            Section::Account => "Account",
        }
    }

    /// The path below `/console/orgs/{org}`.
    fn path(self) -> &'static str {
        match self {
            Section::Tokens => "tokens",
            Section::Zones => "zones",
            Section::Events => "events",
            Section::Audit => "audit",
            Section::Directory => "directory/users",
            Section::Connection => "connection",
            Section::People => "people",
            Section::Settings => "settings",
            Section::Account => "account",
        }
    }
}

/// A link of the navigation or the organization switcher.
pub struct Link {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// The signed-in frame of a page: read by `layout.html`.
pub struct Frame {
    pub head: Head,
    pub person_name: String,
    pub person_email: String,
    pub org_name: String,
    pub role: &'static str,
    pub organizations: Vec<Link>,
    pub navigation: Vec<Link>,
    /// For the sign-out form in the header, and every form of the page.
    pub csrf: String,
}

impl Frame {
    /// `organizations` are the names of the person's organizations; `org_name` the current.
    pub fn new(
        title: impl Into<String>,
        section: Section,
        org_name: &str,
        organizations: impl IntoIterator<Item = String>,
        person: (&str, &str),
        role: &'static str,
        csrf: &str,
    ) -> Frame {
        let (person_name, person_email) = person;
        Frame {
            head: Head::new(title),
            person_name: person_name.to_owned(),
            person_email: person_email.to_owned(),
            org_name: org_name.to_owned(),
            role,
            organizations: organizations
                .into_iter()
                .map(|name| Link {
                    href: org_url(&name, Section::Tokens),
                    current: name == org_name,
                    label: name,
                })
                .collect(),
            navigation: Section::NAVIGATION
                .iter()
                .map(|&item| Link {
                    label: item.label().to_owned(),
                    href: org_url(org_name, item),
                    current: item == section,
                })
                .collect(),
            csrf: csrf.to_owned(),
        }
    }

    /// A URL below the current organization, e.g. `frame.url("tokens/new")`.
    pub fn url(&self, rest: &str) -> String {
        format!("/console/orgs/{}/{rest}", self.org_name)
    }
}

/// `/console/orgs/{org}/{section}`. Organization names are letters, digits, `-`, `_` and
/// `.` (see `store::orgs`), so they need no escaping in a path.
pub fn org_url(org_name: &str, section: Section) -> String {
    match section {
        Section::Account => "/console/account".to_owned(),
        other => format!("/console/orgs/{org_name}/{}", other.path()),
    }
}

/// A rendered page: HTML, 200. (`Cache-Control: no-store` and the security headers are
/// added to every console response in one place: see [`super::security_headers`].)
pub fn html(page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    Ok(HttpResponse::Ok().content_type(HTML).body(page.render()?))
}

/// A page rendered with another status: a form shown again with its errors is a 422, so
/// that scripts and tests can tell it from a success without reading it.
pub fn html_with_status(
    status: actix_web::http::StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, ConsoleError> {
    Ok(HttpResponse::build(status)
        .content_type(HTML)
        .body(page.render()?))
}
