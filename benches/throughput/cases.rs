//! The measured cases. Adding one is a function returning a [`Case`] and a line in [`all`]:
//! a case names the server that answers it (the bare handler, or scimd with extra environment
//! variables: each distinct set gets a server of its own, started once and kept for every
//! round), what `wrk` sends, and the targets it is held to.

use std::time::Duration;

use crate::wrk::{Load, PATCH_USERS, POST_USERS};
use crate::{Fixture, SECRET};

/// Which server answers a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum On {
    Bare,
    /// scimd with these environment variables besides the benchmark's own (`AUTH_SECRET`,
    /// `AUTH_SECRET_ORG`, `DATABASE_URL`), e.g. `&[("RUST_LOG", "warn")]`.
    Scimd(&'static [(&'static str, &'static str)]),
}

/// What a case must reach to PASS.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// Requests/s at least this fraction of the bare handler's in the same run.
    RatioToBare(f64),
    /// Requests/s at least this fraction of the named case's in the same run.
    RatioTo(&'static str, f64),
    /// Requests/s at least this many (the absolute figures, for its 2-core machine).
    RequestsPerSecond(f64),
    /// The 99th percentile latency (worst round) below this.
    P99Below(Duration),
}

pub struct Case {
    /// What `BENCH_CASES` selects it by.
    pub name: &'static str,
    /// The request, for the table.
    pub what: &'static str,
    pub on: On,
    pub load: Load,
    pub checks: Vec<Check>,
}

/// Every case, in the order they run within a round.
pub fn all(f: &Fixture) -> Vec<Case> {
    vec![
        bare(),
        healthz(),
        get(f),
        filter(f),
        group(f),
        secret(f),
        post(f),
        patch(f),
        tokens_few(f),
        tokens_many(f),
    ]
}

fn get_with(path: String, bearer: &str) -> Load {
    Load {
        path,
        bearer: Some(bearer.to_owned()),
        script: None,
    }
}

fn bare() -> Case {
    Case {
        name: "bare",
        what: "GET / (bare actix-web)",
        on: On::Bare,
        load: Load {
            path: "/".to_owned(),
            bearer: None,
            script: None,
        },
        checks: vec![],
    }
}

fn healthz() -> Case {
    Case {
        name: "healthz",
        what: "GET /healthz",
        on: On::Scimd(&[]),
        load: Load {
            path: "/healthz".to_owned(),
            bearer: None,
            script: None,
        },
        checks: vec![],
    }
}

/// `GET /Users/{id}` of the user in three groups, one of them in a fourth.
fn get(f: &Fixture) -> Case {
    Case {
        name: "get",
        what: "GET /Users/{id}",
        on: On::Scimd(&[]),
        load: get_with(format!("/scim/v2/Users/{}", f.user_id), &f.token),
        checks: vec![Check::RatioToBare(0.40), Check::RatioTo("secret", 0.90)],
    }
}

/// The same request with the shared secret instead of an API token.
fn secret(f: &Fixture) -> Case {
    Case {
        name: "secret",
        what: "GET /Users/{id}, AUTH_SECRET",
        on: On::Scimd(&[]),
        load: get_with(format!("/scim/v2/Users/{}", f.user_id), SECRET),
        checks: vec![],
    }
}

fn filter(f: &Fixture) -> Case {
    Case {
        name: "filter",
        what: "GET /Users?filter=userName eq",
        on: On::Scimd(&[]),
        load: get_with(
            format!(
                "/scim/v2/Users?filter=userName%20eq%20%22{}%22",
                f.user_name.replace('@', "%40")
            ),
            &f.token,
        ),
        checks: vec![Check::RatioToBare(0.40)],
    }
}

/// `GET /Groups/{id}?excludedAttributes=members` of one of the user's groups.
fn group(f: &Fixture) -> Case {
    Case {
        name: "group",
        what: "GET /Groups/{id}?excludedAttributes=members",
        on: On::Scimd(&[]),
        load: get_with(
            format!("/scim/v2/Groups/{}?excludedAttributes=members", f.group_id),
            &f.token,
        ),
        checks: vec![Check::RatioToBare(0.40)],
    }
}

fn post(f: &Fixture) -> Case {
    Case {
        name: "post",
        what: "POST /Users",
        on: On::Scimd(&[]),
        load: Load {
            path: "/scim/v2/Users".to_owned(),
            bearer: Some(f.token.clone()),
            script: Some((POST_USERS, vec![f.run_id.clone()])),
        },
        checks: vec![
            Check::RequestsPerSecond(8_500.0),
            Check::P99Below(Duration::from_millis(50)),
        ],
    }
}

fn patch(f: &Fixture) -> Case {
    Case {
        name: "patch",
        what: "PATCH /Users/{id} displayName",
        on: On::Scimd(&[]),
        load: Load {
            path: "/scim/v2/Users".to_owned(),
            bearer: Some(f.token.clone()),
            script: Some((PATCH_USERS, vec![f.users.to_string()])),
        },
        checks: vec![
            Check::RequestsPerSecond(8_500.0),
            Check::P99Below(Duration::from_millis(50)),
        ],
    }
}

/// Authentication alone (the cheapest authenticated request) in the benchmark's organization,
/// which has 10 tokens...
fn tokens_few(f: &Fixture) -> Case {
    Case {
        name: "tokens-10",
        what: "GET /ServiceProviderConfig, 10 tokens in the org",
        on: On::Scimd(&[]),
        load: get_with("/scim/v2/ServiceProviderConfig".to_owned(), &f.token),
        checks: vec![],
    }
}

/// ...and in one with `BENCH_TOKENS` (1,000,000): the cost must stay flat.
fn tokens_many(f: &Fixture) -> Case {
    Case {
        name: "tokens-many",
        what: "GET /ServiceProviderConfig, BENCH_TOKENS tokens in the org",
        on: On::Scimd(&[]),
        load: get_with(
            "/scim/v2/ServiceProviderConfig".to_owned(),
            f.crowd_token.as_deref().unwrap_or("not seeded"),
        ),
        checks: vec![Check::RatioTo("tokens-10", 0.90)],
    }
}

impl Check {
    pub fn describe(&self) -> String {
        match self {
            Check::RatioToBare(ratio) => format!("≥ {ratio:.2} × bare"),
            Check::RatioTo(case, ratio) => format!("≥ {:.0}% of {case}", ratio * 100.0),
            Check::RequestsPerSecond(rate) => format!("≥ {rate:.0}/s"),
            Check::P99Below(limit) => format!("p99 < {} ms", limit.as_millis()),
        }
    }
}
