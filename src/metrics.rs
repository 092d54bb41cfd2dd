//! The server's Prometheus series. Parts of the server report here as things happen (each
//! report a lookup of a pre-registered series and an atomic add); figures that cost a query
//! or a system call are taken only when `/metrics` is scraped (see [`crate::http::metrics`]).

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// Every series reported as it happens, registered once.
struct Series {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    rate_limited: IntCounter,
    auth_failures: IntCounterVec,
    pool_wait_seconds: Histogram,
    query_seconds: HistogramVec,
    activity_queue_depth: IntGauge,
    activity_dropped: IntCounter,
}

/// Request and query latencies: a cached token lookup takes well under a millisecond, a large
/// PATCH a good part of a second.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static SERIES: LazyLock<Option<Series>> = LazyLock::new(|| match Series::register() {
    Ok(series) => Some(series),
    Err(error) => {
        // Only a programming error (a duplicate or malformed name) gets here: the server
        // serves on without metrics rather than not at all.
        log::error!("metrics are unavailable: {error}");
        None
    }
});

impl Series {
    fn register() -> prometheus::Result<Series> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "scimd_http_requests_total",
                "HTTP requests answered, by route template, method and status class",
            ),
            &["route", "method", "status"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "scimd_http_request_duration_seconds",
                "Time from a request's arrival to its answer, by route template",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let rate_limited = IntCounter::new(
            "scimd_rate_limited_requests_total",
            "Requests answered 429 Too Many Requests",
        )?;
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "scimd_auth_failures_total",
                "Refused API credentials, by reason",
            ),
            &["reason"],
        )?;
        let pool_wait_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "scimd_db_pool_wait_seconds",
                "Time spent waiting for a database connection from the pool",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let query_seconds = HistogramVec::new(
            HistogramOpts::new(
                "scimd_db_query_duration_seconds",
                "Time one use case held its database connection, by kind (read or write)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["kind"],
        )?;
        let activity_queue_depth = IntGauge::new(
            "scimd_activity_queue_depth",
            "Activity log entries waiting to be written",
        )?;
        let activity_dropped = IntCounter::new(
            "scimd_activity_dropped_total",
            "Activity log entries dropped because the queue was full",
        )?;
        let build_info = IntGauge::with_opts(
            Opts::new("scimd_build_info", "The running scimd's version (always 1)")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build_info.set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(auth_failures.clone()))?;
        registry.register(Box::new(pool_wait_seconds.clone()))?;
        registry.register(Box::new(query_seconds.clone()))?;
        registry.register(Box::new(activity_queue_depth.clone()))?;
        registry.register(Box::new(activity_dropped.clone()))?;
        registry.register(Box::new(build_info))?;
        Ok(Series {
            registry,
            requests,
            request_seconds,
            rate_limited,
            auth_failures,
            pool_wait_seconds,
            query_seconds,
            activity_queue_depth,
            activity_dropped,
        })
    }
}

fn series() -> Option<&'static Series> {
    SERIES.as_ref()
}

/// One answered request. `route` is the template the request matched (never its path, which
/// holds ids), `method` one of a fixed set, `status_class` `"2xx"` and the like.
pub fn request_answered(route: &str, method: &str, status: u16, elapsed: Duration) {
    let Some(series) = series() else {
        return;
    };
    series
        .requests
        .with_label_values(&[route, method, status_class(status)])
        .inc();
    series
        .request_seconds
        .with_label_values(&[route])
        .observe(elapsed.as_secs_f64());
    if status == 429 {
        series.rate_limited.inc();
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// An API credential was refused for `reason` (one of a fixed set of words).
pub fn auth_failed(reason: &'static str) {
    if let Some(series) = series() {
        series.auth_failures.with_label_values(&[reason]).inc();
    }
}

/// A database connection was handed out after `waited`.
pub fn pool_waited(waited: Duration) {
    if let Some(series) = series() {
        series.pool_wait_seconds.observe(waited.as_secs_f64());
    }
}

/// What a use case did with its connection, for [`query_took`].
#[derive(Debug, Clone, Copy)]
pub enum QueryKind {
    Read,
    Write,
}

/// One use case's queries (its closure, or its whole write transaction) took `elapsed`.
pub fn query_took(kind: QueryKind, elapsed: Duration) {
    if let Some(series) = series() {
        let kind = match kind {
            QueryKind::Read => "read",
            QueryKind::Write => "write",
        };
        series
            .query_seconds
            .with_label_values(&[kind])
            .observe(elapsed.as_secs_f64());
    }
}

/// The activity log's queue now holds `depth` entries waiting to be written.
pub fn activity_queue(depth: usize) {
    if let Some(series) = series() {
        series
            .activity_queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }
}

/// One activity entry was dropped because the queue was full.
pub fn activity_dropped() {
    if let Some(series) = series() {
        series.activity_dropped.inc();
    }
}

/// (queue depth, entries dropped since start) of the activity log, as `/metrics` reports them.
pub fn activity_log_figures() -> (u64, u64) {
    series().map_or((0, 0), |series| {
        (
            u64::try_from(series.activity_queue_depth.get()).unwrap_or(0),
            series.activity_dropped.get(),
        )
    })
}

/// The Prometheus text exposition of every series above, of `scraped`, the families measured
/// for this scrape, and of `built`, families made whole by the caller.
pub fn render(scraped: &Registry, built: Vec<MetricFamily>) -> String {
    let mut families = series().map_or_else(Vec::new, |series| series.registry.gather());
    families.extend(scraped.gather());
    families.extend(built);
    let mut text = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&families, &mut text) {
        log::error!("cannot encode the metrics: {error}");
    }
    String::from_utf8(text).unwrap_or_default()
}
