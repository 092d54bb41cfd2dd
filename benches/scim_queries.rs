//! Issue 4 performance targets, measured end to end: seeds an organization of 1,000,000 users
//! and 10,000 groups (one, "big", with 100,000 members) straight in SQL, starts the real server
//! on loopback and times the queries IdPs send, over HTTP. Prints Markdown tables.
//!
//! `cargo bench --bench scim_queries`; see the README section "Benchmarks" for the knobs.
// A benchmark reports by failing loudly, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/database.rs"]
mod database;

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use scimd::config::Config;
use scimd::startup::Application;
use scimd::store::{BackendKind, DatabaseUrl, DbConn};

const ORG: &str = "bench";
/// Members of every group but "big".
const SMALL_GROUP_MEMBERS: i64 = 5;
/// Rows generated per statement (and transaction) while seeding.
const SEED_BATCH: i64 = 100_000;
const PAGE_SIZE: i64 = 100;
const TARGET_PAGE: i64 = 10_000;
const WARM_UP: usize = 10;
/// A case stops early once it has run this long, so a slow query cannot stall the run.
const CASE_BUDGET: Duration = Duration::from_secs(60);

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
            requests: usize::try_from(env_number("BENCH_REQUESTS", 200)).unwrap(),
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

    fn small_group_members(&self) -> i64 {
        SMALL_GROUP_MEMBERS.min(self.users)
    }

    fn memberships(&self) -> i64 {
        self.big_group + (self.groups - 1) * self.small_group_members()
    }

    /// Page 10,000 of 100 users, or the last full page of a smaller organization.
    fn target_page(&self) -> i64 {
        TARGET_PAGE.min(self.users / PAGE_SIZE).max(1)
    }
}

fn env_number(name: &str, default: i64) -> i64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}

// ---------------------------------------------------------------------------------------------
// The seeded data: what the app itself writes for these users and groups.

fn user_name(n: i64) -> String {
    format!("user{n:06}@bench.example")
}

fn external_id(n: i64) -> String {
    format!("ext-{n:06}")
}

fn group_name(g: i64) -> String {
    if g == 1 {
        "big".to_owned()
    } else {
        format!("group{g:05}")
    }
}

/// The POST body of user `n`; the SQL in [`user_columns`] must store exactly what the server
/// stores for it, which [`check_seed_shape`] verifies on every run.
fn user_body(n: i64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name(n),
        "externalId": external_id(n),
        "name": {"givenName": format!("Given{n}"), "familyName": format!("Family{n}")},
        "displayName": format!("User {n}"),
        "emails": [{"value": user_name(n), "type": "work", "primary": true}],
        "active": true,
    })
}

fn group_body(g: i64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": group_name(g),
    })
}

/// Backend-specific spellings of the expressions the seed needs.
#[derive(Clone, Copy)]
struct Dialect(BackendKind);

impl Dialect {
    /// Lowercase UUID `<kind>-0000-4000-8000-<n as 12 hex digits>`; kind tells users (1) from
    /// groups (2).
    fn uuid(self, kind: u32, n: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("printf('{kind:08x}-0000-4000-8000-%012x', {n})"),
            BackendKind::Postgres => {
                format!("'{kind:08x}-0000-4000-8000-' || lpad(to_hex({n}), 12, '0')")
            }
        }
    }

    /// `n` in decimal, zero-padded to `width` digits (never truncated).
    fn padded(self, n: &str, width: usize) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("printf('%0{width}d', {n})"),
            BackendKind::Postgres => format!(
                "CASE WHEN length(({n})::text) >= {width} THEN ({n})::text \
                 ELSE lpad(({n})::text, {width}, '0') END"
            ),
        }
    }

    fn text(self, n: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("CAST({n} AS TEXT)"),
            BackendKind::Postgres => format!("({n})::text"),
        }
    }

    /// 2025-01-01 plus `seconds`, as diesel writes a whole-second timestamp.
    fn timestamp(self, seconds: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!(
                "strftime('%Y-%m-%d %H:%M:%S', '2025-01-01 00:00:00', '+' || ({seconds}) || ' seconds')"
            ),
            BackendKind::Postgres => {
                format!("TIMESTAMP '2025-01-01 00:00:00' + ({seconds}) * INTERVAL '1 second'")
            }
        }
    }

    fn truth(self) -> &'static str {
        match self.0 {
            BackendKind::Sqlite => "1",
            BackendKind::Postgres => "TRUE",
        }
    }

    /// `SELECT columns` once for each `n` in `from..=to`.
    fn rows(self, from: i64, to: i64, columns: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!(
                "WITH RECURSIVE seq(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM seq WHERE n < {to}) \
                 SELECT {columns} FROM seq"
            ),
            BackendKind::Postgres => {
                format!("SELECT {columns} FROM generate_series({from}, {to}) AS seq(n)")
            }
        }
    }

    /// The org id placeholder (bound once, used in every row).
    fn org(self) -> &'static str {
        match self.0 {
            BackendKind::Sqlite => "?1",
            BackendKind::Postgres => "$1",
        }
    }
}

