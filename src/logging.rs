//! The server's log: env_logger's readable lines by default, or one JSON object per line for
//! log shippers (`--log-format json`); and the access log line of every request.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
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
    let style = if std::io::stderr().is_terminal() {
        env_logger::WriteStyle::Auto
    } else {
        env_logger::WriteStyle::Never
    };
    builder.parse_filters(filters).write_style(style);
    match start_writer() {
        Some(sink) => builder.target(env_logger::Target::Pipe(Box::new(sink))),
        None => builder.target(env_logger::Target::Stderr),
    };
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

/// What the writer thread is handed.
enum Message {
    Line(Vec<u8>),
    /// Answered once every line sent before it is written.
    Flush(SyncSender<()>),
}

/// Lines waiting for the writer thread, at most: beyond that, loggers wait, as they waited on
/// a slow stderr before, rather than dropping lines or growing without bound.
const QUEUED_LINES: usize = 16_384;

static WRITER: OnceLock<SyncSender<Message>> = OnceLock::new();

/// Log lines are written to stderr by one thread, many lines per write: writing each access
/// line from its request's worker took the stderr lock and a system call per request, which
/// cost a trivial request about 30% of its throughput. Lines keep their order (one queue).
#[derive(Clone)]
struct LineSink(SyncSender<Message>);

impl Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(Message::Line(buf.to_vec()))
            .map_err(|_| std::io::Error::other("the log writer has stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn start_writer() -> Option<LineSink> {
    let (sender, receiver) = sync_channel(QUEUED_LINES);
    std::thread::Builder::new()
        .name("scimd-log".to_owned())
        .spawn(move || write_lines(&receiver))
        .ok()?;
    let _ = WRITER.set(sender.clone());
    Some(LineSink(sender))
}

fn write_lines(receiver: &Receiver<Message>) {
    // The lock is taken per batch, never while waiting, so direct writes to stderr (the CLI's
    // messages) are never held up by an idle logger.
    let mut batch = Vec::with_capacity(64 * 1024);
    while let Ok(first) = receiver.recv() {
        let mut acknowledgements = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Line(line) => batch.extend_from_slice(&line),
                Message::Flush(done) => acknowledgements.push(done),
            }
            next = if batch.len() < 64 * 1024 {
                receiver.try_recv().ok()
            } else {
                None
            };
        }
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(&batch);
        let _ = stderr.flush();
        drop(stderr);
        batch.clear();
        for done in acknowledgements {
            let _ = done.send(());
        }
    }
}

/// Waits (a second at most) until every line logged so far is on stderr: before the process
/// exits, and before a message written straight to stderr that must come after them.
pub fn flush() {
    let Some(writer) = WRITER.get() else {
        return;
    };
    let (done, written) = sync_channel(1);
    if writer.send(Message::Flush(done)).is_ok() {
        let _ = written.recv_timeout(Duration::from_secs(1));
    }
}

/// One whole line to the log, in order with the logger's lines.
fn write_line(text: String) {
    match WRITER.get() {
        Some(writer) => {
            let _ = writer.send(Message::Line(text.into_bytes()));
        }
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
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
            write_line(text);
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
