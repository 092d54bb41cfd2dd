//! Reads answered from memory (`service::resources::shown`): a read never shows less than the
//! database holds, whatever changed it, on this server or another instance.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{GROUP_URN, USER_URN};
use crate::on_both_backends;

/// The ids in a user's `groups`, with their `type`.
fn groups_of(user: &Value) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String)> = user["groups"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .map(|group| {
                    (
                        group["value"].as_str().unwrap().to_owned(),
                        group["type"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    groups.sort();
    groups
}

on_both_backends! {
    async fn every_change_shows_in_the_next_read(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app
            .create_user(&json!({"schemas": [USER_URN], "userName": "ada@example.com"}))
            .await;
        let id = user["id"].as_str().unwrap().to_owned();
        let path = format!("/scim/v2/Users/{id}");
        let by_name = "/scim/v2/Users?filter=userName%20eq%20%22ada%40example.com%22";
        // Each read twice: the second may be the kept answer.
        for _ in 0..2 {
            assert_eq!(app.fetch(&path).await["displayName"], Value::Null);
            assert_eq!(app.list(by_name).await["totalResults"], 1);
        }

        app.patch_user(&path, json!([{"op": "replace", "path": "displayName", "value": "Ada"}]))
            .await;
        assert_eq!(app.fetch(&path).await["displayName"], "Ada");
        assert_eq!(app.list(by_name).await["Resources"][0]["displayName"], "Ada");

        // A group's change is a change of its members' `groups`, also through nesting.
        let team = app
            .create_group(&json!({
                "schemas": [GROUP_URN], "displayName": "team", "members": [{"value": id}]
            }))
            .await;
        let team_id = team["id"].as_str().unwrap().to_owned();
        let direct = vec![(team_id.clone(), "direct".to_owned())];
        for _ in 0..2 {
            assert_eq!(groups_of(&app.fetch(&path).await), direct);
        }
        let parent = app
            .create_group(&json!({
                "schemas": [GROUP_URN], "displayName": "all", "members": [{"value": team_id}]
            }))
            .await;
        let parent_id = parent["id"].as_str().unwrap().to_owned();
        let mut both = vec![direct[0].clone(), (parent_id, "indirect".to_owned())];
        both.sort();
        assert_eq!(groups_of(&app.fetch(&path).await), both);
        let group_path = format!("/scim/v2/Groups/{team_id}?excludedAttributes=members");
        assert_eq!(app.fetch(&group_path).await["displayName"], "team");
        app.patch_group(
            &format!("/scim/v2/Groups/{team_id}"),
            json!([{"op": "replace", "path": "displayName", "value": "core"}]),
        )
        .await;
        assert_eq!(app.fetch(&group_path).await["displayName"], "core");

        // A search that found nothing finds what was created since.
        let bob = "/scim/v2/Users?filter=userName%20eq%20%22bob%40example.com%22";
        assert_eq!(app.list(bob).await["totalResults"], 0);
        app.create_user(&json!({"schemas": [USER_URN], "userName": "bob@example.com"}))
            .await;
        assert_eq!(app.list(bob).await["totalResults"], 1);

        // Another instance's change (on SQLite, another connection's commit).
        let second = app.spawn_second().await;
        second
            .patch_user(&path, json!([{"op": "replace", "path": "displayName", "value": "Lovelace"}]))
            .await;
        assert_eq!(app.fetch(&path).await["displayName"], "Lovelace");

        app.delete(&path).await.assert_status(StatusCode::NO_CONTENT);
        app.get_reply(&path).await.assert_error(StatusCode::NOT_FOUND, None);
        assert_eq!(app.list(by_name).await["totalResults"], 0);
        second.stop().await;
    }
}

on_both_backends! {
    async fn a_kept_answer_keeps_its_etag_projection_and_host(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app
            .create_user(&json!({"schemas": [USER_URN], "userName": "ada@example.com", "title": "Countess"}))
            .await;
        let id = user["id"].as_str().unwrap().to_owned();
        let path = format!("/scim/v2/Users/{id}");
        for _ in 0..2 {
            let reply = app.get_reply(&path).await;
            let etag = reply.headers["etag"].to_str().unwrap().to_owned();
            assert_eq!(etag, reply.body["meta"]["version"].as_str().unwrap());
            app.get_reply_with(&path, &[("if-none-match", &etag)])
                .await
                .assert_status(StatusCode::NOT_MODIFIED);
        }
        for _ in 0..2 {
            let projected = app.get_reply(&format!("{path}?attributes=userName")).await;
            projected.assert_status(StatusCode::OK);
            assert_eq!(projected.body.get("title"), None);
            assert_eq!(projected.body["userName"], "ada@example.com");
            assert_eq!(app.fetch(&path).await["title"], "Countess");
            let excluded = app.fetch(&format!("{path}?excludedAttributes=title")).await;
            assert_eq!(excluded.get("title"), None);
        }
        for host in ["scim.example.com", "other.example.com", "scim.example.com"] {
            let reply = app.get_reply_with(&path, &[("host", host)]).await;
            let location = reply.body["meta"]["location"].as_str().unwrap();
            assert_eq!(location, format!("http://{host}/scim/v2/Users/{id}"));
        }
        // A kept answer is looked up before the parameters are checked: bad ones are never
        // kept, so they are refused every time.
        for _ in 0..2 {
            app.get_reply("/scim/v2/Users?filter=userName%20eq")
                .await
                .assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
        }
        // Another organization's token finds nothing, kept or not.
        let other = format!("Bearer {}", app.second_org_token("other"));
        for _ in 0..2 {
            app.get_reply_with(&path, &[("authorization", &other)])
                .await
                .assert_error(StatusCode::NOT_FOUND, None);
        }
    }
}
