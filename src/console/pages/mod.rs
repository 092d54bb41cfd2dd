//! One module per page; each has its template in `templates/console/`.

pub mod account;
pub mod landing;
pub mod people;
pub mod setup;
pub mod sign_in;
pub mod tokens;
pub mod zones;

use actix_web::web;

/// The pages of one organization, below `/console/orgs/{org_name}`.
pub fn organization_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(landing::organization))
        .route("/tokens", web::get().to(tokens::list))
        .route("/people", web::get().to(people::list))
        .route("/people/invite", web::post().to(people::invite))
        .route("/people/role", web::post().to(people::change_role))
        .service(
            web::resource("/people/remove")
                .route(web::get().to(people::confirm_remove))
                .route(web::post().to(people::remove)),
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
