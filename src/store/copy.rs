//! `scimd copy`: every table of one database into another, SQLite to PostgreSQL or back.
//!
//! The tables and their columns are read from the databases themselves, not from
//! [`super::schema`], so a table a later migration adds is copied without a change here. Rows
//! travel as JSON text (one bind per batch, whatever the column count), each value in a
//! canonical form per kind of column, which also feeds the per-table checksum compared at the
//! end. Each batch commits on its own in key order, so an interrupted copy resumes where the
//! target's row count says it stopped; a marker table in the target tells a copy in progress
//! from a database that already held data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Integer, Text};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{DbConn, Store, migrate};
use crate::error::Error;

/// Created in the target when a copy starts and dropped when it has been verified.
const MARKER: &str = "scimd_copy_in_progress";
/// diesel's bookkeeping: the target's own migrations fill it.
const MIGRATIONS: &str = "__diesel_schema_migrations";
/// Rewritten by every running SQLite instance to check its commit counter
/// ([`super::data_version`]): meaningless in another database, and it changes under a copy
/// even with every request stopped.
const SCRATCH: &str = "commit_probe";

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the source has migrations pending ({0}): run `scimd migrate` on it first, so both \
         databases have the same tables"
    )]
    SourceNotMigrated(String),
    #[error(
        "the target already holds data (in {0}) and is not a copy left unfinished: copy into \
         an empty database"
    )]
    TargetNotEmpty(String),
    #[error("the two databases' tables differ after migrating: {0}")]
    SchemaMismatch(String),
    #[error(
        "table {table}: {detail}; the source changed during the copy or the copy is damaged: \
         start again with an empty target, with every scimd on the source stopped"
    )]
    Mismatch { table: String, detail: String },
    #[error(transparent)]
    Store(#[from] Error),
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
}

impl From<diesel::result::Error> for CopyError {
    fn from(error: diesel::result::Error) -> Self {
        CopyError::Store(error.into())
    }
}

/// Where a copy stands, for a progress display.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub table: &'a str,
    pub table_done: u64,
    pub table_total: u64,
    pub all_done: u64,
    pub all_total: u64,
    /// Rows found already copied by an earlier, interrupted run.
    pub resumed: u64,
}

/// One verified table.
#[derive(Debug, Clone)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// Order-independent: the two backends sort text keys differently.
    pub checksum: String,
}

/// How values of a column are put in canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Bool,
    Timestamp,
    /// BLOB on SQLite, BYTEA on PostgreSQL (the change feed's signing keys): carried as
    /// lower-case hex, since JSON holds no bytes.
    Bytes,
}

impl Kind {
    /// From SQLite's declared type or PostgreSQL's `format_type`.
    fn of(declared: &str) -> Kind {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("bool") {
            Kind::Bool
        } else if declared.contains("blob") || declared.contains("bytea") {
            Kind::Bytes
        } else if declared.contains("int") {
            Kind::Integer
        } else if declared.contains("timestamp") || declared.contains("datetime") {
            Kind::Timestamp
        } else {
            Kind::Text
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// The type as the database declares it: PostgreSQL casts to it on insert.
    declared: String,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    key: Vec<String>,
    /// Whether `key` is a primary key: then pages follow on from the last key read (keyset),
    /// otherwise by OFFSET.
    unique_key: bool,
    parents: BTreeSet<String>,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy)]
enum Start<'a> {
    /// After this many rows: the first page of a resumed copy, and tables without a key.
    Offset(u64),
    /// After the row with these key values (canonical form).
    After(&'a [Option<String>]),
}

impl Table {
    /// The key values of a canonical row, to start the next page after it.
    fn key_of(&self, row: &[Option<String>]) -> Vec<Option<String>> {
        self.key
            .iter()
            .filter_map(|k| self.columns.iter().position(|c| &c.name == k))
            .map(|i| row.get(i).cloned().flatten())
            .collect()
    }

