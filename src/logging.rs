//! The server's log: env_logger's readable lines by default, or one JSON object per line for
//! log shippers (`--log-format json`); and the access log line of every request.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
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
    builder.parse_filters(filters);
    // On a terminal someone is reading: lines go out at once, coloured as env_logger decides
    // for stderr (it never colours a pipe). Elsewhere (a service's journal, a file) they are
    // gathered and written in batches.
    let sink = if std::io::stderr().is_terminal() {
        None
    } else {
        start_writer()
    };
    let buffered = sink.is_some();
    match sink {
        Some(sink) => builder.target(env_logger::Target::Pipe(Box::new(sink))),
        None => builder.target(env_logger::Target::Stderr),
    };
    if format == LogFormat::Text && buffered {
        // The access line writes this format itself (see `access`); every other line goes
        // through env_logger in the very same one.
        builder.format(|buf, record| {
            let mut line = Vec::new();
            text_line(&mut line, record.level(), record.target(), *record.args());
            buf.write_all(&line)
        });
    }
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

/// How long a log line may wait to be written. Waking the writer for every line cost a
/// context switch per request; a few milliseconds of delay cost nothing a reader can see.
const WRITE_INTERVAL: Duration = Duration::from_millis(20);

/// Past this many waiting bytes, the logger that adds the next line writes them all itself,
/// as it waited on a slow stderr before: lines are neither dropped nor held without bound.
const MAX_WAITING_BYTES: usize = 1 << 20;

/// Lines logged and not yet written, in order.
static WAITING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Whether lines wait for the writer thread (once it runs) or go straight to stderr.
static BUFFERED: AtomicBool = AtomicBool::new(false);

/// Log lines are gathered in memory and written to stderr by one thread, many lines per
/// write: writing each access line from its request's worker took the stderr lock and a
/// system call per request, which cost a trivial request about 30% of its throughput.
struct LineSink;

impl Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        add_line(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn add_line(line: &[u8]) {
    if !BUFFERED.load(Ordering::Relaxed) {
        let _ = std::io::stderr().lock().write_all(line);
        return;
    }
    let mut waiting = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
    waiting.extend_from_slice(line);
    if waiting.len() >= MAX_WAITING_BYTES {
        write_waiting(&mut waiting);
    }
}

/// Writes the waiting lines; the caller holds the buffer, so that they stay in order with
/// the lines added after them.
fn write_waiting(waiting: &mut Vec<u8>) {
    if waiting.is_empty() {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(waiting);
    let _ = stderr.flush();
    waiting.clear();
}

fn start_writer() -> Option<LineSink> {
    std::thread::Builder::new()
        .name("scimd-log".to_owned())
        .spawn(|| {
            loop {
                std::thread::sleep(WRITE_INTERVAL);
                // Written while held, which keeps the order; a write of one interval's lines
                // is short next to the interval.
                write_waiting(&mut WAITING.lock().unwrap_or_else(PoisonError::into_inner));
            }
        })
        .ok()?;
    BUFFERED.store(true, Ordering::Relaxed);
    Some(LineSink)
}

/// Writes every line logged so far: before the process exits, and before a message written
/// straight to stderr that must come after them.
pub fn flush() {
    write_waiting(&mut WAITING.lock().unwrap_or_else(PoisonError::into_inner));
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
        LogFormat::Text if BUFFERED.load(Ordering::Relaxed) => {
            // Straight into the buffer: through env_logger the line cost a tenth of a cached
            // read (its formatter, its own buffer, a copy to strip colours a pipe never has).
            ACCESS_LINE.with_borrow_mut(|line| {
                line.clear();
                text_line(
                    line,
                    log::Level::Info,
                    ACCESS_TARGET,
                    format_args!(
                        "{} {} {} {}B {millis:.3}ms {}",
                        entry.method, entry.path, entry.status, bytes, entry.request_id
                    ),
                );
                add_line(line);
            });
        }
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
            add_line(text.as_bytes());
        }
    }
}

thread_local! {
    /// The access line being written, reused so that a request allocates none.
    static ACCESS_LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The last second written and its text: a timestamp changes once a second.
    static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// `[2026-12-07T05:00:00Z INFO  target] message`, as env_logger's default format writes
/// it without colours; continuation lines of a message are indented by four spaces.
fn text_line(out: &mut Vec<u8>, level: log::Level, target: &str, message: std::fmt::Arguments) {
    let now = Utc::now();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != now.timestamp() {
            *second = now.timestamp();
            *text = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        }
        out.push(b'[');
        out.extend_from_slice(text.as_bytes());
    });
    let _ = write!(out, " {level:<5} {target}] ");
    let start = out.len();
    let _ = out.write_fmt(message);
    if out
        .get(start..)
        .is_some_and(|message| message.contains(&b'\n'))
    {
        let message = out.split_off(start);
        for (index, part) in message.split(|byte| *byte == b'\n').enumerate() {
            if index > 0 {
                out.extend_from_slice(b"\n    ");
            }
            out.extend_from_slice(part);
        }
    }
    out.push(b'\n');
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use log::Log;

    use super::*;

    /// A pipe for env_logger that the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What env_logger's default format writes for one record, and what `text_line` writes,
    /// both from the same second.
    fn both(level: log::Level, target: &str, message: &str) -> (String, String) {
        loop {
            let captured = Captured::default();
            let logger = env_logger::Builder::new()
                .filter_level(log::LevelFilter::Trace)
                .write_style(env_logger::WriteStyle::Never)
                .target(env_logger::Target::Pipe(Box::new(captured.clone())))
                .build();
            let before = Utc::now().timestamp();
            logger.log(
                &log::Record::builder()
                    .level(level)
                    .target(target)
                    .args(format_args!("{message}"))
                    .build(),
            );
            let mut ours = Vec::new();
            text_line(&mut ours, level, target, format_args!("{message}"));
            if Utc::now().timestamp() == before {
                let theirs = captured.0.lock().unwrap().clone();
                return (
                    String::from_utf8(theirs).unwrap(),
                    String::from_utf8(ours).unwrap(),
                );
            }
        }
    }

    #[test]
    fn text_lines_look_as_env_logger_writes_them() {
        for (level, target, message) in [
            (
                log::Level::Info,
                ACCESS_TARGET,
                "GET /scim/v2/Users 200 512B 0.250ms abc",
            ),
            (
                log::Level::Warn,
                "scimd::startup",
                "first line\nsecond line\n",
            ),
            (log::Level::Error, "scimd", ""),
        ] {
            let (theirs, ours) = both(level, target, message);
            assert_eq!(ours, theirs);
        }
    }
}
