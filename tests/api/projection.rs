//! `attributes` and `excludedAttributes` (RFC 7644 §3.9) on reads, lists and write responses.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    ENTERPRISE_URN, USER_URN, alice, encode, engineering, id_of, ids_in, path_of,
};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const GROUPS: &str = "/scim/v2/Groups";

/// alice with a title, a home address and enterprise data managed by bob; answers (alice, bob).
async fn seed(app: &TestApp) -> (Value, Value) {
    let bob = app
        .create_user(&json!({"schemas": [USER_URN], "userName": "bob@a.example"}))
        .await;
    let mut body = alice();
    body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
    body["title"] = json!("Engineer");
    body["password"] = json!("s3cret-Passw0rd");
    body["emails"]
        .as_array_mut()
        .unwrap()
        .push(json!({"value": "alice@home.example", "type": "home"}));
    body[ENTERPRISE_URN] = json!({
        "employeeNumber": "1001", "department": "Engineering", "manager": {"value": id_of(&bob)}
    });
    (app.create_user(&body).await, bob)
}

/// The object's keys, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

on_both_backends! {
    // U-17, U-18
    async fn attributes_keep_only_what_is_named_and_excluded_attributes_drop_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = seed(&app).await;
        let path = path_of(&alice);

        let listed = app.list(&format!("{USERS}?attributes=userName")).await;
        let one = app.get_reply(&format!("{path}?attributes=userName")).await;
        let excluded = app.get_reply(&format!("{path}?excludedAttributes=emails,name")).await;

        for user in listed["Resources"].as_array().unwrap() {
            assert_eq!(keys(user), sorted(&["schemas", "id", "userName"]), "{user}");
        }
        one.assert_status(StatusCode::OK);
        assert_eq!(keys(&one.body), sorted(&["schemas", "id", "userName"]), "{}", one.text);
        excluded.assert_status(StatusCode::OK);
        let mut expected = alice.clone();
        let object = expected.as_object_mut().unwrap();
        object.remove("emails");
        object.remove("name");
        assert_eq!(excluded.body, expected);
    }
}

on_both_backends! {
    async fn sub_attributes_and_enterprise_paths_project_inside_complex_values(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, bob) = seed(&app).await;
        let path = path_of(&alice);
        let id = id_of(&alice);
        // `schemas` names the extension only when some of it is in the answer.
        let (core, schemas) = (json!([USER_URN]), alice["schemas"].clone());
        let department = format!("{ENTERPRISE_URN}:department");
        let manager = format!("{ENTERPRISE_URN}:manager");

        let table: Vec<(String, Value)> = vec![
            ("attributes=name.givenName".into(),
             json!({"schemas": core, "id": id, "name": {"givenName": "Alice"}})),
            ("attributes=emails.value".into(),
             json!({"schemas": core, "id": id,
                    "emails": [{"value": "alice@a.example"}, {"value": "alice@home.example"}]})),
            ("attributes=NAME.GIVENNAME,title".into(),
             json!({"schemas": core, "id": id, "name": {"givenName": "Alice"}, "title": "Engineer"})),
            (format!("attributes={}", encode(&department)),
             json!({"schemas": schemas, "id": id, ENTERPRISE_URN: {"department": "Engineering"}})),
            (format!("attributes={}", encode(ENTERPRISE_URN)),
             json!({"schemas": schemas, "id": id, ENTERPRISE_URN: alice[ENTERPRISE_URN]})),
            (format!("attributes=userName,{}", encode(&format!("{manager}.value"))),
             json!({"schemas": schemas, "id": id, "userName": "alice@a.example",
                    ENTERPRISE_URN: {"manager": {"value": id_of(&bob)}}})),
            ("attributes=userName,fooBar,name.nope,urn:example:x:y".into(),
             json!({"schemas": core, "id": id, "userName": "alice@a.example"})),
        ];
        let mut mismatches = Vec::new();
        for (query, expected) in &table {
            let reply = app.get_reply(&format!("{path}?{query}")).await;
            if reply.status != StatusCode::OK || reply.body != *expected {
                mismatches.push(format!("{query}\n    expected {expected}\n    got {} {}", reply.status, reply.text));
            }
        }
        assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
    }
}

