//! `/console/orgs/{org}/zones`: the organization's named network zones (Okta's model). Token
//! network rules name them ("only from" or "not from"); a change here applies at once to
//! every token using the zone. Everyone may look; admins and owners create, edit and delete.
//!
//! - `GET  …/zones`: the list, and the form to create one; `POST …/zones` creates.
//! - `GET  …/zones/{id}`: one zone, the tokens using it, and the edit form; `POST` saves.
//! - `POST …/zones/{id}/delete`: deletes once confirmed: by the script's dialog, or without
//!   JavaScript by the page this answers first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::OrgPage;
use crate::error::Error;
use crate::scim::error::ScimType;
use crate::service::input::{self, ZoneName};
use crate::service::people::Action;
use crate::service::tokens::Caller;
use crate::service::views::ZoneView;
use crate::service::zones::{self, ZoneEdit, ZoneRequest};
use crate::store::{self, Store, ZoneId};

/// What the person typed, with the error beside each field it belongs to.
#[derive(Default)]
struct ZoneFields {
    name: String,
    /// One network per line, as typed.
    networks: String,
    name_error: Option<String>,
    networks_error: Option<String>,
    /// What neither field can show (the zone was changed meanwhile, …).
    form_error: Option<String>,
}

impl ZoneFields {
    fn of(zone: &ZoneView) -> ZoneFields {
        ZoneFields {
            name: zone.name.clone(),
            networks: zone.networks.join("\n"),
            ..ZoneFields::default()
        }
    }
}

#[derive(Template)]
#[template(path = "console/zones.html")]
struct ZonesPage {
    frame: Frame,
    zones: Vec<ZoneView>,
    /// The create form, for people who may change zones.
    form: Option<ZoneFields>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/zone.html")]
struct ZonePage {
    frame: Frame,
    zone: ZoneView,
    /// The edit form, for people who may change zones.
    form: Option<ZoneFields>,
    /// The tokens that keep the zone from being deleted; empty: it may be deleted.
    blocking: Vec<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/zone_delete.html")]
struct ConfirmDeletePage {
    frame: Frame,
    zone: ZoneView,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The sentence a redirect after a change asks the page to show.
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("Zone created."),
        "saved" => Some("Zone saved. Tokens that use it follow the new networks at once."),
        "deleted" => Some("Zone deleted."),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    networks: String,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    /// `yes` once the person confirmed.
    #[serde(default)]
    confirmed: String,
}

pub async fn list(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let form = page.may(Action::ManageZones).then(ZoneFields::default);
    render_list(
        &page,
        &store,
        form,
        notice(query.done.as_deref()),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    page: OrgPage,
    store: web::Data<Store>,
    form: CsrfForm<ZoneForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageZones)?;
    let CsrfForm(form) = form;
    let (mut fields, request) = read_form(form);
    let Some(request) = request else {
        return rerender_list(&page, &store, fields).await;
    };
    let org = page.org.clone();
    let caller = caller(&page);
    let created = store
        .write(move |conn| zones::create(conn, &org, &caller, &request, store::now()))
        .await;
    match created {
        Ok(_) => Ok(see_other(&page.url("zones?done=created"))),
        Err(error) => {
            place_error(error, &mut fields)?;
            rerender_list(&page, &store, fields).await
        }
    }
}

pub async fn show(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ViewConsole)?;
    let id = zone_id(&path.1)?;
    let zone = load(&page, &store, id).await?;
    let form = page.may(Action::ManageZones).then(|| ZoneFields::of(&zone));
    render_zone(
        &page,
        zone,
        form,
        notice(query.done.as_deref()),
        StatusCode::OK,
    )
}

pub async fn update(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    form: CsrfForm<ZoneForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageZones)?;
    let id = zone_id(&path.1)?;
    let CsrfForm(form) = form;
    let (mut fields, request) = read_form(form);
    let Some(ZoneRequest { name, networks }) = request else {
        return rerender_zone(&page, &store, id, fields).await;
    };
    let org = page.org.clone();
    let caller = caller(&page);
    let edit = ZoneEdit {
        name: Some(name),
        networks: Some(networks),
    };
    let zone_id = id.clone();
    let saved = store
        .write(move |conn| zones::update(conn, &org, &caller, &zone_id, &edit, store::now()))
        .await;
    match saved {
        Ok(_) => Ok(see_other(&page.url(&format!("zones/{id}?done=saved")))),
        Err(error) => {
            place_error(error, &mut fields)?;
            rerender_zone(&page, &store, id, fields).await
        }
    }
}

