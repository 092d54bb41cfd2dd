//! The admin console: server-rendered pages under `/console` for the people who run an
//! organization. Pages hold no logic: they read a form, call a use case in
//! [`crate::service`] (the same one the CLI and the management API call) and render a
//! template from `templates/console/`.
//!
//! Patterns every page follows:
//! - the extractors of [`session`] decide who may see a page: [`session::Signed`] for any
//!   signed-in person, [`session::OrgPage`] for a page of one organization (a non-member gets
//!   the 404 page), and `page.require(Action::…)` before a change (403 page);
//! - every state change is a POST whose body is read through [`csrf::CsrfForm`], which
//!   refuses it (403) without the session's token or from another origin, and is answered
//!   with a 303 to a page (post/redirect/get);
//! - a page renders through [`page::html`], with a [`page::Frame`] for the layout.

pub mod assets;
pub mod csrf;
pub mod error;
pub mod head;
pub mod page;
pub mod pages;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use error::ConsoleError;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// Whether `path` belongs to the console, whose answers are HTML and stay out of the SCIM
/// error handling and content negotiation.
pub fn serves(path: &str) -> bool {
    path == PREFIX || path.starts_with("/console/")
}

/// No inline script or style anywhere, so an injected tag cannot run; forms only post back
/// here; no page can be framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every console URL.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(PREFIX)
        .wrap(error::html_error_pages())
        .wrap(actix_web::middleware::from_fn(security_headers))
        .route("", web::get().to(pages::landing::first_organization))
        .route("/assets/{name}", web::get().to(asset))
        .service(
            web::resource("/sign-in")
                .route(web::get().to(pages::sign_in::show))
                .route(web::post().to(pages::sign_in::submit)),
        )
        .route("/sign-out", web::post().to(pages::sign_in::sign_out))
        .service(
            web::resource("/setup")
                .route(web::get().to(pages::setup::show))
                .route(web::post().to(pages::setup::submit)),
        )
        .route("/account", web::get().to(pages::account::show))
        .route("/account/name", web::post().to(pages::account::change_name))
        .route(
            "/account/sign-out-everywhere",
            web::post().to(pages::account::sign_out_everywhere),
        )
        .service(web::scope("/orgs/{org_name}").configure(pages::organization_routes))
        .default_service(web::to(not_found))
}

/// `/` has nothing of its own: people arriving there want the console.
pub async fn root() -> HttpResponse {
    see_other(PREFIX)
}

/// `GET /console/assets/{name}`: only the current hashed names exist; an old or guessed name
/// is a 404, so a cached page never gets a different file under a name it trusts forever.
async fn asset(name: web::Path<String>) -> HttpResponse {
    assets::response(&name).unwrap_or_else(|| ConsoleError::NotFound.page())
}

async fn not_found() -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound)
}

/// The answer to a form post, and to a page that lives elsewhere.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `/console/sign-in`, with `next` when there is a console page to return to.
pub fn sign_in_url(next: Option<&str>) -> String {
    match next.and_then(session::safe_next) {
        Some(next) => match serde_urlencoded::to_string([("next", next)]) {
            Ok(query) => format!("{PREFIX}/sign-in?{query}"),
            Err(_) => format!("{PREFIX}/sign-in"),
        },
        None => format!("{PREFIX}/sign-in"),
    }
}

/// The headers of every console response. Pages are never cached (they show tokens, people
/// and a CSRF token); assets set their own long-lived caching.
async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