const USER_INSERT: &str = "INSERT INTO users (id, org_id, user_name, user_name_lower, \
    external_id, display_name, display_name_lower, active, resource, password_hash, version, \
    created_at, last_modified) ";
const EMAIL_INSERT: &str =
    "INSERT INTO user_emails (user_id, position, org_id, value_lower, type_lower) ";
const GROUP_INSERT: &str = "INSERT INTO groups (id, org_id, display_name, display_name_lower, \
    external_id, resource, version, created_at, last_modified) ";
const MEMBER_INSERT: &str = "INSERT INTO group_members (group_id, member_id, org_id, member_type) ";

/// The `users` columns of user `n`, in [`USER_INSERT`] order.
fn user_columns(d: Dialect) -> String {
    let p = d.padded("n", 6);
    let t = d.text("n");
    let name = format!("'user' || {p} || '@bench.example'");
    let resource = format!(
        "'{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"externalId\":\"ext-' || {p} || \
         '\",\"userName\":\"user' || {p} || '@bench.example\",\"name\":{{\"familyName\":\"Family' || {t} || \
         '\",\"givenName\":\"Given' || {t} || '\"}},\"displayName\":\"User ' || {t} || \
         '\",\"active\":true,\"emails\":[{{\"value\":\"user' || {p} || \
         '@bench.example\",\"type\":\"work\",\"primary\":true}}]}}'"
    );
    format!(
        "{id} AS id, {org} AS org_id, {name} AS user_name, {name} AS user_name_lower, \
         'ext-' || {p} AS external_id, 'User ' || {t} AS display_name, \
         'user ' || {t} AS display_name_lower, {truth} AS active, {resource} AS resource, \
         NULL AS password_hash, CAST(1 AS BIGINT) AS version, {at} AS created_at, \
         {at} AS last_modified",
        id = d.uuid(1, "n"),
        org = d.org(),
        truth = d.truth(),
        at = d.timestamp("n"),
    )
}

fn email_columns(d: Dialect) -> String {
    format!(
        "{id} AS user_id, 0 AS position, {org} AS org_id, \
         'user' || {p} || '@bench.example' AS value_lower, 'work' AS type_lower",
        id = d.uuid(1, "n"),
        org = d.org(),
        p = d.padded("n", 6),
    )
}

fn group_columns(d: Dialect) -> String {
    let name = format!(
        "CASE WHEN n = 1 THEN 'big' ELSE 'group' || {} END",
        d.padded("n", 5)
    );
    format!(
        "{id} AS id, {org} AS org_id, {name} AS display_name, {name} AS display_name_lower, \
         NULL AS external_id, \
         '{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"' || {name} || '\"}}' AS resource, \
         CAST(1 AS BIGINT) AS version, {at} AS created_at, {at} AS last_modified",
        id = d.uuid(2, "n"),
        org = d.org(),
        at = d.timestamp("n"),
    )
}

/// Memberships numbered `n`: 1..=big are the big group's (users 1..=big); after that, group
/// `2 + m / k` gets user `(m mod users) + 1` for m = 0, 1, 2, ….
fn member_columns(d: Dialect, settings: &Settings) -> String {
    let (big, k, users) = (
        settings.big_group,
        settings.small_group_members(),
        settings.users,
    );
    let group = format!("CASE WHEN n <= {big} THEN 1 ELSE 2 + (n - {big} - 1) / {k} END");
    let user = format!("CASE WHEN n <= {big} THEN n ELSE ((n - {big} - 1) % {users}) + 1 END");
    format!(
        "{group_id} AS group_id, {user_id} AS member_id, {org} AS org_id, 'User' AS member_type",
        group_id = d.uuid(2, &group),
        user_id = d.uuid(1, &user),
        org = d.org(),
    )
}

