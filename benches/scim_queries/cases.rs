//! The requests IdPs send, timed over HTTP against the seeded organization.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::seed::{external_id, group_name, user_group_id, user_id, user_name};
use crate::{PAGE_SIZE, Settings};

pub(crate) const WARM_UP: usize = 10;
/// A case stops early once it has run this long, so a slow query cannot stall the run.
const CASE_BUDGET: Duration = Duration::from_secs(60);

pub(crate) struct Bench {
    pub(crate) base_url: String,
    pub(crate) token: String,
    pub(crate) client: reqwest::Client,
}

struct Response {
    status: reqwest::StatusCode,
    body: Value,
    elapsed: Duration,
}

impl Bench {
    fn request(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Request {
        self.client
            .get(format!("{}{path}", self.base_url))
            .query(query)
            .bearer_auth(&self.token)
            .build()
            .expect("a valid request")
    }

    /// Sends `request` and times it until the whole body has arrived (parsing not included).
    async fn time(&self, request: reqwest::Request) -> Response {
        let started = Instant::now();
        let response = self.client.execute(request).await.expect("send request");
        let status = response.status();
        let bytes = response.bytes().await.expect("response body");
        let elapsed = started.elapsed();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            body,
            elapsed,
        }
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status == reqwest::StatusCode::CREATED {
            Ok(body)
        } else {
            Err(format!("POST {path}: {status} {body}"))
        }
    }

    /// Sends a PATCH and times it; `Ok` is the elapsed time of a 204 answer.
    async fn patch(&self, path: &str, body: &Value) -> Result<Duration, String> {
        let request = self
            .client
            .patch(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .json(body)
            .build()
            .map_err(|e| e.to_string())?;
        let response = self.time(request).await;
        if response.status == reqwest::StatusCode::NO_CONTENT {
            Ok(response.elapsed)
        } else {
            Err(unexpected(&response))
        }
    }

    pub(crate) async fn delete(&self, path: &str) -> Result<(), String> {
        let response = self
            .client
            .delete(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            Ok(())
        } else {
            Err(format!("DELETE {path}: {}", response.status()))
        }
    }
}

/// What a case's response must look like; `Err` says what was wrong.
type Check = Box<dyn Fn(&Value) -> Result<(), String>>;

/// One request of a case: path, query and the check of its answer.
struct Probe {
    path: String,
    query: Vec<(String, String)>,
    check: Check,
}

/// A row of the results table.
pub(crate) struct Row {
    label: String,
    outcome: Result<Stats, String>,
    note: String,
}

struct Stats {
    samples: usize,
    median: Duration,
    p95: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index]
    };
    Stats {
        samples: samples.len(),
        median: at(0.5),
        p95: at(0.95),
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// The status and SCIM `detail` of an unexpected answer.
fn unexpected(response: &Response) -> String {
    let detail = response["detail"].as_str().unwrap_or("");
    format!("HTTP {}: {detail}", response.status.as_u16())
}

impl std::ops::Index<&str> for Response {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.body[key]
    }
}

/// Runs `WARM_UP` then `requests` probes from `make` in sequence, timing each.
async fn run_case(
    bench: &Bench,
    label: &str,
    requests: usize,
    mut make: impl FnMut() -> Probe,
) -> Row {
    let mut samples = Vec::with_capacity(requests);
    let started = Instant::now();
    for round in 0..WARM_UP + requests {
        let probe = make();
        let query: Vec<(&str, &str)> = probe
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let response = bench.time(bench.request(&probe.path, &query)).await;
        let outcome = if response.status == reqwest::StatusCode::OK {
            (probe.check)(&response.body).map_err(|e| format!("FAIL: {e}"))
        } else {
            Err(unexpected(&response))
        };
        if let Err(error) = outcome {
            return Row {
                label: label.to_owned(),
                outcome: Err(error),
                note: String::new(),
            };
        }
        if round >= WARM_UP {
            samples.push(response.elapsed);
        }
        if started.elapsed() > CASE_BUDGET && samples.len() >= 5 {
            break;
        }
    }
    let note = if samples.len() < requests {
        format!("stopped after {}s", CASE_BUDGET.as_secs())
    } else {
        String::new()
    };
    Row {
        label: label.to_owned(),
        outcome: Ok(stats(samples)),
        note,
    }
}

fn total_results(body: &Value, expected: i64) -> Result<(), String> {
    match body["totalResults"].as_i64() {
        Some(total) if total == expected => Ok(()),
        other => Err(format!("totalResults {other:?}, expected {expected}")),
    }
}

fn first_resource<'v>(body: &'v Value, attribute: &str) -> Option<&'v str> {
    body["Resources"][0][attribute].as_str()
}

