//! Push delivery's bookkeeping on the streams: which instance delivers a stream (a lease
//! taken and renewed by a conditional UPDATE, the same statement on both backends), and
//! since when a stream has been failing.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use super::events::StreamRow;
use super::outbox::PENDING;
use super::schema::{event_deliveries, event_streams};
use super::{DbConn, StreamId};
use crate::error::Result;

/// A push stream's delivery state beside its row.
#[derive(Debug, Clone)]
pub struct PushStream {
    pub row: StreamRow,
    pub failing_since: Option<NaiveDateTime>,
}

/// Enabled push streams with an event due for delivery at `now`, across organizations. One
/// probe of the `(stream_id, state, event_seq)` key per push stream.
pub fn due_push_streams(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<PushStream>> {
    let due = event_deliveries::table
        .filter(event_deliveries::stream_id.eq(event_streams::id))
        .filter(event_deliveries::state.eq(PENDING))
        .filter(event_deliveries::next_attempt_at.le(now));
    let rows: Vec<(StreamRow, Option<NaiveDateTime>)> = event_streams::table
        .filter(event_streams::delivery.eq("push"))
        .filter(event_streams::status.eq("enabled"))
        .filter(exists(due))
        .order(event_streams::id)
        .select((StreamRow::as_select(), event_streams::push_failing_since))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, failing_since)| PushStream { row, failing_since })
        .collect())
}

/// Takes or renews the lease on `stream` for `owner` until `until`: succeeds when the stream
/// is enabled and nobody else holds an unexpired lease. One statement, so two instances
/// racing for it cannot both win: PostgreSQL re-checks the condition on the row it waited
/// for, SQLite runs one writer at a time.
pub fn take_lease(
    conn: &mut DbConn,
    stream: &StreamId,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool> {
    let taken = diesel::update(
        event_streams::table
            .filter(event_streams::id.eq(stream.as_str()))
            .filter(event_streams::status.eq("enabled"))
            .filter(
                event_streams::push_lease_owner
                    .is_null()
                    .or(event_streams::push_lease_owner.eq(owner))
                    .or(event_streams::push_lease_until.lt(now)),
            ),
    )
    .set((
        event_streams::push_lease_owner.eq(owner),
        event_streams::push_lease_until.eq(until),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease up, so that another instance need not wait for it to expire.
pub fn release_lease(conn: &mut DbConn, stream: &StreamId, owner: &str) -> Result<()> {
    diesel::update(
        event_streams::table
            .filter(event_streams::id.eq(stream.as_str()))
            .filter(event_streams::push_lease_owner.eq(owner)),
    )
    .set((
        event_streams::push_lease_owner.eq(None::<String>),
        event_streams::push_lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Sets or clears the moment the stream's current run of failures began.
pub fn set_failing_since(
    conn: &mut DbConn,
    stream: &StreamId,
    since: Option<NaiveDateTime>,
) -> Result<()> {
    diesel::update(event_streams::table.filter(event_streams::id.eq(stream.as_str())))
        .set(event_streams::push_failing_since.eq(since))
        .execute(conn)?;
    Ok(())
}

/// Records `error` as the stream's last error, its status unchanged.
pub fn set_last_error(
    conn: &mut DbConn,
    stream: &StreamId,
    error: &str,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::update(event_streams::table.filter(event_streams::id.eq(stream.as_str())))
        .set((
            event_streams::last_error.eq(error),
            event_streams::last_error_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stops a stream: `failed`, with the error that ended it; an admin resumes it.
pub fn fail_stream(
    conn: &mut DbConn,
    stream: &StreamId,
    error: &str,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::update(event_streams::table.filter(event_streams::id.eq(stream.as_str())))
        .set((
            event_streams::status.eq("failed"),
            event_streams::last_error.eq(error),
            event_streams::last_error_at.eq(now),
            event_streams::updated_at.eq(now),
            event_streams::push_failing_since.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}