fn user_id(n: i64) -> String {
    format!("00000001-0000-4000-8000-{n:012x}")
}

fn execute(conn: &mut DbConn, sql: &str, org: &str) -> usize {
    let result = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).execute(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).execute(c),
    };
    result.unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
}

fn batch(conn: &mut DbConn, sql: &str) {
    diesel::connection::SimpleConnection::batch_execute(conn, sql)
        .unwrap_or_else(|e| panic!("{e}\n in: {sql}"));
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct OrgRow {
    #[diesel(sql_type = Text)]
    id: String,
}

fn count(conn: &mut DbConn, sql: &str, org: &str) -> i64 {
    let rows: Vec<Count> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
    }
    .unwrap_or_else(|e| panic!("{e}\n in: {sql}"));
    rows.first().map_or(0, |row| row.count)
}

/// Runs a `scimd` subcommand against the bench database and answers its stdout.
fn scimd(url: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("SCIMD_DATA_DIR")
        .output()
        .map_err(|e| format!("cannot run scimd: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

fn org_id(conn: &mut DbConn) -> Option<String> {
    let sql = match conn.backend() {
        BackendKind::Sqlite => "SELECT id FROM organizations WHERE name = ?1",
        BackendKind::Postgres => "SELECT id FROM organizations WHERE name = $1",
    };
    let rows: Vec<OrgRow> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(ORG).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(ORG).load(c),
    }
    .expect("look up the bench organization");
    rows.into_iter().next().map(|row| row.id)
}

/// Migrates with the CLI and creates the organization `bench` with it unless it exists;
/// answers the organization's id.
fn ensure_org(url: &str, conn: &mut DbConn) -> String {
    scimd(url, &["migrate"]).unwrap_or_else(|e| panic!("scimd migrate failed: {e}"));
    if let Some(id) = org_id(conn) {
        return id;
    }
    scimd(url, &["org", "create", ORG])
        .unwrap_or_else(|e| panic!("scimd org create {ORG} failed: {e}"));
    org_id(conn).expect("the organization scimd just created")
}

/// Seeds the organization unless it already holds exactly the requested data; answers
/// whether it seeded.
fn seed(conn: &mut DbConn, org: &str, settings: &Settings) -> bool {
    let d = Dialect(conn.backend());
    let p = d.org();
    let big_id = user_group_id(1);
    let present = (
        count(
            conn,
            &format!("SELECT COUNT(*) AS count FROM users WHERE org_id = {p}"),
            org,
        ),
        count(
            conn,
            &format!("SELECT COUNT(*) AS count FROM groups WHERE org_id = {p}"),
            org,
        ),
        count(
            conn,
            &format!("SELECT COUNT(*) AS count FROM group_members WHERE org_id = {p}"),
            org,
        ),
        count(
            conn,
            &format!(
                "SELECT COUNT(*) AS count FROM group_members WHERE org_id = {p} AND group_id = '{big_id}'"
            ),
            org,
        ),
    );
    if present
        == (
            settings.users,
            settings.groups,
            settings.memberships(),
            settings.big_group,
        )
    {
        return false;
    }
    if present != (0, 0, 0, 0) {
        println!(
            "The database holds another '{ORG}' organization ({} users, {} groups, {} memberships); replacing it.",
            present.0, present.1, present.2
        );
        for table in ["group_members", "user_emails", "users", "groups"] {
            execute(
                conn,
                &format!("DELETE FROM {table} WHERE org_id = {p}"),
                org,
            );
        }
    }
    if d.0 == BackendKind::Sqlite {
        // A large page cache keeps the five indexes of `users` in memory while they grow.
        batch(conn, "PRAGMA cache_size = -262144");
    }
    let batches = |total: i64| {
        (0..(total + SEED_BATCH - 1) / SEED_BATCH)
            .map(move |i| (i * SEED_BATCH + 1, ((i + 1) * SEED_BATCH).min(total)))
    };
    for (from, to) in batches(settings.users) {
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            execute(
                conn,
                &format!("{USER_INSERT}{}", d.rows(from, to, &user_columns(d))),
                org,
            );
            execute(
                conn,
                &format!("{EMAIL_INSERT}{}", d.rows(from, to, &email_columns(d))),
                org,
            );
            Ok(())
        })
        .unwrap();
        eprint!("\r  users {to}/{}", settings.users);
    }
    eprintln!();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        execute(
            conn,
            &format!(
                "{GROUP_INSERT}{}",
                d.rows(1, settings.groups, &group_columns(d))
            ),
            org,
        );
        for (from, to) in batches(settings.memberships()) {
            execute(
                conn,
                &format!(
                    "{MEMBER_INSERT}{}",
                    d.rows(from, to, &member_columns(d, settings))
                ),
                org,
            );
        }
        Ok(())
    })
    .unwrap();
    match d.0 {
        BackendKind::Sqlite => batch(conn, "PRAGMA wal_checkpoint(TRUNCATE)"),
        // What autovacuum does shortly after a bulk load; without it the planner knows
        // nothing of the new rows and index-only scans see no visibility map.
        BackendKind::Postgres => batch(conn, "VACUUM ANALYZE"),
    }
    true
}

