//! The statements the `users` and `groups` tables answer alike, written once.
//!
//! Both tables keep a resource in the same five columns (`id`, `resource`, `version`,
//! `created_at`, `last_modified`) beside their indexed attributes. diesel cannot name "the
//! `version` column of some table" in a generic function (its table and column types are
//! distinct structs, and bounds over them overflow the trait solver), so `resource_table!`
//! writes the statements once and implements [`ResourceTable`] for each table with them.
//! The statements stay static (no boxing): `find_by_id` is the `GET /Users/{id}` lookup.

use chrono::NaiveDateTime;
use diesel::Queryable;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::resources::StoredResource;
use super::{DbConn, OrgId};
use crate::error::Result;

/// The SQL types of [`ResourceRow`], as a boxed query names its selection.
pub type ResourceSqlType = (Text, Text, BigInt, Timestamp, Timestamp);

/// A resource row as both tables store it; [`ResourceTable::COLUMNS`] selects it.
#[derive(Queryable)]
pub struct ResourceRow {
    id: String,
    resource: String,
    version: i64,
    created_at: NaiveDateTime,
    last_modified: NaiveDateTime,
}

impl ResourceRow {
    pub(crate) fn into_stored(self) -> Result<StoredResource> {
        StoredResource::from_row(
            self.id,
            &self.resource,
            self.version,
            self.created_at,
            self.last_modified,
        )
    }
}

/// A table of SCIM resources, with the statements every such table answers.
pub trait ResourceTable {
    /// What a row holds besides the columns every resource table has.
    type Attributes<'a>;
    /// What an update writes of them.
    type Changes<'a>;
    /// The columns [`ResourceRow`] is read from.
    type Columns: Copy;
    const COLUMNS: Self::Columns;

    /// One resource of the organisation: a probe of the primary key.
    fn find_by_id(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<Option<StoredResource>>;

    /// Which of `ids` name rows of the organisation: by primary key alone, the organisation
    /// checked after loading (see [`in_org`]).
    fn ids_in_org(conn: &mut DbConn, org: &OrgId, ids: &[String]) -> Result<Vec<String>>;

    /// Locks one resource row until the transaction ends, so concurrent writers of the same
    /// resource queue instead of losing the optimistic version check (PostgreSQL runs them side
    /// by side; SQLite's IMMEDIATE transactions already serialise every writer).
    /// Scoped by organisation, so that naming another tenant's id never holds its row.
    fn lock(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<()>;

    /// Deletes the row and the memberships it has in groups (RFC 7644 §3.6); answers whether
    /// the row existed.
    fn delete(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<bool>;

    /// Inserts a new row at version 1.
    fn insert(
        conn: &mut DbConn,
        org: &OrgId,
        id: &str,
        attributes: Self::Attributes<'_>,
        now: NaiveDateTime,
    ) -> Result<()>;

    /// Writes `attributes` (none: only the version, for a change that lives outside the row,
    /// such as a group's members) with a new version if the row is still at
    /// `expected_version`; answers `false` when a concurrent writer got there first.
    fn update(
        conn: &mut DbConn,
        org: &OrgId,
        id: &str,
        expected_version: i64,
        attributes: Option<Self::Changes<'_>>,
        now: NaiveDateTime,
    ) -> Result<bool>;
}

/// The ids of `rows` (id, org) that belong to `org`.
///
/// Lookups by a list of ids filter on the primary key alone and check the organisation here:
/// with `org_id` in the condition, SQLite's planner (which keeps no statistics) took the
/// organisation's indexes for the narrower choice and walked every row of a large tenant.
pub(crate) fn in_org(
    rows: Vec<(String, String)>,
    org: &OrgId,
) -> impl Iterator<Item = String> + '_ {
    rows.into_iter()
        .filter(move |(_, owner)| owner == org.as_str())
        .map(|(id, _)| id)
}

/// An `UPDATE` of one resource row at `expected_version`, setting `changes` (a diesel
/// changeset: `col = ?, …`), that diesel keeps prepared per connection. diesel's own
/// `UPDATE` is prepared anew on every run (it may not know its SQL in advance), and on a
/// `PATCH /Users` that preparation was 8% of the writer's time, the thread every SCIM write
/// waits for (issue 15). An update writes only the columns that changed, so its SQL takes one
/// of a few shapes, and diesel caches a statement by its SQL once it is told that the SQL
/// alone identifies it (no static query id, nothing unsafe to cache).
pub(crate) struct CachedUpdate<'a, Changes> {
    pub(crate) table: &'static str,
    pub(crate) changes: Changes,
    pub(crate) org: &'a str,
    pub(crate) id: &'a str,
    pub(crate) expected_version: i64,
}

impl<Changes> diesel::query_builder::QueryId for CachedUpdate<'_, Changes> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB, Changes> diesel::query_builder::QueryFragment<DB> for CachedUpdate<'_, Changes>
where
    DB: diesel::backend::Backend,
    Changes: diesel::query_builder::QueryFragment<DB>,
    str: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("UPDATE ");
        out.push_identifier(self.table)?;
        out.push_sql(" SET ");
        self.changes.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE org_id = ");
        out.push_bind_param::<Text, str>(self.org)?;
        out.push_sql(" AND id = ");
        out.push_bind_param::<Text, str>(self.id)?;
        out.push_sql(" AND version = ");
        out.push_bind_param::<BigInt, i64>(&self.expected_version)?;
        Ok(())
    }
}

