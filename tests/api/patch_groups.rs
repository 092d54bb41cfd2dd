//! `PATCH /Groups/{id}` (RFC 7644 §3.5.2) as Okta and Entra send it: dossier §1.5(h), §2.4,
//! §2.5 and §4.6 (G-13..G-37).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    GROUP_URN, USER_URN, alice, bob, carl, carol, engineering, group, id_of, member_values,
    patch_op, path_of, sorted, version_of,
};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const GROUPS: &str = "/scim/v2/Groups";

/// U1, U2 and U3 of the dossier (§4.0): answers their ids.
async fn three_users(app: &TestApp) -> (String, String, String) {
    let u1 = app.create_user(&alice()).await;
    let u2 = app.create_user(&bob()).await;
    let u3 = app.create_user(&carl()).await;
    (
        id_of(&u1).to_owned(),
        id_of(&u2).to_owned(),
        id_of(&u3).to_owned(),
    )
}

/// A user's `groups` as sorted `(value, type)` pairs.
fn groups_of(user: &Value) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String)> = user
        .get("groups")
        .map(|groups| groups.as_array().expect("groups is an array").clone())
        .unwrap_or_default()
        .iter()
        .map(|group| {
            (
                group["value"].as_str().unwrap().to_owned(),
                group["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    groups.sort();
    groups
}

/// Asserts a 400 with `scim_type` whose detail contains each of `mentions`, and that the group
/// `before` is unchanged, version included.
async fn assert_refused(
    app: &TestApp,
    before: &Value,
    operations: Value,
    scim_type: &str,
    mentions: &[&str],
) {
    let path = path_of(before);
    let reply = app.patch_json(&path, &patch_op(operations.clone())).await;
    reply.assert_error(StatusCode::BAD_REQUEST, Some(scim_type));
    let detail = reply.body["detail"].as_str().unwrap();
    for mention in mentions {
        assert!(
            detail.contains(mention),
            "{operations}: {detail} should name {mention}"
        );
    }
    assert_eq!(
        app.fetch(&path).await,
        *before,
        "{operations} changed the group"
    );
}

on_both_backends! {
    // G-13; §1.5(h) Okta rename with the group's own id in the value
    async fn okta_rename_with_the_groups_own_id_renames_and_keeps_the_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, _, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let id = id_of(&ga1);

        let renamed = app
            .patch_group(&path_of(&ga1), json!([{"op": "replace", "value": {"id": id, "displayName": "Eng 2"}}]))
            .await;

        let mut expected = ga1.clone();
        expected["displayName"] = json!("Eng 2");
        expected["meta"] = renamed["meta"].clone();
        assert_eq!(renamed, expected);
        assert_eq!(member_values(&renamed), vec![u1]);
        assert_ne!(version_of(&renamed), version_of(&ga1));
    }
}

on_both_backends! {
    // G-13 (another id is not an echo)
    async fn a_path_less_id_other_than_the_groups_own_is_mutability(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ga1 = app.create_group(&engineering(&[])).await;
        let other = app.create_group(&group("Ops", &[])).await;

        let operations = json!([{"op": "replace", "value": {"id": id_of(&other), "displayName": "Eng 2"}}]);

        assert_refused(&app, &ga1, operations, "mutability", &["operation 1"]).await;
    }
}

on_both_backends! {
    // G-14, G-15, G-34; §2.4 rename and externalId
    async fn entra_rename_and_external_id_answer_204_with_an_empty_body(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ga1 = app.create_group(&engineering(&[])).await;
        let name = "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName";

        let renamed = app.patch_group(&path_of(&ga1), json!([{"op": "Replace", "path": "displayName", "value": name}])).await;
        let external = app.patch_group(&path_of(&ga1), json!([{"op": "Add", "path": "externalId", "value": "obj-123"}])).await;

        assert_eq!(renamed["displayName"], name);
        assert_eq!(external["displayName"], name);
        assert_eq!(external["externalId"], "obj-123");
        let by_name = app.list_filtered(GROUPS, &format!("displayName eq \"{name}\"")).await;
        assert_eq!(by_name["totalResults"], 1);
        assert_eq!(app.list_filtered(GROUPS, "displayName eq \"Engineering\"").await["totalResults"], 0);
    }
}

on_both_backends! {
    // G-34 with a projection: a body only when `attributes` asks for one
    async fn attributes_in_the_query_turn_the_204_into_a_200_with_the_group(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let path = path_of(&ga1);

        let with_members = app
            .patch_json(&format!("{path}?attributes=members"), &patch_op(json!([
                {"op": "add", "path": "members", "value": [{"value": u2}]}
            ])))
            .await;
        let with_name = app
            .patch_json(&format!("{path}?attributes=displayName"), &patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "Eng 3"}
            ])))
            .await;
        let excluded_only = app
            .patch_json(&format!("{path}?excludedAttributes=members"), &patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "Eng 4"}
            ])))
            .await;

        with_members.assert_status(StatusCode::OK);
        assert_eq!(with_members.body["schemas"], json!([GROUP_URN]));
        assert_eq!(with_members.body["id"], ga1["id"]);
        assert_eq!(member_values(&with_members.body), sorted(&[&u1, &u2]));
        assert!(with_members.body.get("displayName").is_none(), "{}", with_members.text);
        with_name.assert_status(StatusCode::OK);
        assert_eq!(with_name.body, json!({"schemas": [GROUP_URN], "id": id_of(&ga1), "displayName": "Eng 3"}));
        assert!(with_name.header("etag").is_some_and(|e| e.starts_with("W/")), "{:?}", with_name.headers);
        excluded_only.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(excluded_only.text, "");
        let fetched = app.fetch(&path).await;
        assert_eq!(fetched["displayName"], "Eng 4");
        assert_eq!(member_values(&fetched), sorted(&[&u1, &u2]));
        assert_eq!(excluded_only.etag(), version_of(&fetched));
    }
}

