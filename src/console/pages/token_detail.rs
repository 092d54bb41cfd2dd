//! `/console/orgs/{org}/tokens/{id}`: one token with its history and its own events; the
//! form that edits its name, description, networks, rate limit and status; and Rotate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::audit::EventRow;
use super::token_network::{NetworkForm, RateLimitHint};
use super::token_new::{secret_page, sent_again, sent_nonce};
use super::token_view::{Moment, Named, TokenRow, token_id};
use crate::auth::Authenticator;
use crate::auth::lifecycle::Restrictions;
use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::OrgPage;
use crate::error::Error;
use crate::service::input::{Description, Grace, TokenName};
use crate::service::people::{self, Action, FormNonce, SignedIn};
use crate::service::tokens::{self, Caller, StatusChange, TokenDetail, TokenEdit};
use crate::store::{self, Store, TokenId};

/// The token's events per page.
const EVENTS_PER_PAGE: i64 = 20;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `active` or `inactive`; absent for a revoked token.
    #[serde(default)]
    pub status: String,
    #[serde(flatten)]
    pub network: NetworkForm,
}

#[derive(Default)]
pub struct Errors {
    pub form: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub networks: Option<String>,
    pub rate_limit: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.form.is_some()
            || self.name.is_some()
            || self.description.is_some()
            || self.networks.is_some()
            || self.rate_limit.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// A cursor into the token's events.
    #[serde(default)]
    events: Option<String>,
    /// Set by the redirect after a save.
    #[serde(default)]
    saved: Option<String>,
}

/// What the page shows besides the token: the form as typed and its errors after a failed
/// save, the events' page, and whether a save just happened.
#[derive(Default)]
struct View {
    cursor: Option<String>,
    form: Option<EditForm>,
    errors: Errors,
    saved: bool,
}

#[derive(Template)]
#[template(path = "console/token_detail.html")]
struct DetailPage {
    frame: Frame,
    token: TokenRow,
    created_by: Named,
    predecessor: Option<Named>,
    successor: Option<Named>,
    grace_until: Option<Moment>,
    networks: String,
    rate_limit: String,
    may_manage: bool,
    form: EditForm,
    errors: Errors,
    rate_limit_hint: String,
    zones_hint: String,
    events: Vec<EventRow>,
    older_events_url: Option<String>,
    newest_events_url: Option<String>,
    log_url: String,
    saved: bool,
}

async fn render(
    page: &OrgPage,
    store: &Store,
    authenticator: &Authenticator,
    detail: TokenDetail,
    view: View,
) -> Result<HttpResponse, ConsoleError> {
    let View {
        cursor,
        form,
        errors,
        saved,
    } = view;
    let now = store::now();
    let hint = RateLimitHint::load(page, store, authenticator.default_rate_limit()).await?;
    let restrictions = Restrictions::of(&detail.token.record);
    let record = &detail.token.record;
    let form = form.unwrap_or_else(|| EditForm {
        name: record.name.clone(),
        description: record.description.clone().unwrap_or_default(),
        status: if record.disabled_at.is_some() {
            "inactive"
        } else {
            "active"
        }
        .to_owned(),
        network: NetworkForm::of(&restrictions),
    });
    let networks = match &restrictions.network {
        crate::auth::lifecycle::Network::Any => "Any IP".to_owned(),
        crate::auth::lifecycle::Network::OnlyFrom(sources) => {
            format!("Only from {}", sources.entries().join(", "))
        }
        crate::auth::lifecycle::Network::NotFrom(sources) => {
            format!("Not from {}", sources.entries().join(", "))
        }
    };
    let rate_limit = match restrictions.rate_limit_per_minute {
        Some(n) => format!("{n} requests per minute"),
        None => hint.text().replace("Empty: t", "T"),
    };
    let grace_until = record.grace_until.map(Moment::new);
    let id = record.id.to_string();
    let events_url = |cursor: Option<&str>| match cursor {
        Some(cursor) => format!(
            "{}?events={cursor}#events",
            page.url(&format!("tokens/{id}"))
        ),
        None => format!("{}#events", page.url(&format!("tokens/{id}"))),
    };
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = DetailPage {
        frame: page.frame(format!("Token {}", record.name), Section::Tokens),
        created_by: Named::of(page, &detail.created_by),
        predecessor: detail.predecessor.as_ref().map(|p| Named::of(page, p)),
        successor: detail.successor.as_ref().map(|p| Named::of(page, p)),
        grace_until,
        networks,
        rate_limit,
        may_manage: page.may(Action::ManageTokens),
        form,
        errors,
        rate_limit_hint: hint.text(),
        zones_hint: hint.zones_text(),
        events: detail
            .events
            .events
            .into_iter()
            .map(|event| EventRow::new(page, event))
            .collect(),
        older_events_url: detail
            .events
            .next_cursor
            .as_deref()
            .map(|c| events_url(Some(c))),
        newest_events_url: cursor.as_ref().map(|_| events_url(None)),
        log_url: format!("{}?token={id}", page.url("audit")),
        saved,
        token: TokenRow::new(page, detail.token, now),
    };
    page::html_with_status(status, &body)
}

