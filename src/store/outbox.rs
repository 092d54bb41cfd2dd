//! Appending to the change feed's outbox: an event and a pending delivery for each stream that
//! wants it, in the transaction of the write the event describes.
//!
//! In the SQLite writer (see [`super::writer`]) the appends of a whole batch wait in memory
//! and go in together just before its COMMIT ([`Deferral`]), so that an event costs a row in
//! a multi-row statement instead of two statements of its own: an organization with a push
//! stream made every SCIM write a fifth dearer than without (issue 14), and most of that was
//! per statement — the binding, the stepping and the journaling of the outbox's pages into the
//! job's savepoint — not per row. A job that fails takes its events with it; a batch whose
//! COMMIT fails took them all. Elsewhere (PostgreSQL, the CLI) an event goes in at once.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_dsl::methods::ExecuteDsl;

use super::conn::transaction_depth;
use super::schema::event_streams;
use super::{DbConn, OrgId};
use crate::error::{Error, Result};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";

/// What an emission needs to know of a stream: which events it wants, in which detail.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_streams)]
pub struct StreamInterest {
    pub id: String,
    pub detail: String,
    pub event_types: Option<String>,
    pub resource_types: Option<String>,
}

/// The streams of `org` (every status: a paused or failed stream keeps collecting what it
/// will deliver once resumed). One probe of the `(org_id, name)` index, made by every write of
/// an organization (one without streams stops there); in the writer once per batch and
/// organization.
pub fn interests(conn: &mut DbConn, org: &OrgId) -> Result<Vec<StreamInterest>> {
    let cached = BATCH.with_borrow(|batch| {
        batch
            .as_ref()
            .and_then(|batch| batch.interests.get(org.as_str()).cloned())
    });
    if let Some(cached) = cached {
        return Ok(cached);
    }
    let loaded: Vec<StreamInterest> = event_streams::table
        .filter(event_streams::org_id.eq(org.as_str()))
        .select(StreamInterest::as_select())
        .load(conn)?;
    BATCH.with_borrow_mut(|batch| {
        if let Some(batch) = batch {
            batch
                .interests
                .insert(org.as_str().to_owned(), loaded.clone());
        }
    });
    Ok(loaded)
}

/// Called by whatever adds or removes a stream of `org`: a later write of the same batch must
/// see the change, as it would without the cache.
pub fn forget_interests(org: &str) {
    BATCH.with_borrow_mut(|batch| {
        if let Some(batch) = batch {
            batch.interests.remove(org);
        }
    });
}

/// A new event, before the database gives it its position. JSON columns hold arrays of
/// strings (`attributes`, `members_*`) or the resource (`data`).
#[derive(Debug)]
pub struct NewEvent {
    pub id: String,
    pub org_id: String,
    pub event_type: String,
    pub activation: Option<&'static str>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub external_id: Option<String>,
    pub version: Option<i64>,
    pub attributes: Option<String>,
    pub data: Option<String>,
    pub members_added: Option<String>,
    pub members_removed: Option<String>,
    pub txn_id: String,
    pub occurred_at: NaiveDateTime,
}

/// Appends `event` to the outbox with a pending delivery for each of `streams`: at once, or,
/// in the writer, just before the batch commits. Ids come from Rust, positions from the
/// database (the one order both backends agree on).
pub fn append(conn: &mut DbConn, event: NewEvent, streams: Vec<String>) -> Result<()> {
    let depth = transaction_depth(conn);
    let event = BATCH.with_borrow_mut(|batch| match batch {
        // The writer discards a job's events only with the whole job: one appended in a
        // savepoint of the job's own would outlive that savepoint's rollback.
        Some(batch) if depth != batch.job_depth => Err(Error::internal(
            "an event was appended inside a savepoint of the write's own",
        )),
        Some(batch) => {
            batch.events.push((event, streams));
            Ok(None)
        }
        None => Ok(Some((event, streams))),
    })?;
    if let Some((event, streams)) = event {
        insert(conn, &[(event, streams)])?;
    }
    Ok(())
}

thread_local! {
    /// The writer's batch in progress on this thread, if any.
    static BATCH: RefCell<Option<Batch>> = const { RefCell::new(None) };
}

struct Batch {
    /// In the order appended: the order of their positions.
    events: Vec<(NewEvent, Vec<String>)>,
    interests: HashMap<String, Vec<StreamInterest>>,
    /// How many transactions are open while a job runs: the batch's and the job's savepoint.
    job_depth: u32,
}

