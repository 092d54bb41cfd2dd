//! Organization scoping over plain HTTP: an owner of `default` reaches nothing of another
//! organization, neither by its name in the URL nor by one of its ids under `default`.

use reqwest::StatusCode;
use serde_json::Value;

use super::post_form as post;
use super::{get, set_up_first_owner};
use crate::helpers::TestApp;
use crate::helpers::cli::{scimd, stdout};
use crate::on_both_backends;

fn cli_json(app: &TestApp, args: &[&str]) -> Value {
    let output = scimd(&app.database.url, args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    serde_json::from_str(&stdout(&output)).unwrap()
}

on_both_backends! {
    async fn another_organizations_pages_tokens_and_zones_are_not_found(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let session = set_up_first_owner(&app).await;
        let plain = app.second_org_token("acme");
        let zone = scimd(&app.database.url, &["zone", "create", "hq", "--org", "acme", "--network", "10.0.0.0/8"]);
        assert!(zone.status.success(), "{zone:?}");
        let tokens = cli_json(&app, &["token", "list", "--org", "acme", "--json"]);
        let token_id = tokens["tokens"][0]["id"].as_str().unwrap().to_owned();
        let zones = cli_json(&app, &["zone", "list", "--org", "acme", "--json"]);
        let zone_id = zones["zones"][0]["id"].as_str().unwrap().to_owned();
        let nonce = "a-form-nonce-of-22-chars";

        let by_name = "/console/orgs/acme";
        let by_id = "/console/orgs/default";
        for path in [
            format!("{by_name}/tokens"),
            format!("{by_name}/tokens/new"),
            format!("{by_name}/tokens/{token_id}"),
            format!("{by_name}/zones"),
            format!("{by_name}/zones/{zone_id}"),
            format!("{by_name}/audit"),
            format!("{by_name}/people"),
            format!("{by_id}/tokens/{token_id}"),
            format!("{by_id}/tokens/{token_id}/revoke"),
            format!("{by_id}/tokens/{token_id}/rotate"),
            format!("{by_id}/zones/{zone_id}"),
        ] {
            let page = get(&app, &path, Some(&session.cookie)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {path}: {}", page.body);
            page.assert_html();
            assert!(!page.body.contains(&token_id) && !page.body.contains("hq"), "GET {path} tells: {}", page.body);
        }
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("{by_name}/tokens/new"), vec![("name", "Planted"), ("nonce", nonce)]),
            (format!("{by_name}/tokens/{token_id}/revoke"), vec![("confirmed", "yes")]),
            (format!("{by_name}/zones"), vec![("name", "planted"), ("networks", "192.0.2.0/24")]),
            (format!("{by_name}/people/invite"), vec![("email", "mallory@example.com"), ("role", "owner")]),
            (format!("{by_id}/tokens/{token_id}"), vec![("name", "Renamed")]),
            (format!("{by_id}/tokens/{token_id}/status"), vec![("active", "no")]),
            (format!("{by_id}/tokens/{token_id}/revoke"), vec![("confirmed", "yes")]),
            (format!("{by_id}/tokens/{token_id}/rotate"), vec![("grace", "0"), ("nonce", nonce)]),
            (format!("{by_id}/zones/{zone_id}"), vec![("name", "renamed"), ("networks", "127.0.0.0/8")]),
            (format!("{by_id}/zones/{zone_id}/delete"), vec![("confirmed", "yes")]),
        ];
        for (path, fields) in posts {
            let page = post(&app, &session, &path, &fields).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "POST {path}: {}", page.body);
            page.assert_html();
        }

        assert_eq!(app.probe(&plain).await, StatusCode::OK, "acme's token still works");
        let tokens = cli_json(&app, &["token", "list", "--org", "acme", "--json"]);
        assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1, "{tokens}");
        assert_eq!(tokens["tokens"][0]["name"], "t");
        let zones = cli_json(&app, &["zone", "list", "--org", "acme", "--json"]);
        assert_eq!(zones["zones"].as_array().unwrap().len(), 1, "{zones}");
        assert_eq!(zones["zones"][0]["name"], "hq");
        assert_eq!(zones["zones"][0]["networks"][0], "10.0.0.0/8");
    }
}
