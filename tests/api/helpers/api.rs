//! The management API and token arrangements, for the token lifecycle tests.

use diesel::RunQueryDsl;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::app::{TestApp, TestDatabase};
use super::cli::{scimd, stdout};

/// Status, headers and JSON body (`Null` when empty) of an answer.
#[derive(Debug)]
pub struct ApiReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl ApiReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Value {
        assert_eq!(self.status, expected, "body: {}", self.text);
        &self.body
    }
}

impl TestApp {
    /// A request with `Authorization: Bearer {token}` (none when `token` is empty) and an
    /// optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> ApiReply {
        let mut request = self.client.request(method, self.url(path));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        ApiReply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn api_get(&self, path: &str, token: &str) -> ApiReply {
        self.call(Method::GET, path, token, None, &[]).await
    }

    pub async fn api_post(&self, path: &str, token: &str, body: &Value) -> ApiReply {
        self.call(Method::POST, path, token, Some(body), &[]).await
    }

    /// Status of `GET /scim/v2/ServiceProviderConfig` with `token`.
    pub async fn probe(&self, token: &str) -> StatusCode {
        self.api_get("/scim/v2/ServiceProviderConfig", token)
            .await
            .status
    }

    /// Probes `token` every 50 ms until it answers `expected`, for at most a second: a change
    /// another process commits reaches a PostgreSQL instance's token cache within that bound.
    pub async fn probe_within_a_second(&self, token: &str, expected: StatusCode) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let status = self.probe(token).await;
            if status == expected {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{status} instead of {expected} after a second"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Probes `token` after another process (the CLI, a second instance) committed a change to
    /// it: SQLite's instances read one commit counter, so the very next request must answer
    /// `expected`; PostgreSQL's learn of it by notice, within a second (README, "Several
    /// instances"). Asking PostgreSQL for the next request failed under the full suite's load.
    pub async fn probe_after_another_process(
        &self,
        backend: crate::helpers::Backend,
        token: &str,
        expected: StatusCode,
    ) {
        match backend {
            crate::helpers::Backend::Sqlite => assert_eq!(self.probe(token).await, expected),
            crate::helpers::Backend::Postgres => self.probe_within_a_second(token, expected).await,
        }
    }

    /// Waits out how long another instance may serve a token from before a change: nothing on
    /// SQLite (every instance reads one commit counter), the one-second notice bound on
    /// PostgreSQL (README, "Several instances").
    pub async fn let_other_instances_learn_of_it(backend: crate::helpers::Backend) {
        if backend == crate::helpers::Backend::Postgres {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// Another scimd on the same database (its first start is long done), sharing the token.
    pub async fn spawn_beside(&self) -> TestApp {
        let mut other = TestApp::spawn_on(self.database.same_database(), |_| {}).await;
        other.token = self.token.clone();
        other
    }
}

impl TestDatabase {
    /// Another handle on this database, for a second instance. SQLite handles keep their
    /// own temp dir, so only the first one may `dump`.
    pub fn same_database(&self) -> TestDatabase {
        TestDatabase {
            backend: self.backend,
            url: self.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Runs one SQL statement, for arranging timestamps the way time would.
    pub fn execute(&self, sql: &str) {
        run_sql(&self.store(), sql);
    }

    /// [`TestDatabase::execute`] on the activity log, which on SQLite is a file of its own.
    pub fn execute_on_activity_log(&self, sql: &str) {
        run_sql(&self.activity_log_store(), sql);
    }

    /// A store on the activity log: its own file on SQLite, the database on PostgreSQL.
    fn activity_log_store(&self) -> scimd::store::Store {
        match self.database_url().activity_log() {
            Some(url) => scimd::store::Store::open(&url, 1).expect("open the activity log"),
            None => self.store(),
        }
    }
}

impl TestDatabase {
    /// The one number `sql` (`SELECT count(*) AS n …`) answers.
    pub fn count(&self, sql: &str) -> i64 {
        count_rows(&self.store(), sql)
    }

    /// [`TestDatabase::count`] on the activity log, which on SQLite is a file of its own.
    pub fn count_on_activity_log(&self, sql: &str) -> i64 {
        count_rows(&self.activity_log_store(), sql)
    }
}

fn count_rows(store: &scimd::store::Store, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = sql.to_owned();
    store
        .run_blocking(move |conn| Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n))
        .unwrap()
}

fn run_sql(store: &scimd::store::Store, sql: &str) {
    let sql = sql.to_owned();
    store
        .run_blocking(move |conn| {
            diesel::sql_query(sql).execute(conn)?;
            Ok(())
        })
        .unwrap();
}

/// `scimd token create --org ORG --name NAME EXTRA…`, answering the plain token.
pub fn cli_token(database: &TestDatabase, org: &str, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "create", "--org", org, "--name", name];
    args.extend_from_slice(extra);
    let output = scimd(&database.url, &args);
    assert!(output.status.success(), "{output:?}");
    stdout(&output).trim().to_owned()
}

/// A token of org `default` with every scope, for the management API.
pub fn admin_token(database: &TestDatabase) -> String {
    cli_token(
        database,
        "default",
        "admin",
        &["--scope", "scim:read scim:write scim:delete tokens:manage"],
    )
}

/// The token id behind a plain token, from the management API's list.
pub async fn id_of_token(app: &TestApp, admin: &str, plain: &str) -> String {
    let list = app.api_get("/api/v1/tokens", admin).await;
    let prefix = format!("{}…", &plain[..12]);
    list.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["prefix"] == prefix.as_str())
        .unwrap_or_else(|| panic!("{prefix} not listed: {}", list.text))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Audit events of org `default` of one type, newest first.
pub async fn audit_events(app: &TestApp, admin: &str, event_type: &str) -> Vec<Value> {
    let reply = app
        .api_get(&format!("/api/v1/audit?type={event_type}"), admin)
        .await;
    reply.assert_status(StatusCode::OK);
    reply.body["events"].as_array().unwrap().clone()
}

/// Waits (bounded) for background audit writes of failed authentications.
pub async fn eventually_audited(app: &TestApp, admin: &str, event_type: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let events = audit_events(app, admin, event_type).await;
        if !events.is_empty() {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {event_type} event recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
