//! The processes under load: scimd (the release binary cargo built for this benchmark) and the
//! bare actix-web handler (this benchmark's own executable, started again in bare mode).
//!
//! Both run as processes of their own, with the same number of HTTP workers (actix's default,
//! one per core, or `SCIMD_WORKERS` for both), so the bare handler's figure is what this machine
//! and actix-web can do at most with the same resources, and neither server shares a runtime,
//! an allocator or a CPU budget with the load generator's setup code.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};

/// Set (to the address to bind) when this executable is started as the bare handler.
pub const BARE_BIND: &str = "SCIMD_BENCH_BARE_BIND";

/// What the bare handler answers: a SCIM user of about the size scimd answers for the
/// benchmark's user, so both write a similar number of bytes.
const BARE_BODY: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"00000001-0000-4000-8000-000000001388","externalId":"ext-005000","userName":"user005000@bench.example","name":{"familyName":"Family5000","givenName":"Given5000"},"displayName":"User 5000","active":true,"emails":[{"value":"user005000@bench.example","type":"work","primary":true}],"groups":[{"value":"00000002-0000-4000-8000-000000000259","display":"group00601","type":"direct"}],"meta":{"resourceType":"User","created":"2025-01-01T01:23:20Z","lastModified":"2025-01-01T01:23:20Z","version":"W/\"1\"","location":"http://127.0.0.1/scim/v2/Users/00000001-0000-4000-8000-000000001388"}}"#;

/// Runs the bare handler on `bind` until killed; called from `main` in bare mode.
pub fn serve_bare(bind: &str) {
    actix_web::rt::System::new().block_on(async {
        let mut server = HttpServer::new(|| {
            App::new().default_service(web::to(|| async {
                HttpResponse::Ok()
                    .content_type("application/scim+json")
                    .body(BARE_BODY)
            }))
        })
        .disable_signals();
        if let Some(workers) = workers() {
            server = server.workers(workers);
        }
        server.bind(bind).unwrap().run().await.unwrap();
    });
}

fn workers() -> Option<usize> {
    std::env::var("SCIMD_WORKERS")
        .ok()
        .map(|text| text.parse().expect("SCIMD_WORKERS is a number"))
}

/// A server process, killed when dropped.
pub struct Server {
    pub base_url: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
}

/// Starts the bare handler.
pub fn bare() -> Server {
    let bind = format!("127.0.0.1:{}", free_port());
    let child = Command::new(std::env::current_exe().unwrap())
        .env(BARE_BIND, &bind)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    started(child, format!("http://{bind}"), "/")
}

/// Starts `scimd serve` on `database_url` with the default log level (unless `env` sets
/// `RUST_LOG`), logging to `log` as a service's stderr would go to a journal.
pub fn scimd(database_url: &str, log: &Path, env: &[(&str, &str)]) -> Server {
    let bind = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    command
        .args(["serve", "--bind", &bind])
        .env("DATABASE_URL", database_url)
        .env_remove("SCIMD_DATA_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for (name, value) in env {
        command.env(name, value);
    }
    started(
        command.spawn().unwrap(),
        format!("http://{bind}"),
        "/healthz",
    )
}

/// Waits until `path` answers; a server that exits or stays silent stops the benchmark.
fn started(mut child: Child, base_url: String, path: &str) -> Server {
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = base_url.trim_start_matches("http://").to_owned();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server for {base_url} exited: {status}");
        }
        if answers(&address, path) {
            return Server { base_url, child };
        }
        assert!(
            Instant::now() < deadline,
            "{base_url}{path} did not answer within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a plain HTTP/1.1 GET of `path` gets a 200 (no client library needed for that).
fn answers(address: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}
