//! HTTP: every URL the server answers, in one place.

pub mod discovery;
pub mod health;
pub mod response;

use actix_web::web;

use crate::error::Error;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::scope("/scim/v2")
                .route(
                    "/ServiceProviderConfig",
                    web::get().to(discovery::get_service_provider_config),
                )
                .route(
                    "/ResourceTypes",
                    web::get().to(discovery::list_resource_types),
                )
                .route(
                    "/ResourceTypes/{name}",
                    web::get().to(discovery::get_resource_type),
                )
                .route("/Schemas", web::get().to(discovery::list_schemas))
                .route("/Schemas/{urn}", web::get().to(discovery::get_schema))
                .default_service(web::to(unknown_endpoint)),
        )
        .default_service(web::to(unknown_endpoint));
}

async fn unknown_endpoint() -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound("no such endpoint".into()))
}
