//! `POST /.search`, `/Users/.search` and `/Groups/.search` (RFC 7644 §3.4.3).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    LIST_URN, SEARCH_URN, USER_URN, alice, assert_list_shape, bob, carl, engineering, group, id_of,
    ids_in,
};
use crate::on_both_backends;

const USERS_SEARCH: &str = "/scim/v2/Users/.search";
const GROUPS_SEARCH: &str = "/scim/v2/Groups/.search";
const ROOT_SEARCH: &str = "/scim/v2/.search";

/// A SearchRequest with `fields` merged in.
fn search_request(fields: Value) -> Value {
    let mut body = json!({"schemas": [SEARCH_URN]});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    body
}

/// POSTs a SearchRequest, asserting 200 and a well-formed ListResponse.
async fn search(app: &TestApp, path: &str, fields: Value) -> Value {
    let reply = app.post_json(path, &search_request(fields)).await;
    reply.assert_status(StatusCode::OK);
    assert_list_shape(&reply.body);
    reply.body
}

/// U1..U3 and two groups; answers (user ids, group ids), each in creation order.
async fn seed(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let mut users = Vec::new();
    for body in [alice(), bob(), carl()] {
        users.push(id_of(&app.create_user(&body).await).to_owned());
    }
    let eng = app.create_group(&engineering(&[&users[0]])).await;
    let sales = app.create_group(&group("Sales", &[&users[1]])).await;
    (
        users,
        vec![id_of(&eng).to_owned(), id_of(&sales).to_owned()],
    )
}

on_both_backends! {
    // U-31
    async fn users_search_with_a_filter_answers_the_matching_users(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (users, _) = seed(&app).await;

        let found = search(&app, USERS_SEARCH, json!({
            "filter": "userName eq \"alice@a.example\"", "startIndex": 1, "count": 10
        })).await;
        let none = search(&app, USERS_SEARCH, json!({"filter": "userName eq \"nobody@a.example\""})).await;
        let all = search(&app, USERS_SEARCH, json!({})).await;

        assert_eq!((found["totalResults"].clone(), found["startIndex"].clone()), (json!(1), json!(1)));
        assert_eq!(ids_in(&found), users[..1]);
        assert_eq!(found["Resources"][0], app.fetch(&format!("/scim/v2/Users/{}", users[0])).await);
        assert_eq!(none["totalResults"], 0);
        assert_eq!(none["Resources"], json!([]));
        assert_eq!(ids_in(&all), users);
    }
}

on_both_backends! {
    async fn the_rfc_search_request_projects_sorts_and_pages(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for (user_name, display) in [
            ("zed@a.example", "Smith, Zed"), ("jones@a.example", "Jones"),
            ("ann@a.example", "smithers, Ann"), ("max@a.example", "Smith, Max"),
        ] {
            let body = json!({"schemas": [USER_URN], "userName": user_name, "displayName": display, "title": "x"});
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }

        let rfc = search(&app, USERS_SEARCH, json!({
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1, "count": 10, "sortBy": "userName"
        })).await;
        let page = search(&app, USERS_SEARCH, json!({
            "excludedAttributes": ["title", "emails"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 2, "count": 1, "sortBy": "userName", "sortOrder": "descending"
        })).await;

        assert_eq!(rfc["totalResults"], 3);
        assert_eq!(ids_in(&rfc), [ids[2].clone(), ids[3].clone(), ids[0].clone()]);
        for user in rfc["Resources"].as_array().unwrap() {
            let mut keys: Vec<&String> = user.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["displayName", "id", "schemas", "userName"], "{user}");
        }
        assert_eq!((page["totalResults"].clone(), page["startIndex"].clone()), (json!(3), json!(2)));
        assert_eq!(ids_in(&page), [ids[3].clone()]);
        assert!(page["Resources"][0].get("title").is_none(), "{page}");
        assert_eq!(page["Resources"][0]["displayName"], "Smith, Max");
    }
}

