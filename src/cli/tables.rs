//! Tables for people: by default they fit 80 columns (short ids, names cut with an ellipsis,
//! relative times); `--wide` shows every value in full.

use chrono::{NaiveDateTime, TimeDelta};

use crate::auth::lifecycle::{self, EXPIRY_WARNING_DAYS, Network};
use crate::store::tokens::TokenRecord;

/// How many characters of an id a default table shows: what `MIN_ID_PREFIX` accepts back.
pub const SHORT_ID: usize = crate::service::tokens::MIN_ID_PREFIX;
const GAP: &str = "  ";

/// One column: its title and, in a default table, its widest value.
pub struct Column {
    pub title: &'static str,
    pub max: usize,
}

pub const fn column(title: &'static str, max: usize) -> Column {
    Column { title, max }
}

/// Lays out `rows` under `columns`; `wide` lifts every width limit. Columns are as wide as
/// their widest value; the last one is not padded.
pub fn render(columns: &[Column], rows: &[Vec<String>], wide: bool) -> String {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let widest = rows
                .iter()
                .filter_map(|row| row.get(index))
                .map(|cell| cell.chars().count())
                .chain([column.title.chars().count()])
                .max()
                .unwrap_or_default();
            if wide { widest } else { widest.min(column.max) }
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| {
                    let cell = if wide {
                        cell.clone()
                    } else {
                        truncate(cell, width)
                    };
                    format!("{cell:<width$}")
                })
                .collect();
            cells.join(GAP).trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` cut to `width` characters, the last one an ellipsis when anything was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// An id as a default table shows it; `--wide` shows it whole.
pub fn id(id: &str, wide: bool) -> String {
    if wide {
        id.to_owned()
    } else {
        id.chars().take(SHORT_ID).collect()
    }
}

/// A moment as people read it everywhere in the CLI: always marked UTC.
pub fn time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A moment, relative to `now` ("5 days ago", "in 3 hours") or, with `wide`, in full.
pub fn when(at: Option<NaiveDateTime>, now: NaiveDateTime, wide: bool) -> String {
    match at {
        None => "never".to_owned(),
        Some(at) if wide => time(at),
        Some(at) if at <= now => {
            let ago = now - at;
            if ago < TimeDelta::minutes(1) {
                "just now".to_owned()
            } else {
                format!("{} ago", span(ago))
            }
        }
        Some(at) => format!("in {}", span(at - now)),
    }
}

/// "5 days", "1 hour", "12 minutes": the largest whole unit.
pub fn span(length: TimeDelta) -> String {
    let (count, unit) = if length >= TimeDelta::days(730) {
        (length.num_days() / 365, "year")
    } else if length >= TimeDelta::days(1) {
        (length.num_days(), "day")
    } else if length >= TimeDelta::hours(1) {
        (length.num_hours(), "hour")
    } else if length >= TimeDelta::minutes(1) {
        (length.num_minutes(), "minute")
    } else {
        (length.num_seconds(), "second")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// "7d", "3h", "12m": for a status that must stay short.
fn short_span(length: TimeDelta) -> String {
    if length >= TimeDelta::days(1) {
        format!("{}d", length.num_days())
    } else if length >= TimeDelta::hours(1) {
        format!("{}h", length.num_hours())
    } else {
        format!("{}m", length.num_minutes().max(1))
    }
}

/// A token's status with what is about to change: a rotated token's grace ("grace, 2h
/// left"), a rotated token waiting for its successor's first use ("rotated"), an expiry
/// within the warning period ("expires in 5d").
pub fn token_status(
    token: &TokenRecord,
    inactivity_days: Option<i32>,
    now: NaiveDateTime,
) -> String {
    let status = lifecycle::status(token, inactivity_days, now);
    if status != "active" {
        return status.to_owned();
    }
    if let Some(end) = token.grace_until {
        return format!("grace, {} left", short_span(end - now));
    }
    if token.superseded_by.is_some() {
        return "rotated".to_owned();
    }
    match token.expires_at {
        Some(expiry) if expiry - now <= TimeDelta::days(EXPIRY_WARNING_DAYS) => {
            format!("expires in {}", short_span(expiry - now))
        }
        _ => status.to_owned(),
    }
}

/// An audit event's JSON details as `key=value` pairs; values with spaces are quoted.
pub fn details(details: &str) -> String {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(details) else {
        return details.to_owned();
    };
    fields
        .iter()
        .map(|(key, value)| format!("{key}={}", plain(value)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text)
            if text.is_empty() || text.contains(char::is_whitespace) =>
        {
            format!("{text:?}")
        }
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// Where a token may be used from, in words.
pub fn network_text(token: &TokenRecord) -> String {
    match Network::of(token) {
        Network::Any => "from anywhere".to_owned(),
        Network::OnlyFrom(sources) => format!("only from {}", sources.entries().join(" ")),
        Network::NotFrom(sources) => format!("not from {}", sources.entries().join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The width a default table may take.
    const TERMINAL_WIDTH: usize = 80;

    #[test]
    fn cells_are_cut_with_an_ellipsis_and_times_are_relative() {
        assert_eq!(truncate("Okta production", 8), "Okta pr…");
        assert_eq!(truncate("Okta", 8), "Okta");
        let now = crate::service::input::parse_time("2026-12-06").unwrap();
        assert_eq!(
            when(Some(now - TimeDelta::days(5)), now, false),
            "5 days ago"
        );
        assert_eq!(
            when(Some(now - TimeDelta::hours(1)), now, false),
            "1 hour ago"
        );
        assert_eq!(
            when(Some(now + TimeDelta::days(3)), now, false),
            "in 3 days"
        );
        assert_eq!(when(None, now, false), "never");
        assert_eq!(span(TimeDelta::seconds(0)), "0 seconds");
        assert_eq!(span(TimeDelta::seconds(3600)), "1 hour");
        assert_eq!(when(Some(now), now, true), "2026-12-06 00:00 UTC");
    }

    #[test]
    fn details_read_as_key_value_pairs() {
        assert_eq!(
            details(r#"{"name":"Okta prod","scopes":"scim:read","fields":["name","x"]}"#),
            r#"name="Okta prod" scopes=scim:read fields=name,x"#
        );
    }

    #[test]
    fn default_tables_fit_the_terminal() {
        let columns = [column("ID", 8), column("NAME", 20), column("NOTE", 40)];
        let rows = vec![vec!["x".repeat(36), "n".repeat(100), "m".repeat(100)]];
        let table = render(&columns, &rows, false);
        assert!(
            table.lines().all(|l| l.chars().count() <= TERMINAL_WIDTH),
            "{table}"
        );
        assert!(render(&columns, &rows, true).contains(&"n".repeat(100)));
    }
}