pub async fn delete(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    form: CsrfForm<DeleteForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageZones)?;
    let id = zone_id(&path.1)?;
    let CsrfForm(form) = form;
    if form.confirmed != "yes" {
        let zone = load(&page, &store, id).await?;
        return page::html(&ConfirmDeletePage {
            frame: page.frame(format!("Delete zone {}", zone.name), Section::Zones),
            zone,
        });
    }
    let org = page.org.clone();
    let caller = caller(&page);
    let zone_id = id.clone();
    let deleted = store
        .write(move |conn| zones::delete(conn, &org, &caller, &zone_id, store::now()))
        .await;
    match deleted {
        Ok(()) => Ok(see_other(&page.url("zones?done=deleted"))),
        // Used by a token since the page was shown: the page says which, as it would have.
        Err(Error::InUse(detail)) => {
            let zone = load(&page, &store, id).await?;
            let form = Some(ZoneFields {
                form_error: Some(format!("{detail}.")),
                ..ZoneFields::of(&zone)
            });
            render_zone(&page, zone, form, None, StatusCode::CONFLICT)
        }
        Err(error) => Err(error.into()),
    }
}

/// People act as administrators of their organization: the role check above is their bound,
/// not a token's.
fn caller(page: &OrgPage) -> Caller {
    Caller::Admin(page.actor().actor)
}

/// A zone id from the URL; anything that is not one names no zone.
fn zone_id(text: &str) -> Result<ZoneId, ConsoleError> {
    ZoneId::parse(text).ok_or(ConsoleError::NotFound)
}

/// The form as the person typed it (with each field's error), and the zone it describes
/// when both fields parse.
fn read_form(form: ZoneForm) -> (ZoneFields, Option<ZoneRequest>) {
    let mut fields = ZoneFields {
        name: form.name,
        networks: form.networks,
        ..ZoneFields::default()
    };
    let name = ZoneName::parse(&fields.name).map_err(|e| fields.name_error = Some(e));
    let networks = parse_networks(&fields.networks).map_err(|e| fields.networks_error = Some(e));
    let request = match (name, networks) {
        (Ok(name), Ok(networks)) => Some(ZoneRequest { name, networks }),
        _ => None,
    };
    (fields, request)
}

/// One network per line (commas and spaces work too).
fn parse_networks(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    input::parse_zone_networks(&input::split_list(&[text.to_owned()]))
}

/// Puts a refusal the person can fix beside its field; anything else is the error page.
fn place_error(error: Error, fields: &mut ZoneFields) -> Result<(), ConsoleError> {
    match error {
        Error::Protocol(refusal) if refusal.scim_type == ScimType::Uniqueness => {
            fields.name_error = Some(refusal.to_string());
            Ok(())
        }
        Error::Protocol(refusal) => {
            fields.networks_error = Some(refusal.to_string());
            Ok(())
        }
        other => Err(other.into()),
    }
}

async fn load(page: &OrgPage, store: &Store, id: ZoneId) -> Result<ZoneView, ConsoleError> {
    let org = page.org.clone();
    let zone = store.read(move |conn| zones::show(conn, &org, &id)).await?;
    Ok(ZoneView::from(zone))
}

async fn render_list(
    page: &OrgPage,
    store: &Store,
    form: Option<ZoneFields>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let org = page.org.clone();
    let zones = store.read(move |conn| zones::list(conn, &org)).await?;
    page::html_with_status(
        status,
        &ZonesPage {
            frame: page.frame("Network zones", Section::Zones),
            zones: zones.into_iter().map(ZoneView::from).collect(),
            form,
            notice,
        },
    )
}

/// The list again with the person's input and the errors beside their fields.
async fn rerender_list(
    page: &OrgPage,
    store: &Store,
    fields: ZoneFields,
) -> Result<HttpResponse, ConsoleError> {
    render_list(
        page,
        store,
        Some(fields),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The zone's page again with the person's input and the errors beside their fields.
async fn rerender_zone(
    page: &OrgPage,
    store: &Store,
    id: ZoneId,
    fields: ZoneFields,
) -> Result<HttpResponse, ConsoleError> {
    let zone = load(page, store, id).await?;
    render_zone(
        page,
        zone,
        Some(fields),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

fn render_zone(
    page: &OrgPage,
    zone: ZoneView,
    form: Option<ZoneFields>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let blocking = zone
        .used_by
        .iter()
        .filter(|token| !token.revoked)
        .map(|token| token.name.clone())
        .collect();
    page::html_with_status(
        status,
        &ZonePage {
            frame: page.frame(format!("Zone {}", zone.name), Section::Zones),
            zone,
            form,
            blocking,
            notice,
        },
    )
}
