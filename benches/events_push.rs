//! Issue 14 performance targets for push delivery (RFC 8935), against a local receiver:
//! 1. `POST /scim/v2/Users` throughput with one push stream attached is at least 85% of the
//!    same run without streams (rounds alternate, so drift hits both alike), and every SET
//!    of a round is delivered before the stream goes (the time that took is printed: a ratio
//!    bought by leaving delivery for later would show there);
//! 2. at 1,000 writes/s the p99 delay from a write's answer to its SET's arrival is < 1 s.
//!
//! `cargo bench --bench events_push` (`BENCH_BACKEND=postgres`, `BENCH_SECONDS` (5),
//! `BENCH_ROUNDS` (6), `BENCH_CONCURRENCY` (16), `BENCH_RATE` (1000 writes/s) adjust it).
// A benchmark reports by failing loudly, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scimd::store::DatabaseUrl;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/api/helpers/receiver.rs"]
mod receiver;

use receiver::Receiver;
use support::env_number;
use support::server::{Closed, Server, build_application, closed_loop, post_json};

fn new_user(n: u64, tag: &str) -> Value {
    let name = format!("{tag}-{n}@bench.example");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "emails": [{"value": name, "primary": true}],
    })
}

/// Creates users as fast as `clients` clients can for `seconds`.
async fn throughput(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    tag: &str,
    seconds: u64,
    clients: u64,
) -> Closed {
    let (client, url, token, tag) = (
        client.clone(),
        format!("{base}/scim/v2/Users"),
        token.to_owned(),
        tag.to_owned(),
    );
    closed_loop(clients, seconds, move |worker, n| {
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&new_user(n, &format!("{tag}-{worker}")))
    })
    .await
}

async fn create_stream(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    receiver: &Receiver,
) -> String {
    let created = post_json(
        client,
        &format!("{base}/api/v1/events/streams"),
        token,
        &json!({"name": "bench", "delivery": "push", "push_url": receiver.url()}),
    )
    .await;
    created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned()
}

async fn delete_stream(client: &reqwest::Client, base: &str, token: &str, id: &str) {
    let response = client
        .delete(format!("{base}/api/v1/events/streams/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// How long after the end of a round the receiver had every SET of the round's `created`
/// writes (it had `before` until then). The deliverer runs at the lowest priority: a ratio
/// bought by leaving delivery for later would show here as a catch-up that grows.
async fn caught_up(receiver: &Receiver, before: usize, created: u64) -> Duration {
    let (ended, wanted) = (Instant::now(), before + created as usize);
    while receiver.count() < wanted {
        assert!(
            ended.elapsed() < Duration::from_secs(60),
            "{} of {created} SETs delivered a minute after the round",
            receiver.count() - before
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ended.elapsed()
}

/// Writes at `rate` per second for `seconds`; answers each user's id with when its 201 came.
async fn paced(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    rate: u64,
    seconds: u64,
) -> HashMap<String, Instant> {
    let answered = Arc::new(Mutex::new(HashMap::new()));
    let workers = 50.min(rate).max(1);
    let interval = Duration::from_secs_f64(workers as f64 / rate as f64);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (client, url, token, answered) = (
            client.clone(),
            format!("{base}/scim/v2/Users"),
            token.to_owned(),
            Arc::clone(&answered),
        );
        tasks.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut n = 0;
            while Instant::now() < deadline {
                ticker.tick().await;
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&new_user(n, &format!("paced-{worker}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                let user: Value = response.json().await.unwrap();
                answered
                    .lock()
                    .await
                    .insert(user["id"].as_str().unwrap().to_owned(), Instant::now());
                n += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(answered).unwrap().into_inner()
}

fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CONCURRENCY", 16);
    let rate = env_number("BENCH_RATE", 1000);
    let rounds = env_number("BENCH_ROUNDS", 6);
    let dir = tempfile::tempdir().unwrap();
    let (url, _cluster) = support::database::database(&dir.path().join("b.db"));
    let database_url = url.clone();
    let url = DatabaseUrl::parse(&url).unwrap();
    let runtime = support::server::runtime();
    runtime.block_on(async move {
        let receiver = Receiver::start().await;
        // The receiver listens on this machine, where pushes are refused by default.
        let application = build_application(url, |config| {
            config.push.destinations.allowed = vec!["127.0.0.0/8".parse().unwrap()];
        })
        .await;
        // The first-start token may not manage streams: an admin's token, as the CLI makes it.
        let admin = support::seed::scimd(
            &database_url,
            &["token", "create", "--org", "default", "--name", "bench", "--scope", "scim:read scim:write tokens:manage"],
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let server = Server::run(application);
        let (base, token) = (&server.base, server.token());
        let client = reqwest::Client::new();
        throughput(&client, base, token, "warm", 1, clients).await;

        let (mut without, mut with) = (0.0, 0.0);
        let mut catch_up = Duration::ZERO;
        for round in 0..rounds {
            // Each side goes first every other round, so what one round leaves behind (a
            // bigger table, a checkpoint due) falls on both alike.
            if round % 2 == 0 {
                without += throughput(&client, base, token, &format!("without{round}"), seconds, clients).await.per_second();
            }
            let stream = create_stream(&client, base, &admin, &receiver).await;
            let before = receiver.count();
            let round_with = throughput(&client, base, token, &format!("with{round}"), seconds, clients).await;
            with += round_with.per_second();
            catch_up = catch_up.max(caught_up(&receiver, before, round_with.requests).await);
            delete_stream(&client, base, &admin, &stream).await;
            if round % 2 == 1 {
                without += throughput(&client, base, token, &format!("without{round}"), seconds, clients).await.per_second();
            }
        }
        let (without, with) = (without / rounds as f64, with / rounds as f64);
        println!("| POST /Users | writes/s |\n|---|---|");
        println!("| no stream | {without:.0} |\n| one push stream | {with:.0} |");
        // Not a target: what full-speed writes leave for the deliverer, which takes only idle
        // CPU until a SET has waited a second (see `push::deliver`), then catches up.
        println!("\nevery SET of a round delivered at most {catch_up:?} after its end");
        println!("\nwith / without = {:.1}% (target: at least 85%)", with / without * 100.0);

        let stream = create_stream(&client, base, &admin, &receiver).await;
        let before = receiver.count();
        let answered = paced(&client, base, token, rate, seconds).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        // Counted, not copied: a copy of every delivery so far, every 50 ms, took the CPU the
        // (idle-priority) deliverer needed for the last SETs.
        while receiver.count() < before + answered.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut delays: Vec<Duration> = receiver
            .deliveries()
            .iter()
            .filter_map(|delivery| {
                let id = delivery.claims["sub_id"]["id"].as_str()?;
                Some(delivery.at.saturating_duration_since(*answered.get(id)?))
            })
            .collect();
        delays.sort();
        let reached = delays.len();
        let percentile = |p: f64| delays.get(((reached as f64 * p) as usize).min(reached.saturating_sub(1))).copied().unwrap_or_default();
        println!(
            "\n{} writes at {rate}/s requested ({:.0}/s reached), {reached} SETs delivered: delay p50 {:?}, p99 {:?}, max {:?} (target: p99 < 1 s)",
            answered.len(),
            answered.len() as f64 / seconds as f64,
            percentile(0.5),
            percentile(0.99),
            delays.last().copied().unwrap_or_default(),
        );
        delete_stream(&client, base, &admin, &stream).await;
    });
}
