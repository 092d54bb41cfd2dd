//! Schema migrations, embedded in the binary, one tree per backend with the same versions.

use std::collections::BTreeSet;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{BackendKind, DbConn, Store};
use crate::error::{Error, Result};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The activity log's own SQLite file (see [`super::activity::open_log`]).
const SQLITE_ACTIVITY_LOG_MIGRATIONS: EmbeddedMigrations =
    embed_migrations!("migrations/sqlite-activity");

/// Serialises migrations of instances that boot together on one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x5C1D_0001;

fn migrations_for(backend: BackendKind) -> EmbeddedMigrations {
    match backend {
        BackendKind::Sqlite => SQLITE_MIGRATIONS,
        BackendKind::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// Why migrating failed; `NewerSchema` tells the operator to upgrade scimd, not the database.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database was migrated by a newer scimd (it has schema version {found}, this binary knows up to {known}); run a scimd at least as new as the one that migrated it"
    )]
    NewerSchema { found: String, known: String },
    #[error("migration failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] Error),
}

/// Every migration version this binary carries, oldest first.
pub fn known_versions(backend: BackendKind) -> Result<Vec<String>, MigrateError> {
    versions_of(&migrations_for(backend))
}

fn versions_of(tree: &EmbeddedMigrations) -> Result<Vec<String>, MigrateError> {
    let migrations = MigrationSource::<super::conn::MultiBackend>::migrations(tree)
        .map_err(|error| MigrateError::Failed(error.to_string()))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// Applies pending migrations and answers the versions it applied.
pub fn run_pending(store: &Store) -> Result<Vec<String>, MigrateError> {
    run_pending_of(store, migrations_for(store.backend()))
}

/// Applies pending migrations of an activity log file on SQLite (the log's own database).
pub fn run_pending_activity_log(store: &Store) -> Result<Vec<String>, MigrateError> {
    run_pending_of(store, SQLITE_ACTIVITY_LOG_MIGRATIONS)
}

fn run_pending_of(store: &Store, tree: EmbeddedMigrations) -> Result<Vec<String>, MigrateError> {
    let mut conn = store.connection()?;
    with_migration_lock(&mut conn, |conn| {
        refuse_newer_schema(conn, &tree)?;
        let versions = conn
            .run_pending_migrations(tree)
            .map_err(|error| MigrateError::Failed(error.to_string()))?;
        Ok(versions.iter().map(ToString::to_string).collect())
    })
}

/// The versions `run_pending` would apply, oldest first, without writing anything (not even
/// diesel's bookkeeping table, which its own listing creates). A database migrated by a newer
/// scimd is refused as `run_pending` refuses it.
pub fn pending(store: &Store) -> Result<Vec<String>, MigrateError> {
    let backend = store.backend();
    let mut conn = store.connection()?;
    let has_table = match &mut *conn {
        DbConn::Sqlite(inner) => diesel::sql_query(
            "SELECT 1 AS present FROM sqlite_master \
             WHERE type = 'table' AND name = '__diesel_schema_migrations'",
        )
        .load::<Present>(inner)?,
        DbConn::Postgres(inner) => diesel::sql_query(
            "SELECT 1 AS present WHERE to_regclass('__diesel_schema_migrations') IS NOT NULL",
        )
        .load::<Present>(inner)?,
    };
    if has_table.is_empty() {
        return known_versions(backend);
    }
    refuse_newer_schema(&mut conn, &migrations_for(backend))?;
    let applied: BTreeSet<String> = conn
        .applied_migrations()
        .map_err(|error| MigrateError::Failed(error.to_string()))?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(known_versions(backend)?
        .into_iter()
        .filter(|version| !applied.contains(version))
        .collect())
}

#[derive(diesel::QueryableByName)]
struct Present {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[expect(dead_code, reason = "only whether a row comes back matters")]
    present: i32,
}

/// Reverts every migration (tests prove down migrations work).
pub fn revert_all(store: &Store) -> Result<(), MigrateError> {
    let mut conn = store.connection()?;
    conn.revert_all_migrations(migrations_for(store.backend()))
        .map(|_| ())
        .map_err(|error| MigrateError::Failed(error.to_string()))
}

/// Reverts the newest migration, leaving the schema an older scimd left (tests of upgrades).
pub fn revert_last(store: &Store) -> Result<String, MigrateError> {
    let mut conn = store.connection()?;
    conn.revert_last_migration(migrations_for(store.backend()))
        .map(|version| version.to_string())
        .map_err(|error| MigrateError::Failed(error.to_string()))
}

fn with_migration_lock<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    if conn.backend() == BackendKind::Postgres {
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .map_err(Error::from)?;
        let result = f(conn);
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .map_err(Error::from)?;
        result
    } else {
        // Instances sharing one SQLite file must not both find a migration pending and both
        // run it ("table organizations already exists"): SQLite has no advisory lock, but a
        // transaction holding the write lock from its start queues the others behind it, and
        // they then find nothing pending. diesel runs each migration in a savepoint within it.
        conn.write_transaction(f)
    }
}

impl From<diesel::result::Error> for MigrateError {
    fn from(error: diesel::result::Error) -> Self {
        MigrateError::Store(error.into())
    }
}

fn refuse_newer_schema(conn: &mut DbConn, tree: &EmbeddedMigrations) -> Result<(), MigrateError> {
    let known: BTreeSet<String> = versions_of(tree)?.into_iter().collect();
    let applied: Vec<MigrationVersion<'static>> = conn
        .applied_migrations()
        .map_err(|error| MigrateError::Failed(error.to_string()))?;
    let unknown = applied
        .iter()
        .map(ToString::to_string)
        .filter(|version| !known.contains(version))
        .max();
    match unknown {
        Some(found) => Err(MigrateError::NewerSchema {
            found,
            known: known.iter().next_back().cloned().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}
