use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    GROUP_URN, USER_URN, alice, bob, engineering, group, id_of, ids_in, member_values, patch_op,
    path_of, sorted, version_of,
};
use crate::on_both_backends;

const GROUPS: &str = "/scim/v2/Groups";

/// A user's `groups` as sorted `(value, display, type)` triples.
fn groups_of(user: &Value) -> Vec<(String, String, String)> {
    let mut groups: Vec<(String, String, String)> = user
        .get("groups")
        .map(|groups| groups.as_array().expect("groups is an array").clone())
        .unwrap_or_default()
        .iter()
        .map(|group| {
            (
                group["value"].as_str().unwrap().to_owned(),
                group["display"].as_str().unwrap().to_owned(),
                group["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    groups.sort();
    groups
}

fn membership(group: &Value, kind: &str) -> (String, String, String) {
    (
        id_of(group).to_owned(),
        group["displayName"].as_str().unwrap().to_owned(),
        kind.to_owned(),
    )
}

/// `(group, kind)` pairs as [`groups_of`] lists them: sorted triples.
fn memberships(pairs: &[(&Value, &str)]) -> Vec<(String, String, String)> {
    let mut expected: Vec<_> = pairs
        .iter()
        .map(|(group, kind)| membership(group, kind))
        .collect();
    expected.sort();
    expected
}

on_both_backends! {
    // G-01
    async fn okta_group_create_answers_201_with_location_and_etag(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({"schemas": [GROUP_URN], "displayName": "Test SCIMv2", "members": []});

        let created = app.create_group(&body).await;

        let id = id_of(&created);
        assert!(!id.is_empty());
        assert_eq!(created["schemas"], json!([GROUP_URN]));
        assert_eq!(created["displayName"], "Test SCIMv2");
        assert_eq!(member_values(&created), Vec::<String>::new());
        assert_eq!(created["meta"]["location"], json!(app.url(&format!("{GROUPS}/{id}"))));
        crate::helpers::scim::assert_no_nulls(&created);
        assert_eq!(app.fetch(&path_of(&created)).await, created);
    }
}

on_both_backends! {
    // G-02
    async fn entra_group_create_with_the_microsoft_schema_uri_answers_201(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "schemas": [GROUP_URN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        });

        let created = app.create_group(&body).await;

        assert_eq!(created["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
        assert_eq!(created["displayName"], "displayName");
        assert_eq!(member_values(&created), Vec::<String>::new());
        assert!(created["meta"]["created"].is_string());
    }
}

on_both_backends! {
    // G-03, G-20
    async fn members_are_returned_with_value_type_display_and_ref(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let mut named = bob();
        named["displayName"] = json!("Bob Baker");
        let u2 = app.create_user(&named).await;
        let body = json!({
            "schemas": [GROUP_URN],
            "displayName": "Ops",
            "members": [{"value": id_of(&u1)}, {"value": id_of(&u2), "type": "User", "display": "ignored"}]
        });

        let created = app.create_group(&body).await;
        let fetched = app.fetch(&path_of(&created)).await;

        let mut members = fetched["members"].as_array().unwrap().clone();
        members.sort_by_key(|member| member["value"].as_str().unwrap().to_owned());
        let mut expected = vec![
            json!({"value": id_of(&u1), "type": "User", "display": "alice@a.example",
                   "$ref": app.url(&path_of(&u1))}),
            json!({"value": id_of(&u2), "type": "User", "display": "Bob Baker",
                   "$ref": app.url(&path_of(&u2))}),
        ];
        expected.sort_by_key(|member| member["value"].as_str().unwrap().to_owned());
        assert_eq!(members, expected);
        assert_eq!(member_values(&created), member_values(&fetched));
    }
}

on_both_backends! {
    async fn duplicate_member_values_are_collapsed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let id = id_of(&u1);

        let created = app.create_group(&group("Ops", &[id, id])).await;

        assert_eq!(member_values(&created), vec![id.to_owned()]);
        let replaced = app
            .put_json(&path_of(&created), &group("Ops", &[id, id, id]))
            .await;
        assert_eq!(member_values(&replaced.body), vec![id.to_owned()]);
    }
}

on_both_backends! {
    // G-04
    async fn a_display_name_taken_in_any_case_is_a_409_uniqueness(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.create_group(&engineering(&[])).await;
        let other = app.create_group(&group("Ops", &[])).await;

        for name in ["Engineering", "ENGINEERING"] {
            let reply = app.post_json(GROUPS, &group(name, &[])).await;
            reply.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        }
        let rename = app.put_json(&path_of(&other), &group("engineering", &[])).await;
        rename.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        assert_eq!(ids_in(&app.list(GROUPS).await), vec![id_of(&first).to_owned(), id_of(&other).to_owned()]);
        assert_eq!(app.fetch(&path_of(&other)).await, other);
    }
}

on_both_backends! {
    // G-29
    async fn an_unknown_member_is_invalid_value_and_nothing_is_created_or_changed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let u2 = app.create_user(&bob()).await;
        let unknown = "8a3c0f5e-2b1d-4c6e-9f7a-1d2e3f4a5b6c";

        for members in [vec![unknown], vec![id_of(&u2), unknown], vec!["not-a-uuid"]] {
            let reply = app.post_json(GROUPS, &group("Ops", &members)).await;
            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
            let missing = members.last().unwrap();
            assert!(reply.body["detail"].as_str().unwrap().contains(missing), "{}", reply.body);
        }
        assert_eq!(app.list(GROUPS).await["totalResults"], 0);

        let existing = app.create_group(&group("Ops", &[id_of(&u1)])).await;
        let reply = app
            .put_json(&path_of(&existing), &group("Ops", &[id_of(&u2), unknown]))
            .await;
        reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
        assert_eq!(app.fetch(&path_of(&existing)).await, existing);
    }
}

on_both_backends! {
    // G-30
    async fn okta_aiw_put_sets_the_members_it_sends(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let u2 = app.create_user(&bob()).await;
        let created = app.create_group(&group("SID", &[id_of(&u1)])).await;
        let id = id_of(&created);

        let cleared = app
            .put_json(&path_of(&created), &json!({"schemas": [GROUP_URN], "id": id, "displayName": "SID", "members": []}))
            .await;
        let cleared = cleared.assert_resource(StatusCode::OK, "Group").clone();
        let filled = app
            .put_json(&path_of(&created), &json!({
                "schemas": [GROUP_URN], "id": id, "displayName": "SID",
                "members": [{"value": id_of(&u1)}, {"value": id_of(&u2)}]
            }))
            .await;

        assert_eq!(member_values(&cleared), Vec::<String>::new());
        let filled = filled.assert_resource(StatusCode::OK, "Group").clone();
        assert_eq!(member_values(&filled), sorted(&[id_of(&u1), id_of(&u2)]));
        assert_eq!(app.fetch(&path_of(&created)).await, filled);
        assert_ne!(version_of(&filled), version_of(&cleared));
    }
}

on_both_backends! {
    // G-31
    async fn put_without_members_keeps_them_and_an_explicit_empty_list_clears_them(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let created = app.create_group(&engineering(&[id_of(&u1)])).await;

        let renamed = app
            .put_json(&path_of(&created), &json!({"schemas": [GROUP_URN], "displayName": "Eng 2"}))
            .await;

        let renamed = renamed.assert_resource(StatusCode::OK, "Group").clone();
        assert_eq!(renamed["displayName"], "Eng 2");
        assert!(renamed.get("externalId").is_none(), "omitted externalId removed: {renamed}");
        assert_eq!(member_values(&renamed), vec![id_of(&u1).to_owned()]);
        let cleared = app
            .put_json(&path_of(&created), &json!({"displayName": "Eng 2", "members": []}))
            .await;
        assert_eq!(member_values(&cleared.assert_resource(StatusCode::OK, "Group").clone()), Vec::<String>::new());
        assert_eq!(member_values(&app.fetch(&path_of(&created)).await), Vec::<String>::new());
    }
}

on_both_backends! {
    async fn put_on_a_missing_group_is_a_404_and_creates_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for id in ["8a3c0f5e-2b1d-4c6e-9f7a-1d2e3f4a5b6c", "not-a-uuid"] {
            let path = format!("{GROUPS}/{id}");
            app.put_json(&path, &group("Ops", &[])).await.assert_error(StatusCode::NOT_FOUND, None);
            app.get_reply(&path).await.assert_error(StatusCode::NOT_FOUND, None);
            app.delete(&path).await.assert_error(StatusCode::NOT_FOUND, None);
        }
        assert_eq!(app.list(GROUPS).await["totalResults"], 0);
    }
}

on_both_backends! {
    // G-32
    async fn deleting_a_group_leaves_its_member_users_intact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let created = app.create_group(&engineering(&[id_of(&u1)])).await;

        let reply = app.delete(&path_of(&created)).await;

        reply.assert_status(StatusCode::NO_CONTENT);
        assert!(reply.text.is_empty(), "{}", reply.text);
        app.get_reply(&path_of(&created)).await.assert_error(StatusCode::NOT_FOUND, None);
        let user = app.fetch(&path_of(&u1)).await;
        assert_eq!(user["userName"], "alice@a.example");
        assert_eq!(groups_of(&user), vec![]);
        assert_eq!(app.list(GROUPS).await["totalResults"], 0);
    }
}

on_both_backends! {
    // G-33
    async fn deleting_a_user_removes_it_from_every_group(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let u2 = app.create_user(&bob()).await;
        let first = app.create_group(&engineering(&[id_of(&u1), id_of(&u2)])).await;
        let second = app.create_group(&group("Ops", &[id_of(&u2)])).await;

        app.delete(&path_of(&u2)).await.assert_status(StatusCode::NO_CONTENT);

        assert_eq!(member_values(&app.fetch(&path_of(&first)).await), vec![id_of(&u1).to_owned()]);
        assert_eq!(member_values(&app.fetch(&path_of(&second)).await), Vec::<String>::new());
    }
}

on_both_backends! {
    // C-17, C-25, U-11
    async fn a_deactivated_user_stays_readable_listable_and_in_its_groups(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let ga1 = app.create_group(&engineering(&[id_of(&u1)])).await;
        let mut body = alice();
        body["active"] = json!(false);

        let reply = app.put_json(&path_of(&u1), &body).await;

        assert_eq!(reply.assert_resource(StatusCode::OK, "User")["active"], json!(false));
        let fetched = app.fetch(&path_of(&u1)).await;
        assert_eq!(fetched["active"], json!(false));
        assert_eq!(groups_of(&fetched), vec![membership(&ga1, "direct")]);
        assert_eq!(ids_in(&app.list("/scim/v2/Users").await), vec![id_of(&u1).to_owned()]);
        assert_eq!(member_values(&app.fetch(&path_of(&ga1)).await), vec![id_of(&u1).to_owned()]);
        body["active"] = json!(true);
        app.put_json(&path_of(&u1), &body).await.assert_status(StatusCode::OK);
        assert_eq!(member_values(&app.fetch(&path_of(&ga1)).await), vec![id_of(&u1).to_owned()]);
    }
}

on_both_backends! {
    // G-36
    async fn a_users_groups_lists_direct_and_nested_groups_read_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let u2 = app.create_user(&bob()).await;
        let eng = app.create_group(&engineering(&[id_of(&u1)])).await;
        let all = app
            .create_group(&json!({
                "schemas": [GROUP_URN],
                "displayName": "Everyone",
                "members": [{"value": id_of(&eng), "type": "Group"}, {"value": id_of(&u2)}]
            }))
            .await;

        let fetched_all = app.fetch(&path_of(&all)).await;
        let nested = fetched_all["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|member| member["value"] == eng["id"])
            .cloned();
        assert_eq!(
            nested,
            Some(json!({"value": id_of(&eng), "type": "Group", "display": "Engineering",
                        "$ref": app.url(&path_of(&eng))}))
        );
        let user = app.fetch(&path_of(&u1)).await;
        assert_eq!(groups_of(&user), memberships(&[(&eng, "direct"), (&all, "indirect")]));
        assert_eq!(groups_of(&app.fetch(&path_of(&u2)).await), vec![membership(&all, "direct")]);
        assert_eq!(groups_of(&app.fetch(&path_of(&eng)).await), vec![], "groups is a User attribute");
    }
}

on_both_backends! {
    // G-36: a user's groups through several levels, a cycle, and a group reached both ways;
    // the same by id as by an `eq` filter (each has its own fast path).
    async fn a_users_groups_follow_nesting_through_cycles_once_each(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let inner = app.create_group(&group("Inner", &[id_of(&u1)])).await;
        let middle = app.create_group(&group("Middle", &[id_of(&inner)])).await;
        let outer = app.create_group(&group("Outer", &[id_of(&middle), id_of(&u1)])).await;
        // A cycle: Outer, which holds Middle, which holds Inner, joins Inner.
        app.patch_group(
            &path_of(&inner),
            json!([{"op": "add", "path": "members", "value": [{"value": id_of(&outer)}]}]),
        )
        .await;
        let expected =
            memberships(&[(&inner, "direct"), (&outer, "direct"), (&middle, "indirect")]);
        assert_eq!(groups_of(&app.fetch(&path_of(&u1)).await), expected);
        let found = app.list_filtered("/scim/v2/Users", "userName eq \"alice@a.example\"").await;
        assert_eq!(groups_of(&found["Resources"][0]), expected);
        let outsider = app.create_user(&bob()).await;
        assert_eq!(groups_of(&app.fetch(&path_of(&outsider)).await), vec![]);
    }
}

on_both_backends! {
    // C-05 (groups ignored), G-36
    async fn groups_sent_in_a_user_body_are_ignored(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ga1 = app.create_group(&engineering(&[])).await;
        let mut body = alice();
        body["groups"] = json!([{"value": id_of(&ga1), "display": "Engineering"}]);

        let created = app.create_user(&body).await;
        let replaced = app.put_json(&path_of(&created), &body).await;

        replaced.assert_status(StatusCode::OK);
        assert_eq!(groups_of(&created), vec![]);
        assert_eq!(groups_of(&app.fetch(&path_of(&created)).await), vec![]);
        assert_eq!(member_values(&app.fetch(&path_of(&ga1)).await), Vec::<String>::new());
    }
}

on_both_backends! {
    // G-05, G-06
    async fn listing_groups_pages_through_the_orgs_groups_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let mut ids = Vec::new();
        for name in ["Zeta", "Alpha", "Mid"] {
            ids.push(id_of(&app.create_group(&group(name, &[id_of(&u1)])).await).to_owned());
        }

        let all = app.list(GROUPS).await;
        let first = app.list(&format!("{GROUPS}?startIndex=1&count=2")).await;
        let second = app.list(&format!("{GROUPS}?startIndex=3&count=2")).await;

        assert_eq!((all["totalResults"].clone(), all["startIndex"].clone()), (json!(3), json!(1)));
        assert_eq!(ids_in(&all), ids);
        assert_eq!(all["Resources"][0], app.fetch(&format!("{GROUPS}/{}", ids[0])).await);
        assert_eq!([ids_in(&first), ids_in(&second)].concat(), ids);
        assert_eq!(second["totalResults"], 3);
        assert_eq!(app.list(&format!("{GROUPS}?count=0")).await["Resources"], json!([]));
        let users = app.list("/scim/v2/Users").await;
        assert!(users["Resources"].as_array().unwrap().iter().all(|u| u["schemas"][0] == USER_URN));
    }
}

