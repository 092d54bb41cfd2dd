//! Liveness and readiness probes for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::store::Store;

/// How long readiness waits for a database connection before answering 503.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up and serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers; 503 with a JSON body while it does not.
pub async fn readyz(store: web::Data<Store>) -> HttpResponse {
    match store.ping(READINESS_TIMEOUT).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(error) => {
            log::warn!("readiness check failed: {error}");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "detail": "the database is unreachable",
            }))
        }
    }
}
