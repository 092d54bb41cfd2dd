//! Issue 4 performance targets, measured end to end: seeds an organization of 1,000,000 users
//! and 10,000 groups (one, "big", with 100,000 members) straight in SQL, starts the real server
//! on loopback and times the queries IdPs send, over HTTP. Prints Markdown tables.
//!
//! `cargo bench --bench scim_queries`; see docs/benchmarks.md for the knobs.
//! `seed` writes the data, `cases` times the requests, `explain` shows the store's query plans.
// A benchmark reports by failing loudly, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../support/mod.rs"]
mod support;

mod cases;
mod explain;
mod seed;

use std::time::Instant;

use scimd::store::DatabaseUrl;

use cases::{Bench, WARM_UP};
use support::env_number;

const ORG: &str = "bench";
const PAGE_SIZE: i64 = 100;
const TARGET_PAGE: i64 = 10_000;

struct Settings {
    users: i64,
    groups: i64,
    big_group: i64,
    requests: usize,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            users: env_number("BENCH_USERS", 1_000_000),
            groups: env_number("BENCH_GROUPS", 10_000),
            big_group: env_number("BENCH_BIG_GROUP", 100_000),
            requests: usize::try_from(env_number::<i64>("BENCH_REQUESTS", 200)).unwrap(),
        };
        assert!(settings.users >= 1, "BENCH_USERS must be at least 1");
        assert!(settings.groups >= 2, "BENCH_GROUPS must be at least 2");
        assert!(
            (1..=settings.users).contains(&settings.big_group),
            "BENCH_BIG_GROUP must be between 1 and BENCH_USERS"
        );
        assert!(settings.requests >= 1, "BENCH_REQUESTS must be at least 1");
        settings
    }

    fn sizes(&self) -> support::seed::Sizes {
        support::seed::Sizes {
            users: self.users,
            groups: self.groups,
            big_group: self.big_group,
        }
    }

    /// Page 10,000 of 100 users, or the last full page of a smaller organization.
    fn target_page(&self) -> i64 {
        TARGET_PAGE.min(self.users / PAGE_SIZE).max(1)
    }
}

fn main() {
    // `cargo bench` passes `--bench` (and filters); this benchmark takes its settings from
    // the environment only.
    let settings = Settings::from_env();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let (url, _cluster) = support::database::database(&dir.join("scimd-bench.db"));
    let database_url = DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "# scimd query benchmark\n\n{database_url}: {} users, {} groups, \"big\" with {} members\n",
        settings.users, settings.groups, settings.big_group
    );
    let mut conn = database_url
        .establish()
        .unwrap_or_else(|e| panic!("cannot open {database_url}: {e}"));
    let org = support::seed::ensure_org(&url, &mut conn, ORG);
    seed::remove_probes(&mut conn, &org, &settings);
    let started = Instant::now();
    if support::seed::seed(&mut conn, &org, &settings.sizes()) {
        println!("Seeded in {:.1} s.\n", started.elapsed().as_secs_f64());
    } else {
        println!(
            "Already seeded (checked in {:.1} s); delete the database to seed again.\n",
            started.elapsed().as_secs_f64()
        );
    }
    let token = support::seed::scimd(&url, &["token", "create", "--org", ORG, "--name", "bench"])
        .unwrap_or_else(|e| panic!("scimd token create failed: {e}"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let application = support::server::build_application(database_url.clone(), |_| {}).await;
        let bench = Bench {
            base_url: application.base_url().to_owned(),
            token,
            client: reqwest::Client::new(),
        };
        let server = tokio::spawn(async move {
            let _ = application.run_until_stopped().await;
        });
        match seed::check_seed_shape(&bench, &mut conn, &org, &settings).await {
            Ok(()) => println!(
                "Seed check: the rows the server writes for a POST of user {} and group {} equal the seed's.\n",
                settings.users + 1,
                settings.groups + 1
            ),
            Err(error) => println!("Seed check FAILED: {error}\n"),
        }
        let rows = cases::measure(&bench, &settings).await;
        println!(
            "\n(n = timed requests after {WARM_UP} warm-up requests; BENCH_REQUESTS={}; {} cases)",
            settings.requests,
            rows.len()
        );
        server.abort();
    });
    explain::explain(&mut conn, &org, &settings);
}
