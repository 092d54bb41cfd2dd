use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PgCluster, TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends! {
    async fn healthz_and_readyz_answer_without_credentials(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (status, body) = app.get_with("/healthz", None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
        let (status, body) = app.get_with("/readyz", None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));
    }
}

on_both_backends! {
    async fn unknown_paths_get_a_scim_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/nope", "/scim/v2/Nope", "/scim/v2/"] {
            let (status, body) = app.get(path).await;
            crate::helpers::app::assert_scim_error(status, &body, StatusCode::NOT_FOUND, None);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_postgres_is_down_and_recovers_without_restart() {
    let cluster = PgCluster::start().unwrap_or_else(|error| panic!("{error}"));
    let app = TestApp::spawn_on(TestDatabase::in_cluster(&cluster), |_| {}).await;
    assert_eq!(app.get_with("/readyz", None).await.0, StatusCode::OK);

    cluster.stop_server().unwrap();
    let (status, body) = app.get_with("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    // A request that needs the database is a SCIM 503, not a 500 or a hang...
    let (status, body) = app.get("/scim/v2/ServiceProviderConfig").await;
    crate::helpers::app::assert_scim_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, None);
    // ...while a malformed token is refused without touching the database at all.
    // The last character is the checksum's; a different one makes the token malformed (the
    // same one, which "x" is now and then, would leave it valid and the answer a 503).
    let (body, last) = app.token.split_at(app.token.len() - 1);
    let mistyped = format!("Bearer {body}{}", if last == "x" { "y" } else { "x" });
    let (status, _) = app
        .get_with("/scim/v2/ServiceProviderConfig", Some(&mistyped))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    cluster.start_server().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _) = app.get_with("/readyz", None).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "readyz did not recover"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Requests that need the database work again too.
    assert_eq!(
        app.get("/scim/v2/ServiceProviderConfig").await.0,
        StatusCode::OK
    );
}
