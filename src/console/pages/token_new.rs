//! `/console/orgs/{org}/tokens/new`: the Generate token form, and the page that shows a new
//! token once. The secret is rendered in the answer to the POST (never after a redirect, so
//! never in a URL or the history), with `Cache-Control: no-store`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Months, NaiveDateTime};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::token_network::{NetworkForm, RateLimitHint};
use super::token_view::TokenRow;
use crate::auth::bounds::Permissions;
use crate::auth::{Authenticator, Scope, Scopes};
use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::session::OrgPage;
use crate::service::input::{Description, Expiry, TokenName};
use crate::service::people::{self, Action, FormNonce, SignedIn};
use crate::service::tokens::{self, Caller, IssuedToken, TokenRequest};
use crate::store::{self, Store};

/// The form as typed; every field a string, so that a mistake is shown back as it was typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `scim` (default), `read` or `custom`.
    #[serde(default)]
    pub permissions: String,
    #[serde(default)]
    pub scope_scim_read: Option<String>,
    #[serde(default)]
    pub scope_scim_write: Option<String>,
    #[serde(default)]
    pub scope_scim_delete: Option<String>,
    #[serde(default)]
    pub scope_tokens_manage: Option<String>,
    #[serde(default)]
    pub scope_activity_read: Option<String>,
    /// `never` (default) or `on`.
    #[serde(default)]
    pub expiration: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(flatten)]
    pub network: NetworkForm,
    /// The form's one-time nonce: a second send of the same form creates nothing.
    #[serde(default)]
    pub nonce: String,
}

/// A scope checkbox of the Custom choice.
pub struct ScopeBox {
    pub field: &'static str,
    pub scope: &'static str,
    pub checked: bool,
}

#[derive(Default)]
struct Errors {
    form: Option<String>,
    name: Option<String>,
    description: Option<String>,
    scopes: Option<String>,
    expiry: Option<String>,
    networks: Option<String>,
    rate_limit: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.form.is_some()
            || self.name.is_some()
            || self.description.is_some()
            || self.scopes.is_some()
            || self.expiry.is_some()
            || self.networks.is_some()
            || self.rate_limit.is_some()
    }
}

#[derive(Template)]
#[template(path = "console/token_new.html")]
struct NewTokenPage {
    frame: Frame,
    form: NewTokenForm,
    scope_boxes: Vec<ScopeBox>,
    errors: Errors,
    rate_limit_hint: String,
    zones_hint: String,
    list_url: String,
}

fn scope_boxes(form: &NewTokenForm) -> Vec<ScopeBox> {
    [
        ("scope_scim_read", Scope::ScimRead, &form.scope_scim_read),
        ("scope_scim_write", Scope::ScimWrite, &form.scope_scim_write),
        (
            "scope_scim_delete",
            Scope::ScimDelete,
            &form.scope_scim_delete,
        ),
        (
            "scope_tokens_manage",
            Scope::TokensManage,
            &form.scope_tokens_manage,
        ),
        // For a monitoring script that reads the provisioning activity log and nothing else.
        // `events:read` is no choice here: it is the credential a poll stream hands out.
        (
            "scope_activity_read",
            Scope::ActivityRead,
            &form.scope_activity_read,
        ),
    ]
    .into_iter()
    .map(|(field, scope, value)| ScopeBox {
        field,
        scope: scope.as_str(),
        checked: value.is_some(),
    })
    .collect()
}

async fn render(
    page: &OrgPage,
    store: &Store,
    authenticator: &Authenticator,
    form: NewTokenForm,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let hint = RateLimitHint::load(page, store, authenticator.default_rate_limit()).await?;
    page::html_with_status(
        status,
        &NewTokenPage {
            frame: page.frame("Generate token", Section::Tokens),
            scope_boxes: scope_boxes(&form),
            form,
            errors,
            rate_limit_hint: hint.text(),
            zones_hint: hint.zones_text(),
            list_url: page.url("tokens"),
        },
    )
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let now = store::now();
    let form = NewTokenForm {
        permissions: "scim".to_owned(),
        expiration: "never".to_owned(),
        expires_on: default_expiry_date(now),
        network: NetworkForm::any(),
        nonce: FormNonce::generate()?.as_str().to_owned(),
        ..NewTokenForm::default()
    };
    render(&page, &store, &authenticator, form, Errors::default()).await
}

/// One year from today, as the date picker wants it.
fn default_expiry_date(now: NaiveDateTime) -> String {
    now.date()
        .checked_add_months(Months::new(12))
        .unwrap_or(now.date())
        .format("%Y-%m-%d")
        .to_string()
}

