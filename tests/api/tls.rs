//! HTTPS built in (issue 16): real TLS connections from a client that trusts only the test's
//! own certificates, and certificates swapped while connections stay open.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use scimd::tls::{self, TlsSource};

use crate::helpers::cli::{ServeProcess, scimd, stderr};
use crate::helpers::scim::USER_URN;
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

/// A certificate for `localhost` and 127.0.0.1 with a key of its own, as PEM.
struct TestCert {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl TestCert {
    fn new() -> TestCert {
        let made = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("test certificate");
        TestCert {
            cert_pem: made.cert.pem(),
            key_pem: made.signing_key.serialize_pem(),
            der: made.cert.der().to_vec(),
        }
    }

    /// Writes the files as a renewal tool does: each replaced whole by a rename, so scimd
    /// never reads half a file.
    fn install(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        for (path, text) in [(&key, &self.key_pem), (&cert, &self.cert_pem)] {
            let staging = path.with_extension("new");
            std::fs::write(&staging, text).expect("write PEM");
            std::fs::rename(&staging, path).expect("rename PEM");
        }
        (cert, key)
    }

    fn fingerprint(&self) -> Vec<u8> {
        Sha256::digest(&self.der).to_vec()
    }
}

/// A client that trusts exactly these certificates and reports the peer's certificate.
fn client_trusting(certs: &[&TestCert]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .https_only(true)
        .tls_info(true)
        .timeout(Duration::from_secs(10));
    for cert in certs {
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(cert.cert_pem.as_bytes()).expect("root"),
        );
    }
    builder.build().expect("TLS client")
}

/// The SHA-256 of the certificate the server showed on the connection this response used.
fn served_fingerprint(response: &reqwest::Response) -> Vec<u8> {
    let info = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("TLS info");
    Sha256::digest(info.peer_certificate().expect("peer certificate")).to_vec()
}

async fn spawn_with_cert(backend: Backend, cert: &TestCert) -> TestApp {
    let database = TestDatabase::new(backend);
    let (cert_path, key_path) = cert.install(database.dir.path());
    let mut app = TestApp::spawn_on(database, |config| {
        config.tls = Some(TlsSource::Files {
            cert: cert_path,
            key: key_path,
        });
    })
    .await;
    app.client = client_trusting(&[cert]);
    app
}

on_both_backends! {
    async fn scim_is_served_over_https_with_hsts(backend: Backend) {
        let cert = TestCert::new();
        let app = spawn_with_cert(backend, &cert).await;
        assert!(app.base_url.starts_with("https://"), "{}", app.base_url);

        let created = app
            .post_json(
                "/scim/v2/Users",
                &json!({"schemas": [USER_URN], "userName": "tls@a.example"}),
            )
            .await;
        created.assert_status(StatusCode::CREATED);
        assert_eq!(
            created.header("strict-transport-security"),
            Some("max-age=31536000")
        );
        // Locations are built from the connection: the listener is TLS, so they are https.
        let location = created.body["meta"]["location"].as_str().unwrap_or_default();
        assert!(location.starts_with("https://"), "{location}");

        let (status, _) = app.get("/scim/v2/Users").await;
        assert_eq!(status, StatusCode::OK);

        // The console's cookies are Secure, since the connection is HTTPS.
        let sign_in = app.client.get(app.url("/console/sign-in")).send().await.unwrap();
        assert_eq!(sign_in.status(), StatusCode::OK);
        let cookies: Vec<String> = sign_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        assert!(!cookies.is_empty(), "the sign-in form sets its CSRF cookie");
        assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");

        // TLS 1.2 is still accepted (older IdP agents), TLS 1.3 is what rustls picks otherwise.
        let tls12 = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(cert.cert_pem.as_bytes()).unwrap())
            .max_tls_version(reqwest::tls::Version::TLS_1_2)
            .build()
            .unwrap();
        let reply = tls12.get(app.url("/healthz")).send().await.expect("TLS 1.2");
        assert_eq!(reply.status(), StatusCode::OK);

        // Plain HTTP on the HTTPS port gets no SCIM answer.
        let plain = reqwest::Client::new()
            .get(app.url("/healthz").replacen("https://", "http://", 1))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        assert!(
            plain.as_ref().map_or(true, |reply| !reply.status().is_success()),
            "plain HTTP answered: {plain:?}"
        );
    }
}

