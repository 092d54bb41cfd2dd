//! The seeded organization, written straight in SQL: exactly the rows the server itself writes
//! for these users and groups (`scim_queries` checks that on every run), fast enough for
//! 1,000,000 users. Users are numbered from 1; group 1 is "big" (users `1..=big_group`), and
//! every other group holds [`Sizes::small_group_members`] users, round robin.

use std::process::Command;

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use scimd::store::{BackendKind, DbConn};

/// Members of every group but "big".
const SMALL_GROUP_MEMBERS: i64 = 5;

/// How much to seed.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub users: i64,
    pub groups: i64,
    pub big_group: i64,
}

impl Sizes {
    pub fn small_group_members(&self) -> i64 {
        SMALL_GROUP_MEMBERS.min(self.users)
    }

    pub fn memberships(&self) -> i64 {
        self.big_group + (self.groups - 1) * self.small_group_members()
    }

    /// The groups user `n` is a direct member of, besides "big" (round robin, so user `n`
    /// gets membership numbers `n - 1`, `n - 1 + users`, …).
    pub fn small_groups_of(&self, n: i64) -> Vec<i64> {
        let k = self.small_group_members();
        let small = (self.groups - 1) * k;
        (0..)
            .map(|j| n - 1 + j * self.users)
            .take_while(|m| *m < small)
            .map(|m| 2 + m / k)
            .collect()
    }
}
/// Rows generated per statement (and transaction) while seeding.
const SEED_BATCH: i64 = 100_000;

pub fn user_name(n: i64) -> String {
    format!("user{n:06}@bench.example")
}

pub fn external_id(n: i64) -> String {
    format!("ext-{n:06}")
}

pub fn group_name(g: i64) -> String {
    if g == 1 {
        "big".to_owned()
    } else {
        format!("group{g:05}")
    }
}

/// Backend-specific spellings of the expressions the seed needs.
#[derive(Clone, Copy)]
pub struct Dialect(pub BackendKind);

