//! What a push delivery's answer means and when to try again (RFC 8935 §2.2–2.4): pure, so
//! every rule is a row in a table test. The deliverer supplies the time and the jitter.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// The first retry's delay, doubled with every further failure up to [`MAX_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// Backoff stops growing here, so a receiver back from a long outage waits minutes, not hours.
pub const MAX_DELAY: Duration = Duration::from_secs(300);
/// A receiver's `Retry-After` beyond this is shortened to it: a typo of the receiver's
/// (a year instead of a minute) must not stall the stream past its own failure period.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How long a stream may keep failing before it is stopped, by default.
pub const DEFAULT_FAILURE_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// What one POST of a SET came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx (RFC 8935 §2.2 names 202 Accepted; a receiver's 200 or 204 accepted it too).
    Delivered,
    /// The receiver cannot use this SET, ever (`invalid_request`): it is skipped with its
    /// error recorded, and the stream goes on. Retrying the same bytes cannot succeed.
    SetRejected { error: String },
    /// The receiver refuses the stream itself (`invalid_issuer`, `invalid_audience`,
    /// `authentication_failed`, `access_denied`): no SET of it can succeed until an operator
    /// changes the stream, so it stops at once instead of retrying for a day.
    StreamRefused { error: String },
    /// Anything else: timeouts, connection errors, 3xx, 5xx, 429, other 4xx, and
    /// `invalid_key` (a receiver caching an old JWKS recovers by fetching it again).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
}

/// Judges a receiver's answer: its status, `Retry-After` header and body.
pub fn judge(status: u16, retry_after: Option<&str>, body: &[u8], now: DateTime<Utc>) -> Verdict {
    if (200..300).contains(&status) {
        return Verdict::Delivered;
    }
    if status == 400
        && let Some((code, description)) = error_code(body)
    {
        let error = match &description {
            Some(description) => format!("HTTP 400 {code}: {description}"),
            None => format!("HTTP 400 {code}"),
        };
        match code.as_str() {
            "invalid_request" => return Verdict::SetRejected { error },
            "invalid_issuer" | "invalid_audience" | "authentication_failed" | "access_denied" => {
                return Verdict::StreamRefused { error };
            }
            _ => {
                return Verdict::Retry {
                    error,
                    retry_after: None,
                };
            }
        }
    }
    Verdict::Retry {
        error: format!("HTTP {status}"),
        retry_after: retry_after.and_then(|value| parse_retry_after(value, now)),
    }
}

/// The `err` and `description` of an RFC 8935 §2.3 error body, if it is one. Both are the
/// receiver's text: shortened, since they end up in the stream's last error.
fn error_code(body: &[u8]) -> Option<(String, Option<String>)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("err")?.as_str()?;
    let description = value
        .get("description")
        .and_then(serde_json::Value::as_str)
        .map(|text| shorten(text, 200));
    Some((shorten(code, 64), description))
}

fn shorten(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), capped at
/// [`MAX_RETRY_AFTER`]; a date in the past means "now".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = DateTime::parse_from_rfc2822(value).ok()?;
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// Exponential backoff with jitter, bounded by the stream's failure period.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub failure_period: Duration,
}

/// After a failed attempt: when to try again, or stop the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    At(NaiveDateTime),
    GiveUp,
}

impl Policy {
    /// `failures` counts the failed attempts so far, this one included (≥ 1); `jitter` is
    /// uniform in [0, 1). The wait is half the backoff plus a random share of the other half,
    /// so instances that failed together do not retry together, and never sooner than the
    /// receiver's `Retry-After`. The last try falls at the failure period's end: a receiver
    /// back by then loses nothing.
    pub fn next(
        &self,
        failing_since: NaiveDateTime,
        failures: u32,
        retry_after: Option<Duration>,
        jitter: f64,
        now: NaiveDateTime,
    ) -> Next {
        let end = failing_since + delta(self.failure_period);
        if now >= end {
            return Next::GiveUp;
        }
        let wait = match retry_after {
            Some(wait) => wait.min(MAX_RETRY_AFTER),
            None => {
                let backoff = backoff(failures);
                backoff / 2 + backoff.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
            }
        };
        Next::At((now + delta(wait)).min(end))
    }
}

