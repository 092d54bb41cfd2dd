//! `/console/orgs/{org}/events`: the organization's change feed streams (issue 14), for owners
//! and admins: the list with each stream's status and last error, the form to create one (a
//! poll stream's token is shown once), pause and resume, and delete once confirmed.
//!
//! - `GET  …/events`: the list and the create form; `POST …/events` creates.
//! - `POST …/events/{id}/status`: `enabled` yes or no.
//! - `POST …/events/{id}/delete`: deletes once confirmed (`confirmed=yes`), else asks.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::console::csrf::CsrfForm;
use crate::console::error::ConsoleError;
use crate::console::page::{self, Frame, Section};
use crate::console::see_other;
use crate::console::session::OrgPage;
use crate::error::Error;
use crate::service::events::streams::{self, Delivery, StreamRequest, StreamView};
use crate::service::people::Action;
use crate::service::push::PushDestinations;
use crate::service::tokens::Caller;
use crate::store::{self, Store, StreamId};

/// What the person typed, and what was wrong with it.
#[derive(Default)]
struct StreamFields {
    name: String,
    delivery: String,
    detail: String,
    resource_type: String,
    push_url: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct StreamsPage {
    frame: Frame,
    streams: Vec<StreamView>,
    form: StreamFields,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/event_stream_token.html")]
struct TokenPage {
    frame: Frame,
    stream: StreamView,
    plain: String,
    list_url: String,
}

#[derive(Template)]
#[template(path = "console/event_stream_delete.html")]
struct ConfirmDeletePage {
    frame: Frame,
    stream: StreamView,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("Stream created."),
        "paused" => Some("Stream paused: its events wait until it is resumed."),
        "enabled" => Some("Stream resumed."),
        "deleted" => Some("Stream deleted."),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct StreamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    detail: String,
    /// `all`, `User` or `Group`.
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    push_url: String,
    #[serde(default)]
    push_authorization: String,
}

#[derive(Deserialize)]
pub struct StatusForm {
    /// `yes` to resume, anything else pauses.
    #[serde(default)]
    enabled: String,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirmed: String,
}

pub async fn list(
    page: OrgPage,
    store: web::Data<Store>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageEvents)?;
    let form = StreamFields {
        delivery: "poll".to_owned(),
        detail: "notice".to_owned(),
        resource_type: "all".to_owned(),
        ..StreamFields::default()
    };
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
    destinations: web::Data<PushDestinations>,
    form: CsrfForm<StreamForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageEvents)?;
    let CsrfForm(form) = form;
    let mut fields = StreamFields {
        name: form.name.clone(),
        delivery: form.delivery.clone(),
        detail: form.detail.clone(),
        resource_type: form.resource_type.clone(),
        push_url: form.push_url.clone(),
        error: None,
    };
    let request = match read_form(form) {
        Ok(request) => request,
        Err(error) => {
            fields.error = Some(error);
            return render_list(
                &page,
                &store,
                fields,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let org = page.org.clone();
    let caller = Caller::Admin(page.actor().actor);
    let created = match request.check_destination(&destinations).await {
        Ok(()) => {
            store
                .write(move |conn| streams::create(conn, &org, &caller, &request, store::now()))
                .await
        }
        Err(refused) => Err(refused),
    };
    match created {
        Ok(created) => match created.poll_token {
            Some(token) => page::html(&TokenPage {
                frame: page.frame("Stream created", Section::Events),
                stream: StreamView::from(&created.stream),
                plain: token.plain.expose_secret().to_owned(),
                list_url: page.url("events"),
            }),
            None => Ok(see_other(&page.url("events?done=created"))),
        },
        Err(Error::Protocol(refusal)) => {
            fields.error = Some(refusal.to_string());
            render_list(
                &page,
                &store,
                fields,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn set_status(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    form: CsrfForm<StatusForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageEvents)?;
    let id = stream_id(&path.1)?;
    let CsrfForm(form) = form;
    let enabled = form.enabled == "yes";
    let org = page.org.clone();
    let caller = Caller::Admin(page.actor().actor);
    let row = store
        .write(move |conn| streams::set_enabled(conn, &org, &caller, &id, enabled, store::now()))
        .await?;
    Ok(see_other(&page.url(&format!("events?done={}", row.status))))
}

pub async fn delete(
    page: OrgPage,
    store: web::Data<Store>,
    path: web::Path<(String, String)>,
    form: CsrfForm<DeleteForm>,
) -> Result<HttpResponse, ConsoleError> {
    page.require(Action::ManageEvents)?;
    let id = stream_id(&path.1)?;
    let CsrfForm(form) = form;
    let org = page.org.clone();
    if form.confirmed != "yes" {
        let row = store
            .read(move |conn| streams::show(conn, &org, &id))
            .await?;
        let stream = StreamView::from(&row);
        return page::html(&ConfirmDeletePage {
            frame: page.frame(format!("Delete stream {}", stream.name), Section::Events),
            stream,
        });
    }
    let caller = Caller::Admin(page.actor().actor);
    store
        .write(move |conn| streams::delete(conn, &org, &caller, &id))
        .await?;
    Ok(see_other(&page.url("events?done=deleted")))
}

fn stream_id(text: &str) -> Result<StreamId, ConsoleError> {
    StreamId::parse(text).ok_or(ConsoleError::NotFound)
}

/// The stream the form describes, or what is wrong with it.
fn read_form(form: StreamForm) -> Result<StreamRequest, String> {
    let delivery = match form.delivery.as_str() {
        "poll" => Delivery::Poll,
        "push" => {
            let url = form.push_url.trim().to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("A push stream needs the receiver's http or https URL.".to_owned());
            }
            let authorization = form.push_authorization.trim();
            Delivery::Push {
                url,
                authorization: (!authorization.is_empty())
                    .then(|| SecretString::from(authorization.to_owned())),
            }
        }
        _ => return Err("Choose poll or push delivery.".to_owned()),
    };
    let resource_types = match form.resource_type.as_str() {
        "User" | "Group" => vec![form.resource_type.clone()],
        _ => Vec::new(),
    };
    Ok(StreamRequest {
        name: form.name,
        delivery,
        full: form.detail == "full",
        event_types: Vec::new(),
        resource_types,
        audience: None,
    })
}

async fn render_list(
    page: &OrgPage,
    store: &Store,
    form: StreamFields,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let org = page.org.clone();
    let rows = store.read(move |conn| streams::list(conn, &org)).await?;
    page::html_with_status(
        status,
        &StreamsPage {
            frame: page.frame("Change feed", Section::Events),
            streams: rows.iter().map(StreamView::from).collect(),
            form,
            notice,
        },
    )
}