on_both_backends! {
    // G-16, G-17, G-20; §1.5(h) Okta membership, §2.4 Entra add with "$ref": null
    async fn okta_and_entra_member_adds_keep_the_existing_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let path = path_of(&ga1);

        let okta = app.patch_group(&path, json!([
            {"op": "add", "path": "members", "value": [{"value": u2, "display": "bob@a.example"}]}
        ])).await;
        let entra = app.patch_group(&path, json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": u3, "type": "User"}]}
        ])).await;

        assert_eq!(member_values(&okta), sorted(&[&u1, &u2]));
        assert_eq!(member_values(&entra), sorted(&[&u1, &u2, &u3]));
        assert_ne!(version_of(&okta), version_of(&ga1), "a member add bumps the version");
        assert_ne!(version_of(&entra), version_of(&okta));
        let bob = app.fetch(&format!("{USERS}/{u2}")).await;
        assert_eq!(groups_of(&bob), vec![(id_of(&ga1).to_owned(), "direct".to_owned())]);
        let member = okta["members"].as_array().unwrap().iter().find(|m| m["value"] == json!(u2)).unwrap();
        assert_eq!(member["display"], "bob@a.example");
        assert_eq!(member["type"], "User");
    }
}

on_both_backends! {
    // G-18; MS-DEV gallery checklist: several memberships in one PATCH
    async fn many_members_in_one_operation_or_in_several_operations_are_all_added(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let one_op = app.create_group(&group("One op", &[])).await;
        let three_ops = app.create_group(&group("Three ops", &[])).await;

        let by_one = app.patch_group(&path_of(&one_op), json!([
            {"op": "add", "path": "members", "value": [{"value": u1}, {"value": u2}, {"value": u3}]}
        ])).await;
        let by_three = app.patch_group(&path_of(&three_ops), json!([
            {"op": "add", "path": "members", "value": [{"value": u1}]},
            {"op": "Add", "path": "members", "value": [{"value": u2}]},
            {"op": "ADD", "path": "members", "value": [{"value": u3}]}
        ])).await;

        assert_eq!(member_values(&by_one), sorted(&[&u1, &u2, &u3]));
        assert_eq!(member_values(&by_three), sorted(&[&u1, &u2, &u3]));
    }
}

