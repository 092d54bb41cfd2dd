//! `TestApp`: scimd started in-process on a fresh database and a free port.

use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use scimd::config::Config;
use scimd::startup::Application;
use scimd::store::{DatabaseUrl, Store};

use super::{Backend, PgCluster};

/// A fresh database of either backend, holding no rows; SQLite files live in a temp dir
/// dropped with it.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    pub dir: TempDir,
}

impl TestDatabase {
    /// A database as a fresh scimd leaves it before its first start. On PostgreSQL it comes
    /// migrated (a copy of the cluster's template), on SQLite empty: scimd migrates it on
    /// start, and that costs SQLite little.
    pub fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::empty(backend),
            Backend::Postgres => TestDatabase {
                backend,
                url: PgCluster::shared().create_migrated_database(),
                dir: tempfile::tempdir().expect("temp dir"),
            },
        }
    }

    /// An empty database, not migrated: for the tests of the migrations themselves.
    pub fn empty(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("scimd.db").display()),
            Backend::Postgres => PgCluster::shared().create_database(),
        };
        TestDatabase { backend, url, dir }
    }

    /// A database in a cluster of the test's own (for stopping and restarting PostgreSQL).
    pub fn in_cluster(cluster: &PgCluster) -> TestDatabase {
        TestDatabase {
            backend: Backend::Postgres,
            url: cluster.create_database(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("test database URL")
    }

    /// A store on this database, for tests that inspect or arrange rows directly.
    pub fn store(&self) -> Store {
        Store::open(&self.database_url(), 2).expect("open test store")
    }

    /// Everything the database holds, as text: the SQLite files, or a pg_dump.
    pub fn dump(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut bytes = Vec::new();
                for entry in std::fs::read_dir(self.dir.path()).expect("read temp dir") {
                    let path = entry.expect("dir entry").path();
                    bytes.extend(std::fs::read(&path).unwrap_or_default());
                }
                bytes
            }
            Backend::Postgres => {
                let output = std::process::Command::new(PgCluster::shared().program("pg_dump"))
                    .arg(&self.url)
                    .output()
                    .expect("run pg_dump");
                assert!(output.status.success(), "pg_dump failed: {output:?}");
                output.stdout
            }
        }
    }
}

/// A running scimd plus a client and the first-start token of its organization `default`.
pub struct TestApp {
    pub base_url: String,
    pub token: String,
    /// The first start's one-time console set-up link, as a path (`/console/setup?code=…`).
    pub setup_path: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    /// The server's password-hashing gate, to read its high-water mark.
    pub passwords: std::sync::Arc<scimd::auth::password::PasswordHasher>,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_on(TestDatabase::new(backend), |_| {}).await
    }

    /// Starts scimd on `database`, letting the test adjust the configuration first.
    pub async fn spawn_on(database: TestDatabase, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::new(database.database_url());
        config.bind = "127.0.0.1:0".to_owned();
        config.pool_size = 4;
        config.workers = Some(1);
        configure(&mut config);
        let application = tokio::task::spawn_blocking(move || Application::build(config))
            .await
            .expect("build task")
            .expect("build application");
        let base_url = application.base_url().to_owned();
        let token = application
            .first_start()
            .map(|first| secrecy::ExposeSecret::expose_secret(&first.token.plain).to_owned())
            .unwrap_or_default();
        let setup_path = application
            .first_start()
            .map(|first| first.setup_link.path())
            .unwrap_or_default();
        let passwords = std::sync::Arc::clone(application.store().passwords());
        let server = tokio::spawn(async move {
            let _ = application.run_until_stopped().await;
        });
        TestApp {
            base_url,
            token,
            setup_path,
            client: reqwest::Client::new(),
            database,
            passwords,
            server,
        }
    }

    /// Starts another scimd on this app's database, as a second instance behind a load balancer
    /// runs: its own port, pool and workers, the same rows. It answers to this app's token (the
    /// token lives in the shared database). The returned app's `database` only borrows the URL:
    /// `TestDatabase` deletes nothing on drop, and this app keeps the SQLite directory, so
    /// `dump` and `store` belong on this app, not on the second one.
    pub async fn spawn_second(&self) -> TestApp {
        self.spawn_second_with(|_| {}).await
    }

    /// [`TestApp::spawn_second`], letting the test adjust the second's configuration.
    pub async fn spawn_second_with(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let database = TestDatabase {
            backend: self.database.backend,
            url: self.database.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let mut second = TestApp::spawn_on(database, configure).await;
        assert!(
            second.token.is_empty(),
            "the database had its first start already"
        );
        second.token.clone_from(&self.token);
        second
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GET with the first-start token.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_with(path, Some(&format!("Bearer {}", self.token)))
            .await
    }

    /// GET with the given `Authorization` header value (or none).
    pub async fn get_with(&self, path: &str, authorization: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        into_parts(request.send().await.expect("request")).await
    }
}

impl TestApp {
    /// Stops the server as a killed instance stops (its background tasks with it), keeping
    /// its database for the instances that remain.
    pub async fn stop(&self) {
        self.server.abort();
        // Until the aborted task is dropped, its background work still runs.
        while !self.server.is_finished() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Status and JSON body of a response; a non-JSON body fails the test, since every answer
/// of scimd is JSON.
pub async fn into_parts(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

/// Asserts a SCIM error body with the given status and `scimType`.
pub fn assert_scim_error(
    status: StatusCode,
    body: &Value,
    expected: StatusCode,
    scim_type: Option<&str>,
) {
    assert_eq!(status, expected, "body: {body}");
    assert_eq!(
        body["schemas"],
        serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "body: {body}"
    );
    assert_eq!(
        body["status"],
        expected.as_u16().to_string(),
        "body: {body}"
    );
    assert_eq!(
        body.get("scimType").and_then(Value::as_str),
        scim_type,
        "body: {body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "body: {body}"
    );
}