/// While it lives, appends on this thread wait for [`Deferral::flush`]: the writer holds one
/// per transaction, and runs each job in a savepoint of it. Dropped unflushed (the batch
/// failed), it discards them.
pub(super) struct Deferral(());

impl Deferral {
    /// Begins deferring for the transaction open on `conn`.
    pub(super) fn begin(conn: &mut DbConn) -> Deferral {
        BATCH.set(Some(Batch {
            events: Vec::new(),
            interests: HashMap::new(),
            job_depth: transaction_depth(conn) + 1,
        }));
        Deferral(())
    }

    /// Where the events of the job about to run will start.
    pub(super) fn mark(&self) -> usize {
        BATCH.with_borrow(|batch| batch.as_ref().map_or(0, |batch| batch.events.len()))
    }

    /// Forgets what was appended since `mark`: that job was rolled back. The streams it may
    /// have added or removed are read again.
    pub(super) fn discard_since(&self, mark: usize) {
        BATCH.with_borrow_mut(|batch| {
            if let Some(batch) = batch {
                batch.events.truncate(mark);
                batch.interests.clear();
            }
        });
    }

    /// Inserts what the batch appended, in the batch's transaction.
    pub(super) fn flush(&self, conn: &mut DbConn) -> Result<()> {
        let events = BATCH.with_borrow_mut(|batch| {
            batch
                .as_mut()
                .map(|batch| std::mem::take(&mut batch.events))
                .unwrap_or_default()
        });
        if events.is_empty() {
            return Ok(());
        }
        let events = still_wanted(conn, events)?;
        insert(conn, &events)
    }
}

impl Drop for Deferral {
    fn drop(&mut self) {
        BATCH.set(None);
    }
}

/// Runs a statement over `rows` in chunks of 32, 16, 8, 4, 2 and 1 rows, the largest that fit
/// first: six statement shapes, each prepared once per connection (diesel caches a statement
/// by its type), whatever number of rows a batch brings.
macro_rules! in_sized_chunks {
    ($conn:expr, $rows:expr, |$chunk:ident| $statement:expr) => {{
        let mut rest: &[_] = $rows;
        while !rest.is_empty() {
            let size = [32, 16, 8, 4, 2]
                .into_iter()
                .find(|size| *size <= rest.len())
                .unwrap_or(1);
            let ($chunk, tail) = rest.split_at(size);
            match size {
                32 => execute::<_, 32>($conn, $statement)?,
                16 => execute::<_, 16>($conn, $statement)?,
                8 => execute::<_, 8>($conn, $statement)?,
                4 => execute::<_, 4>($conn, $statement)?,
                2 => execute::<_, 2>($conn, $statement)?,
                _ => execute::<_, 1>($conn, $statement)?,
            };
            rest = tail;
        }
    }};
}

/// Inserts `events` and their deliveries, each event's streams read in the same transaction
/// (so they exist).
fn insert(conn: &mut DbConn, events: &[(NewEvent, Vec<String>)]) -> Result<()> {
    let mut by_stream: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (event, streams) in events {
        for stream in streams {
            by_stream.entry(stream).or_default().push(&event.id);
        }
    }
    let events: Vec<&NewEvent> = events.iter().map(|(event, _)| event).collect();
    in_sized_chunks!(conn, &events, |chunk| InsertEvents(chunk));
    for (stream, ids) in &by_stream {
        in_sized_chunks!(conn, ids, |chunk| InsertDeliveries { stream, ids: chunk });
    }
    Ok(())
}

/// What of a batch's `events` is still to be written: deliveries only to streams that exist
/// now (one removed after the event was appended, or its organization with it, would have had
/// it deleted by the cascade), and no event that no stream wants any more.
fn still_wanted(
    conn: &mut DbConn,
    events: Vec<(NewEvent, Vec<String>)>,
) -> Result<Vec<(NewEvent, Vec<String>)>> {
    let mut live: HashMap<String, HashSet<String>> = HashMap::new();
    for (event, _) in &events {
        if !live.contains_key(&event.org_id) {
            let streams = event_streams::table
                .filter(event_streams::org_id.eq(&event.org_id))
                .select(event_streams::id)
                .load::<String>(conn)?;
            live.insert(event.org_id.clone(), streams.into_iter().collect());
        }
    }
    Ok(events
        .into_iter()
        .filter_map(|(event, mut streams)| {
            let existing = live.get(&event.org_id)?;
            streams.retain(|stream| existing.contains(stream));
            (!streams.is_empty()).then_some((event, streams))
        })
        .collect())
}

