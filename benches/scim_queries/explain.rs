//! Query plans of the SQL the store issues for each case.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use scimd::store::{BackendKind, DbConn};

use crate::seed::{external_id, group_name, user_group_id, user_id, user_name};
use crate::{PAGE_SIZE, Settings};

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

pub(crate) fn explain(conn: &mut DbConn, org: &str, settings: &Settings) {
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