/// A lookup that must answer user `n` alone.
fn user_lookup(path: &str, filter: String, n: i64) -> Probe {
    Probe {
        path: path.to_owned(),
        query: vec![("filter".to_owned(), filter)],
        check: Box::new(move |body| {
            total_results(body, 1)?;
            match first_resource(body, "userName") {
                Some(found) if found == user_name(n) => Ok(()),
                other => Err(format!("userName {other:?}, expected {}", user_name(n))),
            }
        }),
    }
}

fn group_lookup(filter: String, g: i64, exclude_members: bool) -> Probe {
    let mut query = vec![("filter".to_owned(), filter)];
    if exclude_members {
        query.push(("excludedAttributes".to_owned(), "members".to_owned()));
    }
    Probe {
        path: "/scim/v2/Groups".to_owned(),
        query,
        check: Box::new(move |body| {
            total_results(body, 1)?;
            match first_resource(body, "displayName") {
                Some(found) if found == group_name(g) => {}
                other => return Err(format!("displayName {other:?}, expected {}", group_name(g))),
            }
            if exclude_members && !body["Resources"][0]["members"].is_null() {
                return Err("members returned despite excludedAttributes=members".to_owned());
            }
            Ok(())
        }),
    }
}

/// Checks a page of 100 users that must start with user `first`.
fn page_check(total: i64, first: i64) -> Check {
    Box::new(move |body| {
        total_results(body, total)?;
        let count = body["Resources"].as_array().map_or(0, Vec::len);
        if i64::try_from(count).unwrap_or(0) != PAGE_SIZE.min(total - first + 1) {
            return Err(format!("{count} resources on the page"));
        }
        match first_resource(body, "userName") {
            Some(found) if found == user_name(first) => Ok(()),
            other => Err(format!(
                "page starts with {other:?}, expected {}",
                user_name(first)
            )),
        }
    })
}

/// RFC 9865 cursor paging: walks from the first page, following `nextCursor`, to the target
/// page; times that page and the last 100 pages.
async fn cursor_walk(bench: &Bench, settings: &Settings) -> Vec<Row> {
    let target = settings.target_page();
    let label = format!("Users `count=100&cursor=…`, page {target} (RFC 9865)");
    let average_label = format!("Users cursor pages {}–{target}, mean", (target - 99).max(1));
    let fail = |error: String| {
        vec![Row {
            label: label.clone(),
            outcome: Err(error),
            note: String::new(),
        }]
    };
    let mut cursor = String::new();
    let mut last: Vec<Duration> = Vec::new();
    let mut response = None;
    for page in 1..=target {
        let count = PAGE_SIZE.to_string();
        let request = bench.request("/scim/v2/Users", &[("count", &count), ("cursor", &cursor)]);
        let answer = bench.time(request).await;
        if answer.status != reqwest::StatusCode::OK {
            return fail(format!("page {page}: {}", unexpected(&answer)));
        }
        if page > target - 100 {
            last.push(answer.elapsed);
        }
        if page % 1000 == 0 {
            eprint!("\r  cursor page {page}/{target}");
        }
        if page < target {
            match answer["nextCursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = next.to_owned(),
                _ => {
                    return fail(format!(
                        "page {page}: HTTP 200 without nextCursor (cursor paging not supported)"
                    ));
                }
            }
        }
        response = Some(answer);
    }
    let answer = response.expect("at least one page");
    let first = (target - 1) * PAGE_SIZE + 1;
    if let Err(error) = page_check(settings.users, first)(&answer.body) {
        return fail(format!("FAIL: {error}"));
    }
    let mean = last.iter().sum::<Duration>() / u32::try_from(last.len()).unwrap();
    vec![
        Row {
            label,
            outcome: Ok(Stats {
                samples: 1,
                median: answer.elapsed,
                p95: answer.elapsed,
            }),
            note: "one walk; the target page's own time".to_owned(),
        },
        Row {
            label: average_label,
            outcome: Ok(Stats {
                samples: last.len(),
                median: mean,
                p95: stats(last).p95,
            }),
            note: "mean in the median column".to_owned(),
        },
    ]
}