/// [`FIRST_DELAY`] doubled per failure after the first, at most [`MAX_DELAY`].
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .map(|date| date.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn retry(error: &str, retry_after: Option<u64>) -> Verdict {
        Verdict::Retry {
            error: error.to_owned(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn answers_are_judged_per_rfc_8935() {
        let rejected = |error: &str| Verdict::SetRejected {
            error: error.to_owned(),
        };
        let refused = |error: &str| Verdict::StreamRefused {
            error: error.to_owned(),
        };
        let cases: [(u16, Option<&str>, &str, Verdict); 14] = [
            // §2.2: 202 Accepted.
            (202, None, "", Verdict::Delivered),
            (200, None, "", Verdict::Delivered),
            (204, None, "", Verdict::Delivered),
            // §2.3/§2.4: the SET itself is unusable: skip it.
            (
                400,
                None,
                r#"{"err":"invalid_request","description":"bad claim"}"#,
                rejected("HTTP 400 invalid_request: bad claim"),
            ),
            // §2.4: the stream's configuration is wrong: stop it.
            (
                400,
                None,
                r#"{"err":"authentication_failed"}"#,
                refused("HTTP 400 authentication_failed"),
            ),
            (
                400,
                None,
                r#"{"err":"access_denied"}"#,
                refused("HTTP 400 access_denied"),
            ),
            (
                400,
                None,
                r#"{"err":"invalid_audience"}"#,
                refused("HTTP 400 invalid_audience"),
            ),
            (
                400,
                None,
                r#"{"err":"invalid_issuer"}"#,
                refused("HTTP 400 invalid_issuer"),
            ),
            // A stale JWKS cache on the receiver's side heals.
            (
                400,
                None,
                r#"{"err":"invalid_key"}"#,
                retry("HTTP 400 invalid_key", None),
            ),
            // A 400 without an RFC body may be a proxy's: not a reason to lose the SET.
            (400, None, "<html>", retry("HTTP 400", None)),
            (503, Some("120"), "", retry("HTTP 503", Some(120))),
            (
                429,
                Some("Sun, 06 Dec 2026 10:00:30 GMT"),
                "",
                retry("HTTP 429", Some(30)),
            ),
            (500, Some("soon"), "", retry("HTTP 500", None)),
            (301, None, "", retry("HTTP 301", None)),
        ];
        for (status, retry_after, body, expected) in cases {
            assert_eq!(
                judge(status, retry_after, body.as_bytes(), now()),
                expected,
                "{status} {retry_after:?} {body}"
            );
        }
    }

    #[test]
    fn retry_after_is_capped_and_a_past_date_means_now() {
        assert_eq!(parse_retry_after("999999", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Sat, 05 Dec 2026 10:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now()), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_honours_retry_after_and_gives_up_after_the_period() {
        let policy = Policy {
            failure_period: Duration::from_secs(3600),
        };
        let since = now().naive_utc();
        let at = |seconds: i64| {
            Next::At(since + TimeDelta::seconds(10) + TimeDelta::milliseconds(seconds))
        };
        let after_ten_seconds = since + TimeDelta::seconds(10);
        // (failures, Retry-After, jitter) → the next attempt, 10 s into the failure period.
        let cases: [(u32, Option<u64>, f64, Next); 7] = [
            (1, None, 0.0, at(500)),
            (1, None, 0.5, at(750)),
            (2, None, 0.0, at(1_000)),
            (4, None, 0.5, at(6_000)),
            // Capped at MAX_DELAY: half of 300 s plus half of the other half.
            (30, None, 0.5, at(225_000)),
            (1, Some(120), 0.0, at(120_000)),
            // Never past the period's end: the last try falls on it.
            (
                1,
                Some(3600),
                0.0,
                Next::At(since + TimeDelta::seconds(3600)),
            ),
        ];
        for (failures, retry_after, jitter, expected) in cases {
            let next = policy.next(
                since,
                failures,
                retry_after.map(Duration::from_secs),
                jitter,
                after_ten_seconds,
            );
            let rounded = match next {
                Next::At(time) => {
                    Next::At(since + TimeDelta::milliseconds((time - since).num_milliseconds()))
                }
                Next::GiveUp => Next::GiveUp,
            };
            assert_eq!(rounded, expected, "{failures} {retry_after:?} {jitter}");
        }
        assert_eq!(
            policy.next(since, 9, None, 0.0, since + TimeDelta::seconds(3600)),
            Next::GiveUp
        );
    }
}
