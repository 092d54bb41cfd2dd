//! `/console` and `/console/orgs/{org}`: no page of their own, they lead to the API Tokens
//! page of an organization.

use actix_web::HttpResponse;

use crate::console::error::ConsoleError;
use crate::console::page::{Section, org_url};
use crate::console::see_other;
use crate::console::session::{OrgPage, Signed};

/// `/console`: the person's first organization.
pub async fn first_organization(signed: Signed) -> Result<HttpResponse, ConsoleError> {
    match signed.memberships.first() {
        Some(membership) => Ok(see_other(&org_url(&membership.org_name, Section::Tokens))),
        None => Err(ConsoleError::NoOrganization),
    }
}

/// `/console/orgs/{org}`: its first section.
pub async fn organization(page: OrgPage) -> HttpResponse {
    see_other(&org_url(&page.org_name, Section::Tokens))
}
