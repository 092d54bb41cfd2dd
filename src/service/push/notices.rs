//! Token notices: scimd's own events, sent to the streams that want them through the same
//! outbox as SCIM events, so that a token's coming expiry reaches the admin's alerting
//! without a mail server. Revocation and leak reports emit theirs where they happen (in
//! `service::tokens`); expiry and use after rotation are found by a scan every few minutes,
//! and each is sent once per token ([`crate::store::token_notices`]).
//!
//! The SET's subject is `{"format":"opaque","id":"<token id>"}` (RFC 9493 §3.2.4); the
//! event's `data` names the token: `{"token":{"id","name","prefix"},"expiresAt"?,
//! "warningDays"?}`, on notice and full streams alike. Never the secret or its digest.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::Result;
use crate::service::events::{self, EventDraft};
use crate::service::tokens::warnings::{EXPIRY_WARNING_DAYS, WarningKind, expiry_warning};
use crate::service::views::time::rfc3339;
use crate::store::token_notices::{self as stored, NoticedToken};
use crate::store::{self, DbConn, OrgId, Store, TokenId};

/// How often the scan runs by default.
pub const DEFAULT_SCAN_EVERY: Duration = Duration::from_secs(300);
/// An expiry or a use after rotation older than this is not announced: on the first start of
/// this version, old news would drown the current.
const LOOKBACK_DAYS: i64 = 7;
/// Tokens handled per scan; the rest wait for the next one.
const SCAN_LIMIT: i64 = 500;

/// A token notice, and its event URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Expires within 14 days.
    ExpiringSoon,
    /// Expires within a day.
    ExpiringWithinDay,
    Expired,
    Revoked,
    /// Reported as leaked, and revoked for it.
    Leaked,
    /// Presented after its rotation's grace ended: whoever holds it missed the rotation,
    /// or it leaked.
    UsedAfterRotation,
}

impl Notice {
    pub fn uri(self) -> &'static str {
        match self {
            Notice::ExpiringSoon | Notice::ExpiringWithinDay => "urn:scimd:event:token:expiring",
            Notice::Expired => "urn:scimd:event:token:expired",
            Notice::Revoked => "urn:scimd:event:token:revoked",
            Notice::Leaked => "urn:scimd:event:token:leaked",
            Notice::UsedAfterRotation => "urn:scimd:event:token:used-after-rotation",
        }
    }

    /// The once-per-token marker of the notices the scan sends.
    fn marker(self) -> &'static str {
        match self {
            Notice::ExpiringSoon => "expiring-14d",
            Notice::ExpiringWithinDay => "expiring-1d",
            Notice::Expired => "expired",
            Notice::Revoked => "revoked",
            Notice::Leaked => "leaked",
            Notice::UsedAfterRotation => "used-after-rotation",
        }
    }

    /// The expiry notice due for a token expiring at `expires_at`: the console's thresholds.
    pub fn of_expiry(expires_at: NaiveDateTime, now: NaiveDateTime) -> Option<Notice> {
        match expiry_warning(expires_at, now)? {
            WarningKind::Expired => Some(Notice::Expired),
            WarningKind::ExpiresWithinDay => Some(Notice::ExpiringWithinDay),
            WarningKind::ExpiresSoon => Some(Notice::ExpiringSoon),
            WarningKind::Leaked => None,
        }
    }
}

/// The event's payload: which token, and for expiry notices when and which warning.
fn payload(token: &NoticedToken, notice: Notice) -> Value {
    let [soon, last] = EXPIRY_WARNING_DAYS;
    let mut payload = json!({
        "token": {
            "id": token.id.as_str(),
            "name": token.name,
            "prefix": token.display_prefix,
        },
    });
    if let (Some(object), Some(expires_at)) = (payload.as_object_mut(), token.expires_at) {
        object.insert("expiresAt".to_owned(), json!(rfc3339(expires_at)));
        let days = match notice {
            Notice::ExpiringSoon => Some(soon),
            Notice::ExpiringWithinDay => Some(last),
            _ => None,
        };
        if let Some(days) = days {
            object.insert("warningDays".to_owned(), json!(days));
        }
    }
    payload
}

/// Appends `notice` about `token` to its organization's outbox, in the caller's transaction.
pub fn emit(
    conn: &mut DbConn,
    token: &NoticedToken,
    notice: Notice,
    now: NaiveDateTime,
) -> Result<()> {
    let payload = payload(token, notice);
    let render = || payload.clone();
    let draft = EventDraft {
        event_type: notice.uri().to_owned(),
        resource_type: Some("Token".to_owned()),
        resource_id: Some(token.id.as_str().to_owned()),
        data: Some(&render),
        ..EventDraft::default()
    };
    let txn = uuid::Uuid::new_v4().to_string();
    events::emit(conn, &token.org_id, &draft, &txn, now)?;
    Ok(())
}

/// Emits `notice` (revoked, leaked) about the token `id` of `org`, where it happened.
pub fn emit_for(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    notice: Notice,
    now: NaiveDateTime,
) -> Result<()> {
    match stored::find_noticed(conn, org, id)? {
        Some(token) => emit(conn, &token, notice, now),
        None => Ok(()),
    }
}

/// One scan: sends each due expiry notice and use-after-rotation notice not sent yet;
/// answers how many it sent.
pub fn scan(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    let [soon, _] = EXPIRY_WARNING_DAYS;
    let lookback = now - TimeDelta::days(LOOKBACK_DAYS);
    let mut due = Vec::new();
    for (token, sent) in
        stored::expiring_between(conn, lookback, now + TimeDelta::days(soon), SCAN_LIMIT)?
    {
        let notice = token
            .expires_at
            .and_then(|expires_at| Notice::of_expiry(expires_at, now));
        if let Some(notice) = notice
            && !sent.iter().any(|marker| marker == notice.marker())
        {
            due.push((token, notice));
        }
    }
    let marker = Notice::UsedAfterRotation.marker();
    due.extend(
        stored::used_after_rotation_since(conn, lookback, marker)?
            .into_iter()
            .map(|token| (token, Notice::UsedAfterRotation)),
    );
    let mut emitted = 0;
    for (token, notice) in due {
        // Another instance's scan may have sent it meanwhile: the marker decides.
        if stored::mark_sent(conn, &token.id, notice.marker(), now)? {
            emit(conn, &token, notice, now)?;
            emitted += 1;
        }
    }
    Ok(emitted)
}

/// Scans every `every` until `stop` is dropped.
pub async fn run(store: Store, every: Duration, mut stop: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        match store.write(|conn| scan(conn, store::now())).await {
            Ok(0) => {}
            Ok(sent) => log::info!("sent {sent} token notice(s) to event streams"),
            Err(error) => log::warn!("token notice scan failed: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_notices_follow_the_console_thresholds() {
        let now = NaiveDateTime::default();
        let cases = [
            (TimeDelta::days(-1), Some(Notice::Expired)),
            (TimeDelta::hours(20), Some(Notice::ExpiringWithinDay)),
            (TimeDelta::days(10), Some(Notice::ExpiringSoon)),
            (TimeDelta::days(20), None),
        ];
        for (left, expected) in cases {
            assert_eq!(Notice::of_expiry(now + left, now), expected, "{left}");
        }
    }
}
