//! `/console/orgs/{org}/settings`: the organization's token policies, the inactivity policy
//! and the default rate limit. Owners and admins change them; viewers read them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authenticator;
use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::OrgPage;
use crate::error::Error;
use crate::service::orgs::{self, Organization, SettingsEdit};
use crate::service::people::Action;
use crate::store::{self, Store};

/// The days the inactivity field offers when the policy is off: Okta's.
const SUGGESTED_INACTIVITY_DAYS: i32 = 30;

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    frame: Frame,
    may_edit: bool,
    saved: bool,
    inactivity_on: bool,
    inactivity_days: String,
    rate_limit_on: bool,
    rate_limit: String,
    /// What "the server's default" is: `--rate-limit-per-minute`, or no limit.
    server_rate_limit: String,
    inactivity_error: Option<String>,
    rate_limit_error: Option<String>,
}

impl SettingsPage {
    fn new(page: &OrgPage, org: &Organization, server_default: Option<u32>) -> SettingsPage {
        SettingsPage {
            frame: page.frame("Settings", Section::Settings),
            may_edit: page.may(Action::ManageSettings),
            saved: false,
            inactivity_on: org.inactivity_days.is_some(),
            inactivity_days: org
                .inactivity_days
                .unwrap_or(SUGGESTED_INACTIVITY_DAYS)
                .to_string(),
            rate_limit_on: org.default_rate_limit_per_minute.is_some(),
            rate_limit: org
                .default_rate_limit_per_minute
                .map(|limit| limit.to_string())
                .unwrap_or_default(),
            server_rate_limit: match server_default {
                Some(limit) => format!("{limit} requests per minute"),
                None => "no limit".to_owned(),
            },
            inactivity_error: None,
            rate_limit_error: None,
        }
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let org_id = page.org.clone();
    let org = store.read(move |conn| orgs::show(conn, &org_id)).await?;
    let mut view = SettingsPage::new(&page, &org, authenticator.default_rate_limit());
    view.saved = query.saved.is_some();
    page::html(&view)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    /// `off` or `days`.
    #[serde(default)]
    inactivity: String,
    #[serde(default)]
    inactivity_days: String,
    /// `server` or `custom`.
    #[serde(default)]
    rate_limit: String,
    #[serde(default)]
    rate_limit_per_minute: String,
}

/// A whole number typed into a field, or the sentence saying what was expected.
fn whole_number(text: &str, expected: &str) -> Result<i64, String> {
    text.trim().parse().map_err(|_| expected.to_owned())
}

pub async fn save(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageSettings)?;
    let inactivity = match form.inactivity.as_str() {
        "days" => whole_number(&form.inactivity_days, "Enter a number of days.").map(Some),
        _ => Ok(None),
    };
    let rate_limit = match form.rate_limit.as_str() {
        "custom" => whole_number(
            &form.rate_limit_per_minute,
            "Enter a number of requests per minute.",
        )
        .map(Some),
        _ => Ok(None),
    };
    let org_id = page.org.clone();
    let actor = page.signed.actor();
    let outcome = match (&inactivity, &rate_limit) {
        (Ok(days), Ok(limit)) => {
            let edit = SettingsEdit {
                inactivity_days: Some(*days),
                default_rate_limit_per_minute: Some(*limit),
            };
            store
                .write(move |conn| {
                    orgs::update_settings(conn, &org_id, &actor, &edit, store::now())
                })
                .await
                .map(|_| ())
        }
        _ => Ok(()),
    };
    let refused = match outcome {
        Err(Error::Protocol(problem)) => Some(problem.to_string()),
        Err(other) => return Err(other.into()),
        Ok(()) if inactivity.is_ok() && rate_limit.is_ok() => {
            return Ok(see_other(&page.url("settings?saved=1")));
        }
        Ok(()) => None,
    };
    // Shown again as typed, each error beside its field.
    let org_id = page.org.clone();
    let org = store.read(move |conn| orgs::show(conn, &org_id)).await?;
    let mut view = SettingsPage::new(&page, &org, authenticator.default_rate_limit());
    view.inactivity_on = form.inactivity == "days";
    view.inactivity_days = form.inactivity_days;
    view.rate_limit_on = form.rate_limit == "custom";
    view.rate_limit = form.rate_limit_per_minute;
    view.inactivity_error = inactivity.err();
    view.rate_limit_error = rate_limit.err();
    if let Some(problem) = refused {
        // The use case names the setting it refused.
        if problem.contains("rate limit") {
            view.rate_limit_error = Some(problem);
        } else {
            view.inactivity_error = Some(problem);
        }
    }
    page::html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
}
