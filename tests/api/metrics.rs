//! `/metrics` (issue 13): off unless configured, behind its token on the main listener or open
//! on a listener of its own, in the Prometheus text format, its counters moving with the
//! requests made and naming route templates, never paths.
//!
//! The counters are the process's, so the tests that count run the real binary: other tests
//! in this binary make requests of their own at the same time.

use std::collections::{BTreeMap, HashMap};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::api::cli_token;
use crate::helpers::cli::ServeProcess;
use crate::helpers::scim::USER_URN;
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789abcdef";
const USER_ROUTE: &str = "/scim/v2/Users/{id}";

/// One sample line of the text format.
#[derive(Debug)]
struct Sample {
    metric: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition. (`prometheus-parse` was tried: its label regex stops at the first
/// `}`, so it cannot read a route template such as `/scim/v2/Users/{id}`.)
struct Scrape {
    samples: Vec<Sample>,
}

/// Parses the Prometheus text format 0.0.4 strictly: `# HELP`/`# TYPE` lines, then samples
/// `name{label="value",…} value` whose family was typed first (histograms as `_bucket`,
/// `_sum`, `_count`), label values with the format's escapes (`\\`, `\"`, `\n`). Panics, naming
/// the line, on anything else.
fn parse(text: &str) -> Scrape {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(_), _) => {}
                (Some("TYPE"), Some(name), Some(kind)) => {
                    let known = ["counter", "gauge", "histogram", "summary", "untyped"];
                    assert!(known.contains(&kind), "unknown type: {line}");
                    types.insert(name.to_owned(), kind.to_owned());
                }
                _ => panic!("malformed comment: {line}"),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let (metric, mut rest) = line.split_at(name_end);
        assert!(
            metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        let mut labels = BTreeMap::new();
        if let Some(after_brace) = rest.strip_prefix('{') {
            let mut chars = after_brace.char_indices().peekable();
            loop {
                let (start, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                if c == '}' {
                    rest = &after_brace[start + 1..];
                    break;
                }
                let mut name = String::from(c);
                for (_, c) in chars.by_ref() {
                    if c == '=' {
                        break;
                    }
                    name.push(c);
                }
                assert!(
                    chars.next().map(|(_, c)| c) == Some('"'),
                    "unquoted value: {line}"
                );
                let mut value = String::new();
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('"') => break,
                        Some('\\') => match chars.next().map(|(_, c)| c) {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("bad escape {other:?}: {line}"),
                        },
                        Some(c) => value.push(c),
                        None => panic!("unterminated value: {line}"),
                    }
                }
                labels.insert(name, value);
                if chars.peek().map(|(_, c)| *c) == Some(',') {
                    chars.next();
                }
            }
        }
        let mut fields = rest.split_whitespace();
        let value = match fields.next().unwrap_or_else(|| panic!("no value: {line}")) {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            number => number
                .parse()
                .unwrap_or_else(|e| panic!("bad value ({e}): {line}")),
        };
        if let Some(timestamp) = fields.next() {
            timestamp
                .parse::<i64>()
                .unwrap_or_else(|e| panic!("bad timestamp ({e}): {line}"));
        }
        assert!(fields.next().is_none(), "trailing text: {line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                metric
                    .strip_suffix(suffix)
                    .filter(|base| types.get(*base).is_some_and(|kind| kind == "histogram"))
            })
            .unwrap_or(metric);
        assert!(
            types.contains_key(family),
            "sample before its # TYPE: {line}"
        );
        samples.push(Sample {
            metric: metric.to_owned(),
            labels,
            value,
        });
    }
    Scrape { samples }
}

/// The value of the sample of `metric` with these `labels` (0 when absent: a counter not yet
/// moved has no series).
fn sample(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == metric
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map_or(0.0, |s| s.value)
}

/// The sum of every sample of `metric`.
fn total(scrape: &Scrape, metric: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .map(|s| s.value)
        .sum()
}

async fn scrape(client: &reqwest::Client, url: &str, token: Option<&str>) -> (Scrape, String) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    (parse(&text), text)
}

