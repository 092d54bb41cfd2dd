//! Poll-based delivery (RFC 8936): a receiver acknowledges what it processed and takes the
//! next SETs of its stream. What is not acknowledged is handed out again on the next poll.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use tokio::sync::Notify;

use super::Signer;
use crate::error::{Error, Result};
use crate::store::events::{self as stored, StreamRow};
use crate::store::{DbConn, StreamId};

/// Most SETs one poll answers; `maxEvents` above it is lowered to it.
pub const MAX_EVENTS: i64 = 1000;
/// SETs a poll answers when `maxEvents` is absent.
pub const DEFAULT_EVENTS: i64 = 100;

/// Signalled when a write committed events on this instance: long polls waiting here wake at
/// once, and re-check every so often for other instances' writes.
static NEW_EVENTS: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Wakes this instance's long polls. Called after a write's transaction committed (before,
/// a woken poll would not see the event yet); costs an atomic operation when none waits.
pub fn wake() {
    NEW_EVENTS.notify_waiters();
}

/// A future that resolves on the next [`wake`]: created before the check for events, so a
/// wake between the check and the wait is not missed.
pub fn next_wake() -> tokio::sync::futures::Notified<'static> {
    NEW_EVENTS.notified()
}

/// One receiver's report on a SET it could not process (RFC 8936 §2.4.3, `setErrs`).
#[derive(Debug, Clone)]
pub struct SetError {
    pub err: String,
    pub description: Option<String>,
}

/// A poll request, parsed (RFC 8936 §2.4).
#[derive(Debug, Clone, Default)]
pub struct PollRequest {
    /// `ack`: the `jti`s the receiver processed.
    pub ack: Vec<String>,
    /// `setErrs`: the `jti`s it could not process, with why. They are not delivered again.
    pub set_errs: Vec<(String, SetError)>,
    /// `maxEvents` (0: acknowledge only).
    pub max_events: i64,
    /// scimd's replay extension: every event of the stream from this position on, delivered
    /// or not (positions are answered beside the SETs).
    pub from: Option<i64>,
}

/// The SETs of one poll, in order, by `jti`, with their positions.
#[derive(Debug, Default)]
pub struct PollBatch {
    pub sets: Vec<(String, String)>,
    pub positions: BTreeMap<String, i64>,
    pub more_available: bool,
}

impl PollBatch {
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// Records the receiver's acknowledgements and errors for `stream`, in the caller's write
/// transaction. Unknown `jti`s (another stream's, or swept) are ignored, as RFC 8936 §2.4.2
/// lets a transmitter do.
pub fn acknowledge(
    conn: &mut DbConn,
    stream: &StreamId,
    request: &PollRequest,
    now: NaiveDateTime,
) -> Result<()> {
    if !request.ack.is_empty() {
        let seqs = stored::seqs_of(conn, stream, &request.ack)?;
        stored::mark_delivered(conn, stream, &seqs)?;
    }
    for (jti, error) in &request.set_errs {
        let seqs = stored::seqs_of(conn, stream, std::slice::from_ref(jti))?;
        let reason = match &error.description {
            Some(description) => format!("receiver: {} ({description})", error.err),
            None => format!("receiver: {}", error.err),
        };
        for seq in &seqs {
            stored::record_failure(conn, stream, *seq, &truncated(&reason), now)?;
        }
        stored::mark_delivered(conn, stream, &seqs)?;
    }
    Ok(())
}

/// What a receiver wrote is shown to admins: bounded.
fn truncated(text: &str) -> String {
    const MAX: usize = 500;
    text.chars().take(MAX).collect()
}

/// The next SETs of `stream` for `request` (after its acknowledgements were recorded),
/// signed; `base_url` gives their `iss`.
pub fn next_batch(
    conn: &mut DbConn,
    stream: &StreamRow,
    request: &PollRequest,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<PollBatch> {
    let limit = request.max_events.clamp(0, MAX_EVENTS);
    if limit == 0 {
        return Ok(PollBatch::default());
    }
    let id = stream.stream_id();
    let mut rows = match request.from {
        Some(from) => stored::from_position(conn, &id, from, limit + 1)?,
        None => stored::next_pending(conn, &id, limit + 1)?,
    };
    let more_available = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if rows.is_empty() {
        return Ok(PollBatch::default());
    }
    let signer = Signer::of(conn, &stream.org(), now)?;
    let mut batch = PollBatch {
        more_available,
        ..PollBatch::default()
    };
    for (event, _) in rows {
        let set = signer.sign(stream, &event, base_url, now)?;
        batch.positions.insert(event.id.clone(), event.seq);
        batch.sets.push((event.id, set));
    }
    Ok(batch)
}

/// The poll stream `token` reads, which must be `id`: a stream's token polls that stream only
/// (another stream, of any organization, is not found).
pub fn stream_for_poll(
    conn: &mut DbConn,
    token: &crate::store::TokenId,
    id: &StreamId,
) -> Result<StreamRow> {
    let not_found = || Error::not_found(format_args!("event stream {id}"));
    let stream = stored::stream_of_token(conn, token)?.ok_or_else(not_found)?;
    if stream.id != id.as_str() || stream.delivery != "poll" {
        return Err(not_found());
    }
    Ok(stream)
}
