//! One module per page; each has its template in `templates/console/`.

pub mod landing;
pub mod setup;
pub mod sign_in;
pub mod tokens;

use actix_web::web;

/// The pages of one organization, below `/console/orgs/{org_name}`.
pub fn organization_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(landing::organization))
        .route("/tokens", web::get().to(tokens::list));
}
