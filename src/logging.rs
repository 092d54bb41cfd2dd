//! The server's log: env_logger's readable lines by default, or one JSON object per line for
//! log shippers (`--log-format json`); and the access log line of every request.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// The log target of access lines, for filters (`--log scimd::access=warn` turns them off).
pub const ACCESS_TARGET: &str = "scimd::access";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    // Plain comments, not doc comments: described values would make clap put every
    // command's help on separate lines.
    // `[time LEVEL target] message`
    #[default]
    Text,
    // One JSON object per line: time, level, target, message (and for access lines
    // request_id, method, route, path, status, bytes, duration_ms)
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// Installs the process's logger: `filters` as `RUST_LOG` reads, lines as `format` says.
pub fn init(filters: &str, format: LogFormat) {
    let _ = FORMAT.set(format);
    let mut builder = env_logger::Builder::new();
    builder
        .parse_filters(filters)
        .target(env_logger::Target::Stderr);
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = base_object(
                record.level().as_str(),
                record.target(),
                record.args().to_string(),
            );
            writeln!(buf, "{}", Value::Object(line))
        });
    }
    builder.init();
}

/// The fields every JSON line starts with; serde_json escapes whatever the message holds.
fn base_object(level: &str, target: &str, message: String) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert(
        "time".into(),
        Utc::now()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
            .into(),
    );
    line.insert("level".into(), level.into());
    line.insert("target".into(), target.into());
    line.insert("message".into(), message.into());
    line
}

/// What the access log says about one answered request: never headers, bodies or the query
/// string (SCIM filters carry user names and e-mail addresses).
pub struct Access<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    /// The route template matched, `unmatched` for none.
    pub route: &'a str,
    pub path: &'a str,
    pub status: u16,
    /// The body's size, when known before it is sent.
    pub bytes: Option<u64>,
    pub duration: Duration,
}

/// Writes the access line of one request, when the filter lets `scimd::access` info through.
/// The text line is built straight into the logger's buffer (one write per line); nothing is
/// formatted when the line is filtered out.
pub fn access(entry: &Access<'_>) {
    if !log::log_enabled!(target: ACCESS_TARGET, log::Level::Info) {
        return;
    }
    let millis = entry.duration.as_secs_f64() * 1000.0;
    let bytes = ByteCount(entry.bytes);
    match format() {
        LogFormat::Text => log::info!(
            target: ACCESS_TARGET,
            "{} {} {} {}B {millis:.3}ms {}",
            entry.method,
            entry.path,
            entry.status,
            bytes,
            entry.request_id
        ),
        LogFormat::Json => {
            let message = format!(
                "{} {} {} {}B {millis:.3}ms",
                entry.method, entry.path, entry.status, bytes
            );
            let mut line = base_object("INFO", ACCESS_TARGET, message);
            let fields = json!({
                "request_id": entry.request_id,
                "method": entry.method,
                "route": entry.route,
                "path": entry.path,
                "status": entry.status,
                "bytes": entry.bytes,
                "duration_ms": (millis * 1000.0).round() / 1000.0,
            });
            if let Value::Object(fields) = fields {
                line.extend(fields);
            }
            let mut text = Value::Object(line).to_string();
            text.push('\n');
            // One write of the whole line, so lines of concurrent requests never interleave.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// A body size, or `-` when it was streamed.
struct ByteCount(Option<u64>);

impl std::fmt::Display for ByteCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(bytes) => write!(f, "{bytes}"),
            None => f.write_str("-"),
        }
    }
}