    /// Where the page after `page` starts; `None`: by OFFSET.
    fn next_start(&self, page: &[Vec<Option<String>>]) -> Option<Vec<Option<String>>> {
        if self.unique_key {
            page.last().map(|row| self.key_of(row))
        } else {
            None
        }
    }
}

/// Copies every table of `source` into `target`, which is migrated first and must be empty
/// (or hold a copy interrupted earlier), then verifies counts and checksums. The `activity`
/// table is read from `source_activity_log`: on SQLite the activity log's own file where there
/// is one ([`super::activity::existing_log`]), otherwise `source` itself.
pub fn copy(
    source: &Store,
    source_activity_log: &Store,
    target: &Store,
    batch: u64,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<Vec<TableReport>, CopyError> {
    let pending = migrate::pending(source)?;
    if !pending.is_empty() {
        return Err(CopyError::SourceNotMigrated(pending.join(", ")));
    }
    migrate::run_pending(target)?;
    let source_tables = source.run_blocking(|conn| Ok(tables(conn)?))?;
    let target_tables = target.run_blocking(|conn| Ok(tables(conn)?))?;
    let order = plan(&source_tables, &target_tables)?;
    let resuming = target.run_blocking(|conn| Ok(has_table(conn, MARKER)?))?;
    if !resuming {
        let mut holding = Vec::new();
        for table in &order {
            if count(target, &table.name)? > 0 {
                holding.push(table.name.clone());
            }
        }
        if !holding.is_empty() {
            return Err(CopyError::TargetNotEmpty(holding.join(", ")));
        }
        target.run_blocking(|conn| {
            conn.batch_execute(&format!(
                "CREATE TABLE {} (started_at TEXT NOT NULL)",
                quote(MARKER)
            ))?;
            Ok(())
        })?;
    }

    let source_of = |table: &Table| {
        if table.name == "activity" {
            source_activity_log
        } else {
            source
        }
    };
    let mut totals = Vec::with_capacity(order.len());
    for table in &order {
        totals.push(count(source_of(table), &table.name)?);
    }
    let all_total = totals.iter().sum();
    let mut all_done = 0;
    for (table, &total) in order.iter().zip(&totals) {
        let mut done = count(target, &table.name)?;
        if done > total {
            return Err(CopyError::Mismatch {
                table: table.name.clone(),
                detail: format!("the target has {done} rows, the source {total}"),
            });
        }
        let resumed = done;
        all_done += done;
        let report = |done, all_done| Progress {
            table: &table.name,
            table_done: done,
            table_total: total,
            all_done,
            all_total,
            resumed,
        };
        progress(&report(done, all_done));
        let mut after: Option<Vec<Option<String>>> = None;
        while done < total {
            let start = match &after {
                Some(key) => Start::After(key),
                None => Start::Offset(done),
            };
            let rows = read_batch(source_of(table), table, start, batch)?;
            if rows.is_empty() {
                break;
            }
            after = table.next_start(&rows);
            let copied = u64::try_from(rows.len()).unwrap_or(u64::MAX);
            write_batch(target, table, &rows)?;
            done += copied;
            all_done += copied;
            progress(&report(done, all_done));
        }
    }

    let mut reports = Vec::with_capacity(order.len());
    for table in &order {
        let (rows, sum) = digest(source_of(table), table, batch)?;
        let (copied, copied_sum) = digest(target, table, batch)?;
        if (rows, sum) != (copied, copied_sum) {
            return Err(CopyError::Mismatch {
                table: table.name.clone(),
                detail: format!(
                    "{rows} rows with checksum {sum:032x} in the source, {copied} with \
                     {copied_sum:032x} in the target"
                ),
            });
        }
        reports.push(TableReport {
            table: table.name.clone(),
            rows,
            checksum: format!("{sum:032x}"),
        });
    }
    target.run_blocking(|conn| {
        conn.batch_execute(&format!("DROP TABLE {}", quote(MARKER)))?;
        Ok(())
    })?;
    Ok(reports)
}

/// The tables to copy, parents before children: the target's foreign keys are checked on
/// every insert.
fn plan(source: &[Table], target: &[Table]) -> Result<Vec<Table>, CopyError> {
    let shape = |tables: &[Table]| -> BTreeMap<String, BTreeSet<String>> {
        tables
            .iter()
            .map(|t| {
                let columns = t.columns.iter().map(|c| c.name.clone()).collect();
                (t.name.clone(), columns)
            })
            .collect()
    };
    let (from, to) = (shape(source), shape(target));
    if from != to {
        let differing: Vec<&String> = from
            .keys()
            .chain(to.keys())
            .filter(|name| from.get(*name) != to.get(*name))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(CopyError::SchemaMismatch(format!(
            "{differing:?} (is the source from another scimd version?)"
        )));
    }
    // The target's declared types: PostgreSQL needs them to cast, SQLite ignores them.
    let mut remaining: Vec<Table> = target.to_vec();
    let mut ordered: Vec<Table> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let placed: BTreeSet<String> = ordered.iter().map(|t| t.name.clone()).collect();
        let ready = remaining.iter().position(|t| {
            t.parents
                .iter()
                .all(|p| p == &t.name || placed.contains(p) || !to.contains_key(p))
        });
        // A cycle of foreign keys: none exists in scimd's schema; copy in name order.
        let next = remaining.remove(ready.unwrap_or(0));
        ordered.push(next);
    }
    Ok(ordered)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[derive(diesel::QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

fn has_table(conn: &mut DbConn, name: &str) -> Result<bool, diesel::result::Error> {
    Ok(table_names(conn)?.iter().any(|n| n == name))
}

fn table_names(conn: &mut DbConn) -> Result<Vec<String>, diesel::result::Error> {
    let rows: Vec<NameRow> = match conn {
        DbConn::Sqlite(inner) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
        )
        .load(inner)?,
        DbConn::Postgres(inner) => diesel::sql_query(
            "SELECT CAST(tablename AS TEXT) AS name FROM pg_tables \
             WHERE schemaname = current_schema()",
        )
        .load(inner)?,
    };
    Ok(rows.into_iter().map(|row| row.name).collect())
}

fn tables(conn: &mut DbConn) -> Result<Vec<Table>, diesel::result::Error> {
    let mut names = table_names(conn)?;
    names.retain(|name| ![MIGRATIONS, MARKER, SCRATCH].contains(&name.as_str()));
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let (columns, parents): (Vec<ColumnRow>, Vec<NameRow>) = match conn {
            DbConn::Sqlite(inner) => (
                diesel::sql_query(
                    "SELECT name, type AS declared, pk FROM pragma_table_info(?) ORDER BY cid",
                )
                .bind::<Text, _>(&name)
                .load(inner)?,
                diesel::sql_query("SELECT \"table\" AS name FROM pragma_foreign_key_list(?)")
                    .bind::<Text, _>(&name)
                    .load(inner)?,
            ),
            DbConn::Postgres(inner) => (
                diesel::sql_query(
                    "SELECT CAST(a.attname AS TEXT) AS name, \
                            format_type(a.atttypid, a.atttypmod) AS declared, \
                            COALESCE((SELECT CAST(k.ordinal_position AS INTEGER) \
                                FROM information_schema.table_constraints c \
                                JOIN information_schema.key_column_usage k \
                                  ON k.constraint_name = c.constraint_name \
                                 AND k.table_schema = c.table_schema \
                                 AND k.table_name = c.table_name \
                                WHERE c.constraint_type = 'PRIMARY KEY' \
                                  AND c.table_schema = current_schema() \
                                  AND c.table_name = $1 AND k.column_name = a.attname), 0) \
                            AS pk \
                     FROM pg_attribute a \
                     WHERE a.attrelid = CAST(quote_ident($1) AS regclass) \
                       AND a.attnum > 0 AND NOT a.attisdropped \
                     ORDER BY a.attnum",
                )
                .bind::<Text, _>(&name)
                .load(inner)?,
                diesel::sql_query(
                    "SELECT CAST(CAST(confrelid AS regclass) AS TEXT) AS name FROM pg_constraint \
                     WHERE contype = 'f' AND conrelid = CAST(quote_ident($1) AS regclass)",
                )
                .bind::<Text, _>(&name)
                .load(inner)?,
            ),
        };
        let mut key: Vec<(i32, String)> = columns
            .iter()
            .filter(|c| c.pk > 0)
            .map(|c| (c.pk, c.name.clone()))
            .collect();
        key.sort();
        let mut key: Vec<String> = key.into_iter().map(|(_, name)| name).collect();
        let unique_key = !key.is_empty();
        if key.is_empty() {
            // No primary key: every column together orders the rows.
            key = columns.iter().map(|c| c.name.clone()).collect();
        }
        tables.push(Table {
            name,
            columns: columns
                .into_iter()
                .map(|c| Column {
                    kind: Kind::of(&c.declared),
                    name: c.name,
                    declared: c.declared,
                })
                .collect(),
            key,
            unique_key,
            parents: parents
                .into_iter()
                .map(|p| p.name.trim_matches('"').to_owned())
                .collect(),
        });
    }
    Ok(tables)
}

fn count(store: &Store, table: &str) -> Result<u64, CopyError> {
    let sql = format!("SELECT COUNT(*) AS n FROM {}", quote(table));
    let rows: Vec<CountRow> = store.run_blocking(|conn| {
        Ok(match conn {
            DbConn::Sqlite(inner) => diesel::sql_query(&sql).load(inner)?,
            DbConn::Postgres(inner) => diesel::sql_query(&sql).load(inner)?,
        })
    })?;
    Ok(rows
        .first()
        .map_or(0, |row| u64::try_from(row.n).unwrap_or(0)))
}

/// One page of rows in key order, each value in canonical form.
///
/// Keyset paging: an OFFSET makes the database compute and drop every row before the page
/// (PostgreSQL builds each skipped row's JSON too), which made verifying 100,000 users take
/// minutes.
fn read_batch(
    store: &Store,
    table: &Table,
    start: Start<'_>,
    limit: u64,
) -> Result<Vec<Vec<Option<String>>>, CopyError> {
    let name = quote(&table.name);
    let projected = |bytes_as_hex: fn(&str) -> String| -> String {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|column| match column.kind {
                Kind::Bytes => bytes_as_hex(&quote(&column.name)),
                _ => quote(&column.name),
            })
            .collect();
        columns.join(", ")
    };
    let sqlite_columns = projected(|column| format!("lower(hex({column}))"));
    let postgres_columns = projected(|column| format!("encode({column}, 'hex')"));
    let key: Vec<String> = table.key.iter().map(|k| quote(k)).collect();
    let key = key.join(", ");
    let kinds: Vec<&Column> = table
        .key
        .iter()
        .filter_map(|k| table.columns.iter().find(|c| &c.name == k))
        .collect();
    let rows: Vec<JsonRow> = store.run_blocking(|conn| {
        Ok(match (conn, start) {
            (DbConn::Sqlite(inner), Start::Offset(offset)) => diesel::sql_query(format!(
                "SELECT json_array({sqlite_columns}) AS row FROM {name} ORDER BY {key} \
                 LIMIT {limit} OFFSET {offset}"
            ))
            .load(inner)?,
            (DbConn::Postgres(inner), Start::Offset(offset)) => diesel::sql_query(format!(
                "SELECT CAST(json_build_array({postgres_columns}) AS TEXT) AS row FROM {name} \
                 ORDER BY {key} LIMIT {limit} OFFSET {offset}"
            ))
            .load(inner)?,
            (DbConn::Sqlite(inner), Start::After(values)) => {
                let bound: Vec<String> = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        sqlite_value(column.kind, &format!("json_extract(?1, '$[{i}]')"))
                    })
                    .collect();
                diesel::sql_query(format!(
                    "SELECT json_array({sqlite_columns}) AS row FROM {name} \
                     WHERE ({key}) > ({}) ORDER BY {key} LIMIT {limit}",
                    bound.join(", ")
                ))
                .bind::<Text, _>(serde_json::to_string(values).map_err(Error::internal)?)
                .load(inner)?
            }
            (DbConn::Postgres(inner), Start::After(values)) => {
                let bound: Vec<String> = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        format!("CAST(CAST($1 AS json) ->> {i} AS {})", column.declared)
                    })
                    .collect();
                diesel::sql_query(format!(
                    "SELECT CAST(json_build_array({postgres_columns}) AS TEXT) AS row FROM {name} \
                     WHERE ({key}) > ({}) ORDER BY {key} LIMIT {limit}",
                    bound.join(", ")
                ))
                .bind::<Text, _>(serde_json::to_string(values).map_err(Error::internal)?)
                .load(inner)?
            }
        })
    })?;
    rows.iter()
        .map(|row| canonical_row(table, &row.row))
        .collect()
}