/// Runs one of the sized statements below as the statement of `N` rows.
fn execute<S, const N: usize>(conn: &mut DbConn, statement: S) -> QueryResult<usize>
where
    Rows<S, N>: ExecuteDsl<diesel::SqliteConnection> + ExecuteDsl<diesel::PgConnection>,
{
    let statement = Rows::<S, N>(statement);
    match conn {
        DbConn::Sqlite(c) => ExecuteDsl::execute(statement, c),
        DbConn::Postgres(c) => ExecuteDsl::execute(statement, c),
    }
}

/// A statement over exactly `N` rows: its type names the number, so each size is a statement
/// of its own in diesel's cache.
#[derive(Debug, Clone, Copy)]
struct Rows<S, const N: usize>(S);

/// A statement whose size [`Rows`] sets; `Static` is its own type without a lifetime.
trait Shape {
    type Static: 'static;
}

impl<S: Shape, const N: usize> diesel::query_builder::QueryId for Rows<S, N> {
    type QueryId = Rows<S::Static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S, const N: usize, Conn> RunQueryDsl<Conn> for Rows<S, N> {}

impl<S, DB, const N: usize> diesel::query_builder::QueryFragment<DB> for Rows<S, N>
where
    DB: diesel::backend::Backend,
    S: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

/// `INSERT INTO events … VALUES (…), (…)`.
#[derive(Debug, Clone, Copy)]
struct InsertEvents<'a>(&'a [&'a NewEvent]);

impl Shape for InsertEvents<'_> {
    type Static = InsertEvents<'static>;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for InsertEvents<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    NaiveDateTime: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    for<'s> Option<&'s str>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
    Option<String>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
    Option<i64>:
        diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
        out.push_sql(
            "INSERT INTO events (id, org_id, event_type, activation, resource_type, \
             resource_id, external_id, version, attributes, data, members_added, \
             members_removed, txn_id, occurred_at) VALUES ",
        );
        for (n, event) in self.0.iter().enumerate() {
            out.push_sql(if n == 0 { "(" } else { ", (" });
            out.push_bind_param::<Text, str>(&event.id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(&event.org_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(&event.event_type)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, Option<&str>>(&event.activation)?;
            for text in [&event.resource_type, &event.resource_id, &event.external_id] {
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Text>, Option<String>>(text)?;
            }
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&event.version)?;
            for text in [
                &event.attributes,
                &event.data,
                &event.members_added,
                &event.members_removed,
            ] {
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Text>, Option<String>>(text)?;
            }
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(&event.txn_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, NaiveDateTime>(&event.occurred_at)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

/// Pending deliveries to `stream` of the events whose ids are `ids`. The events' positions
/// are found by id (the newest entries of that index) rather than through `RETURNING`, which
/// SQLite carries out through a temporary table of its own: a fifth of the cost of the insert.
#[derive(Debug, Clone, Copy)]
struct InsertDeliveries<'a> {
    stream: &'a str,
    ids: &'a [&'a str],
}

impl Shape for InsertDeliveries<'_> {
    type Static = InsertDeliveries<'static>;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for InsertDeliveries<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        out.push_sql(
            "INSERT INTO event_deliveries (stream_id, event_seq, state, attempts, \
             next_attempt_at) SELECT ",
        );
        out.push_bind_param::<Text, str>(self.stream)?;
        out.push_sql(", seq, '");
        out.push_sql(PENDING);
        out.push_sql("', 0, occurred_at FROM events WHERE id IN (");
        for (n, id) in self.ids.iter().enumerate() {
            if n > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, str>(id)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use diesel::prelude::*;

    use super::{Deferral, NewEvent, append};
    use crate::error::Error;
    use crate::store::events::{NewStream, delete_stream, insert_stream};
    use crate::store::schema::{event_deliveries, events};
    use crate::store::testing::migrated_sqlite;
    use crate::store::{DbConn, OrgId, Store, StreamId, orgs};

    fn migrated(dir: &tempfile::TempDir) -> Store {
        migrated_sqlite(dir, "outbox.db", 2).1
    }

    fn now() -> NaiveDateTime {
        crate::store::now()
    }

    /// An organization with two push streams, `a` and `b`.
    fn org_with_streams(conn: &mut DbConn) -> OrgId {
        let org = orgs::insert_org(conn, "outbox", now()).unwrap().id;
        for id in ["a", "b"] {
            insert_stream(
                conn,
                &NewStream {
                    id,
                    org_id: org.as_str(),
                    name: id,
                    delivery: "push",
                    detail: "notice",
                    event_types: None,
                    resource_types: None,
                    poll_token_id: None,
                    push_url: Some("https://receiver.example/events"),
                    push_authorization: None,
                    audience: "https://receiver.example/events",
                    status: "enabled",
                    created_at: now(),
                    updated_at: now(),
                },
            )
            .unwrap();
        }
        org
    }

    fn event(org: &OrgId, n: usize) -> NewEvent {
        NewEvent {
            id: format!("jti-{n:03}"),
            org_id: org.as_str().to_owned(),
            event_type: "create".to_owned(),
            activation: None,
            resource_type: Some("User".to_owned()),
            resource_id: Some(format!("user-{n}")),
            external_id: None,
            version: Some(1),
            attributes: Some(r#"["userName"]"#.to_owned()),
            data: None,
            members_added: None,
            members_removed: None,
            txn_id: format!("txn-{n}"),
            occurred_at: now(),
        }
    }

    fn streams(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    /// The events as stored, by position: their ids.
    fn stored_ids(conn: &mut DbConn) -> Vec<String> {
        events::table
            .order(events::seq)
            .select(events::id)
            .load(conn)
            .unwrap()
    }

    /// The deliveries of `stream`, by position: their events' ids.
    fn delivered_ids(conn: &mut DbConn, stream: &str) -> Vec<String> {
        event_deliveries::table
            .inner_join(events::table)
            .filter(event_deliveries::stream_id.eq(stream))
            .order(event_deliveries::event_seq)
            .select(events::id)
            .load(conn)
            .unwrap()
    }

    /// 45 events go in as statements of 32, 8, 4 and 1 rows: every one of them, in the order
    /// appended, each delivered to its streams. A job rolled back takes its events along; a
    /// stream removed before the flush gets nothing, and an event only it wanted is not written.
    /// An append inside a savepoint of the job's own is refused.
    #[test]
    fn a_deferred_batch_goes_in_whole_in_order_without_what_was_undone() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated(&dir);
        store
            .run_blocking(|conn| {
                let org = org_with_streams(conn);
                conn.transaction(|conn| {
                    let outbox = Deferral::begin(conn);
                    // Each append in a savepoint of its own, as the writer runs a job.
                    let job = |conn: &mut DbConn, n: usize, to: &[&str]| {
                        conn.transaction(|conn| append(conn, event(&org, n), streams(to)))
                    };
                    for n in 0..45 {
                        job(conn, n, &["a", "b"])?;
                        if n == 20 {
                            let mark = outbox.mark();
                            job(conn, 900, &["a"])?;
                            outbox.discard_since(mark);
                        }
                    }
                    job(conn, 901, &["b"])?;
                    // A savepoint inside the job's: its rollback could not take the event.
                    let nested = conn.transaction(|conn| job(conn, 902, &["a"]));
                    assert!(matches!(nested, Err(Error::Internal(_))), "{nested:?}");
                    assert!(
                        stored_ids(conn).is_empty(),
                        "nothing goes in before the flush"
                    );
                    delete_stream(conn, &org, &StreamId::from_db("b".to_owned()))?;
                    outbox.flush(conn)
                })
                .map_err(|error: Error| error)?;
                let expected: Vec<String> = (0..45).map(|n| format!("jti-{n:03}")).collect();
                assert_eq!(stored_ids(conn), expected);
                assert_eq!(delivered_ids(conn, "a"), expected);
                assert!(delivered_ids(conn, "b").is_empty());
                Ok(())
            })
            .unwrap();
    }

    /// In the writer: a job that fails after appending leaves no event behind, the next job's
    /// event goes in with its write, and outside the writer an append goes in at once.
    #[test]
    fn the_writer_keeps_the_events_of_the_jobs_that_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated(&dir);
        let org = store
            .write_queued_blocking(|conn| Ok(org_with_streams(conn)))
            .unwrap();
        let failing = org.clone();
        let failed = store.write_queued_blocking(move |conn| {
            append(conn, event(&failing, 1), streams(&["a"]))?;
            Err::<(), _>(Error::Conflict)
        });
        assert!(matches!(failed, Err(Error::Conflict)), "{failed:?}");
        let kept = org.clone();
        store
            .write_queued_blocking(move |conn| append(conn, event(&kept, 2), streams(&["a"])))
            .unwrap();
        store
            .run_blocking(|conn| {
                append(conn, event(&org, 3), streams(&["b"]))?;
                assert_eq!(stored_ids(conn), ["jti-002", "jti-003"]);
                assert_eq!(delivered_ids(conn, "a"), ["jti-002"]);
                assert_eq!(delivered_ids(conn, "b"), ["jti-003"]);
                Ok(())
            })
            .unwrap();
    }
}