async fn load(
    page: &OrgPage,
    store: &Store,
    id: TokenId,
    cursor: Option<String>,
) -> Result<TokenDetail, ConsoleError> {
    let org = page.org.clone();
    let now = store::now();
    Ok(store
        .read(move |conn| tokens::detail(conn, &org, &id, cursor.as_deref(), EVENTS_PER_PAGE, now))
        .await?)
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
    path: web::Path<(String, String)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let id = token_id(&path.1)?;
    let DetailQuery { events, saved } = query.into_inner();
    let mut cursor = events;
    let detail = match load(&page, &store, id, cursor.clone()).await {
        // A cursor from another page (edited by hand) is no reason for an error page.
        Err(ConsoleError::Service(Error::Protocol(_))) if cursor.is_some() => {
            cursor = None;
            load(&page, &store, token_id(&path.1)?, None).await?
        }
        other => other?,
    };
    let view = View {
        cursor,
        saved: saved.is_some(),
        ..View::default()
    };
    render(&page, &store, &authenticator, detail, view).await
}

/// The edit the form makes: only what differs from the token as it is, so that the audit
/// log names the fields that changed.
fn edit_of(form: &EditForm, detail: &TokenDetail) -> Result<TokenEdit, Errors> {
    let record = &detail.token.record;
    let mut errors = Errors::default();
    let name = TokenName::parse(&form.name)
        .map_err(|e| errors.name = Some(e.to_string()))
        .ok();
    let description = match form.description.trim() {
        "" => Some(None),
        text => Description::parse(text.to_owned())
            .map_err(|e| errors.description = Some(e.to_string()))
            .ok()
            .map(Some),
    };
    let restrictions = form
        .network
        .restrictions()
        .map_err(|(networks, rate_limit)| {
            errors.networks = networks;
            errors.rate_limit = rate_limit;
        })
        .ok();
    if errors.any() {
        return Err(errors);
    }
    let current = Restrictions::of(record);
    let mut edit = TokenEdit::default();
    if let Some(name) = name.filter(|name| name.as_str() != record.name) {
        edit.name = Some(name);
    }
    if let Some(description) = description {
        let now = description.as_ref().map(|d| d.as_str().to_owned());
        if now != record.description {
            edit.description = Some(description);
        }
    }
    if let Some(restrictions) = restrictions {
        if restrictions.network != current.network {
            edit.network = Some(restrictions.network);
        }
        if restrictions.rate_limit_per_minute != current.rate_limit_per_minute {
            edit.rate_limit_per_minute = Some(restrictions.rate_limit_per_minute);
        }
    }
    if record.revoked_at.is_none() {
        let disabled = record.disabled_at.is_some();
        match form.status.as_str() {
            "active" if disabled => edit.status = Some(StatusChange::Active),
            "inactive" if !disabled => edit.status = Some(StatusChange::Disabled),
            _ => {}
        }
    }
    Ok(edit)
}

