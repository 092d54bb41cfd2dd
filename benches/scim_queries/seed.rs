//! The seeded data: what the app itself writes for these users and groups, written straight
//! in SQL, and the check that it still is what the server writes.

use std::process::Command;

use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};

use scimd::store::{BackendKind, DbConn};

use crate::cases::Bench;
use crate::{ORG, Settings};

/// Rows generated per statement (and transaction) while seeding.
const SEED_BATCH: i64 = 100_000;

pub(crate) fn user_name(n: i64) -> String {
    format!("user{n:06}@bench.example")
}

pub(crate) fn external_id(n: i64) -> String {
    format!("ext-{n:06}")
}

pub(crate) fn group_name(g: i64) -> String {
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

pub(crate) fn user_id(n: i64) -> String {
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
pub(crate) fn scimd(url: &str, args: &[&str]) -> Result<String, String> {
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
pub(crate) fn ensure_org(url: &str, conn: &mut DbConn) -> String {
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
pub(crate) fn seed(conn: &mut DbConn, org: &str, settings: &Settings) -> bool {
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

pub(crate) fn user_group_id(g: i64) -> String {
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
pub(crate) async fn check_seed_shape(
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
pub(crate) fn remove_probes(conn: &mut DbConn, org: &str, settings: &Settings) {
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