on_both_backends! {
    async fn an_empty_group_list_still_has_resources(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        let listed = app.list(GROUPS).await;

        assert_eq!(
            listed,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
            })
        );
    }
}

on_both_backends! {
    // A user's PUT and PATCH answer its groups, direct and nested, as a GET does; and
    // `excludedAttributes=groups` leaves them out.
    async fn a_users_put_and_patch_answer_its_groups_as_a_get_does(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let inner = app.create_group(&group("Inner", &[id_of(&u1)])).await;
        let outer = app.create_group(&group("Outer", &[id_of(&inner)])).await;
        let expected = memberships(&[(&inner, "direct"), (&outer, "indirect")]);
        let path = path_of(&u1);

        let patched = app
            .patch_user(&path, json!([{"op": "replace", "path": "displayName", "value": "Alice A."}]))
            .await;
        assert_eq!(patched["displayName"], "Alice A.");
        assert_eq!(groups_of(&patched), expected, "{patched}");

        let mut body = alice();
        body["displayName"] = json!("Alice B.");
        let replaced = app.put_json(&path, &body).await;
        let replaced = replaced.assert_resource(StatusCode::OK, "User");
        assert_eq!(replaced["displayName"], "Alice B.");
        assert_eq!(groups_of(replaced), expected, "{replaced}");
        assert_eq!(groups_of(&app.fetch(&path).await), expected);

        let without = app
            .patch_json(
                &format!("{path}?excludedAttributes=groups"),
                &patch_op(json!([{"op": "replace", "path": "displayName", "value": "Alice C."}])),
            )
            .await;
        let without = without.assert_resource(StatusCode::OK, "User");
        assert_eq!(without["displayName"], "Alice C.");
        assert!(without.get("groups").is_none(), "{without}");
    }
}
