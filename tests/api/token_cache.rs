//! The SQLite token cache empties on every commit, also when the database path is a symbolic
//! link with a stale `-shm` beside it (issue 18, item 6).

use reqwest::StatusCode;
use serde_json::json;

use scimd::store::{DatabaseUrl, Store, migrate};

use crate::helpers::api::cli_token;
use crate::helpers::cli::{scimd, stdout};
use crate::helpers::scim::{Reply, USER_URN};
use crate::helpers::{Backend, TestApp, TestDatabase};

fn shm_beside(database: &std::path::Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-shm");
    name.into()
}

async fn create(app: &TestApp, bearer: &str, user_name: &str) -> Reply {
    let body = json!({"schemas": [USER_URN], "userName": user_name});
    app.post_json_with("/scim/v2/Users", &body, &[("authorization", bearer)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_the_cli_is_refused_through_a_symlinked_database_with_a_stale_shm() {
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("moved").join("scimd.db");
    let link = dir.path().join("scimd.db");
    {
        // The database was used at `link`, then moved; its `-shm` from then stayed behind.
        let store = Store::open(&DatabaseUrl::Sqlite(moved.clone()), 1).unwrap();
        migrate::run_pending(&store).unwrap();
        std::fs::copy(shm_beside(&moved), shm_beside(&link)).unwrap();
    }
    std::os::unix::fs::symlink(&moved, &link).unwrap();
    let database = TestDatabase {
        backend: Backend::Sqlite,
        url: format!("sqlite://{}", link.display()),
        dir,
    };
    let app = TestApp::spawn_on(database, |_| {}).await;
    let token = cli_token(&app.database, "default", "Okta production", &[]);
    let bearer = format!("Bearer {token}");
    // Used more than once, so that it is served from the cache.
    for user_name in ["a@a.example", "b@a.example", "c@a.example"] {
        assert_eq!(
            create(&app, &bearer, user_name).await.status,
            StatusCode::CREATED
        );
    }

    let listed = stdout(&scimd(
        &app.database.url,
        &["token", "list", "--org", "default"],
    ));
    let line = listed
        .lines()
        .find(|l| l.contains("Okta production"))
        .expect("listed");
    let id = line.split_whitespace().next().unwrap();
    let revoked = scimd(&app.database.url, &["token", "revoke", id]);
    assert!(revoked.status.success(), "{revoked:?}");

    let refused = create(&app, &bearer, "d@a.example").await;
    refused.assert_error(StatusCode::UNAUTHORIZED, None);
}
