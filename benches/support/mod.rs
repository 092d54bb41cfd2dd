//! Setup shared by the end-to-end benchmarks. Each benchmark is a crate of its own and takes
//! this in with `#[path = "…/support/mod.rs"] mod support;`.

pub mod database;
// Not every benchmark seeds.
#[allow(dead_code)]
pub mod seed;

use std::str::FromStr;

use scimd::config::Config;
use scimd::startup::Application;
use scimd::store::DatabaseUrl;

/// The number in the environment variable `name` (`1_000_000` is fine), or `default` when
/// it is unset; anything else stops the benchmark rather than measure something unasked for.
pub fn env_number<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}

// Some benchmarks run the built binary instead.
#[allow(dead_code)]
/// The real server on a free loopback port, configured by `configure`, built off the async
/// runtime since building migrates the database. Not yet serving: the caller reads what it
/// needs (base URL, first-start token) and then runs it.
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
