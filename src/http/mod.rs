//! HTTP: every URL the server answers, in one place.

pub mod activity;
pub mod api;
pub mod auth;
pub mod bulk;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod health;
pub mod list;
pub mod metrics;
pub mod middleware;
pub mod observe;
pub mod request_id;
pub mod resource;
pub mod response;
pub mod search;
pub mod shutdown;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::AuthContext;
use crate::error::Error;
use crate::scim::limits::Limits;
use crate::service::resources::{Groups, Users};
use crate::service::{OrgActor, audit};

/// Registers every route. Each resource answers methods it does not serve with 405 before any
/// body is read.
pub fn routes(cfg: &mut web::ServiceConfig, limits: &Limits) {
    // Bulk bodies are read whole but parsed by the handler (see `bulk::BulkBody`).
    let bulk_payload_config = web::PayloadConfig::new(limits.bulk_max_payload_bytes);
    cfg.service(
        web::resource("/healthz")
            .route(web::get().to(health::healthz))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(health::readyz))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::scope("/scim/v2")
            .wrap(actix_web::middleware::from_fn(activity::record))
            .service(
                web::resource("/Users")
                    .route(web::get().to(list::list::<Users>))
                    .route(web::post().to(resource::create::<Users>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Users/.search")
                    .route(web::post().to(list::search::<Users>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Users/{id}")
                    .route(web::get().to(resource::get::<Users>))
                    .route(web::put().to(resource::replace::<Users>))
                    .route(web::patch().to(resource::patch::<Users>))
                    .route(web::delete().to(resource::delete::<Users>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Groups")
                    .route(web::get().to(list::list::<Groups>))
                    .route(web::post().to(resource::create::<Groups>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Groups/.search")
                    .route(web::post().to(list::search::<Groups>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Groups/{id}")
                    .route(web::get().to(resource::get::<Groups>))
                    .route(web::put().to(resource::replace::<Groups>))
                    .route(web::patch().to(resource::patch::<Groups>))
                    .route(web::delete().to(resource::delete::<Groups>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Bulk")
                    .app_data(bulk_payload_config)
                    .route(web::post().to(bulk::bulk))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/.search")
                    .route(web::post().to(search::search_all))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/ServiceProviderConfig")
                    .route(web::get().to(discovery::get_service_provider_config))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/ResourceTypes")
                    .route(web::get().to(discovery::list_resource_types))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/ResourceTypes/{name}")
                    .route(web::get().to(discovery::get_resource_type))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Schemas")
                    .route(web::get().to(discovery::list_schemas))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/Schemas/{urn}")
                    .route(web::get().to(discovery::get_schema))
                    .default_service(web::to(method_not_allowed)),
            )
            .default_service(web::to(unknown_endpoint)),
    )
    .service(api::scope())
    .default_service(web::to(unknown_endpoint));
}

/// The caller as the use cases and the audit log know it.
fn actor(auth: &AuthContext) -> OrgActor {
    OrgActor::new(auth.org_id.clone(), audit::Actor::of(auth))
}

async fn unknown_endpoint() -> Result<HttpResponse, Error> {
    Err(Error::NotFound("no such endpoint".into()))
}

async fn method_not_allowed(request: HttpRequest) -> Result<HttpResponse, Error> {
    Err(Error::MethodNotAllowed(format!(
        "{} is not supported on {}",
        request.method(),
        request.path()
    )))
}
