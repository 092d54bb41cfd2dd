//! One module per page; each has its template in `templates/console/`.

pub mod connection;
pub mod directory;
pub mod landing;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod tokens;
pub mod zones;

use actix_web::web;

/// The pages of one organization, below `/console/orgs/{org_name}`.
pub fn organization_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(landing::organization))
        .route("/tokens", web::get().to(tokens::list))
        .route("/connection", web::get().to(connection::show))
        .route("/directory/users", web::get().to(directory::users::list))
        .route(
            "/directory/users/{id}",
            web::get().to(directory::users::show),
        )
        .route("/directory/groups", web::get().to(directory::groups::list))
        .route(
            "/directory/groups/{id}",
            web::get().to(directory::groups::show),
        )
        .service(
            web::resource("/settings")
                .route(web::get().to(settings::show))
                .route(web::post().to(settings::save)),
        )
        .service(
            web::resource("/zones")
                .route(web::get().to(zones::list))
                .route(web::post().to(zones::create)),
        )
        .service(
            web::resource("/zones/{id}")
                .route(web::get().to(zones::show))
                .route(web::post().to(zones::update)),
        )
        .route("/zones/{id}/delete", web::post().to(zones::delete));
}