fn user_group_id(g: i64) -> String {
    format!("00000002-0000-4000-8000-{g:012x}")
}

// ---------------------------------------------------------------------------------------------
// The seed's rows compared with the rows the server writes for the same request.

#[derive(QueryableByName, Debug, PartialEq)]
struct UserShape {
    #[diesel(sql_type = Text)]
    user_name: String,
    #[diesel(sql_type = Text)]
    user_name_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name_lower: Option<String>,
    #[diesel(sql_type = Bool)]
    active: bool,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct EmailShape {
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = Text)]
    value_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    type_lower: Option<String>,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct GroupShape {
    #[diesel(sql_type = Text)]
    display_name: String,
    #[diesel(sql_type = Text)]
    display_name_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

fn load<T>(conn: &mut DbConn, sql: &str, org: &str) -> Vec<T>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
    }
    .unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
}

const USER_SHAPE: &str = "user_name, user_name_lower, external_id, display_name, \
    display_name_lower, active, resource, password_hash, version";
const GROUP_SHAPE: &str = "display_name, display_name_lower, external_id, resource, version";

/// POSTs user `users + 1` and group `groups + 1` through the server, compares the rows it
/// wrote with the seed's SQL for the same numbers, and deletes them again.
async fn check_seed_shape(
    bench: &Bench,
    conn: &mut DbConn,
    org: &str,
    settings: &Settings,
) -> Result<(), String> {
    let d = Dialect(conn.backend());
    let p = d.org();
    let n = settings.users + 1;
    let created = bench.post("/scim/v2/Users", &user_body(n)).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let stored: Vec<UserShape> = load(
        conn,
        &format!("SELECT {USER_SHAPE} FROM users WHERE org_id = {p} AND id = '{id}'"),
        org,
    );
    let seeded: Vec<UserShape> = load(
        conn,
        &format!(
            "SELECT {USER_SHAPE} FROM ({}) AS seeded",
            d.rows(n, n, &user_columns(d))
        ),
        org,
    );
    let stored_emails: Vec<EmailShape> = load(
        conn,
        &format!(
            "SELECT position, value_lower, type_lower FROM user_emails WHERE org_id = {p} AND user_id = '{id}'"
        ),
        org,
    );
    let seeded_emails: Vec<EmailShape> = load(
        conn,
        &format!(
            "SELECT position, value_lower, type_lower FROM ({}) AS seeded",
            d.rows(n, n, &email_columns(d))
        ),
        org,
    );
    bench.delete(&format!("/scim/v2/Users/{id}")).await?;
    if stored != seeded {
        return Err(format!(
            "users row differs:\n server: {stored:?}\n seed:   {seeded:?}"
        ));
    }
    if stored_emails != seeded_emails {
        return Err(format!(
            "user_emails rows differ:\n server: {stored_emails:?}\n seed:   {seeded_emails:?}"
        ));
    }

    let g = settings.groups + 1;
    let created = bench.post("/scim/v2/Groups", &group_body(g)).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let stored: Vec<GroupShape> = load(
        conn,
        &format!("SELECT {GROUP_SHAPE} FROM groups WHERE org_id = {p} AND id = '{id}'"),
        org,
    );
    let seeded: Vec<GroupShape> = load(
        conn,
        &format!(
            "SELECT {GROUP_SHAPE} FROM ({}) AS seeded",
            d.rows(g, g, &group_columns(d))
        ),
        org,
    );
    bench.delete(&format!("/scim/v2/Groups/{id}")).await?;
    if stored != seeded {
        return Err(format!(
            "groups row differs:\n server: {stored:?}\n seed:   {seeded:?}"
        ));
    }
    Ok(())
}

