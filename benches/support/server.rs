//! The real server started in-process, and a closed-loop load against it: the preamble and
//! the measuring loop of the benchmarks that run the server beside their clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scimd::config::Config;
use scimd::startup::Application;
use scimd::store::DatabaseUrl;
use secrecy::ExposeSecret;
use serde_json::Value;

/// The multi-threaded runtime the server and the benchmark's clients share.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The real server on a free loopback port, configured by `configure`, built off the async
/// runtime since building migrates the database. Not yet serving: a benchmark that writes to
/// the database first does so now, then hands it to [`Server::run`].
pub async fn build_application(
    url: DatabaseUrl,
    configure: impl FnOnce(&mut Config) + Send + 'static,
) -> Application {
    let mut config = Config::new(url);
    config.bind = "127.0.0.1:0".to_owned();
    configure(&mut config);
    tokio::task::spawn_blocking(move || Application::build(config))
        .await
        .expect("build task")
        .expect("build application")
}

/// A server serving in the background.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    first_token: Option<String>,
}

impl Server {
    /// Builds the server (see [`build_application`]) and runs it.
    pub async fn start(
        url: DatabaseUrl,
        configure: impl FnOnce(&mut Config) + Send + 'static,
    ) -> Server {
        Server::run(build_application(url, configure).await)
    }

    /// Runs `application` in the background.
    pub fn run(application: Application) -> Server {
        let base = application.base_url().to_owned();
        let first_token = application
            .first_start()
            .map(|first| first.token.plain.expose_secret().to_owned());
        tokio::spawn(async move { application.run_until_stopped().await });
        Server { base, first_token }
    }

    /// The token the first start printed.
    pub fn token(&self) -> &str {
        self.first_token
            .as_deref()
            .expect("a first start's token: this benchmark needs a fresh database")
    }
}

/// POSTs `body` with `token` and answers the JSON reply.
pub async fn post_json(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Value {
    client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What a [`closed_loop`] got done.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    pub requests: u64,
    pub elapsed: Duration,
}

impl Closed {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `clients` clients for `seconds`, each sending its next request as soon as the last
/// one is answered (a closed loop). `request(client, n)` is client number `client`'s `n`-th
/// request (both from 0); every answer must be a success.
pub async fn closed_loop(
    clients: u64,
    seconds: u64,
    request: impl Fn(u64, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Closed {
    let request = Arc::new(request);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (request, done) = (Arc::clone(&request), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < deadline {
                let response = request(client, n).send().await.unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Closed {
        requests: done.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}