on_both_backends! {
    async fn excluded_enterprise_paths_and_unknown_names_remove_only_what_exists(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = seed(&app).await;
        let path = path_of(&alice);

        let no_manager = app.get_reply(&format!("{path}?excludedAttributes={}", encode(&format!("{ENTERPRISE_URN}:manager")))).await;
        let no_extension = app.get_reply(&format!("{path}?excludedAttributes={}", encode(ENTERPRISE_URN))).await;
        let unknown = app.get_reply(&format!("{path}?excludedAttributes=fooBar,name.nope")).await;
        let fixed = app.get_reply(&format!("{path}?excludedAttributes=id,schemas,meta,userName")).await;

        let mut expected = alice.clone();
        expected[ENTERPRISE_URN].as_object_mut().unwrap().remove("manager");
        assert_eq!(no_manager.body, expected);
        assert!(no_extension.body.get(ENTERPRISE_URN).is_none(), "{}", no_extension.text);
        assert_eq!(no_extension.body["title"], "Engineer");
        assert_eq!(unknown.body, alice);
        assert_eq!(fixed.body["id"], alice["id"], "{}", fixed.text);
        assert_eq!(fixed.body["schemas"], alice["schemas"], "{}", fixed.text);
        assert!(fixed.body.get("userName").is_none(), "{}", fixed.text);
    }
}

on_both_backends! {
    async fn password_is_never_returned_even_when_asked_for(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = seed(&app).await;

        let one = app.get_reply(&format!("{}?attributes=password", path_of(&alice))).await;
        let listed = app.list(&format!("{USERS}?attributes=password,userName")).await;

        assert_eq!(keys(&one.body), sorted(&["schemas", "id"]), "{}", one.text);
        assert!(!listed.to_string().contains("password"), "{listed}");
        assert!(!listed.to_string().contains("s3cret"), "{listed}");
    }
}

on_both_backends! {
    async fn post_and_put_responses_honour_the_query_projection(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let created = app.post_json(&format!("{USERS}?attributes=userName"), &alice()).await;
        created.assert_status(StatusCode::CREATED);
        let path = format!("{USERS}/{}", id_of(&created.body));
        let mut changed = alice();
        changed["title"] = json!("Engineer");
        let replaced = app.put_json(&format!("{path}?excludedAttributes=emails,name"), &changed).await;
        let stored = app.fetch(&path).await;
        let narrow_put = app.put_json(&format!("{path}?attributes=userName"), &changed).await;
        let narrow_get = app.get_reply(&format!("{path}?attributes=userName")).await;

        assert_eq!(keys(&created.body), sorted(&["schemas", "id", "userName"]), "{}", created.text);
        replaced.assert_status(StatusCode::OK);
        assert_eq!(replaced.body["title"], "Engineer");
        assert!(replaced.body.get("emails").is_none() && replaced.body.get("name").is_none(), "{}", replaced.text);
        assert_eq!(stored["emails"], alice()["emails"]);
        assert_eq!(stored["name"], alice()["name"]);
        let without_etag: Vec<&str> = [("PUT", &replaced), ("PUT ?attributes", &narrow_put), ("GET ?attributes", &narrow_get)]
            .into_iter()
            .filter(|(_, reply)| !reply.header("etag").is_some_and(|e| e.starts_with("W/")))
            .map(|(name, _)| name)
            .collect();
        assert!(without_etag.is_empty(), "no ETag header on {without_etag:?}");
        assert!(created.header("location").is_some_and(|l| l.ends_with(&path)), "{:?}", created.headers);
        assert!(created.header("etag").is_some_and(|e| e.starts_with("W/")), "{:?}", created.headers);
    }
}

on_both_backends! {
    // G-08, G-10
    async fn entra_group_reads_without_members_have_no_members_key(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = seed(&app).await;
        let eng = app.create_group(&engineering(&[id_of(&alice)])).await;
        let path = path_of(&eng);

        let filter = encode(r#"displayName eq "Engineering""#);
        let listed = app.list(&format!("{GROUPS}?excludedAttributes=members&filter={filter}")).await;
        let one = app.get_reply(&format!("{path}?excludedAttributes=members")).await;
        let full = app.fetch(&path).await;

        assert_eq!(ids_in(&listed), vec![id_of(&eng).to_owned()]);
        assert!(listed["Resources"][0].get("members").is_none(), "{listed}");
        assert_eq!(listed["Resources"][0]["displayName"], "Engineering");
        one.assert_status(StatusCode::OK);
        assert!(one.body.get("members").is_none(), "{}", one.text);
        assert_eq!(one.body["externalId"], "ga1-ext");
        let members = full["members"].as_array().expect("members");
        assert_eq!(members.len(), 1, "{full}");
        assert_eq!(members[0]["value"], alice["id"]);
        assert!(members[0]["display"].is_string(), "{full}");
    }
}

on_both_backends! {
    async fn malformed_attribute_lists_are_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = seed(&app).await;

        for query in [
            format!("attributes={}", encode("userName name")),
            "attributes=name.givenName.x".to_owned(),
            format!("excludedAttributes={}", encode(r#"emails[type eq "work"]"#)),
        ] {
            for path in [USERS.to_owned(), path_of(&alice)] {
                app.get_reply(&format!("{path}?{query}"))
                    .await
                    .assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
            }
        }
    }
}