impl<Changes, Conn> diesel::RunQueryDsl<Conn> for CachedUpdate<'_, Changes> {}

/// Implements [`ResourceTable`] for the `diesel::table!` named `$table`, whose own columns
/// `$attributes` names (and `$changes`, those an update writes); invoked beside each table's
/// code.
macro_rules! resource_table {
    ($table:ident, $attributes:ident, $changes:ident) => {
        // A block of its own, so that the statements' imports do not meet the caller's.
        const _: () = {
            use chrono::NaiveDateTime;
            use diesel::prelude::*;
            use diesel::sql_types::Text;
            use $crate::error::Result;
            use $crate::store::resource_table::{ResourceRow, ResourceTable, in_org};
            use $crate::store::resources::StoredResource;
            use $crate::store::schema::{group_members, $table};
            use $crate::store::{DbConn, OrgId};

            impl ResourceTable for $table::table {
                type Attributes<'a> = $attributes<'a>;
                type Changes<'a> = $changes<'a>;
                type Columns = (
                    $table::id,
                    $table::resource,
                    $table::version,
                    $table::created_at,
                    $table::last_modified,
                );
                const COLUMNS: Self::Columns = (
                    $table::id,
                    $table::resource,
                    $table::version,
                    $table::created_at,
                    $table::last_modified,
                );

                fn find_by_id(
                    conn: &mut DbConn,
                    org: &OrgId,
                    id: &str,
                ) -> Result<Option<StoredResource>> {
                    $table::table
                        .filter($table::org_id.eq(org.as_str()))
                        .filter($table::id.eq(id))
                        .select(Self::COLUMNS)
                        .get_result::<ResourceRow>(conn)
                        .optional()?
                        .map(ResourceRow::into_stored)
                        .transpose()
                }

                fn ids_in_org(
                    conn: &mut DbConn,
                    org: &OrgId,
                    ids: &[String],
                ) -> Result<Vec<String>> {
                    let rows = conn
                        .planned_per_run(
                            $table::table
                                .filter($table::id.eq_any(ids))
                                .select(($table::id, $table::org_id)),
                        )
                        .load(conn)?;
                    Ok(in_org(rows, org).collect())
                }

                fn lock(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<()> {
                    if let DbConn::Postgres(pg) = conn {
                        diesel::sql_query(concat!(
                            "SELECT 1 FROM ",
                            stringify!($table),
                            " WHERE id = $1 AND org_id = $2 FOR UPDATE"
                        ))
                        .bind::<Text, _>(id)
                        .bind::<Text, _>(org.as_str())
                        .execute(pg)?;
                    }
                    Ok(())
                }

                fn delete(conn: &mut DbConn, org: &OrgId, id: &str) -> Result<bool> {
                    diesel::delete(
                        group_members::table
                            .filter(group_members::org_id.eq(org.as_str()))
                            .filter(group_members::member_id.eq(id)),
                    )
                    .execute(conn)?;
                    let deleted = diesel::delete(
                        $table::table
                            .filter($table::org_id.eq(org.as_str()))
                            .filter($table::id.eq(id)),
                    )
                    .execute(conn)?;
                    Ok(deleted == 1)
                }

                fn insert(
                    conn: &mut DbConn,
                    org: &OrgId,
                    id: &str,
                    attributes: $attributes<'_>,
                    now: NaiveDateTime,
                ) -> Result<()> {
                    diesel::insert_into($table::table)
                        .values((
                            $table::id.eq(id),
                            $table::org_id.eq(org.as_str()),
                            attributes,
                            $table::version.eq(1_i64),
                            $table::created_at.eq(now),
                            $table::last_modified.eq(now),
                        ))
                        .execute(conn)?;
                    Ok(())
                }

                fn update(
                    conn: &mut DbConn,
                    org: &OrgId,
                    id: &str,
                    expected_version: i64,
                    attributes: Option<$changes<'_>>,
                    now: NaiveDateTime,
                ) -> Result<bool> {
                    use diesel::query_builder::AsChangeset;
                    let update = $crate::store::resource_table::CachedUpdate {
                        table: stringify!($table),
                        changes: (
                            attributes,
                            $table::version.eq(expected_version + 1),
                            $table::last_modified.eq(now),
                        )
                            .as_changeset(),
                        org: org.as_str(),
                        id,
                        expected_version,
                    };
                    let updated = match conn {
                        DbConn::Sqlite(conn) => update.execute(conn)?,
                        DbConn::Postgres(conn) => update.execute(conn)?,
                    };
                    Ok(updated == 1)
                }
            }
        };
    };
}
pub(crate) use resource_table;

#[cfg(test)]
mod tests {
    use diesel::connection::InstrumentationEvent;
    use serde_json::json;

    use super::ResourceTable;
    use crate::scim::resource::prepare;
    use crate::scim::schema::USER_RESOURCE_TYPE;
    use crate::store::schema::users;
    use crate::store::testing::{migrated_sqlite, record_statements};
    use crate::store::{DbConn, now, orgs, users::insert_user};

    /// What an update costs the writer: a statement prepared on the first run of each shape,
    /// none on the next ones.
    #[test]
    fn an_update_is_prepared_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, store) = migrated_sqlite(&dir, "u.db", 1);
        store
            .run_blocking(|conn| {
                let org = orgs::insert_org(conn, "o", now()).unwrap().id;
                let prepared =
                    prepare(&USER_RESOURCE_TYPE, &json!({"userName": "bjensen"}), None).unwrap();
                let user = insert_user(conn, &org, &prepared, None, now()).unwrap();
                let DbConn::Sqlite(sqlite) = &mut *conn else {
                    panic!("an SQLite store");
                };
                let cached = record_statements(sqlite, |event| match event {
                    InstrumentationEvent::CacheQuery { sql, .. } => Some(sql.to_owned()),
                    _ => None,
                });
                for version in 1..=3 {
                    let updated =
                        users::table::update(conn, &org, &user.id, version, None, now()).unwrap();
                    assert!(updated, "version {version} is the stored one");
                }
                let stale = users::table::update(conn, &org, &user.id, 1, None, now()).unwrap();
                assert!(!stale, "an update at an older version changes nothing");
                let cached = cached.lock().unwrap();
                assert_eq!(cached.len(), 1, "prepared: {cached:?}");
                assert!(cached[0].starts_with("UPDATE `users` SET"), "{}", cached[0]);
                Ok(())
            })
            .unwrap();
    }
}
