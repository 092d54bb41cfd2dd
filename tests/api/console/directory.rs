//! The directory: users and groups as the IdP pushed them, searchable, read-only, and every
//! value from the IdP shown as text.

use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::on_both_backends;

/// What an IdP could push to run script in an admin's browser.
const IMG_PAYLOAD: &str = "<img src=x onerror=alert(1)>";
const SCRIPT_PAYLOAD: &str = "<script>alert(2)</script>";

on_both_backends! {
    async fn values_pushed_over_scim_are_shown_as_text_and_run_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let user = app
            .create_user(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "mallory@example.com",
                "displayName": IMG_PAYLOAD,
                "title": SCRIPT_PAYLOAD,
                "emails": [{ "value": "mallory@example.com", "primary": true }],
            }))
            .await;
        let group = app
            .create_group(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": SCRIPT_PAYLOAD,
                "members": [{ "value": user["id"] }],
            }))
            .await;
        let mut browser = Browser::open(&app.base_url, &format!("directory-xss-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;

        browser.click("Directory").await;
        assert_eq!(browser.path().await, "/console/orgs/default/directory/users");
        browser.fill("Search users", "mall").await;
        browser.click("Search").await;
        let text = browser.text().await;
        assert!(text.contains(IMG_PAYLOAD), "shown as text: {text}");
        browser.click("mallory@example.com").await;
        let text = browser.text().await;
        assert!(text.contains(IMG_PAYLOAD) && text.contains(SCRIPT_PAYLOAD), "{text}");
        browser.click(SCRIPT_PAYLOAD).await;
        let text = browser.text().await;
        assert!(text.contains(IMG_PAYLOAD), "the member is listed: {text}");
        browser.click("← All groups").await;
        assert!(browser.text().await.contains(SCRIPT_PAYLOAD));
        let group_page = format!("/console/orgs/default/directory/groups/{}", group["id"].as_str().unwrap());
        browser.visit(&group_page).await;

        // Nothing the IdP sent became an element, and no script ran.
        let images = browser.client.find_all(fantoccini::Locator::Css("main img")).await.unwrap();
        assert!(images.is_empty(), "an <img> from the IdP became an element");
        browser.assert_no_dialog().await;

        // A search that is not a valid filter says so beside the box.
        browser.visit("/console/orgs/default/directory/users?q=userName+eq").await;
        assert!(browser.text().await.contains("not a valid SCIM filter"));
        browser.close().await;
    }
}

on_both_backends! {
    async fn a_large_group_shows_its_members_a_page_at_a_time(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let operations: Vec<_> = (0..105)
            .map(|n| json!({
                "method": "POST",
                "path": "/Users",
                "bulkId": format!("u{n}"),
                "data": {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("member{n:03}@example.com"),
                },
            }))
            .collect();
        let reply = app
            .post_json("/scim/v2/Bulk", &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": operations,
            }))
            .await;
        let members: Vec<_> = reply.body["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| {
                let location = op["location"].as_str().unwrap();
                json!({ "value": location.rsplit('/').next().unwrap() })
            })
            .collect();
        assert_eq!(members.len(), 105, "{}", reply.body);
        let group = app
            .create_group(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Everyone",
                "members": members,
            }))
            .await;
        let mut browser = Browser::open(&app.base_url, &format!("directory-paging-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        browser
            .visit(&format!("/console/orgs/default/directory/groups/{}", group["id"].as_str().unwrap()))
            .await;
        assert!(browser.text().await.contains("Showing 1–100 of 105"));
        let rows = browser.client.find_all(fantoccini::Locator::Css("tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 100);
        browser.click("Next page").await;
        assert!(browser.text().await.contains("Showing 101–105 of 105"));
        assert!(browser.find_control("Next page").await.is_none());
        let member = browser.text_of("tbody tr a").await;
        browser.click(&member).await;
        assert!(browser.text().await.contains(&member));
        assert!(browser.text().await.contains("Everyone"), "the user's groups");
        browser.close().await;
    }
}