on_both_backends! {
    // G-19; AzureAD/SCIMReferenceCode#10
    async fn adding_an_existing_member_again_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, _, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let path = path_of(&ga1);

        let once = app.patch_group(&path, json!([{"op": "add", "path": "members", "value": [{"value": u1}]}])).await;
        let twice = app.patch_group(&path, json!([
            {"op": "add", "path": "members", "value": [{"value": u1}, {"value": u1}]},
            {"op": "add", "path": "members", "value": [{"value": u1, "type": "User"}]}
        ])).await;

        assert_eq!(once, ga1, "no duplicate, no new version");
        assert_eq!(twice, ga1);
        assert_eq!(once["members"].as_array().unwrap().len(), 1);
    }
}

on_both_backends! {
    // G-21; §2.4, §2.5 Entra's legacy remove — critical: only the listed members go
    async fn entra_legacy_value_list_remove_removes_only_the_listed_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let u4 = id_of(&app.create_user(&crate::helpers::scim::user("dan@a.example", "ext-dan", "Dan", "Dorn")).await).to_owned();
        let ga1 = app.create_group(&engineering(&[&u1, &u2, &u3, &u4])).await;
        let path = path_of(&ga1);

        let one = app.patch_group(&path, json!([
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u1}]}
        ])).await;
        let two = app.patch_group(&path, json!([
            {"op": "Remove", "path": "members", "value": [{"value": u2}, {"value": u4}]}
        ])).await;
        let none = app.patch_group(&path, json!([{"op": "Remove", "path": "members", "value": []}])).await;

        assert_eq!(member_values(&one), sorted(&[&u2, &u3, &u4]));
        assert_eq!(member_values(&two), vec![u3.clone()]);
        assert_eq!(none, two, "an empty list removes nothing");
    }
}

on_both_backends! {
    // G-22, G-23; §2.5 flag form, §1.5(h) Okta combined remove + add
    async fn filtered_remove_and_combined_remove_and_add(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let g22 = app.create_group(&group("G22", &[&u2, &u3])).await;
        let g23 = app.create_group(&group("G23", &[&u1, &u2])).await;

        let removed = app.patch_group(&path_of(&g22), json!([
            {"op": "remove", "path": format!("members[value eq \"{u2}\"]")}
        ])).await;
        let re_added = app.patch_group(&path_of(&g22), json!([
            {"op": "add", "path": "members", "value": [{"value": u2}]}
        ])).await;
        let combined = app.patch_group(&path_of(&g23), json!([
            {"op": "remove", "path": format!("members[value eq \"{u1}\"]")},
            {"op": "add", "path": "members", "value": [{"value": u3, "display": "carl@a.example"}]}
        ])).await;
        let two_at_once = app.patch_group(&path_of(&g23), json!([
            {"op": "remove", "path": format!("members[value eq \"{u2}\" or value eq \"{u3}\"]")}
        ])).await;

        assert_eq!(member_values(&removed), vec![u3.clone()]);
        assert_eq!(member_values(&re_added), sorted(&[&u2, &u3]));
        assert_eq!(member_values(&combined), sorted(&[&u2, &u3]));
        assert_eq!(member_values(&two_at_once), Vec::<String>::new());
    }
}

on_both_backends! {
    // G-24, G-25, G-26, G-27; §1.5(h) full push, empty push, Okta path-less members
    async fn replace_sets_exactly_the_given_members_and_remove_without_value_removes_all(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1, &u2])).await;
        let path = path_of(&ga1);
        let steps = [
            // G-24
            (json!([{"op": "replace", "path": "members", "value": [{"value": u1}, {"value": u3}]}]), sorted(&[&u1, &u3])),
            // G-25
            (json!([{"op": "replace", "path": "members", "value": []}]), vec![]),
            // G-26
            (json!([{"op": "replace", "value": {"members": [{"value": u2}]}}]), vec![u2.clone()]),
            (json!([{"op": "Replace", "path": "members", "value": [{"value": u1}, {"value": u2}, {"value": u3}]}]), sorted(&[&u1, &u2, &u3])),
            // G-27
            (json!([{"op": "remove", "path": "members"}]), vec![]),
            (json!([{"op": "add", "path": "members", "value": [{"value": u3}]}]), vec![u3.clone()]),
            (json!([{"op": "replace", "path": "members", "value": null}]), vec![]),
        ];

        for (operations, expected) in steps {
            let patched = app.patch_group(&path, operations.clone()).await;
            assert_eq!(member_values(&patched), expected, "{operations}");
            assert_eq!(patched["displayName"], "Engineering", "{operations}");
        }
        let alice = app.fetch(&format!("{USERS}/{u1}")).await;
        assert_eq!(groups_of(&alice), vec![]);
    }
}

