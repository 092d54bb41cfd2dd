//! The change feed as stored: event streams, the outbox of events (written in the transaction
//! of the write each describes), the per-stream delivery state, and the organizations' signing
//! keys. What an event means and how it is signed is `service::events`.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use super::outbox::{DELIVERED, PENDING};
use super::schema::{event_deliveries, event_signing_keys, event_streams, events};
use super::{DbConn, OrgId, StreamId, TokenId};
use crate::error::Result;

/// A stream as stored. `push_authorization` is a secret: only the push deliverer reads it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_streams)]
pub struct StreamRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub delivery: String,
    pub detail: String,
    pub event_types: Option<String>,
    pub resource_types: Option<String>,
    pub poll_token_id: Option<String>,
    pub push_url: Option<String>,
    pub push_authorization: Option<String>,
    pub audience: String,
    pub status: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl StreamRow {
    pub fn stream_id(&self) -> StreamId {
        StreamId::from_db(self.id.clone())
    }

    pub fn org(&self) -> OrgId {
        OrgId::from_db(self.org_id.clone())
    }
}

/// A new stream.
#[derive(Debug, Insertable)]
#[diesel(table_name = event_streams)]
pub struct NewStream<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub name: &'a str,
    pub delivery: &'a str,
    pub detail: &'a str,
    pub event_types: Option<&'a str>,
    pub resource_types: Option<&'a str>,
    pub poll_token_id: Option<&'a str>,
    pub push_url: Option<&'a str>,
    pub push_authorization: Option<&'a str>,
    pub audience: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_stream(conn: &mut DbConn, stream: &NewStream<'_>) -> Result<()> {
    super::outbox::forget_interests(stream.org_id);
    diesel::insert_into(event_streams::table)
        .values(stream)
        .execute(conn)?;
    Ok(())
}

pub fn list_streams(conn: &mut DbConn, org: &OrgId) -> Result<Vec<StreamRow>> {
    Ok(event_streams::table
        .filter(event_streams::org_id.eq(org.as_str()))
        .order(event_streams::name)
        .select(StreamRow::as_select())
        .load(conn)?)
}