/// A canonical value (`text`, an SQL expression) as SQLite stores it in a column of `kind`.
fn sqlite_value(kind: Kind, text: &str) -> String {
    match kind {
        Kind::Bool => format!("CASE {text} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"),
        Kind::Integer => format!("CAST({text} AS INTEGER)"),
        Kind::Bytes => format!("unhex({text})"),
        Kind::Text | Kind::Timestamp => text.to_owned(),
    }
}

fn canonical_row(table: &Table, json: &str) -> Result<Vec<Option<String>>, CopyError> {
    let bad = |detail: String| CopyError::Mismatch {
        table: table.name.clone(),
        detail,
    };
    let values: Vec<Value> =
        serde_json::from_str(json).map_err(|e| bad(format!("unreadable row: {e}")))?;
    if values.len() != table.columns.len() {
        return Err(bad(format!("a row of {} values", values.len())));
    }
    table
        .columns
        .iter()
        .zip(values)
        .map(|(column, value)| {
            canonical(column.kind, value)
                .map_err(|detail| bad(format!("column {}: {detail}", column.name)))
        })
        .collect()
}

/// One form per kind whichever backend the value came from: SQLite hands booleans over as 0/1
/// and timestamps as the text diesel wrote, PostgreSQL as JSON booleans and ISO 8601.
fn canonical(kind: Kind, value: Value) -> Result<Option<String>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text,
        other => other.to_string(),
    };
    Ok(Some(match kind {
        Kind::Text => text,
        Kind::Bytes => {
            if text.len() % 2 != 0 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err("bytes not in hex".to_owned());
            }
            text.to_ascii_lowercase()
        }
        Kind::Integer => text
            .parse::<i64>()
            .map_err(|_| format!("'{text}' is not an integer"))?
            .to_string(),
        Kind::Bool => match text.as_str() {
            "true" | "1" | "t" => "true".to_owned(),
            "false" | "0" | "f" => "false".to_owned(),
            _ => return Err(format!("'{text}' is not a boolean")),
        },
        // diesel's own format on SQLite, so copied rows read and sort as written ones.
        Kind::Timestamp => parse_timestamp(&text)
            .ok_or_else(|| format!("'{text}' is not a timestamp"))?
            .format("%Y-%m-%d %H:%M:%S%.f")
            .to_string(),
    }))
}

fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// Inserts `rows` in one transaction, the whole batch bound as one JSON array.
fn write_batch(
    store: &Store,
    table: &Table,
    rows: &[Vec<Option<String>>],
) -> Result<(), CopyError> {
    let json = serde_json::to_string(rows).map_err(Error::internal)?;
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let (columns, name) = (columns.join(", "), quote(&table.name));
    store.write_blocking(|conn| {
        match conn {
            DbConn::Sqlite(inner) => {
                let values: Vec<String> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        sqlite_value(column.kind, &format!("json_extract(value, '$[{i}]')"))
                    })
                    .collect();
                diesel::sql_query(format!(
                    "INSERT INTO {name} ({columns}) SELECT {} FROM json_each(?) ORDER BY key",
                    values.join(", ")
                ))
                .bind::<Text, _>(&json)
                .execute(inner)?;
            }
            DbConn::Postgres(inner) => {
                let values: Vec<String> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| match column.kind {
                        Kind::Bytes => format!("decode(r ->> {i}, 'hex')"),
                        _ => format!("CAST(r ->> {i} AS {})", column.declared),
                    })
                    .collect();
                diesel::sql_query(format!(
                    "INSERT INTO {name} ({columns}) SELECT {} \
                     FROM json_array_elements(CAST($1 AS json)) AS r",
                    values.join(", ")
                ))
                .bind::<Text, _>(&json)
                .execute(inner)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Row count and an order-independent checksum: the wrapping sum of each canonical row's
/// SHA-256 (first 16 bytes).
fn digest(store: &Store, table: &Table, batch: u64) -> Result<(u64, u128), CopyError> {
    let (mut rows, mut sum) = (0u64, 0u128);
    let mut after: Option<Vec<Option<String>>> = None;
    loop {
        let start = match &after {
            Some(key) => Start::After(key),
            None => Start::Offset(rows),
        };
        let page = read_batch(store, table, start, batch)?;
        if page.is_empty() {
            return Ok((rows, sum));
        }
        after = table.next_start(&page);
        for row in &page {
            let encoded = serde_json::to_vec(row).map_err(Error::internal)?;
            let hash = Sha256::digest(&encoded);
            let mut first = [0u8; 16];
            first.copy_from_slice(hash.get(..16).unwrap_or(&[0; 16]));
            sum = sum.wrapping_add(u128::from_be_bytes(first));
        }
        rows += u64::try_from(page.len()).unwrap_or(u64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_either_backend_meet_in_one_form() {
        let same = |kind, a: Value, b: Value| {
            assert_eq!(canonical(kind, a), canonical(kind, b));
        };
        same(Kind::Bool, Value::from(1), Value::Bool(true));
        same(Kind::Bool, Value::from(0), Value::from("false"));
        same(
            Kind::Timestamp,
            Value::from("2026-12-06 08:00:00.120"),
            Value::from("2026-12-06T08:00:00.12"),
        );
        same(Kind::Integer, Value::from(42), Value::from("42"));
        assert_eq!(canonical(Kind::Text, Value::Null), Ok(None));
        assert!(canonical(Kind::Integer, Value::from("x")).is_err());
        assert_eq!(Kind::of("timestamp without time zone"), Kind::Timestamp);
        assert_eq!(Kind::of("BIGINT"), Kind::Integer);
        assert_eq!(Kind::of("boolean"), Kind::Bool);
        assert_eq!(Kind::of("BLOB"), Kind::Bytes);
        assert_eq!(Kind::of("bytea"), Kind::Bytes);
        same(Kind::Bytes, Value::from("0A1B"), Value::from("0a1b"));
        assert!(canonical(Kind::Bytes, Value::from("0a1")).is_err());
    }
}