on_both_backends! {
    // G-28, P-24 on groups; dossier §5.3 idempotent removes
    async fn removing_a_non_member_and_empty_operations_are_no_ops_keeping_the_version(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, _, u3) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let path = path_of(&ga1);
        let no_ops = [
            json!([{"op": "remove", "path": format!("members[value eq \"{u3}\"]")}]),
            json!([{"op": "Remove", "path": "members", "value": [{"value": u3}]}]),
            json!([{"op": "remove", "path": "members[value eq \"6c1f7e43-50b2-4f5c-9e7d-1a2b3c4d5e6f\"]"}]),
            json!([{"op": "replace", "path": "displayName", "value": "Engineering"}]),
            json!([{"op": "replace", "path": "members", "value": [{"value": u1}]}]),
            json!([]),
        ];

        for operations in no_ops {
            let after = app.patch_group(&path, operations.clone()).await;
            assert_eq!(after, ga1, "{operations}");
        }
        let without_schemas = app.patch_json(&path, &json!({"Operations": []})).await;
        without_schemas.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(without_schemas.etag(), version_of(&ga1));
    }
}

on_both_backends! {
    // G-29; A-11: unknown or foreign member ids, atomically
    async fn an_unknown_or_foreign_member_is_invalid_value_and_nothing_of_the_request_sticks(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, u3) = three_users(&app).await;
        let other = format!("Bearer {}", app.second_org_token("b"));
        let foreign = app.post_json_with(USERS, &carol(), &[("authorization", other.as_str())]).await;
        let foreign = id_of(foreign.assert_resource(StatusCode::CREATED, "User")).to_owned();
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let random = "6c1f7e43-50b2-4f5c-9e7d-1a2b3c4d5e6f";
        let cases = [
            json!([{"op": "add", "path": "members", "value": [{"value": random}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": u2}, {"value": random}]}]),
            json!([
                {"op": "add", "path": "members", "value": [{"value": u2}]},
                {"op": "remove", "path": format!("members[value eq \"{u1}\"]")},
                {"op": "replace", "path": "displayName", "value": "SHOULD-NOT-STICK"},
                {"op": "add", "path": "members", "value": [{"value": u3}, {"value": random}]}
            ]),
            json!([{"op": "replace", "path": "members", "value": [{"value": u2}, {"value": random}]}]),
            json!([{"op": "replace", "value": {"members": [{"value": random}]}}]),
        ];

        for operations in cases {
            assert_refused(&app, &ga1, operations, "invalidValue", &[random]).await;
        }
        let foreign_add = json!([{"op": "add", "path": "members", "value": [{"value": u2}, {"value": foreign}]}]);
        assert_refused(&app, &ga1, foreign_add, "invalidValue", &[&foreign]).await;
        assert_eq!(groups_of(&app.fetch(&format!("{USERS}/{u2}")).await), vec![]);
    }
}

on_both_backends! {
    // Atomicity across attribute and member operations; errors name the operation
    async fn a_failing_operation_undoes_the_whole_group_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let rename = json!({"op": "replace", "path": "displayName", "value": "SHOULD-NOT-STICK"});
        let add = json!({"op": "add", "path": "members", "value": [{"value": u2}]});
        let cases = [
            (json!({"op": "remove"}), "noTarget"),
            (json!({"op": "replace", "path": "noSuchAttribute", "value": "x"}), "invalidPath"),
            (json!({"op": "replace", "path": format!("members[value eq \"{u1}\"]"), "value": {"value": u2}}), "invalidPath"),
            (json!({"op": "replace", "path": "members.value", "value": u2}), "mutability"),
            (json!({"op": "remove", "path": "displayName"}), "mutability"),
            (json!({"op": "replace", "path": "id", "value": "x"}), "mutability"),
            (json!({"op": "replace", "path": "displayName", "value": 7}), "invalidValue"),
            (json!({"op": "add", "path": "members", "value": "not a member list"}), "invalidValue"),
        ];

        for (failing, scim_type) in cases {
            let operations = json!([rename, add, failing]);
            assert_refused(&app, &ga1, operations, scim_type, &["operation 3"]).await;
        }
        assert_eq!(groups_of(&app.fetch(&format!("{USERS}/{u2}")).await), vec![]);
    }
}

on_both_backends! {
    // G-04 through PATCH
    async fn renaming_to_another_groups_name_in_any_case_is_409_uniqueness(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create_group(&engineering(&[])).await;
        let ops = app.create_group(&group("Ops", &[])).await;

        for name in ["Engineering", "ENGINEERING", "engineering"] {
            for operations in [
                json!([{"op": "replace", "path": "displayName", "value": name}]),
                json!([{"op": "replace", "value": {"id": id_of(&ops), "displayName": name}}]),
            ] {
                let reply = app.patch_json(&path_of(&ops), &patch_op(operations)).await;
                reply.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
            }
        }
        assert_eq!(app.fetch(&path_of(&ops)).await, ops);
        let own_case = app.patch_group(&path_of(&ops), json!([{"op": "replace", "path": "displayName", "value": "OPS"}])).await;
        assert_eq!(own_case["displayName"], "OPS");
    }
}

on_both_backends! {
    // If-Match on group PATCH (RFC 7644 §3.14)
    async fn a_stale_if_match_on_a_group_is_412_and_adds_no_member(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let path = path_of(&ga1);
        let body = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": u2}]}]));

        let stale = app.patch_json_with(&path, &body, &[("if-match", "W/\"999\"")]).await;
        stale.assert_error(StatusCode::PRECONDITION_FAILED, None);
        assert_eq!(app.fetch(&path).await, ga1);

        let current = app.patch_json_with(&path, &body, &[("if-match", version_of(&ga1))]).await;
        current.assert_status(StatusCode::NO_CONTENT);
        let fetched = app.fetch(&path).await;
        assert_eq!(member_values(&fetched), sorted(&[&u1, &u2]));
        assert_eq!(current.etag(), version_of(&fetched));
        let outdated = app.patch_json_with(&path, &body, &[("if-match", version_of(&ga1))]).await;
        outdated.assert_error(StatusCode::PRECONDITION_FAILED, None);
    }
}

on_both_backends! {
    // G-35
    async fn patching_another_orgs_group_is_404_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, _, _) = three_users(&app).await;
        let ga1 = app.create_group(&engineering(&[&u1])).await;
        let other = format!("Bearer {}", app.second_org_token("b"));
        let as_other = [("authorization", other.as_str())];
        let gb1 = app.post_json_with(GROUPS, &group("Engineering", &[]), &as_other).await;
        let gb1 = gb1.assert_resource(StatusCode::CREATED, "Group").clone();
        let rename = patch_op(json!([{"op": "replace", "path": "displayName", "value": "Taken over"}]));
        let wipe = patch_op(json!([{"op": "remove", "path": "members"}]));

        for body in [&rename, &wipe] {
            app.patch_json(&path_of(&gb1), body).await.assert_error(StatusCode::NOT_FOUND, None);
            app.patch_json_with(&path_of(&ga1), body, &as_other).await.assert_error(StatusCode::NOT_FOUND, None);
        }
        app.patch_json(&format!("{GROUPS}/6c1f7e43-50b2-4f5c-9e7d-1a2b3c4d5e6f"), &rename)
            .await
            .assert_error(StatusCode::NOT_FOUND, None);

        assert_eq!(app.fetch(&path_of(&ga1)).await, ga1);
        let theirs = app.get_reply_with(&path_of(&gb1), &as_other).await;
        assert_eq!(*theirs.assert_resource(StatusCode::OK, "Group"), gb1);
    }
}

