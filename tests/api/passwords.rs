//! Passwords over PATCH /Users/{id} (Okta's password sync, RFC 7643 §4.1.1): stored only as an
//! argon2id hash, never returned, and hashed before the write's transaction through one bound
//! on how many hashes run at once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{USER_URN, alice, patch_op, path_of};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";

/// A user with only a `userName`.
fn bare(user_name: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": user_name})
}

on_both_backends! {
    // P-29; §1.5(g) password sync
    async fn okta_password_sync_is_accepted_hashed_and_never_returned(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let before = String::from_utf8_lossy(&app.database.dump()).into_owned();

        let with_path = app.patch_user(&path_of(&u1), json!([{"op": "replace", "value": {"password": "N3w-p@ss"}}])).await;
        let first = String::from_utf8_lossy(&app.database.dump()).into_owned();
        let by_path = app.patch_user(&path_of(&u1), json!([{"op": "replace", "path": "password", "value": "0th3r-p@ss"}])).await;
        let fetched = app.fetch(&path_of(&u1)).await;
        let listed = app.list(USERS).await;

        for user in [&with_path, &by_path, &fetched] {
            assert!(user.get("password").is_none(), "{user}");
        }
        assert!(!listed.to_string().contains("password"), "{listed}");
        assert!(!before.contains("$argon2id$"), "alice had no password");
        assert!(first.contains("$argon2id$"), "the password is stored as an argon2id hash");
        let dump = String::from_utf8_lossy(&app.database.dump()).into_owned();
        assert!(!dump.contains("N3w-p@ss") && !dump.contains("0th3r-p@ss"), "plain password stored");
        assert_eq!(with_path["userName"], "alice@a.example");
    }
}

on_both_backends! {
    // issue 15: argon2id takes about 19 MiB a hash; unbounded, a flood of password syncs took
    // the server to gigabytes. Every request still succeeds, only fewer hash at once.
    async fn a_flood_of_password_syncs_hashes_within_the_bound_and_every_one_succeeds(backend: Backend) {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        use scimd::auth::password::{concurrent_hash_bound, concurrent_hash_high_water};

        const FLOOD: usize = 50;
        const PASSWORD: &str = "Fl00d-p@ss";
        let app = TestApp::spawn(backend).await;
        let mut paths = Vec::new();
        for n in 0..FLOOD {
            paths.push(path_of(&app.create_user(&bare(&format!("flood{n}@a.example"))).await));
        }
        let body = patch_op(json!([{"op": "replace", "path": "password", "value": PASSWORD}]));
        let mut flood = tokio::task::JoinSet::new();
        for path in &paths {
            let request = app
                .client
                .patch(app.url(path))
                .bearer_auth(&app.token)
                .header("content-type", "application/scim+json")
                .body(body.to_string());
            flood.spawn(async move { request.send().await.expect("send PATCH").status() });
        }
        while let Some(status) = flood.join_next().await {
            assert_eq!(status.expect("PATCH task"), StatusCode::OK);
        }

        // The gate is the process's, shared by every test running beside this one: whatever
        // they hash, no more than the bound ever ran at once.
        let bound = concurrent_hash_bound();
        assert!(concurrent_hash_high_water() <= bound, "{} hashes at once, bound {bound}", concurrent_hash_high_water());

        let hashes: Vec<Option<String>> = app
            .database
            .store()
            .run_blocking(|conn| {
                use diesel::prelude::*;
                use scimd::store::schema::users;
                Ok(users::table
                    .filter(users::user_name.like("flood%"))
                    .select(users::password_hash)
                    .load(conn)?)
            })
            .expect("read the stored hashes");
        assert_eq!(hashes.len(), FLOOD);
        for hash in hashes {
            let hash = hash.expect("every user has a password hash");
            let parsed = PasswordHash::new(&hash).unwrap_or_else(|e| panic!("{hash}: {e}"));
            assert!(argon2::Argon2::default().verify_password(PASSWORD.as_bytes(), &parsed).is_ok(), "{hash}");
        }
    }
}

on_both_backends! {
    // A password beside an operation that applies only to the stored user (a filter on its
    // e-mails) is still hashed before the transaction, through the same bound.
    async fn a_password_beside_a_filter_on_the_stored_user_is_hashed_and_kept(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let patched = app.patch_user(&path_of(&u1), json!([
            {"op": "replace", "path": "emails[value sw \"alice\"].value", "value": "alice@b.example"},
            {"op": "replace", "path": "password", "value": "F1lt3r-p@ss"}
        ])).await;
        assert!(patched.to_string().contains("alice@b.example"), "{patched}");
        let dump = String::from_utf8_lossy(&app.database.dump()).into_owned();
        assert!(dump.contains("$argon2id$"), "the password is stored as an argon2id hash");
    }
}
