//! One module per page; each has its template in `templates/console/`.

pub mod account;
pub mod audit;
pub mod connection;
pub mod directory;
pub mod events;
pub mod landing;
pub mod people;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod token_detail;
pub mod token_network;
pub mod token_new;
pub mod token_view;
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
        .route("/people", web::get().to(people::list))
        .route("/people/invite", web::post().to(people::invite))
        .route("/people/role", web::post().to(people::change_role))
        .service(
            web::resource("/people/remove")
                .route(web::get().to(people::confirm_remove))
                .route(web::post().to(people::remove)),
        )
        .service(
            web::resource("/tokens/new")
                .route(web::get().to(token_new::show))
                .route(web::post().to(token_new::create)),
        )
        .service(
            web::resource("/tokens/{id}")
                .route(web::get().to(token_detail::show))
                .route(web::post().to(token_detail::save)),
        )
        .route("/tokens/{id}/status", web::post().to(tokens::set_active))
        .service(
            web::resource("/tokens/{id}/revoke")
                .route(web::get().to(tokens::confirm_revoke))
                .route(web::post().to(tokens::revoke)),
        )
        .service(
            web::resource("/tokens/{id}/rotate")
                .route(web::get().to(token_detail::show_rotate))
                .route(web::post().to(token_detail::rotate)),
        )
        .route("/audit", web::get().to(audit::show))
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
        .route("/zones/{id}/delete", web::post().to(zones::delete))
        .service(
            web::resource("/events")
                .route(web::get().to(events::list))
                .route(web::post().to(events::create)),
        )
        .route("/events/{id}/status", web::post().to(events::set_status))
        .route("/events/{id}/delete", web::post().to(events::delete));
}