on_both_backends! {
    // G-36 (nested groups reached through PATCH show as indirect)
    async fn a_group_added_as_a_member_makes_its_users_indirect_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (u1, u2, _) = three_users(&app).await;
        let inner = app.create_group(&group("Inner", &[&u1])).await;
        let outer = app.create_group(&group("Outer", &[&u2])).await;

        let patched = app.patch_group(&path_of(&outer), json!([
            {"op": "add", "path": "members", "value": [{"value": id_of(&inner), "type": "Group"}]}
        ])).await;

        assert_eq!(member_values(&patched), sorted(&[id_of(&inner), &u2]));
        let member = patched["members"].as_array().unwrap().iter().find(|m| m["value"] == inner["id"]).unwrap();
        assert_eq!(member["type"], "Group");
        let alice = app.fetch(&format!("{USERS}/{u1}")).await;
        let mut expected = vec![
            (id_of(&inner).to_owned(), "direct".to_owned()),
            (id_of(&outer).to_owned(), "indirect".to_owned()),
        ];
        expected.sort();
        assert_eq!(groups_of(&alice), expected);
        let bob = app.fetch(&format!("{USERS}/{u2}")).await;
        assert_eq!(groups_of(&bob), vec![(id_of(&outer).to_owned(), "direct".to_owned())]);

        app.patch_group(&path_of(&outer), json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", id_of(&inner))}
        ])).await;
        let alice = app.fetch(&format!("{USERS}/{u1}")).await;
        assert_eq!(groups_of(&alice), vec![(id_of(&inner).to_owned(), "direct".to_owned())]);
    }
}