/// The request the form describes, or the form's errors.
fn request(form: &NewTokenForm, now: NaiveDateTime) -> Result<TokenRequest, Box<Errors>> {
    let mut errors = Errors::default();
    let name = TokenName::parse(&form.name)
        .map_err(|e| errors.name = Some(e.to_string()))
        .ok();
    let description = match form.description.trim() {
        "" => None,
        text => Description::parse(text.to_owned())
            .map_err(|e| errors.description = Some(e.to_string()))
            .ok(),
    };
    let scopes = match form.permissions.as_str() {
        "read" => Scopes::parse("scim:read").ok(),
        "custom" => {
            let chosen: Vec<&str> = scope_boxes(form)
                .into_iter()
                .filter(|scope| scope.checked)
                .map(|scope| scope.scope)
                .collect();
            if chosen.is_empty() {
                errors.scopes = Some("Choose at least one permission.".to_owned());
                None
            } else {
                Scopes::parse(&chosen.join(" ")).ok()
            }
        }
        _ => Some(Scopes::SCIM),
    };
    let expires_at = if form.expiration == "on" {
        match Expiry::parse(&form.expires_on, now) {
            Ok(at) if at > now => Some(Some(at)),
            Ok(_) => {
                errors.expiry = Some("Choose a date in the future.".to_owned());
                None
            }
            Err(_) => {
                errors.expiry = Some("Choose a date, such as 2027-01-31.".to_owned());
                None
            }
        }
    } else {
        Some(None)
    };
    let restrictions = form
        .network
        .restrictions()
        .map_err(|(networks, rate_limit)| {
            errors.networks = networks;
            errors.rate_limit = rate_limit;
        })
        .ok();
    match (name, scopes, expires_at, restrictions) {
        (Some(name), Some(scopes), Some(expires_at), Some(restrictions)) if !errors.any() => {
            Ok(TokenRequest {
                name,
                description,
                permissions: Permissions {
                    scopes,
                    expires_at,
                    restrictions,
                },
            })
        }
        _ => Err(Box::new(errors)),
    }
}

/// `POST …/tokens/new`: creates the token and shows it once.
pub async fn create(
    page: OrgPage,
    store: web::Data<Store>,
    authenticator: web::Data<Authenticator>,
    form: CsrfForm<NewTokenForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageTokens)?;
    let CsrfForm(form) = form;
    let nonce = sent_nonce(&form.nonce)?;
    let now = store::now();
    let request = match request(&form, now) {
        Ok(request) => request,
        Err(errors) => return render(&page, &store, &authenticator, form, *errors).await,
    };
    let org = page.org.clone();
    let caller = Caller::Admin(page.signed.actor());
    let signed_in = SignedIn::clone(&page.signed);
    let created = store
        .write(move |conn| {
            if !people::use_form_nonce(conn, &signed_in, &nonce, now)? {
                return Ok(None);
            }
            let issued = tokens::create(conn, &org, &caller, &request, now)?;
            let shown = tokens::show(conn, &org, &issued.id, now)?;
            Ok(Some((issued, shown)))
        })
        .await;
    match created {
        Ok(None) => sent_again(
            &page,
            "Token already created",
            "This token was already created; it is not shown again.",
        ),
        Ok(Some((issued, shown))) => secret_page(
            &page,
            "Token created — copy it now, it will not be shown again",
            &issued,
            TokenRow::new(&page, shown, now),
        ),
        // What the use case refuses (an allowlist too long, a limit out of range) is the
        // person's mistake: the form again, with it.
        Err(crate::error::Error::Protocol(refusal)) => {
            let errors = Errors {
                form: Some(refusal.to_string()),
                ..Errors::default()
            };
            render(&page, &store, &authenticator, form, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The nonce of a form that mints a secret. A form without one is not from a page of ours
/// (or from one older than this check): it must be opened again.
pub fn sent_nonce(sent: &str) -> Result<FormNonce, ConsoleError> {
    FormNonce::parse(sent).ok_or_else(|| {
        ConsoleError::BadRequest("This form is out of date: open it again.".to_owned())
    })
}

#[derive(Template)]
#[template(path = "console/token_resent.html")]
struct SentAgainPage<'a> {
    frame: Frame,
    heading: &'a str,
    message: &'a str,
    list_url: String,
}

/// The answer to a form that minted a secret, sent a second time (a reload, a double click):
/// nothing was created, and the secret of the first send is not shown again.
pub fn sent_again(
    page: &OrgPage,
    heading: &str,
    message: &str,
) -> Result<HttpResponse, ConsoleError> {
    page::html_with_status(
        StatusCode::CONFLICT,
        &SentAgainPage {
            frame: page.frame(heading, Section::Tokens),
            heading,
            message,
            list_url: page.url("tokens"),
        },
    )
}

#[derive(Template)]
#[template(path = "console/token_secret.html")]
struct SecretPage<'a> {
    frame: Frame,
    heading: &'a str,
    plain: &'a str,
    download_name: String,
    token: TokenRow,
    list_url: String,
}

/// The one page that shows a secret: never stored by a cache, and replaced in the history
/// by the list (see `console.js`), so that going back or reloading never shows it again.
pub fn secret_page(
    page: &OrgPage,
    heading: &str,
    issued: &IssuedToken,
    token: TokenRow,
) -> Result<HttpResponse, ConsoleError> {
    let body = SecretPage {
        frame: page.frame("Copy your token", Section::Tokens),
        heading,
        plain: issued.plain.expose_secret(),
        download_name: format!("scimd-token-{}.txt", issued.display_prefix),
        token,
        list_url: page.url("tokens"),
    }
    .render()?;
    Ok(HttpResponse::Ok()
        .content_type(page::HTML)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
