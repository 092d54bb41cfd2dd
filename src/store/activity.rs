//! The activity log: one row per recorded SCIM request, written in batches, read newest first,
//! trimmed by age and by a per-organization cap.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{activity, groups, users};
use super::{DatabaseUrl, DbConn, OpenOptions, OrgId, Store};
use crate::error::Result;

/// Why the activity log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenLogError {
    #[error("activity log: {0}")]
    Open(#[from] super::OpenError),
    #[error("activity log: {0}")]
    Migrate(#[from] super::migrate::MigrateError),
    #[error("activity log: {0}")]
    Store(#[from] crate::error::Error),
    #[error(
        "{database} still holds activity log entries that belong in {log}: run `scimd migrate` \
         on it to move them there, then run this command again"
    )]
    NotMoved { database: String, log: String },
}

/// The store the activity log of `main` (the database at `url`) is read and written through.
///
/// On SQLite that is a database file of its own beside the main one ([`DatabaseUrl::activity_log`]),
/// with its own writer thread. In the main file its rows shared the one writer with the SCIM
/// writes: a batch of them every 200 ms, seven B-trees a row, one of them (`resource_key`) at
/// a random page each, cost `POST /Users` 11–17% of its throughput with the log on (issue 13
/// wants at most 10%). In a file of its own the SCIM writer never waits for them, the log's
/// retention sweeps never hold it either, and no reader's snapshot of the directory data pins
/// log pages (what the log still costs is CPU: see [`crate::background`]). The log needs
/// nothing atomic with a SCIM write: an entry is written after its answer anyway. Rows an
/// earlier scimd kept in the main file move over (once; see `move_rows_from_main`).
/// PostgreSQL has concurrent writers: the log stays in its database.
pub fn open_log(
    main: &Store,
    url: &DatabaseUrl,
    options: &OpenOptions,
) -> Result<Store, OpenLogError> {
    let Some(log_url) = url.activity_log() else {
        return Ok(main.clone());
    };
    let options = OpenOptions {
        label: "activity log",
        ..*options
    };
    let log = Store::open_with(&log_url, &options)?.in_background();
    super::migrate::run_pending_activity_log(&log)?;
    move_rows_from_main(main, &log_url, url)?;
    Ok(log)
}

/// The activity log of the database at `url` as it is, to read without changing anything
/// (`scimd copy`): its own file where one exists, otherwise the database's `activity` table
/// (PostgreSQL, or an SQLite database no scimd of this version has served yet). Where both
/// hold entries (a move that has not finished, or an older scimd that wrote after it), reading
/// either would leave the other's out: refused, naming the command that finishes the move.
pub fn existing_log(
    main: &Store,
    url: &DatabaseUrl,
    options: &OpenOptions,
) -> Result<Store, OpenLogError> {
    match url.activity_log() {
        Some(log_url) if log_url.sqlite_path().is_some_and(std::path::Path::is_file) => {
            if legacy_rows_left(main)? {
                return Err(OpenLogError::NotMoved {
                    database: url.to_string(),
                    log: log_url.to_string(),
                });
            }
            Ok(Store::open_with(
                &log_url,
                &OpenOptions {
                    create: false,
                    ..*options
                },
            )?)
        }
        _ => Ok(main.clone()),
    }
}

/// Moves the rows an earlier scimd wrote into the main file's `activity` table into the log's
/// file; that table stays, empty, for the main schema's migrations. Copied first, then deleted
/// from the database only where the log holds them: a crash between the two leaves rows in
/// both, and the next start's copy skips those already there (same id); rows an older scimd
/// still serving the file writes meanwhile stay for the next start to move.
fn move_rows_from_main(main: &Store, log_url: &DatabaseUrl, url: &DatabaseUrl) -> Result<()> {
    if !legacy_rows_left(main)? {
        return Ok(());
    }
    let Some(main_path) = url.sqlite_path().and_then(|path| path.to_str()) else {
        return Ok(());
    };
    // ATTACH is refused inside a transaction, and a pooled connection must not keep it: this
    // connection is opened for the move and dropped after it.
    let mut conn = log_url.establish().map_err(|error| {
        crate::error::Error::internal(format!("cannot open {log_url}: {error}"))
    })?;
    let DbConn::Sqlite(sqlite) = &mut conn else {
        return Ok(());
    };
    diesel::sql_query("ATTACH DATABASE ? AS earlier")
        .bind::<diesel::sql_types::Text, _>(main_path)
        .execute(sqlite)?;
    // Statements on their own, not one BEGIN IMMEDIATE: that write-locks every attached
    // database, so other instances serving the main file would wait out the whole copy.
    let moved = diesel::sql_query(format!(
        "INSERT OR IGNORE INTO main.activity ({ACTIVITY_COLUMNS}) \
         SELECT {ACTIVITY_COLUMNS} FROM earlier.activity"
    ))
    .execute(sqlite)?;
    const DELETE_BATCH: usize = 1000;
    loop {
        let deleted = diesel::sql_query(format!(
            "DELETE FROM earlier.activity WHERE rowid IN (SELECT e.rowid FROM earlier.activity e \
             WHERE EXISTS (SELECT 1 FROM main.activity m WHERE m.id = e.id) LIMIT {DELETE_BATCH})"
        ))
        .execute(sqlite)?;
        if deleted < DELETE_BATCH {
            break;
        }
    }
    log::info!("activity log: moved {moved} entries into {log_url}");
    Ok(())
}

