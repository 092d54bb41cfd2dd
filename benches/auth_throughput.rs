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

use scimd::store::DatabaseUrl;
use serde_json::json;

#[path = "support/mod.rs"]
mod support;

use support::env_number;
use support::server::{Server, closed_loop, post_json};

const SECRET: &str = "bench-shared-secret-0123456789abcdefghij";
const ROUNDS: usize = 3;

async fn run(client: &reqwest::Client, url: &str, bearer: &str, seconds: u64, clients: u64) -> f64 {
    let (client, url, bearer) = (client.clone(), url.to_owned(), bearer.to_owned());
    closed_loop(clients, seconds, move |_, _| {
        client.get(&url).bearer_auth(&bearer)
    })
    .await
    .per_second()
}

fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CONCURRENCY", 16);
    let dir = tempfile::tempdir().unwrap();
    let (url, _cluster) = support::database::database(&dir.path().join("b.db"));
    let url = DatabaseUrl::parse(&url).unwrap();
    let runtime = support::server::runtime();
    runtime.block_on(async move {
        let server = Server::start(url, |config| {
            config.auth_secret = Some(SECRET.into());
        })
        .await;
        let base = &server.base;
        let token = server.token();
        let client = reqwest::Client::new();
        let created = post_json(
            &client,
            &format!("{base}/scim/v2/Users"),
            token,
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bench@example.com",
                "emails": [{"value": "bench@example.com", "primary": true}]
            }),
        )
        .await;
        let url = format!("{base}/scim/v2/Users/{}", created["id"].as_str().unwrap());
        run(&client, &url, token, 1, clients).await;
        match std::env::var("BENCH_ONLY").as_deref() {
            Ok("token") => {
                return println!("{:.0}", run(&client, &url, token, seconds, clients).await);
            }
            Ok("secret") => {
                return println!("{:.0}", run(&client, &url, SECRET, seconds, clients).await);
            }
            _ => {}
        }
        let (mut with_token, mut with_secret) = (0.0, 0.0);
        for _ in 0..ROUNDS {
            with_secret += run(&client, &url, SECRET, seconds, clients).await;
            with_token += run(&client, &url, token, seconds, clients).await;
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