on_both_backends! {
    async fn metrics_are_off_by_default_and_need_their_token(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.get_reply("/metrics").await.assert_error(StatusCode::NOT_FOUND, None);

        let app = TestApp::spawn_on(TestDatabase::new(backend), |config| {
            config.metrics_token = Some(METRICS_TOKEN.into());
        })
        .await;
        let url = app.url("/metrics");
        for token in [None, Some("wrong"), Some(&app.token)] {
            let mut request = app.client.get(&url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
            let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            assert!(!response.text().await.unwrap().contains("scimd_"));
        }
        let (scraped, _) = scrape(&app.client, &url, Some(METRICS_TOKEN)).await;
        let info = scraped.samples.iter().find(|s| s.metric == "scimd_build_info").unwrap();
        assert_eq!(info.labels["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(sample(&scraped, "scimd_tokens", &[("org", "default"), ("status", "active")]), 1.0);
        assert_eq!(sample(&scraped, "scimd_tokens", &[("org", "default"), ("status", "revoked")]), 0.0);
        assert!(scraped.samples.iter().any(|s| s.metric == "scimd_db_pool_connections"));
        let has_wal = scraped.samples.iter().any(|s| s.metric == "scimd_sqlite_wal_bytes");
        assert_eq!(has_wal, backend == Backend::Sqlite);
    }
}

on_both_backends! {
    async fn request_counters_move_by_the_requests_made_under_their_route_template(backend: Backend) {
        let database = TestDatabase::new(backend);
        let url = database.url.clone();
        let server = tokio::task::spawn_blocking(move || {
            ServeProcess::start(&url, &[("SCIMD_METRICS_TOKEN", METRICS_TOKEN)])
        })
        .await
        .unwrap();
        let token = cli_token(&database, "default", "metrics test", &[]);
        let client = reqwest::Client::new();
        let metrics_url = format!("{}/metrics", server.base_url);
        let user_url = |id: &str| format!("{}/scim/v2/Users/{id}", server.base_url);
        let created: serde_json::Value = client
            .post(format!("{}/scim/v2/Users", server.base_url))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(json!({"schemas": [USER_URN], "userName": "counted@a.example"}).to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();

        let (before, _) = scrape(&client, &metrics_url, Some(METRICS_TOKEN)).await;
        for _ in 0..3 {
            let response = client.get(user_url(&id)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        let response = client.get(user_url("no-such-user")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = client.get(user_url(&id)).bearer_auth("wxt_not_a_real_token").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let (after, text) = scrape(&client, &metrics_url, Some(METRICS_TOKEN)).await;

        let requests = |scrape: &Scrape, status: &str| {
            sample(scrape, "scimd_http_requests_total", &[("route", USER_ROUTE), ("method", "GET"), ("status", status)])
        };
        assert_eq!(requests(&after, "2xx") - requests(&before, "2xx"), 3.0, "{text}");
        assert_eq!(requests(&after, "4xx") - requests(&before, "4xx"), 2.0);
        assert_eq!(
            total(&after, "scimd_auth_failures_total") - total(&before, "scimd_auth_failures_total"),
            1.0
        );
        let latency_count = |scrape: &Scrape| {
            sample(scrape, "scimd_http_request_duration_seconds_count", &[("route", USER_ROUTE)])
        };
        assert_eq!(latency_count(&after) - latency_count(&before), 5.0);
        assert!(total(&after, "scimd_db_query_duration_seconds_count") > 0.0);
        assert!(!text.contains(&id), "a raw id is in the metrics");
        assert!(!text.contains("no-such-user"), "a raw path is in the metrics");
        assert_eq!(sample(&after, "scimd_tokens", &[("org", "default"), ("status", "active")]), 2.0);
        server.stop();
    }
}

on_both_backends! {
    async fn metrics_bind_serves_them_on_a_listener_of_its_own_without_a_token(backend: Backend) {
        let database = TestDatabase::new(backend);
        let url = database.url.clone();
        let server = tokio::task::spawn_blocking(move || {
            ServeProcess::start_with(&url, &["--metrics-bind", "127.0.0.1:0"], &[])
        })
        .await
        .unwrap();
        let metrics_url = server
            .startup_log()
            .split("metrics: ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no metrics address in {}", server.startup_log()))
            .to_owned();
        assert!(!metrics_url.starts_with(&server.base_url), "{metrics_url}");
        let client = reqwest::Client::new();
        let (scraped, _) = scrape(&client, &metrics_url, None).await;
        assert!(scraped.samples.iter().any(|s| s.metric == "scimd_build_info"));
        // The main listener does not serve them.
        let main = client.get(format!("{}/metrics", server.base_url)).send().await.unwrap();
        assert_eq!(main.status(), StatusCode::NOT_FOUND);
        server.stop();
    }
}

on_both_backends! {
    async fn json_log_lines_each_parse_and_access_lines_carry_the_request(backend: Backend) {
        let database = TestDatabase::new(backend);
        let url = database.url.clone();
        let server = tokio::task::spawn_blocking(move || {
            ServeProcess::start_with(&url, &["--log-format", "json"], &[])
        })
        .await
        .unwrap();
        let client = reqwest::Client::new();
        let response = client
            .get(format!("{}/scim/v2/Users/some-id?filter=secret", server.base_url))
            .header("x-request-id", "json-log-1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let (stopped, _, stderr) = server.stop();
        assert!(stopped, "{stderr}");

        let mut access = None;
        for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
            let object: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            for field in ["time", "level", "target", "message"] {
                assert!(object[field].is_string(), "{field} missing: {line}");
            }
            chrono::DateTime::parse_from_rfc3339(object["time"].as_str().unwrap()).unwrap();
            if object["request_id"] == "json-log-1" {
                access = Some(object);
            }
        }
        let access = access.unwrap_or_else(|| panic!("no access line:\n{stderr}"));
        assert_eq!(access["target"], "scimd::access");
        assert_eq!(access["method"], "GET");
        assert_eq!(access["route"], USER_ROUTE);
        assert_eq!(access["path"], "/scim/v2/Users/some-id");
        assert_eq!(access["status"], 401);
        assert!(access["duration_ms"].is_number());
        assert!(!access.to_string().contains("secret"), "the query string is logged: {access}");
    }
}