/// Whether the main file's own `activity` table still holds rows (an earlier scimd's).
fn legacy_rows_left(main: &Store) -> Result<bool> {
    main.run_blocking(|conn| {
        Ok(
            diesel::select(diesel::dsl::exists(activity::table.select(activity::id)))
                .get_result::<bool>(conn)?,
        )
    })
}

/// Every column of `activity`, for copies between two files of it.
const ACTIVITY_COLUMNS: &str = "id, org_id, occurred_at, request_id, method, path, status, \
     status_class, scim_type, duration_us, token_id, token_name, client_addr, user_agent, idp, \
     resource_type, resource_id, resource_name, resource_key, summary, request_body, \
     response_body";

/// One request, as stored. Bodies are already redacted and truncated.
#[derive(Debug, Clone, Queryable)]
#[diesel(table_name = activity)]
pub struct ActivityRow {
    pub id: String,
    pub org_id: String,
    pub occurred_at: NaiveDateTime,
    pub request_id: Option<String>,
    pub method: String,
    /// Path and query string: filters stay, since this log is access-controlled.
    pub path: String,
    pub status: i32,
    /// `status / 100`, indexed for "failed only".
    pub status_class: i32,
    pub scim_type: Option<String>,
    pub duration_us: i64,
    /// `None`: the shared secret.
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub idp: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `userName` or `displayName`, as sent.
    pub resource_name: Option<String>,
    /// `resource_name` lowercased, for case-insensitive lookups.
    pub resource_key: Option<String>,
    pub summary: String,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
}

