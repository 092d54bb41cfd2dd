//! `GET /metrics`: the Prometheus text exposition, behind a bearer token on the main listener
//! or open on a listener of its own (`--metrics-token`, `--metrics-bind`).

use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::store::token_stats::{self, OrgTokenStats};
use crate::store::{self, Store};

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// The content type of the text exposition format, version 0.0.4.
const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Who may scrape: with a token, only a request bearing it (the main listener); without one,
/// anyone who reaches the listener (`--metrics-bind`, meant for a private address).
pub struct MetricsAccess {
    token_digest: Option<[u8; 32]>,
}

impl MetricsAccess {
    pub fn token(token: &SecretString) -> MetricsAccess {
        MetricsAccess {
            token_digest: Some(Sha256::digest(token.expose_secret().as_bytes()).into()),
        }
    }

    pub fn open() -> MetricsAccess {
        MetricsAccess { token_digest: None }
    }

    /// Compares digests, so the comparison takes as long whatever the length or the first
    /// wrong byte of the attempt.
    fn admits(&self, request: &HttpRequest) -> bool {
        let Some(expected) = &self.token_digest else {
            return true;
        };
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(presented.ct_eq(expected))
    }
}

/// What a scrape measures besides the counters kept as things happen.
pub struct ScrapeSources {
    pub store: Store,
    /// The SQLite database's write-ahead log; `None` on PostgreSQL.
    pub wal: Option<PathBuf>,
}

/// The exposition, or 401 (a plain body, as Prometheus shows it) without the right token.
pub async fn metrics(
    request: HttpRequest,
    access: web::Data<MetricsAccess>,
    sources: web::Data<ScrapeSources>,
) -> Result<HttpResponse> {
    if !access.admits(&request) {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("scrape /metrics with 'Authorization: Bearer <the --metrics-token>'\n"));
    }
    let scraped = scrape(&sources).await?;
    Ok(HttpResponse::Ok()
        .content_type(EXPOSITION_CONTENT_TYPE)
        .body(crate::metrics::render(&scraped)))
}

/// The figures that cost a query or a system call: one grouped query for every
/// organization's tokens, the pool's state, the WAL file's size.
async fn scrape(sources: &ScrapeSources) -> Result<Registry> {
    let tokens = sources
        .store
        .read(|conn| token_stats::token_stats(conn, store::now()))
        .await?;
    let registry = Registry::new();
    register_token_series(&registry, &tokens).map_err(Error::internal)?;
    let pool = IntGaugeVec::new(
        Opts::new(
            "scimd_db_pool_connections",
            "Database connections of this instance's pool, by state",
        ),
        &["state"],
    )
    .map_err(Error::internal)?;
    let (in_use, idle) = sources.store.pool_state();
    pool.with_label_values(&["in_use"]).set(i64::from(in_use));
    pool.with_label_values(&["idle"]).set(i64::from(idle));
    registry.register(Box::new(pool)).map_err(Error::internal)?;
    if let Some(wal) = &sources.wal {
        let size = IntGauge::new(
            "scimd_sqlite_wal_bytes",
            "Size of the SQLite write-ahead log file",
        )
        .map_err(Error::internal)?;
        // No file yet (nothing written since the last checkpoint): an empty log.
        let bytes = std::fs::metadata(wal).map_or(0, |meta| meta.len());
        size.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        registry.register(Box::new(size)).map_err(Error::internal)?;
    }
    Ok(registry)
}

fn register_token_series(registry: &Registry, tokens: &[OrgTokenStats]) -> prometheus::Result<()> {
    let by_status = IntGaugeVec::new(
        Opts::new(
            "scimd_tokens",
            "API tokens by organization and status (inactivity policies not applied)",
        ),
        &["org", "status"],
    )?;
    let soonest = IntGaugeVec::new(
        Opts::new(
            "scimd_token_soonest_expiry_timestamp_seconds",
            "When the organization's next active token stops working (Unix time)",
        ),
        &["org"],
    )?;
    for org in tokens {
        let counts = [
            ("active", org.active()),
            ("disabled", org.disabled),
            ("expired", org.expired),
            ("revoked", org.revoked),
        ];
        for (status, count) in counts {
            by_status
                .with_label_values(&[org.org.as_str(), status])
                .set(count);
        }
        if let Some(end) = org.soonest_end() {
            soonest
                .with_label_values(&[org.org.as_str()])
                .set(end.and_utc().timestamp());
        }
    }
    registry.register(Box::new(by_status))?;
    registry.register(Box::new(soonest))?;
    Ok(())
}
