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
                    let updated = diesel::update(
                        $table::table
                            .filter($table::org_id.eq(org.as_str()))
                            .filter($table::id.eq(id))
                            .filter($table::version.eq(expected_version)),
                    )
                    .set((
                        attributes,
                        $table::version.eq(expected_version + 1),
                        $table::last_modified.eq(now),
                    ))
                    .execute(conn)?;
                    Ok(updated == 1)
                }
            }
        };
    };
}
pub(crate) use resource_table;