on_both_backends! {
    // G-08 through .search
    async fn groups_search_filters_groups_and_can_leave_out_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (users, groups) = seed(&app).await;

        let eng = search(&app, GROUPS_SEARCH, json!({
            "filter": "displayName eq \"engineering\"", "excludedAttributes": ["members"]
        })).await;
        let by_member = search(&app, GROUPS_SEARCH, json!({
            "filter": format!("members eq \"{}\"", users[1]), "attributes": ["displayName"]
        })).await;

        assert_eq!(ids_in(&eng), groups[..1]);
        assert!(eng["Resources"][0].get("members").is_none(), "{eng}");
        assert_eq!(eng["Resources"][0]["externalId"], "ga1-ext");
        assert_eq!(ids_in(&by_member), groups[1..]);
        assert_eq!(by_member["Resources"][0]["displayName"], "Sales");
        assert!(by_member["Resources"][0].get("members").is_none(), "{by_member}");
    }
}

on_both_backends! {
    async fn root_search_answers_users_then_groups_and_filters_each_type_it_fits(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (users, groups) = seed(&app).await;
        let everything = [users.clone(), groups.clone()].concat();

        let all = search(&app, ROOT_SEARCH, json!({})).await;
        let straddling = search(&app, ROOT_SEARCH, json!({"startIndex": 3, "count": 2})).await;
        let only_users = search(&app, ROOT_SEARCH, json!({"filter": "userName eq \"alice@a.example\""})).await;
        let only_groups = search(&app, ROOT_SEARCH, json!({"filter": "displayName eq \"Sales\""})).await;
        let both = search(&app, ROOT_SEARCH, json!({
            "filter": "externalId eq \"ga1-ext\" or externalId eq \"ext-bob\"", "attributes": ["externalId"]
        })).await;

        assert_eq!((all["totalResults"].clone(), ids_in(&all)), (json!(5), everything.clone()));
        let types: Vec<&Value> = all["Resources"].as_array().unwrap().iter().map(|r| &r["meta"]["resourceType"]).collect();
        assert_eq!(types, ["User", "User", "User", "Group", "Group"]);
        assert_eq!((straddling["totalResults"].clone(), ids_in(&straddling)), (json!(5), everything[2..4].to_vec()));
        assert_eq!(ids_in(&only_users), users[..1]);
        assert_eq!(ids_in(&only_groups), groups[1..]);
        assert_eq!(ids_in(&both), [users[1].clone(), groups[0].clone()]);
        assert_eq!(both["Resources"][1]["externalId"], "ga1-ext");
    }
}

on_both_backends! {
    async fn search_sees_only_the_callers_organization(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed(&app).await;
        let other = format!("Bearer {}", app.second_org_token("b"));
        let headers = [("authorization", other.as_str())];

        let users = app.post_json_with(USERS_SEARCH, &search_request(json!({"filter": "userName pr"})), &headers).await;
        let root = app.post_json_with(ROOT_SEARCH, &search_request(json!({})), &headers).await;

        for reply in [&users, &root] {
            reply.assert_status(StatusCode::OK);
            assert_eq!(
                reply.body,
                json!({"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
            );
        }
    }
}

on_both_backends! {
    async fn search_endpoints_answer_get_with_405(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        for path in [USERS_SEARCH, GROUPS_SEARCH, ROOT_SEARCH] {
            app.get_reply(path).await.assert_error(StatusCode::METHOD_NOT_ALLOWED, None);
        }
    }
}

on_both_backends! {
    async fn search_bodies_that_are_not_search_requests_are_bad_requests(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed(&app).await;

        for body in ["[]", "\"x\"", "42", "{\"filter\":", "null"] {
            for path in [USERS_SEARCH, ROOT_SEARCH] {
                let reply = app.send_raw(Method::POST, path, "application/scim+json", body).await;
                let scim_type = reply.body["scimType"].as_str();
                assert!(matches!(scim_type, Some("invalidSyntax" | "invalidValue")), "{path} {body}: {}", reply.text);
                reply.assert_error(StatusCode::BAD_REQUEST, scim_type);
            }
        }
        for (fields, scim_type) in [
            (json!({"filter": "userName eq"}), "invalidFilter"),
            (json!({"sortBy": "fooBar"}), "invalidValue"),
            (json!({"sortBy": "userName", "sortOrder": "sideways"}), "invalidValue"),
            (json!({"attributes": ["userName name"]}), "invalidValue"),
        ] {
            app.post_json(USERS_SEARCH, &search_request(fields))
                .await
                .assert_error(StatusCode::BAD_REQUEST, Some(scim_type));
        }
    }
}