/// Removes what an interrupted shape check may have left behind.
fn remove_probes(conn: &mut DbConn, org: &str, settings: &Settings) {
    let p = Dialect(conn.backend()).org();
    let probe_user = user_name(settings.users + 1);
    let probe_group = group_name(settings.groups + 1);
    for sql in [
        format!(
            "DELETE FROM group_members WHERE org_id = {p} AND member_id IN \
             (SELECT id FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}')"
        ),
        format!(
            "DELETE FROM user_emails WHERE org_id = {p} AND user_id IN \
             (SELECT id FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}')"
        ),
        format!("DELETE FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}'"),
        format!("DELETE FROM groups WHERE org_id = {p} AND display_name_lower = '{probe_group}'"),
    ] {
        execute(conn, &sql, org);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP measurements.

struct Bench {
    base_url: String,
    token: String,
    client: reqwest::Client,
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

    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
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

    async fn delete(&self, path: &str) -> Result<(), String> {
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
struct Row {
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

async fn measure(bench: &Bench, settings: &Settings) -> Vec<Row> {
    let mut rng = StdRng::seed_from_u64(0x5c1d);
    let users = settings.users;
    let n = settings.requests;
    let mut rows = Vec::new();
    print_header();
    let mut random_user = move || rng.random_range(1..=users);
    let lookup_user = user_name(users / 2);
    report(
        &mut rows,
        run_case(
            bench,
            &format!("Users `userName eq \"{lookup_user}\"` (random user each)"),
            n,
            || {
                let u = random_user();
                user_lookup(
                    "/scim/v2/Users",
                    format!("userName eq \"{}\"", user_name(u)),
                    u,
                )
            },
        )
        .await,
    );
    report(
        &mut rows,
        run_case(
            bench,
            &format!(
                "Users `externalId eq \"{}\"` (random user each)",
                external_id(users / 2)
            ),
            n,
            || {
                let u = random_user();
                user_lookup(
                    "/scim/v2/Users",
                    format!("externalId eq \"{}\"", external_id(u)),
                    u,
                )
            },
        )
        .await,
    );
    report(
        &mut rows,
        run_case(
            bench,
            &format!(
                "Users `emails[type eq \"work\"].value eq \"{lookup_user}\"` (random user each)"
            ),
            n,
            || {
                let u = random_user();
                user_lookup(
                    "/scim/v2/Users",
                    format!("emails[type eq \"work\"].value eq \"{}\"", user_name(u)),
                    u,
                )
            },
        )
        .await,
    );
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

// ---------------------------------------------------------------------------------------------
// Query plans of the SQL the store issues for each case.

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    plan: String,
}

/// Turns each `'…'` literal of `sql` into a bound parameter, as diesel sends values, so the
/// plan is the one the server's prepared statements get (SQLite plans literals better).
/// `'…'::timestamp` stays a timestamp on PostgreSQL.
fn parameterize(sql: &str, backend: BackendKind) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sql.len());
    let mut values = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find('\'') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('\'').expect("closed literal");
        values.push(after[..end].to_owned());
        rest = &after[end + 1..];
        let timestamp = rest.starts_with("::timestamp");
        if timestamp {
            rest = &rest["::timestamp".len()..];
        }
        match (backend, timestamp) {
            (BackendKind::Sqlite, _) => out.push('?'),
            (BackendKind::Postgres, false) => out.push_str(&format!("${}", values.len())),
            (BackendKind::Postgres, true) => out.push_str(&format!("${}::timestamp", values.len())),
        }
    }
    out.push_str(rest);
    (out, values)
}

fn plan(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let (sql, values) = parameterize(sql, conn.backend());
    match conn {
        DbConn::Sqlite(c) => {
            let mut query = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).into_boxed();
            for value in values {
                query = query.bind::<Text, _>(value);
            }
            query
                .load::<SqlitePlan>(c)
                .unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
                .into_iter()
                .map(|row| row.detail)
                .collect()
        }
        DbConn::Postgres(c) => {
            let mut query = diesel::sql_query(format!("EXPLAIN {sql}")).into_boxed();
            for value in values {
                query = query.bind::<Text, _>(value);
            }
            query
                .load::<PgPlan>(c)
                .unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
                .into_iter()
                .map(|row| row.plan.trim().to_owned())
                .collect()
        }
    }
}

/// How the plan reaches the rows: by index lookup, by walking all of the organization's
/// entries of an index (only `org_id` bound), by walking a whole index, or by scanning the table.
fn verdict(lines: &[String]) -> &'static str {
    let any = |test: &dyn Fn(&str) -> bool| lines.iter().any(|line| test(line));
    if any(&|line| {
        (line.starts_with("SCAN ") && !line.contains(" USING ")) || line.contains("Seq Scan")
    }) {
        "NO: table scan"
    } else if any(&|line| line.starts_with("SCAN ") && line.contains("USING")) {
        "partly: walks a whole index"
    } else if any(&|line| line.contains("(org_id=?)"))
        || (any(&|line| line.starts_with("Index Cond: (org_id = ") && !line.contains(" AND "))
            && any(&|line| line.starts_with("Filter:")))
    {
        "partly: only org_id bound, walks the organization"
    } else if any(&|line| {
        [
            "USING INDEX",
            "USING COVERING INDEX",
            "USING PRIMARY KEY",
            "Index Scan",
            "Index Only Scan",
            "Bitmap",
        ]
        .iter()
        .any(|word| line.contains(word))
    }) {
        "yes"
    } else {
        "no index"
    }
}