/// `POST …/tokens/{id}`: saves the edit form.
pub async fn save(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
    path: web::Path<(String, String)>,
    form: CsrfForm<EditForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let CsrfForm(form) = form;
    let id = token_id(&path.1)?;
    let detail = load(&page, &store, id.clone(), None).await?;
    let edit = match edit_of(&form, &detail) {
        Ok(edit) => edit,
        Err(errors) => {
            let view = View {
                form: Some(form),
                errors,
                ..View::default()
            };
            return render(&page, &store, &authenticator, detail, view).await;
        }
    };
    let org = page.org.clone();
    let caller = Caller::Admin(page.signed.actor());
    let target = id.clone();
    let saved = store
        .write(move |conn| tokens::edit(conn, &org, &caller, &target, &edit, store::now()))
        .await;
    match saved {
        Ok(_) => Ok(see_other(&format!(
            "{}?saved=1",
            page.url(&format!("tokens/{id}"))
        ))),
        Err(Error::Protocol(refusal)) => {
            let errors = Errors {
                form: Some(refusal.to_string()),
                ..Errors::default()
            };
            let view = View {
                form: Some(form),
                errors,
                ..View::default()
            };
            render(&page, &store, &authenticator, detail, view).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The grace periods the Rotate page offers: seconds and words.
const GRACE_CHOICES: [(i64, &str); 4] = [
    (0, "None: the old token stops at the new one's first use"),
    (3600, "1 hour after the new token's first use"),
    (86_400, "1 day after the new token's first use"),
    (604_800, "7 days after the new token's first use"),
];

#[derive(Template)]
#[template(path = "console/token_rotate.html")]
struct RotatePage {
    frame: Frame,
    token: TokenRow,
    graces: Vec<(i64, &'static str, bool)>,
    /// The form's one-time nonce: a second send of the same form rotates nothing.
    nonce: String,
    error: Option<String>,
}

pub async fn show_rotate(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let id = token_id(&path.1)?;
    let org = page.org.clone();
    let now = store::now();
    let shown = store
        .read(move |conn| tokens::show(conn, &org, &id, now))
        .await?;
    page::html(&RotatePage {
        frame: page.frame("Rotate token", Section::Tokens),
        token: TokenRow::new(&page, shown, now),
        graces: grace_choices(Grace::default().as_seconds()),
        nonce: FormNonce::generate()?.as_str().to_owned(),
        error: None,
    })
}

fn grace_choices(selected: i64) -> Vec<(i64, &'static str, bool)> {
    GRACE_CHOICES
        .iter()
        .map(|&(seconds, label)| (seconds, label, seconds == selected))
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    grace: String,
    #[serde(default)]
    nonce: String,
}

/// `POST …/tokens/{id}/rotate`: mints the successor and shows it once.
pub async fn rotate(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    form: CsrfForm<RotateForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let CsrfForm(form) = form;
    let id = token_id(&path.1)?;
    let nonce = sent_nonce(&form.nonce)?;
    let grace = form
        .grace
        .parse::<i64>()
        .ok()
        .and_then(|seconds| Grace::seconds(seconds).ok())
        .ok_or_else(|| ConsoleError::BadRequest("Choose a grace period.".to_owned()))?;
    let org = page.org.clone();
    let caller = Caller::Admin(page.signed.actor());
    let now = store::now();
    let target = id.clone();
    let signed_in = SignedIn::clone(&page.signed);
    let used_nonce = nonce.clone();
    let rotated = store
        .write(move |conn| {
            if !people::use_form_nonce(conn, &signed_in, &used_nonce, now)? {
                return Ok(None);
            }
            tokens::rotate(conn, &org, &caller, &target, grace, now).map(Some)
        })
        .await;
    match rotated {
        Ok(None) => sent_again(
            &page,
            "Token already rotated",
            "This token was already rotated; the new token is not shown again.",
        ),
        Ok(Some(rotation)) => secret_page(
            &page,
            "Token rotated — copy the new token now, it will not be shown again",
            &rotation.issued,
            TokenRow::new(&page, rotation.successor, now),
        ),
        // A token that cannot be rotated (revoked, expired, rotated already): said on the
        // page, not as an error page.
        Err(Error::Protocol(refusal)) => {
            let org = page.org.clone();
            let shown = store
                .read(move |conn| tokens::show(conn, &org, &id, now))
                .await?;
            page::html_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RotatePage {
                    frame: page.frame("Rotate token", Section::Tokens),
                    token: TokenRow::new(&page, shown, now),
                    graces: grace_choices(grace.as_seconds()),
                    nonce: nonce.as_str().to_owned(),
                    error: Some(refusal.to_string()),
                },
            )
        }
        Err(other) => Err(other.into()),
    }
}