/// Inserts `rows` (already in one transaction: the caller's).
pub fn insert_activity(conn: &mut DbConn, rows: &[ActivityRow]) -> Result<()> {
    for row in rows {
        let insert = InsertActivity(row);
        match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Postgres(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// The insert of one row, prepared once per connection (see [`super::statement`]): built
/// anew for every row, it was 40% of the writer's time spent on activity batches.
#[derive(Debug, Clone, Copy)]
struct InsertActivity<'a>(&'a ActivityRow);

super::statement::cached_statement!(InsertActivity);

impl<DB> diesel::query_builder::QueryFragment<DB> for InsertActivity<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    NaiveDateTime: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    Option<String>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
        let row = self.0;
        out.push_sql("INSERT INTO activity (");
        out.push_sql(ACTIVITY_COLUMNS);
        out.push_sql(") VALUES (");
        out.push_bind_param::<Text, str>(&row.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(&row.org_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, NaiveDateTime>(&row.occurred_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, Option<String>>(&row.request_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(&row.method)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(&row.path)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, i32>(&row.status)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, i32>(&row.status_class)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, Option<String>>(&row.scim_type)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, i64>(&row.duration_us)?;
        for text in [
            &row.token_id,
            &row.token_name,
            &row.client_addr,
            &row.user_agent,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, Option<String>>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(&row.idp)?;
        for text in [
            &row.resource_type,
            &row.resource_id,
            &row.resource_name,
            &row.resource_key,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, Option<String>>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(&row.summary)?;
        for text in [&row.request_body, &row.response_body] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, Option<String>>(text)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// Which rows to list: every condition holds. Newest first; `before` continues a page.
#[derive(Debug, Clone)]
pub struct ActivityQuery {
    pub org: OrgId,
    /// Status classes (2, 4, 5); empty: any.
    pub status_classes: Vec<i32>,
    pub method: Option<String>,
    /// A resource id, or a `userName`/`displayName` in any case.
    pub resource: Option<String>,
    pub token: Option<String>,
    pub idp: Option<String>,
    pub since: Option<NaiveDateTime>,
    /// Exclusive.
    pub until: Option<NaiveDateTime>,
    /// `(occurred_at, id)` of the last row of the previous page.
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// The rows matching `query`, newest first, at most `query.limit`; bodies left out (the list
/// never shows them, and they are the bulk of a row).
pub fn search_activity(conn: &mut DbConn, query: &ActivityQuery) -> Result<Vec<ActivityRow>> {
    let mut select = activity::table
        .filter(activity::org_id.eq(query.org.as_str().to_owned()))
        .into_boxed();
    if !query.status_classes.is_empty() {
        select = select.filter(activity::status_class.eq_any(query.status_classes.clone()));
    }
    if let Some(method) = &query.method {
        select = select.filter(activity::method.eq(method.clone()));
    }
    if let Some(resource) = &query.resource {
        select = select.filter(
            activity::resource_id
                .eq(resource.clone())
                .or(activity::resource_key.eq(resource.to_lowercase())),
        );
    }
    if let Some(token) = &query.token {
        select = select.filter(activity::token_id.eq(token.clone()));
    }
    if let Some(idp) = &query.idp {
        select = select.filter(activity::idp.eq(idp.clone()));
    }
    if let Some(since) = query.since {
        select = select.filter(activity::occurred_at.ge(since));
    }
    if let Some(until) = query.until {
        select = select.filter(activity::occurred_at.lt(until));
    }
    if let Some((at, id)) = &query.before {
        select = select.filter(
            activity::occurred_at.lt(*at).or(activity::occurred_at
                .eq(*at)
                .and(activity::id.lt(id.clone()))),
        );
    }
    let select = select
        .order((activity::occurred_at.desc(), activity::id.desc()))
        .limit(query.limit)
        .select((
            activity::id,
            activity::org_id,
            activity::occurred_at,
            activity::request_id,
            activity::method,
            activity::path,
            activity::status,
            activity::status_class,
            activity::scim_type,
            activity::duration_us,
            activity::token_id,
            activity::token_name,
            activity::client_addr,
            activity::user_agent,
            activity::idp,
            activity::resource_type,
            activity::resource_id,
            activity::resource_name,
            activity::resource_key,
            activity::summary,
            None::<String>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(),
            None::<String>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(),
        ));
    Ok(conn.planned_per_run(select).load::<ActivityRow>(conn)?)
}

/// One row of `org`, bodies included; `None` when there is none (or it is another org's).
pub fn find_activity(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<Option<ActivityRow>> {
    Ok(activity::table
        .filter(activity::org_id.eq(org.as_str()))
        .filter(activity::id.eq(id))
        .get_result::<ActivityRow>(conn)
        .optional()?)
}

/// Deletes at most `batch` rows older than `cutoff`; answers how many went.
pub fn delete_activity_before(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    batch: i64,
) -> Result<usize> {
    let ids: Vec<String> = activity::table
        .filter(activity::occurred_at.lt(cutoff))
        .select(activity::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(activity::table.filter(activity::id.eq_any(ids))).execute(conn)?)
}

/// The organizations that have rows.
pub fn activity_orgs(conn: &mut DbConn) -> Result<Vec<String>> {
    Ok(activity::table
        .select(activity::org_id)
        .distinct()
        .load(conn)?)
}

/// Deletes at most `batch` of `org`'s rows beyond its newest `keep`; answers how many went.
pub fn delete_activity_beyond(
    conn: &mut DbConn,
    org: &str,
    keep: i64,
    batch: i64,
) -> Result<usize> {
    let ids: Vec<String> = activity::table
        .filter(activity::org_id.eq(org))
        .order((activity::occurred_at.desc(), activity::id.desc()))
        .offset(keep)
        .limit(batch)
        .select(activity::id)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(activity::table.filter(activity::id.eq_any(ids))).execute(conn)?)
}

/// The `userName` of each of `org`'s Users and the `displayName` of each of its Groups among
/// `ids`, by id: names for entries whose bodies do not carry one (a Group PATCH answered 204).
pub fn resource_names(
    conn: &mut DbConn,
    org: &OrgId,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut names: Vec<(String, String)> = users::table
        .filter(users::org_id.eq(org.as_str()))
        .filter(users::id.eq_any(ids))
        .select((users::id, users::user_name))
        .load(conn)?;
    names.extend(
        groups::table
            .filter(groups::org_id.eq(org.as_str()))
            .filter(groups::id.eq_any(ids))
            .select((groups::id, groups::display_name))
            .load::<(String, String)>(conn)?,
    );
    Ok(names)
}
