//! Running the real `scimd` binary.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// `scimd ARGS` with `DATABASE_URL`, waited for.
pub fn scimd(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("AUTH_SECRET")
        .env_remove("SCIMD_DATA_DIR")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run scimd")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `scimd serve` running as a child process on a free port.
pub struct ServeProcess {
    child: Option<Child>,
    pub base_url: String,
    stderr_head: String,
    stderr_rest: Receiver<String>,
    /// The working directory, where a PostgreSQL first start leaves its token file.
    workdir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts `scimd serve --bind 127.0.0.1:0` and waits until it listens.
    pub fn start(database_url: &str, envs: &[(&str, &str)]) -> ServeProcess {
        ServeProcess::start_with(database_url, &[], envs)
    }

    /// Starts `scimd serve --bind 127.0.0.1:0 ARGS…` and waits until it listens.
    pub fn start_with(database_url: &str, args: &[&str], envs: &[(&str, &str)]) -> ServeProcess {
        let workdir = tempfile::tempdir().expect("working directory");
        let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
        command
            .current_dir(workdir.path())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env_remove("AUTH_SECRET")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn scimd serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut reader = BufReader::new(stderr);
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let base_url = loop {
            let mut line = String::new();
            let read = reader.read_line(&mut line).expect("read stderr");
            assert!(
                read > 0 && Instant::now() < deadline,
                "scimd did not start:\n{seen}"
            );
            seen.push_str(&line);
            // With `--log-format json`, the words are the line's `message`.
            let message = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|json| json["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| line.clone());
            if let Some(rest) = message.split("scimd listening on ").nth(1) {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            let _ = sender.send(rest);
        });
        wait_until_healthy(&base_url);
        ServeProcess {
            child: Some(child),
            base_url,
            stderr_head: seen,
            stderr_rest: receiver,
            workdir,
        }
    }

    /// The server's process id, to read its `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("child").id()
    }

    /// The log lines written before the server listened.
    pub fn startup_log(&self) -> &str {
        &self.stderr_head
    }

    /// Where the first start left its token, as the log says (stdout is a pipe here).
    pub fn first_token_file(&self) -> Option<std::path::PathBuf> {
        let rest = self.stderr_head.split("the token is in ").nth(1)?;
        let path = rest.split(" (readable").next()?;
        let path = std::path::Path::new(path);
        Some(if path.is_absolute() {
            path.to_owned()
        } else {
            self.workdir.path().join(path)
        })
    }

    /// Sends SIGTERM, waits for a graceful exit, and answers (exit success, stdout, stderr).
    pub fn stop(self) -> (bool, String, String) {
        self.signal("TERM");
        self.wait()
    }

    /// Sends a signal by name (`INT`, `TERM`) with kill(1): the crate forbids unsafe code.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("child").id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name} {pid} failed");
    }

    /// Waits for the process to exit and answers (exit success, stdout, stderr).
    pub fn wait(mut self) -> (bool, String, String) {
        let mut child = self.child.take().expect("child");
        let status = child.wait().expect("wait for scimd");
        let mut stdout = String::new();
        if let Some(mut out) = child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let rest = self
            .stderr_rest
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        (
            status.success(),
            stdout,
            format!("{}{rest}", self.stderr_head),
        )
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let ended_on_its_own = child.try_wait().ok().flatten();
        let _ = child.kill();
        let _ = child.wait();
        // A test that fails against a child process would otherwise say only what its client
        // saw ("connection closed"): whether the server had died, and what it logged, is what
        // tells a crash from a client-side or network cause.
        if std::thread::panicking() {
            let rest = self
                .stderr_rest
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_default();
            let state = match ended_on_its_own {
                Some(status) => format!("had exited before the test ended ({status})"),
                None => "was still running when the test failed".to_owned(),
            };
            eprintln!(
                "scimd serve (pid {}) {state}; its log:\n{}",
                child.id(),
                log_digest(&format!("{}{rest}", self.stderr_head))
            );
        }
    }
}

/// Every warning and error of a server log, then its last lines: an access-logged flood of
/// requests would bury the one line that matters under thousands that do not.
fn log_digest(log: &str) -> String {
    const LAST_LINES: usize = 40;
    const MOST_NOTICES: usize = 60;
    let lines: Vec<&str> = log.lines().collect();
    let notices: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.contains("WARN") || line.contains("ERROR") || line.contains("panicked"))
        .take(MOST_NOTICES)
        .collect();
    let last = &lines[lines.len().saturating_sub(LAST_LINES)..];
    format!(
        "--- warnings and errors ({} shown) ---\n{}\n--- last {} of {} lines ---\n{}",
        notices.len(),
        notices.join("\n"),
        last.len(),
        lines.len(),
        last.join("\n")
    )
}

/// Waits until `/healthz` answers: only then are the signal handlers installed, so a SIGTERM
/// sent earlier would kill the process instead of stopping it gracefully.
///
/// An HTTPS server is left to the test, whose client knows which certificate to trust.
fn wait_until_healthy(base_url: &str) {
    use std::io::Write;
    let Some(address) = base_url.strip_prefix("http://") else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            let request =
                format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
            let mut reply = String::new();
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut reply).is_ok()
                && reply.starts_with("HTTP/1.1 200")
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "scimd never became healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
}
