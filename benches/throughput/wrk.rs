//! The load generator: `wrk`, as the issue measured (2 threads, 32 keep-alive connections),
//! with a Lua script where each request must differ.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 32;

/// One `wrk` run's figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    pub requests_per_second: f64,
    pub p99: Duration,
    /// Answers outside 2xx/3xx, socket errors and timeouts: any of them spoils the run.
    pub errors: u64,
}

/// What `wrk` sends.
pub struct Load {
    pub path: String,
    pub bearer: Option<String>,
    /// A Lua script (see [`POST_USERS`]), written to a file and given `args` after `--`, and
    /// after them the number of this `wrk` run in the benchmark (for unique values).
    pub script: Option<(&'static str, Vec<String>)>,
}

/// Stops the benchmark, saying how to get `wrk`, when it is missing.
pub fn check_installed() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: apt-get install -y wrk");
        std::process::exit(1);
    }
}

/// Runs `wrk` for `seconds` against `base_url`; `run` numbers the runs of a benchmark.
pub fn run(base_url: &str, load: &Load, seconds: u64, scratch: &Path, run: usize) -> Figures {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{THREADS}"),
        format!("-c{CONNECTIONS}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ]);
    if let Some(bearer) = &load.bearer {
        command.args(["-H", &format!("Authorization: Bearer {bearer}")]);
    }
    if let Some((script, _)) = &load.script {
        command.arg("-s").arg(script_file(scratch, script));
    }
    command.arg(format!("{base_url}{}", load.path));
    if let Some((_, args)) = &load.script {
        command.arg("--").args(args).arg(run.to_string());
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse(&text).unwrap_or_else(|| panic!("cannot read wrk's output:\n{text}"))
}

fn script_file(scratch: &Path, script: &str) -> PathBuf {
    let path = scratch.join(format!("{:016x}.lua", crc32fast::hash(script.as_bytes())));
    if !path.exists() {
        std::fs::write(&path, script).unwrap();
    }
    path
}

fn parse(text: &str) -> Option<Figures> {
    let mut figures = Figures::default();
    let mut seen_rate = false;
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next()? {
            "Requests/sec:" => {
                figures.requests_per_second = words.next()?.parse().ok()?;
                seen_rate = true;
            }
            "99%" => figures.p99 = duration(words.next()?)?,
            "Non-2xx" => figures.errors += line.rsplit(' ').next()?.parse::<u64>().ok()?,
            "Socket" => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                figures.errors += line
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    seen_rate.then_some(figures)
}

/// wrk's `1.23ms`, `456.00us`, `1.02s`.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// Numbers each wrk thread (the global `thread_id` in its Lua state), so that scripts can
/// tell their requests apart.
macro_rules! thread_ids {
    () => {
        r#"
local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end
"#
    };
}

/// `POST /scim/v2/Users` with a userName unique across threads, rounds and benchmark runs;
/// args: an id unique to the benchmark run.
pub const POST_USERS: &str = concat!(
    r#"
local prefix = "run"
local counter = 0
function init(args)
  prefix = args[1] .. "-" .. args[#args]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/scim+json"
end
function request()
  counter = counter + 1
  local name = prefix .. "-" .. thread_id .. "-" .. counter .. "@post.example"
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name ..
    '","name":{"givenName":"Post","familyName":"Bench"},"emails":[{"value":"' .. name ..
    '","type":"work","primary":true}],"active":true}'
  return wrk.format(nil, nil, nil, body)
end
"#,
    thread_ids!()
);

/// `PATCH /scim/v2/Users/{id}` replacing one attribute (displayName) of a different seeded
/// user each time; args: the number of seeded users.
pub const PATCH_USERS: &str = concat!(
    r#"
local users = 1
local counter = 0
function init(args)
  users = tonumber(args[1])
  wrk.method = "PATCH"
  wrk.headers["Content-Type"] = "application/scim+json"
end
function request()
  counter = counter + 1
  local n = ((counter * 2 + thread_id) % users) + 1
  local path = string.format("/scim/v2/Users/00000001-0000-4000-8000-%012x", n)
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
    '"Operations":[{"op":"replace","path":"displayName","value":"Patched ' .. counter .. '"}]}'
  return wrk.format(nil, path, nil, body)
end
"#,
    thread_ids!()
);