pub fn find_stream(conn: &mut DbConn, org: &OrgId, id: &StreamId) -> Result<Option<StreamRow>> {
    Ok(event_streams::table
        .filter(event_streams::id.eq(id.as_str()))
        .filter(event_streams::org_id.eq(org.as_str()))
        .select(StreamRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// A stream of any organization, for the deliverer that works across them.
pub fn find_stream_any_org(conn: &mut DbConn, id: &StreamId) -> Result<Option<StreamRow>> {
    Ok(event_streams::table
        .filter(event_streams::id.eq(id.as_str()))
        .select(StreamRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Every stream delivered by `delivery` in `status`, across organizations.
pub fn streams_by(conn: &mut DbConn, delivery: &str, status: &str) -> Result<Vec<StreamRow>> {
    Ok(event_streams::table
        .filter(event_streams::delivery.eq(delivery))
        .filter(event_streams::status.eq(status))
        .order(event_streams::id)
        .select(StreamRow::as_select())
        .load(conn)?)
}

/// The stream a poll credential reads.
pub fn stream_of_token(conn: &mut DbConn, token: &TokenId) -> Result<Option<StreamRow>> {
    Ok(event_streams::table
        .filter(event_streams::poll_token_id.eq(token.as_str()))
        .select(StreamRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Sets a stream's status; `error` is recorded as its last error when given.
pub fn set_stream_status(
    conn: &mut DbConn,
    org: &OrgId,
    id: &StreamId,
    status: &str,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool> {
    let target = event_streams::table
        .filter(event_streams::id.eq(id.as_str()))
        .filter(event_streams::org_id.eq(org.as_str()));
    let changed = match error {
        Some(error) => diesel::update(target)
            .set((
                event_streams::status.eq(status),
                event_streams::last_error.eq(error),
                event_streams::last_error_at.eq(now),
                event_streams::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                event_streams::status.eq(status),
                event_streams::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(changed > 0)
}

/// Deletes a stream with its delivery state; answers whether it existed.
pub fn delete_stream(conn: &mut DbConn, org: &OrgId, id: &StreamId) -> Result<bool> {
    super::outbox::forget_interests(org.as_str());
    diesel::delete(event_deliveries::table.filter(event_deliveries::stream_id.eq(id.as_str())))
        .execute(conn)?;
    let deleted = diesel::delete(
        event_streams::table
            .filter(event_streams::id.eq(id.as_str()))
            .filter(event_streams::org_id.eq(org.as_str())),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}

/// An event as stored. JSON columns hold arrays of strings (`attributes`, `members_*`) or
/// the resource (`data`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub event_type: String,
    pub activation: Option<String>,
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

/// Every state a delivery can be in. A query that finds deliveries by stream and position
/// names them: the state is part of the key, between the two (see the migrations
/// `event_outbox_pages`).
const STATES: [&str; 2] = [PENDING, DELIVERED];

/// A stream's delivery of one event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_deliveries)]
pub struct DeliveryRow {
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
}

/// The first `limit` events of `stream` not yet delivered, in order, with their delivery
/// state: one range of the `(stream_id, state, event_seq)` key.
pub fn next_pending(
    conn: &mut DbConn,
    stream: &StreamId,
    limit: i64,
) -> Result<Vec<(EventRow, DeliveryRow)>> {
    Ok(event_deliveries::table
        .inner_join(events::table)
        .filter(event_deliveries::stream_id.eq(stream.as_str()))
        .filter(event_deliveries::state.eq(PENDING))
        .order(event_deliveries::event_seq)
        .limit(limit)
        .select((EventRow::as_select(), DeliveryRow::as_select()))
        .load(conn)?)
}

/// The events of `stream` from position `from` on, delivered or not, in order: replay. One
/// range of the key per state, merged: the key orders a stream's deliveries by state first,
/// and one query over both would sort all the stream's retained deliveries for the first
/// `limit`.
pub fn from_position(
    conn: &mut DbConn,
    stream: &StreamId,
    from: i64,
    limit: i64,
) -> Result<Vec<(EventRow, DeliveryRow)>> {
    let mut found = Vec::new();
    for state in STATES {
        found.extend(
            event_deliveries::table
                .inner_join(events::table)
                .filter(event_deliveries::stream_id.eq(stream.as_str()))
                .filter(event_deliveries::state.eq(state))
                .filter(event_deliveries::event_seq.ge(from))
                .order(event_deliveries::event_seq)
                .limit(limit)
                .select((EventRow::as_select(), DeliveryRow::as_select()))
                .load::<(EventRow, DeliveryRow)>(conn)?,
        );
    }
    found.sort_by_key(|(event, _)| event.seq);
    found.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(found)
}

/// Marks the events at `seqs` delivered to `stream`; answers how many were pending.
pub fn mark_delivered(conn: &mut DbConn, stream: &StreamId, seqs: &[i64]) -> Result<usize> {
    let mut marked = 0;
    for chunk in seqs.chunks(super::resources::IN_LIST_CHUNK) {
        marked += diesel::update(
            event_deliveries::table
                .filter(event_deliveries::stream_id.eq(stream.as_str()))
                .filter(event_deliveries::event_seq.eq_any(chunk))
                .filter(event_deliveries::state.eq(PENDING)),
        )
        .set(event_deliveries::state.eq(DELIVERED))
        .execute(conn)?;
    }
    Ok(marked)
}

/// The positions of the events with these `jti`s that `stream` has (others are ignored).
pub fn seqs_of(conn: &mut DbConn, stream: &StreamId, jtis: &[String]) -> Result<Vec<i64>> {
    let mut seqs = Vec::with_capacity(jtis.len());
    for chunk in jtis.chunks(super::resources::IN_LIST_CHUNK) {
        seqs.extend(
            event_deliveries::table
                .inner_join(events::table)
                .filter(event_deliveries::stream_id.eq(stream.as_str()))
                .filter(event_deliveries::state.eq_any(STATES))
                .filter(events::id.eq_any(chunk))
                .select(events::seq)
                .load::<i64>(conn)?,
        );
    }
    Ok(seqs)
}

/// Records a failed attempt to deliver one event: it stays pending until `next_attempt_at`.
pub fn record_failure(
    conn: &mut DbConn,
    stream: &StreamId,
    seq: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> Result<()> {
    diesel::update(
        event_deliveries::table
            .filter(event_deliveries::stream_id.eq(stream.as_str()))
            .filter(event_deliveries::state.eq_any(STATES))
            .filter(event_deliveries::event_seq.eq(seq)),
    )
    .set((
        event_deliveries::attempts.eq(event_deliveries::attempts + 1),
        event_deliveries::next_attempt_at.eq(next_attempt_at),
        event_deliveries::last_error.eq(error),
    ))
    .execute(conn)?;
    Ok(())
}

/// What one step of the retention sweep found (see [`expired_unwanted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// The events to delete, by organization.
    pub by_org: Vec<ExpiredOfOrg>,
    /// Where the next step starts; `None` once a batch held no expired event, or the sweep
    /// reached the last event.
    pub next: Option<i64>,
}

/// The events of one organization the sweep may delete, and the streams whose deliveries of
/// them go too. Streams made since have no deliveries of older events, and a deleted stream
/// took its own along, so the list read with the events serves their deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredOfOrg {
    pub org: String,
    pub streams: Vec<String>,
    pub seqs: Vec<i64>,
}

/// Looks at up to `batch` events after position `after`, in order, and answers those that
/// happened before `before` and that no stream still waits for. Positions follow time, up to
/// the clocks of the instances that wrote them: a batch without one expired event ends the
/// sweep (one event stamped ahead by a skewed clock does not), so it walks only what it may
/// delete, what a stopped stream still waits for, and one batch more, with no index of times
/// under every event.
///
/// A read: an event no stream waits for stays so (a delivery is made once, and a new stream
/// gets no old events), so what it answers may be deleted afterwards, outside this snapshot.
pub fn expired_unwanted(
    conn: &mut DbConn,
    before: NaiveDateTime,
    after: i64,
    batch: i64,
) -> Result<Expired> {
    let candidates: Vec<(i64, NaiveDateTime, String)> = events::table
        .filter(events::seq.gt(after))
        .order(events::seq)
        .limit(batch)
        .select((events::seq, events::occurred_at, events::org_id))
        .load(conn)?;
    let expired: Vec<&(i64, NaiveDateTime, String)> = candidates
        .iter()
        .filter(|(_, occurred_at, _)| *occurred_at < before)
        .collect();
    let whole_batch = i64::try_from(candidates.len()).is_ok_and(|looked_at| looked_at == batch);
    let next = match candidates.last() {
        Some((seq, _, _)) if whole_batch && !expired.is_empty() => Some(*seq),
        _ => None,
    };
    let mut by_org: Vec<ExpiredOfOrg> = Vec::new();
    for (seq, _, org) in expired {
        match by_org.iter_mut().find(|known| &known.org == org) {
            Some(known) => known.seqs.push(*seq),
            None => by_org.push(ExpiredOfOrg {
                org: org.clone(),
                streams: Vec::new(),
                seqs: vec![*seq],
            }),
        }
    }
    for of_org in &mut by_org {
        // Only the organization's own streams have deliveries of its events: one key
        // lookup per stream and event.
        of_org.streams = event_streams::table
            .filter(event_streams::org_id.eq(&of_org.org))
            .select(event_streams::id)
            .load(conn)?;
        let waited_for: BTreeSet<i64> = event_deliveries::table
            .filter(event_deliveries::stream_id.eq_any(&of_org.streams))
            .filter(event_deliveries::state.eq(PENDING))
            .filter(event_deliveries::event_seq.eq_any(&of_org.seqs))
            .select(event_deliveries::event_seq)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        of_org.seqs.retain(|seq| !waited_for.contains(seq));
    }
    by_org.retain(|of_org| !of_org.seqs.is_empty());
    Ok(Expired { by_org, next })
}

/// Deletes the events [`expired_unwanted`] found, with their deliveries; answers how many
/// events went.
pub fn delete_events(conn: &mut DbConn, expired: &ExpiredOfOrg) -> Result<usize> {
    diesel::delete(
        event_deliveries::table
            .filter(event_deliveries::stream_id.eq_any(&expired.streams))
            .filter(event_deliveries::state.eq_any(STATES))
            .filter(event_deliveries::event_seq.eq_any(&expired.seqs)),
    )
    .execute(conn)?;
    Ok(diesel::delete(
        events::table
            .filter(events::org_id.eq(&expired.org))
            .filter(events::seq.eq_any(&expired.seqs)),
    )
    .execute(conn)?)
}

/// A signing key as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_signing_keys)]
pub struct KeyRow {
    pub kid: String,
    pub org_id: String,
    pub private_key: Vec<u8>,
    pub public_x: String,
    pub public_y: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

pub fn insert_key(conn: &mut DbConn, key: &KeyRow) -> Result<()> {
    diesel::insert_into(event_signing_keys::table)
        .values(key)
        .execute(conn)?;
    Ok(())
}

/// The key `org` signs with now: its newest key not retired (rotation retires the others,
/// so there is one, or two when two first uses raced).
pub fn current_key(conn: &mut DbConn, org: &OrgId) -> Result<Option<KeyRow>> {
    Ok(event_signing_keys::table
        .filter(event_signing_keys::org_id.eq(org.as_str()))
        .filter(event_signing_keys::retired_at.is_null())
        .order(event_signing_keys::created_at.desc())
        .select(KeyRow::as_select())
        .load(conn)?
        .into_iter()
        .next())
}

/// The keys of organization `org` (an id from a public URL: no [`OrgId`] is made of it) a
/// receiver may still meet: those not retired, and those retired after `retired_after`.
pub fn published_keys(
    conn: &mut DbConn,
    org: &str,
    retired_after: NaiveDateTime,
) -> Result<Vec<KeyRow>> {
    Ok(event_signing_keys::table
        .filter(event_signing_keys::org_id.eq(org))
        .filter(
            event_signing_keys::retired_at
                .is_null()
                .or(event_signing_keys::retired_at.gt(retired_after)),
        )
        .order(event_signing_keys::created_at.desc())
        .select(KeyRow::as_select())
        .load(conn)?)
}

/// Retires every key of `org` still in use.
pub fn retire_keys(conn: &mut DbConn, org: &OrgId, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(
        event_signing_keys::table
            .filter(event_signing_keys::org_id.eq(org.as_str()))
            .filter(event_signing_keys::retired_at.is_null()),
    )
    .set(event_signing_keys::retired_at.eq(now))
    .execute(conn)?)
}
