//! Issue 15's throughput targets, measured as the issue measured them: `wrk` with 2 threads and
//! 32 keep-alive connections against the release `scimd` binary (default log level, SQLite, or
//! PostgreSQL with `BENCH_BACKEND=postgres`) and, in the same run, against a bare actix-web
//! handler returning a constant JSON body; every case runs `BENCH_ROUNDS` (3) rounds of
//! `BENCH_SECONDS` (5), interleaved, so drift on a busy machine hits all alike. Prints a
//! Markdown table: requests/s, p99 latency, the ratio to the bare handler, target, PASS/FAIL.
//!
//! `cargo bench --bench throughput`; `BENCH_CASES=get,filter` picks cases (`bare` always runs),
//! `BENCH_USERS` (10000) sizes the organization, `BENCH_TOKENS` (1000000) the one whose
//! authentication must cost what it costs with 10 tokens. See docs/benchmarks.md, and `cases.rs` to add
//! a case.
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
mod servers;
mod wrk;

use std::time::Duration;

use serde_json::{Value, json};

use cases::{Case, Check, On};
use support::env_number;
use support::seed::{self, Sizes};

const ORG: &str = "bench";
/// The organization with `BENCH_TOKENS` tokens.
const CROWD: &str = "crowd";
pub const SECRET: &str = "bench-shared-secret-0123456789abcdefghij";
/// API tokens in the benchmark's organization (the one measured and nine more).
const TOKENS: usize = 10;

/// What the cases need to know about the seeded organization.
pub struct Fixture {
    pub users: i64,
    /// The user `GET /Users/{id}` and the filter read: in three groups, one of them nested in
    /// a fourth.
    pub user_id: String,
    pub user_name: String,
    /// One of that user's groups.
    pub group_id: String,
    pub token: String,
    /// A token of the organization with `BENCH_TOKENS` tokens, when a case needs it.
    pub crowd_token: Option<String>,
    /// Unique to this benchmark run, for values that must not repeat across runs.
    pub run_id: String,
}

struct Settings {
    seconds: u64,
    rounds: usize,
    users: i64,
    tokens: i64,
    cases: Option<Vec<String>>,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            seconds: env_number("BENCH_SECONDS", 5),
            rounds: env_number("BENCH_ROUNDS", 3),
            users: env_number("BENCH_USERS", 10_000),
            tokens: env_number("BENCH_TOKENS", 1_000_000),
            cases: std::env::var("BENCH_CASES")
                .ok()
                .map(|list| list.split(',').map(|name| name.trim().to_owned()).collect()),
        };
        assert!(settings.seconds >= 1, "BENCH_SECONDS must be at least 1");
        assert!(settings.rounds >= 1, "BENCH_ROUNDS must be at least 1");
        assert!(settings.users >= 10, "BENCH_USERS must be at least 10");
        assert!(settings.tokens >= 1, "BENCH_TOKENS must be at least 1");
        settings
    }

    fn wants(&self, case: &str) -> bool {
        self.cases
            .as_ref()
            .is_none_or(|names| names.iter().any(|name| name == case))
    }

    /// Every user in three groups of five ("big" holds user 1 only, until the fixture nests a
    /// group in it).
    fn sizes(&self) -> Sizes {
        Sizes {
            users: self.users,
            groups: 1 + (3 * self.users + 4) / 5,
            big_group: 1,
        }
    }
}

fn main() {
    if let Ok(bind) = std::env::var(servers::BARE_BIND) {
        return servers::serve_bare(&bind);
    }
    wrk::check_installed();
    let settings = Settings::from_env();
    let dir = tempfile::tempdir().unwrap();
    let (url, _cluster) = support::database::database(&dir.path().join("throughput.db"));
    let database_url = scimd::store::DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("{e}"));
    let mut conn = database_url.establish().unwrap();
    let org = seed::ensure_org(&url, &mut conn, ORG);
    seed::seed(&mut conn, &org, &settings.sizes());
    let token = seed::scimd(&url, &["token", "create", "--org", ORG, "--name", "bench"]).unwrap();
    for n in 1..TOKENS {
        let name = format!("idle-{n}");
        seed::scimd(&url, &["token", "create", "--org", ORG, "--name", &name]).unwrap();
    }
    let crowd_token = settings.wants("tokens-many").then(|| {
        let crowd = seed::ensure_org(&url, &mut conn, CROWD);
        seed::seed_tokens(&mut conn, &crowd, settings.tokens - 1);
        seed::scimd(
            &url,
            &["token", "create", "--org", CROWD, "--name", "bench"],
        )
        .unwrap()
    });
    drop(conn);

    let mut servers: Vec<(On, servers::Server)> = vec![(On::Bare, servers::bare())];
    let scimd_env = [("AUTH_SECRET", SECRET), ("AUTH_SECRET_ORG", ORG)];
    let scimd = |extra: &[(&str, &str)], n: usize| {
        let env: Vec<_> = scimd_env.iter().chain(extra).copied().collect();
        servers::scimd(&url, &dir.path().join(format!("scimd-{n}.log")), &env)
    };
    servers.push((On::Scimd(&[]), scimd(&[], 0)));
    let fixture = fixture(&servers[1].1.base_url, &settings, token, crowd_token);

    let cases: Vec<Case> = select(cases::all(&fixture), settings.cases.as_deref());
    for case in &cases {
        if let On::Scimd(extra) = case.on
            && !servers.iter().any(|(on, _)| *on == case.on)
        {
            let server = scimd(extra, servers.len());
            servers.push((case.on, server));
        }
    }
    let base_url = |on: On| &servers.iter().find(|(o, _)| *o == on).unwrap().1.base_url;

    println!(
        "# scimd throughput\n\n{database_url}, {} users; wrk {} threads, {} connections; {} rounds of {} s, interleaved\n",
        settings.users,
        wrk::THREADS,
        wrk::CONNECTIONS,
        settings.rounds,
        settings.seconds
    );
    let scratch = dir.path();
    let mut run = 0;
    for case in &cases {
        run += 1;
        wrk::run(base_url(case.on), &case.load, 1, scratch, run);
    }
    let mut figures: Vec<Vec<wrk::Figures>> = vec![Vec::new(); cases.len()];
    for round in 1..=settings.rounds {
        for (case, figures) in cases.iter().zip(&mut figures) {
            run += 1;
            let measured = wrk::run(
                base_url(case.on),
                &case.load,
                settings.seconds,
                scratch,
                run,
            );
            eprintln!(
                "round {round} {}: {:.0}/s, p99 {:.2} ms, {} errors",
                case.name,
                measured.requests_per_second,
                measured.p99.as_secs_f64() * 1e3,
                measured.errors
            );
            figures.push(measured);
        }
    }
    print_table(&cases, &figures);
}