on_both_backends! {
    // G-36: `groups` is readOnly on the user
    async fn patching_a_users_groups_is_mutability(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let ga1 = app.create_group(&engineering(&[])).await;

        for operations in [
            json!([{"op": "add", "path": "groups", "value": [{"value": id_of(&ga1)}]}]),
            json!([{"op": "replace", "value": {"groups": [{"value": id_of(&ga1)}]}}]),
            json!([{"op": "remove", "path": "groups"}]),
        ] {
            let reply = app.patch_json(&path_of(&u1), &patch_op(operations.clone())).await;
            reply.assert_error(StatusCode::BAD_REQUEST, Some("mutability"));
            assert!(reply.body["detail"].as_str().unwrap().contains("operation 1"), "{}", reply.text);
        }
        assert_eq!(member_values(&app.fetch(&path_of(&ga1)).await), Vec::<String>::new());
        assert_eq!(app.fetch(&path_of(&u1)).await, u1);
    }
}

on_both_backends! {
    // G-37; FusionAuth/fusionauth-issues#2784
    async fn adding_one_member_to_a_group_of_150_keeps_all_150(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for i in 0..151 {
            let user = app.create_user(&json!({"schemas": [USER_URN], "userName": format!("u{i:03}@a.example")})).await;
            ids.push(id_of(&user).to_owned());
        }
        let first_150: Vec<&str> = ids[..150].iter().map(String::as_str).collect();
        let big = app.create_group(&group("Big", &first_150)).await;
        assert_eq!(member_values(&app.fetch(&path_of(&big)).await), sorted(&first_150));

        let patched = app.patch_group(&path_of(&big), json!([
            {"op": "add", "path": "members", "value": [{"value": ids[150]}]}
        ])).await;

        let all: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(member_values(&patched), sorted(&all));
    }
}

on_both_backends! {
    // F-05, F-06 (correctness only; timing belongs to the benchmarks): Okta's 256-member batch
    async fn okta_batches_of_256_adds_in_one_operation_and_256_filtered_removes_apply_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for i in 0..258 {
            let user = app.create_user(&json!({"schemas": [USER_URN], "userName": format!("b{i:03}@a.example")})).await;
            ids.push(id_of(&user).to_owned());
        }
        let (batch, others) = ids.split_at(256);
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let big = app.create_group(&group("Big", &others)).await;
        let values: Vec<Value> = batch.iter().map(|id| json!({"value": id, "display": "x"})).collect();
        let removes: Vec<Value> = batch
            .iter()
            .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
            .collect();

        let added = app.patch_group(&path_of(&big), json!([{"op": "add", "path": "members", "value": values}])).await;
        let removed = app.patch_group(&path_of(&big), Value::Array(removes)).await;

        let all: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(member_values(&added), sorted(&all));
        assert_eq!(member_values(&removed), sorted(&others));
    }
}
