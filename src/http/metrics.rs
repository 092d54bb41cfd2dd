//! `GET /metrics`: the Prometheus text exposition, behind a bearer token on the main listener
//! or open on a listener of its own (`--metrics-token`, `--metrics-bind`).

use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};
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
    let (scraped, tokens) = scrape(&sources).await?;
    Ok(HttpResponse::Ok()
        .content_type(EXPOSITION_CONTENT_TYPE)
        .body(crate::metrics::render(&scraped, tokens)))
}

/// The figures that cost a query or a system call: one grouped query for every
/// organization's tokens, the pool's state, the WAL file's size.
async fn scrape(sources: &ScrapeSources) -> Result<(Registry, Vec<MetricFamily>)> {
    let tokens = sources
        .store
        .read(|conn| token_stats::token_stats(conn, store::now()))
        .await?;
    let registry = Registry::new();
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
    Ok((registry, token_families(&tokens)))
}

/// The per-organization token families, built as the exposition's families directly: with
/// 1,000 organizations, registering 5,000 gauges in `GaugeVec`s (a descriptor, a label hash
/// and a copy each) and gathering them again made a scrape take over 10 ms (issue 13).
fn token_families(tokens: &[OrgTokenStats]) -> Vec<MetricFamily> {
    let mut by_status = Vec::with_capacity(tokens.len() * 4);
    let mut soonest = Vec::with_capacity(tokens.len());
    for org in tokens {
        let counts = [
            ("active", org.active()),
            ("disabled", org.disabled),
            ("expired", org.expired),
            ("revoked", org.revoked),
        ];
        for (status, count) in counts {
            by_status.push(gauge(
                vec![label("org", &org.org), label("status", status)],
                count,
            ));
        }
        if let Some(end) = org.soonest_end() {
            soonest.push(gauge(
                vec![label("org", &org.org)],
                end.and_utc().timestamp(),
            ));
        }
    }
    vec![
        family(
            "scimd_tokens",
            "API tokens by organization and status (inactivity policies not applied)",
            by_status,
        ),
        family(
            "scimd_token_soonest_expiry_timestamp_seconds",
            "When the organization's next active token stops working (Unix time)",
            soonest,
        ),
    ]
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut pair = LabelPair::default();
    pair.set_name(name.to_owned());
    pair.set_value(value.to_owned());
    pair
}

fn gauge(labels: Vec<LabelPair>, value: i64) -> Metric {
    let mut gauge = Gauge::default();
    // Token counts and Unix times in seconds: exact in an f64.
    gauge.set_value(value as f64);
    let mut metric = Metric::from_gauge(gauge);
    metric.set_label(labels);
    metric
}

fn family(name: &str, help: &str, metrics: Vec<Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(MetricType::GAUGE);
    family.set_metric(metrics);
    family
}