/// The cases `BENCH_CASES` names, and always the bare handler, which every ratio needs.
fn select(all: Vec<Case>, names: Option<&[String]>) -> Vec<Case> {
    let Some(names) = names else { return all };
    for name in names {
        assert!(
            all.iter().any(|case| case.name == name),
            "BENCH_CASES: no case {name}; there are {}",
            all.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        );
    }
    all.into_iter()
        .filter(|case| matches!(case.on, On::Bare) || names.iter().any(|n| n == case.name))
        .collect()
}

/// Nests one of the middle user's three groups in "big" and checks the user now reads with
/// four groups, one indirect.
fn fixture(
    base_url: &str,
    settings: &Settings,
    token: String,
    crowd_token: Option<String>,
) -> Fixture {
    let sizes = settings.sizes();
    let n = settings.users / 2;
    let groups = sizes.small_groups_of(n);
    assert_eq!(groups.len(), 3, "user {n} is in groups {groups:?}");
    let fixture = Fixture {
        users: settings.users,
        user_id: seed::user_id(n),
        user_name: seed::user_name(n),
        group_id: seed::user_group_id(groups[0]),
        token,
        crowd_token,
        run_id: format!("{:x}", std::process::id()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let patched = client
            .patch(format!(
                "{base_url}/scim/v2/Groups/{}",
                seed::user_group_id(1)
            ))
            .bearer_auth(&fixture.token)
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members",
                    "value": [{"value": fixture.group_id, "type": "Group"}]}]
            }))
            .send()
            .await
            .unwrap();
        assert!(patched.status().is_success(), "nesting: {patched:?}");
        let user: Value = client
            .get(format!("{base_url}/scim/v2/Users/{}", fixture.user_id))
            .bearer_auth(&fixture.token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let groups = user["groups"].as_array().cloned().unwrap_or_default();
        let indirect = groups.iter().filter(|g| g["type"] == "indirect").count();
        assert!(
            groups.len() == 4 && indirect == 1,
            "the benchmark's user should be in 3 groups and 1 more through nesting: {user}"
        );
    });
    fixture
}

fn print_table(cases: &[Case], figures: &[Vec<wrk::Figures>]) {
    let mean = |i: usize| {
        figures[i]
            .iter()
            .map(|f| f.requests_per_second)
            .sum::<f64>()
            / figures[i].len() as f64
    };
    let rate_of = |name: &str| cases.iter().position(|c| c.name == name).map(mean);
    let bare = rate_of("bare").unwrap();
    println!(
        "| case | requests/s | p99 | × bare | target | result |\n|---|---:|---:|---:|---|---|"
    );
    for (i, case) in cases.iter().enumerate() {
        let rate = mean(i);
        let p99 = figures[i].iter().map(|f| f.p99).max().unwrap_or_default();
        let errors: u64 = figures[i].iter().map(|f| f.errors).sum();
        let mut met = true;
        for check in &case.checks {
            met &= match *check {
                Check::RatioToBare(ratio) => rate >= ratio * bare,
                Check::RatioTo(other, ratio) => rate_of(other).is_some_and(|r| rate >= ratio * r),
                Check::RequestsPerSecond(floor) => rate >= floor,
                Check::P99Below(limit) => p99 < limit,
            };
        }
        let target = case
            .checks
            .iter()
            .map(Check::describe)
            .collect::<Vec<_>>()
            .join("; ");
        let result = match (errors, case.checks.is_empty(), met) {
            (1.., _, _) => format!("FAIL ({errors} errors)"),
            (0, true, _) => String::new(),
            (0, false, true) => "PASS".to_owned(),
            (0, false, false) => "FAIL".to_owned(),
        };
        println!(
            "| {} `{}` | {rate:.0} | {:.2} ms | {:.2} | {target} | {result} |",
            case.name,
            case.what,
            p99.as_secs_f64() * 1e3,
            rate / bare
        );
    }
    println!(
        "\n(requests/s: mean of the rounds; p99: the worst round's; a ratio to a case not run counts as FAIL)"
    );
}
