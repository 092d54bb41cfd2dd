//! Setup shared by the end-to-end benchmarks. Each benchmark is a crate of its own and takes
//! this in with `#[path = "…/support/mod.rs"] mod support;`.

pub mod database;
// Not every benchmark seeds.
#[allow(dead_code)]
pub mod seed;
// Some benchmarks run the built binary instead, and not every one uses every helper.
#[allow(dead_code)]
pub mod server;

use std::str::FromStr;

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