fn explain(conn: &mut DbConn, org: &str, settings: &Settings) {
    let u = settings.users / 2;
    let name = user_name(u);
    let ext = external_id(u);
    let group = group_name(settings.groups / 2);
    let id = user_id(u);
    let big = user_group_id(1);
    let columns = "id, resource, version, created_at, last_modified";
    let offset = (settings.target_page() - 1) * PAGE_SIZE;
    let boundary = format!(
        "'{}'::timestamp",
        chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|start| start + chrono::TimeDelta::seconds(offset))
            .expect("a valid time")
            .format("%Y-%m-%d %H:%M:%S")
    );
    let queries: Vec<(&str, String)> = vec![
        (
            "1 userName eq: count",
            format!(
                "SELECT COUNT(*) FROM users WHERE org_id = '{org}' AND user_name_lower = '{name}'"
            ),
        ),
        (
            "1 userName eq: page",
            format!(
                "SELECT {columns} FROM users WHERE org_id = '{org}' AND user_name_lower = '{name}' \
                 ORDER BY created_at, id LIMIT 100 OFFSET 0"
            ),
        ),
        (
            "2 externalId eq: count",
            format!(
                "SELECT COUNT(*) FROM users WHERE org_id = '{org}' \
                 AND (external_id IS NOT NULL AND external_id = '{ext}')"
            ),
        ),
        (
            "2 externalId eq: page",
            format!(
                "SELECT {columns} FROM users WHERE org_id = '{org}' \
                 AND (external_id IS NOT NULL AND external_id = '{ext}') \
                 ORDER BY created_at, id LIMIT 100 OFFSET 0"
            ),
        ),
        (
            "3 emails[type eq work].value eq: e-mail lookup",
            format!(
                "SELECT DISTINCT user_id FROM user_emails WHERE org_id = '{org}' \
                 AND ((type_lower IS NOT NULL AND type_lower = 'work') AND value_lower = '{name}') \
                 LIMIT 10001"
            ),
        ),
        (
            "3 emails[…]: users by id",
            format!(
                "SELECT {columns} FROM users WHERE org_id = '{org}' AND id IN ('{id}') \
                 ORDER BY created_at, id LIMIT 100 OFFSET 0"
            ),
        ),
        (
            "4 Groups displayName eq: page",
            format!(
                "SELECT {columns} FROM groups WHERE org_id = '{org}' \
                 AND display_name_lower = '{group}' ORDER BY created_at, id LIMIT 100 OFFSET 0"
            ),
        ),
        (
            "4 members of the found group (5 skips it)",
            format!(
                "SELECT group_id, member_id, member_type FROM group_members \
                 WHERE group_id IN ('{big}') ORDER BY group_id, member_id"
            ),
        ),
        (
            "6 list: total count",
            format!("SELECT COUNT(*) FROM users WHERE org_id = '{org}'"),
        ),
        (
            "6 startIndex page: OFFSET",
            format!(
                "SELECT {columns} FROM users WHERE org_id = '{org}' \
                 ORDER BY created_at, id LIMIT 100 OFFSET {offset}"
            ),
        ),
        (
            "6 cursor page: keyset, as the store writes it",
            format!(
                "SELECT {columns} FROM users WHERE org_id = '{org}' AND created_at >= {boundary} \
                 AND (created_at > {boundary} OR id > '{id}') \
                 ORDER BY created_at, id LIMIT 101"
            ),
        ),
        (
            "6/7 groups of the page's users",
            format!(
                "SELECT member_id, group_id FROM group_members \
                 WHERE org_id = '{org}' AND member_id IN ('{id}')"
            ),
        ),
        (
            "7 GET /Users/{id}",
            format!("SELECT {columns} FROM users WHERE org_id = '{org}' AND id = '{id}'"),
        ),
    ];
    println!("\n| Query (the store's SQL, values bound as parameters) | Index used | Plan |");
    println!("|---|---|---|");
    for (label, sql) in queries {
        let lines = plan(conn, &sql);
        println!(
            "| {label} | {} | {} |",
            verdict(&lines),
            lines.join("; ").replace('|', "\\|")
        );
    }
}

