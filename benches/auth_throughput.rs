//! Issue 7 performance target: `GET /scim/v2/Users/{id}` with an API token reaches at least
//! 90% of the throughput with `AUTH_SECRET`. Starts the real server on loopback (SQLite in a
//! temp dir, or PostgreSQL: see `support/database.rs`), then runs each credential for
//! `BENCH_SECONDS` (default 5) with `BENCH_CONCURRENCY` (default 16) clients, alternating
//! rounds so drift hits both alike. `BENCH_ONLY=token` or `secret` runs one side alone, for
//! a profiler.
//!
//! `cargo bench --bench auth_throughput`
//! `BENCH_BACKEND=postgres cargo bench --bench auth_throughput`
// A benchmark reports by failing loudly, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scimd::store::DatabaseUrl;
use secrecy::ExposeSecret;
use serde_json::json;

#[path = "support/mod.rs"]
mod support;

use support::env_number;

const SECRET: &str = "bench-shared-secret-0123456789abcdefghij";
const ROUNDS: usize = 3;

async fn run(client: &reqwest::Client, url: &str, bearer: &str, seconds: u64, clients: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, bearer, done) = (
            client.clone(),
            url.to_owned(),
            bearer.to_owned(),
            Arc::clone(&done),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let response = client.get(&url).bearer_auth(&bearer).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let _ = response.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CONCURRENCY", 16);
    let dir = tempfile::tempdir().unwrap();
    let (url, _cluster) = support::database::database(&dir.path().join("b.db"));
    let url = DatabaseUrl::parse(&url).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let application = support::build_application(url, |config| {
            config.auth_secret = Some(SECRET.into());
        })
        .await;
        let base = application.base_url().to_owned();
        let token = application
            .first_start()
            .map(|first| first.token.plain.expose_secret().to_owned())
            .unwrap();
        tokio::spawn(async move { application.run_until_stopped().await });
        let client = reqwest::Client::new();
        let created: serde_json::Value = client
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(&token)
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bench@example.com",
                "emails": [{"value": "bench@example.com", "primary": true}]
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!("{base}/scim/v2/Users/{}", created["id"].as_str().unwrap());
        run(&client, &url, &token, 1, clients).await;
        match std::env::var("BENCH_ONLY").as_deref() {
            Ok("token") => {
                return println!("{:.0}", run(&client, &url, &token, seconds, clients).await);
            }
            Ok("secret") => {
                return println!("{:.0}", run(&client, &url, SECRET, seconds, clients).await);
            }
            _ => {}
        }
        let (mut with_token, mut with_secret) = (0.0, 0.0);
        for _ in 0..ROUNDS {
            with_secret += run(&client, &url, SECRET, seconds, clients).await;
            with_token += run(&client, &url, &token, seconds, clients).await;
        }
        let (with_token, with_secret) = (with_token / ROUNDS as f64, with_secret / ROUNDS as f64);
        println!("| credential | requests/s |\n|---|---|");
        println!("| AUTH_SECRET | {with_secret:.0} |\n| API token | {with_token:.0} |");
        let ratio = with_token / with_secret;
        println!(
            "\ntoken / AUTH_SECRET = {:.1}% (target: at least 90%)",
            ratio * 100.0
        );
    });
}