impl Dialect {
    /// Lowercase UUID `<kind>-0000-4000-8000-<n as 12 hex digits>`; kind tells users (1) from
    /// groups (2).
    pub fn uuid(self, kind: u32, n: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("printf('{kind:08x}-0000-4000-8000-%012x', {n})"),
            BackendKind::Postgres => {
                format!("'{kind:08x}-0000-4000-8000-' || lpad(to_hex({n}), 12, '0')")
            }
        }
    }

    /// `n` in decimal, zero-padded to `width` digits (never truncated).
    pub fn padded(self, n: &str, width: usize) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("printf('%0{width}d', {n})"),
            BackendKind::Postgres => format!(
                "CASE WHEN length(({n})::text) >= {width} THEN ({n})::text \
                 ELSE lpad(({n})::text, {width}, '0') END"
            ),
        }
    }

    pub fn text(self, n: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("CAST({n} AS TEXT)"),
            BackendKind::Postgres => format!("({n})::text"),
        }
    }

    /// 2025-01-01 plus `seconds`, as diesel writes a whole-second timestamp.
    pub fn timestamp(self, seconds: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!(
                "strftime('%Y-%m-%d %H:%M:%S', '2025-01-01 00:00:00', '+' || ({seconds}) || ' seconds')"
            ),
            BackendKind::Postgres => {
                format!("TIMESTAMP '2025-01-01 00:00:00' + ({seconds}) * INTERVAL '1 second'")
            }
        }
    }

    /// `n` in lowercase hexadecimal, zero-padded to `width` digits.
    pub fn hex(self, n: &str, width: usize) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("printf('%0{width}x', {n})"),
            BackendKind::Postgres => format!("lpad(to_hex({n}), {width}, '0')"),
        }
    }

    pub fn truth(self) -> &'static str {
        match self.0 {
            BackendKind::Sqlite => "1",
            BackendKind::Postgres => "TRUE",
        }
    }

    /// `SELECT columns` once for each `n` in `from..=to`.
    pub fn rows(self, from: i64, to: i64, columns: &str) -> String {
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
    pub fn org(self) -> &'static str {
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
pub fn user_columns(d: Dialect) -> String {
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

pub fn email_columns(d: Dialect) -> String {
    format!(
        "{id} AS user_id, 0 AS position, {org} AS org_id, \
         'user' || {p} || '@bench.example' AS value_lower, 'work' AS type_lower",
        id = d.uuid(1, "n"),
        org = d.org(),
        p = d.padded("n", 6),
    )
}

pub fn group_columns(d: Dialect) -> String {
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
pub fn member_columns(d: Dialect, sizes: &Sizes) -> String {
    let (big, k, users) = (sizes.big_group, sizes.small_group_members(), sizes.users);
    let group = format!("CASE WHEN n <= {big} THEN 1 ELSE 2 + (n - {big} - 1) / {k} END");
    let user = format!("CASE WHEN n <= {big} THEN n ELSE ((n - {big} - 1) % {users}) + 1 END");
    format!(
        "{group_id} AS group_id, {user_id} AS member_id, {org} AS org_id, 'User' AS member_type",
        group_id = d.uuid(2, &group),
        user_id = d.uuid(1, &user),
        org = d.org(),
    )
}

pub fn user_id(n: i64) -> String {
    format!("00000001-0000-4000-8000-{n:012x}")
}

pub fn execute(conn: &mut DbConn, sql: &str, org: &str) -> usize {
    let result = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).execute(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).execute(c),
    };
    result.unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
}

pub fn batch(conn: &mut DbConn, sql: &str) {
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

pub fn count(conn: &mut DbConn, sql: &str, org: &str) -> i64 {
    let rows: Vec<Count> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
    }
    .unwrap_or_else(|e| panic!("{e}\n in: {sql}"));
    rows.first().map_or(0, |row| row.count)
}

/// Runs a `scimd` subcommand against the bench database and answers its stdout.
pub fn scimd(url: &str, args: &[&str]) -> Result<String, String> {
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

pub fn org_id(conn: &mut DbConn, name: &str) -> Option<String> {
    let sql = match conn.backend() {
        BackendKind::Sqlite => "SELECT id FROM organizations WHERE name = ?1",
        BackendKind::Postgres => "SELECT id FROM organizations WHERE name = $1",
    };
    let rows: Vec<OrgRow> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(name).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(name).load(c),
    }
    .expect("look up the bench organization");
    rows.into_iter().next().map(|row| row.id)
}

/// Migrates with the CLI and creates the organization `bench` with it unless it exists;
/// answers the organization's id.
pub fn ensure_org(url: &str, conn: &mut DbConn, name: &str) -> String {
    scimd(url, &["migrate"]).unwrap_or_else(|e| panic!("scimd migrate failed: {e}"));
    if let Some(id) = org_id(conn, name) {
        return id;
    }
    scimd(url, &["org", "create", name])
        .unwrap_or_else(|e| panic!("scimd org create {name} failed: {e}"));
    org_id(conn, name).expect("the organization scimd just created")
}

/// Seeds the organization unless it already holds exactly the requested data; answers
/// whether it seeded.
pub fn seed(conn: &mut DbConn, org: &str, sizes: &Sizes) -> bool {
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
            sizes.users,
            sizes.groups,
            sizes.memberships(),
            sizes.big_group,
        )
    {
        return false;
    }
    if present != (0, 0, 0, 0) {
        println!(
            "The database holds another version of this organization ({} users, {} groups, {} memberships); replacing it.",
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
    for (from, to) in batches(sizes.users) {
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
        eprint!("\r  users {to}/{}", sizes.users);
    }
    eprintln!();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        execute(
            conn,
            &format!(
                "{GROUP_INSERT}{}",
                d.rows(1, sizes.groups, &group_columns(d))
            ),
            org,
        );
        for (from, to) in batches(sizes.memberships()) {
            execute(
                conn,
                &format!(
                    "{MEMBER_INSERT}{}",
                    d.rows(from, to, &member_columns(d, sizes))
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

pub fn user_group_id(g: i64) -> String {
    format!("00000002-0000-4000-8000-{g:012x}")
}

pub fn load<T>(conn: &mut DbConn, sql: &str, org: &str) -> Vec<T>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
        DbConn::Postgres(c) => diesel::sql_query(sql).bind::<Text, _>(org).load(c),
    }
    .unwrap_or_else(|e| panic!("{e}\n in: {sql}"))
}

const TOKEN_INSERT: &str = "INSERT INTO api_tokens (id, org_id, name, token_digest, \
    display_prefix, scopes, created_at, created_by) ";

/// Gives the organization `count` API tokens nobody holds (their digests are no SHA-256 of
/// anything), unless it has that many already: what authentication must find its one token
/// among. Answers whether it seeded.
pub fn seed_tokens(conn: &mut DbConn, org: &str, count: i64) -> bool {
    let d = Dialect(conn.backend());
    let p = d.org();
    let present = self::count(
        conn,
        &format!("SELECT COUNT(*) AS count FROM api_tokens WHERE org_id = {p}"),
        org,
    );
    if present >= count {
        return false;
    }
    let columns = format!(
        "{id} AS id, {p} AS org_id, 'idle-' || {n} AS name, {digest} AS token_digest, \
         'scimd_idle' AS display_prefix, 'scim:read' AS scopes, {at} AS created_at, \
         'bench' AS created_by",
        id = d.uuid(3, "n"),
        n = d.text("n"),
        digest = d.hex("n", 64),
        at = d.timestamp("n"),
    );
    let mut from = present + 1;
    while from <= count {
        let to = (from + SEED_BATCH - 1).min(count);
        execute(
            conn,
            &format!("{TOKEN_INSERT}{}", d.rows(from, to, &columns)),
            org,
        );
        eprint!("\r  tokens {to}/{count}");
        from = to + 1;
    }
    eprintln!();
    true
}