// ---------------------------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes `--bench` (and filters); this benchmark takes its settings from
    // the environment only.
    let settings = Settings::from_env();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let (url, _cluster) = database::database(&dir.join("scimd-bench.db"));
    let database_url = DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "# scimd query benchmark\n\n{database_url}: {} users, {} groups, \"big\" with {} members\n",
        settings.users, settings.groups, settings.big_group
    );
    let mut conn = database_url
        .establish()
        .unwrap_or_else(|e| panic!("cannot open {database_url}: {e}"));
    let org = ensure_org(&url, &mut conn);
    remove_probes(&mut conn, &org, &settings);
    let started = Instant::now();
    if seed(&mut conn, &org, &settings) {
        println!("Seeded in {:.1} s.\n", started.elapsed().as_secs_f64());
    } else {
        println!(
            "Already seeded (checked in {:.1} s); delete the database to seed again.\n",
            started.elapsed().as_secs_f64()
        );
    }
    let token = scimd(&url, &["token", "create", "--org", ORG, "--name", "bench"])
        .unwrap_or_else(|e| panic!("scimd token create failed: {e}"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut config = Config::new(database_url.clone());
        config.bind = "127.0.0.1:0".to_owned();
        let application = tokio::task::spawn_blocking(move || Application::build(config))
            .await
            .expect("build task")
            .expect("build application");
        let bench = Bench {
            base_url: application.base_url().to_owned(),
            token,
            client: reqwest::Client::new(),
        };
        let server = tokio::spawn(async move {
            let _ = application.run_until_stopped().await;
        });
        match check_seed_shape(&bench, &mut conn, &org, &settings).await {
            Ok(()) => println!(
                "Seed check: the rows the server writes for a POST of user {} and group {} equal the seed's.\n",
                settings.users + 1,
                settings.groups + 1
            ),
            Err(error) => println!("Seed check FAILED: {error}\n"),
        }
        let rows = measure(&bench, &settings).await;
        println!(
            "\n(n = timed requests after {WARM_UP} warm-up requests; BENCH_REQUESTS={}; {} cases)",
            settings.requests,
            rows.len()
        );
        server.abort();
    });
    explain(&mut conn, &org, &settings);
}
