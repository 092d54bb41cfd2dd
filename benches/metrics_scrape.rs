//! Issue 13 performance target: `GET /metrics` answers in under 10 ms with 1,000
//! organizations, each with a few tokens (active, expiring, revoked). The organizations and
//! tokens are written straight in SQL; then `/metrics` is scraped `BENCH_SCRAPES` (default 50)
//! times one after another, and the median and the slowest answer are printed.
//!
//! `cargo bench --bench metrics_scrape` (`BENCH_BACKEND=postgres`, `BENCH_ORGS` (1000) and
//! `BENCH_TOKENS_PER_ORG` (3) adjust it).
// A benchmark reports by failing loudly, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use scimd::store::DatabaseUrl;
use secrecy::SecretString;

#[path = "support/mod.rs"]
mod support;

use support::env_number;
use support::server::{Server, build_application};

const METRICS_TOKEN: &str = "bench-metrics-token";

/// `orgs` organizations with `tokens` tokens each, in one transaction: one token in three
/// revoked, the others active and expiring at different times, so every series has values.
fn seed(url: &DatabaseUrl, orgs: u32, tokens: u32) {
    let mut sql = String::from("BEGIN;\n");
    for org in 0..orgs {
        let org_id = format!("00000000-0000-4000-8000-{org:012}");
        sql.push_str(&format!(
            "INSERT INTO organizations (id, name, created_at) \
             VALUES ('{org_id}', 'bench-org-{org:04}', '2026-01-01 00:00:00');\n"
        ));
        for token in 0..tokens {
            let revoked = if token % 3 == 2 {
                "'2026-06-01 00:00:00'"
            } else {
                "NULL"
            };
            sql.push_str(&format!(
                "INSERT INTO api_tokens (id, org_id, name, token_digest, display_prefix, scopes, \
                 created_at, created_by, expires_at, revoked_at) VALUES \
                 ('00000000-0000-4000-9000-{org:06}{token:06}', '{org_id}', 'token-{token}', \
                 'digest-{org}-{token}', 'wxt_bench', 'scim:read scim:write', \
                 '2026-01-01 00:00:00', 'bench', '2099-01-{:02} 00:00:00', {revoked});\n",
                token % 28 + 1
            ));
        }
    }
    sql.push_str("COMMIT;\n");
    let mut conn = url.establish().unwrap();
    conn.batch_execute(&sql).unwrap();
}

fn main() {
    let scrapes: usize = env_number("BENCH_SCRAPES", 50);
    let orgs: u32 = env_number("BENCH_ORGS", 1000);
    let tokens: u32 = env_number("BENCH_TOKENS_PER_ORG", 3);
    let runtime = support::server::runtime();
    let dir = tempfile::tempdir().unwrap();
    let (url, _cluster) = support::database::database(&dir.path().join("m.db"));
    let url = DatabaseUrl::parse(&url).unwrap();
    runtime.block_on(async move {
        let application = build_application(url.clone(), |config| {
            config.metrics_token = Some(SecretString::from(METRICS_TOKEN));
        })
        .await;
        tokio::task::spawn_blocking(move || seed(&url, orgs, tokens))
            .await
            .unwrap();
        let base = Server::run(application).base;
        let client = reqwest::Client::new();
        let scrape = || async {
            let started = Instant::now();
            let response = client
                .get(format!("{base}/metrics"))
                .bearer_auth(METRICS_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let text = response.text().await.unwrap();
            (started.elapsed(), text)
        };
        let (_, text) = scrape().await;
        let org_series = text
            .lines()
            .filter(|line| line.starts_with("scimd_tokens{"))
            .count();
        assert!(
            org_series >= orgs as usize * 4,
            "{org_series} scimd_tokens series for {orgs} organizations"
        );
        let mut times: Vec<Duration> = Vec::with_capacity(scrapes);
        for _ in 0..scrapes {
            times.push(scrape().await.0);
        }
        times.sort();
        let median = times[times.len() / 2];
        let max = times[times.len() - 1];
        println!(
            "GET /metrics, {orgs} organizations × {tokens} tokens ({} bytes, {org_series} \
             scimd_tokens series), {scrapes} scrapes: median {median:?}, max {max:?} \
             (target: < 10 ms)",
            text.len()
        );
    });
}