/// The certificate files are replaced while a connection is open: that connection keeps
/// working, new connections get the new certificate, without a restart or a signal. TLS does
/// not touch the database, so one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_picked_up_while_connections_stay_open() {
    let old = TestCert::new();
    let new = TestCert::new();
    let app = spawn_with_cert(Backend::Sqlite, &old).await;
    // One client, one pooled keep-alive connection, opened under the old certificate.
    let open = client_trusting(&[&old, &new]);
    let first = open.get(app.url("/healthz")).send().await.expect("first");
    assert_eq!(served_fingerprint(&first), old.fingerprint());
    first.bytes().await.expect("body");

    new.install(app.database.dir.path());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let fresh = client_trusting(&[&old, &new]);
        let reply = fresh.get(app.url("/healthz")).send().await.expect("fresh");
        if served_fingerprint(&reply) == new.fingerprint() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new connections still get the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let again = open.get(app.url("/healthz")).send().await.expect("reuse");
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        served_fingerprint(&again),
        old.fingerprint(),
        "the open connection was kept, under the certificate it was opened with"
    );

    // A client that trusts only the new certificate now gets in.
    let reply = client_trusting(&[&new])
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("new certificate only");
    assert_eq!(reply.status(), StatusCode::OK);
}

/// The real binary: SIGHUP re-reads the files at once, and files that do not make a
/// certificate (a half-done renewal) keep the one in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_certificate_and_a_broken_renewal_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = TestCert::new();
    let (cert_path, key_path) = old.install(dir.path());
    let url = format!("sqlite://{}", dir.path().join("scimd.db").display());
    let cert_arg = cert_path.display().to_string();
    let key_arg = key_path.display().to_string();
    let server = tokio::task::spawn_blocking(move || {
        ServeProcess::start_with(&url, &["--tls-cert", &cert_arg, "--tls-key", &key_arg], &[])
    })
    .await
    .unwrap();
    assert!(
        server.base_url.starts_with("https://"),
        "{}",
        server.base_url
    );
    let health = format!("{}/healthz", server.base_url);
    let new = TestCert::new();
    // One client throughout, as an IdP keeps one: it resumes TLS sessions, and a resumed
    // handshake presents no certificate, so a session from before the renewal must not be
    // resumed after it (this test once failed whenever its first request beat the reload).
    let client = client_trusting(&[&old, &new]);
    let wait_for = |expected: Vec<u8>, why: &'static str| {
        let health = health.clone();
        let client = client.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                // A fresh connection each time: `Connection: close`.
                let served = client
                    .get(&health)
                    .header("Connection", "close")
                    .send()
                    .await
                    .ok()
                    .map(|reply| served_fingerprint(&reply));
                if served.as_ref() == Some(&expected) {
                    return;
                }
                assert!(Instant::now() < deadline, "{why}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // Only once it answers are the signal handlers in place.
    wait_for(
        old.fingerprint(),
        "never answered with the first certificate",
    )
    .await;

    // A key that belongs to another certificate: refused, the old certificate stays.
    std::fs::write(&cert_path, &new.cert_pem).unwrap();
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_for(
        old.fingerprint(),
        "a mismatched key replaced the certificate",
    )
    .await;

    // The matching key, with the old file's modification time and size (P-256 keys all have
    // one length): the watcher sees no change, so only the signal can bring it in.
    let modified = std::fs::metadata(&key_path).unwrap().modified().unwrap();
    let staging = key_path.with_extension("new");
    std::fs::write(&staging, &new.key_pem).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&staging)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(new.key_pem.len(), old.key_pem.len());
    std::fs::rename(&staging, &key_path).unwrap();
    tokio::time::sleep(tls::WATCH_INTERVAL * 2).await;
    wait_for(
        old.fingerprint(),
        "the watcher should not have seen the key",
    )
    .await;
    server.signal("HUP");
    wait_for(
        new.fingerprint(),
        "SIGHUP did not bring the new certificate",
    )
    .await;

    let (stopped, _, log) = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    assert!(stopped, "{log}");
    assert!(
        log.contains("still serving the previous one"),
        "the refused renewal is logged: {log}"
    );
}

#[test]
fn self_signed_mode_logs_the_fingerprint_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("scimd.db").display());
    let server = ServeProcess::start_with(&url, &["--tls-self-signed", "scim.example.com"], &[]);
    assert!(
        server.base_url.starts_with("https://"),
        "{}",
        server.base_url
    );
    let log = server.startup_log().to_owned();
    let fingerprint = log
        .split("its SHA-256 fingerprint is ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no fingerprint logged: {log}"));
    assert_eq!(fingerprint.split(':').count(), 32, "{fingerprint}");
    drop(server);

    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let other = TestCert::new();
    let (_, key) = other.install(dir.path());
    let fresh = dir.path().join("fresh.db");
    let fresh_url = format!("sqlite://{}", fresh.display());
    let output = scimd(
        &fresh_url,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            &not_pem.display().to_string(),
            "--tls-key",
            &key.display().to_string(),
        ],
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("holds no PEM certificate"),
        "a clear message: {message}"
    );
    assert!(
        !fresh.exists(),
        "a refused certificate leaves no database behind"
    );

    let output = scimd(&fresh_url, &["serve", "--tls-cert", "x.pem"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--tls-key"), "{}", stderr(&output));
}