pub(crate) async fn measure(bench: &Bench, settings: &Settings) -> Vec<Row> {
    let mut rng = StdRng::seed_from_u64(0x5c1d);
    let users = settings.users;
    let n = settings.requests;
    let mut rows = Vec::new();
    print_header();
    let mut random_user = move || rng.random_range(1..=users);
    let user_filters: [fn(i64) -> String; 3] = [
        |u| format!("userName eq \"{}\"", user_name(u)),
        |u| format!("externalId eq \"{}\"", external_id(u)),
        |u| format!("emails[type eq \"work\"].value eq \"{}\"", user_name(u)),
    ];
    for filter in user_filters {
        let label = format!("Users `{}` (random user each)", filter(users / 2));
        let case = run_case(bench, &label, n, || {
            let u = random_user();
            user_lookup("/scim/v2/Users", filter(u), u)
        });
        report(&mut rows, case.await);
    }
    let mut rng = StdRng::seed_from_u64(0x9e0);
    let groups = settings.groups;
    report(
        &mut rows,
        run_case(
            bench,
            &format!(
                "Groups `displayName eq \"{}\"` (random group each)",
                group_name(groups / 2)
            ),
            n,
            || {
                let g = rng.random_range(2..=groups);
                group_lookup(format!("displayName eq \"{}\"", group_name(g)), g, false)
            },
        )
        .await,
    );
    report(
        &mut rows,
        run_case(
            bench,
            &format!(
                "Groups `displayName eq \"big\"&excludedAttributes=members` ({} members)",
                settings.big_group
            ),
            n,
            || group_lookup("displayName eq \"big\"".to_owned(), 1, true),
        )
        .await,
    );
    let target = settings.target_page();
    let start_index = (target - 1) * PAGE_SIZE + 1;
    report(
        &mut rows,
        run_case(
            bench,
            &format!("Users `startIndex={start_index}&count=100` (page {target})"),
            n,
            || Probe {
                path: "/scim/v2/Users".to_owned(),
                query: vec![
                    ("startIndex".to_owned(), start_index.to_string()),
                    ("count".to_owned(), PAGE_SIZE.to_string()),
                ],
                check: page_check(users, start_index),
            },
        )
        .await,
    );
    for row in cursor_walk(bench, settings).await {
        report(&mut rows, row);
    }
    let mut rng = StdRng::seed_from_u64(0x1d);
    report(
        &mut rows,
        run_case(bench, "`GET /Users/{id}` (random user each)", n, || {
            let u = rng.random_range(1..=users);
            Probe {
                path: format!("/scim/v2/Users/{}", user_id(u)),
                query: Vec::new(),
                check: Box::new(move |body| match body["userName"].as_str() {
                    Some(found) if found == user_name(u) => Ok(()),
                    other => Err(format!("userName {other:?}, expected {}", user_name(u))),
                }),
            }
        })
        .await,
    );
    for row in membership_patches(bench, settings).await {
        report(&mut rows, row);
    }
    rows
}

/// Issue 5 targets: PATCH adding one member to "big", and 256 members in one request, each
/// a 204 for users not yet in it; the members added are removed again afterwards, so the
/// seed stays as it was for the next run.
async fn membership_patches(bench: &Bench, settings: &Settings) -> Vec<Row> {
    let path = format!("/scim/v2/Groups/{}", user_group_id(1));
    let add = |ids: &[i64]| {
        let members: Vec<Value> = ids.iter().map(|n| json!({"value": user_id(*n)})).collect();
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "add", "path": "members", "value": members}]})
    };
    // Users above the big group's range are not members of it.
    let mut next = settings.big_group + 1;
    let mut added: Vec<i64> = Vec::new();
    let mut rows = Vec::new();
    let cases: [(usize, usize, &str); 2] = [
        (1, settings.requests.min(200), "PATCH \"big\": add 1 member"),
        (256, 20, "PATCH \"big\": add 256 members in one request"),
    ];
    for (batch, requests, label) in cases {
        let mut samples = Vec::new();
        let mut failure = None;
        for _ in 0..requests + WARM_UP {
            if next + i64::try_from(batch).unwrap_or(0) > settings.users {
                break;
            }
            let ids: Vec<i64> = (next..next + i64::try_from(batch).unwrap_or(0)).collect();
            next += i64::try_from(batch).unwrap_or(0);
            match bench.patch(&path, &add(&ids)).await {
                Ok(elapsed) => samples.push(elapsed),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
            added.extend(ids);
        }
        let samples: Vec<Duration> = samples.into_iter().skip(WARM_UP).collect();
        rows.push(Row {
            label: label.to_owned(),
            outcome: match failure {
                Some(error) => Err(error),
                None if samples.is_empty() => Err("not enough users outside \"big\"".to_owned()),
                None => Ok(stats(samples)),
            },
            note: String::new(),
        });
    }
    for chunk in added.chunks(1000) {
        let removal = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": "members",
                            "value": chunk.iter().map(|n| json!({"value": user_id(*n)})).collect::<Vec<_>>()}]});
        if let Err(error) = bench.patch(&path, &removal).await {
            println!("could not remove the members the PATCH cases added: {error}");
        }
    }
    rows
}

fn print_header() {
    println!("| # | Request | n | median ms | p95 ms | Note |");
    println!("|---|---|---:|---:|---:|---|");
}

/// Prints a row as soon as it is measured (long runs show progress) and keeps it.
fn report(rows: &mut Vec<Row>, row: Row) {
    let index = rows.len() + 1;
    match &row.outcome {
        Ok(stats) => println!(
            "| {index} | {} | {} | {} | {} | {} |",
            row.label,
            stats.samples,
            ms(stats.median),
            ms(stats.p95),
            row.note
        ),
        Err(error) => println!(
            "| {index} | {} | – | – | – | {} |",
            row.label,
            error.replace('|', "\\|")
        ),
    }
    rows.push(row);
}
