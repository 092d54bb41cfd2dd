//! `PATCH /Users/{id}` (RFC 7644 §3.5.2) as Okta and Entra send it: dossier §1.5(g), §2.4–2.6
//! and §4.5 (P-01..P-35). What a request does to the user alone (manager shapes, app-role
//! values, one primary e-mail) is tested in the PATCH tables of `src/scim/patch/tests/` and,
//! over HTTP on both backends, by the conformance cases; passwords are in `passwords.rs`; here
//! is what needs the server.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{
    ENTERPRISE_URN, PATCH_URN, USER_URN, alice, bob, carol, encode, id_of, ids_in, patch_op,
    path_of, user, version_of,
};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";

fn time_of(resource: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = resource["meta"][field].as_str().expect(field);
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{field} {text}: {e}"))
}

/// A user with only a `userName`: no emails, no name.
fn bare(user_name: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": user_name})
}

/// Asserts a 400 with `scim_type` whose detail names operation `number`, and that the user
/// `before` is unchanged, version included.
async fn assert_refused(
    app: &TestApp,
    before: &Value,
    operations: Value,
    scim_type: &str,
    number: usize,
) {
    let path = path_of(before);
    let reply = app.patch_json(&path, &patch_op(operations.clone())).await;
    reply.assert_error(StatusCode::BAD_REQUEST, Some(scim_type));
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("operation {number}")),
        "{operations}: {detail}"
    );
    assert_eq!(
        app.fetch(&path).await,
        *before,
        "{operations} changed the user"
    );
}

on_both_backends! {
    // P-01, P-02, P-26; §1.5(g)
    async fn okta_deactivate_and_reactivate_without_path_answer_200_with_the_whole_user(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u2 = app.create_user(&bob()).await;
        let path = path_of(&u2);

        let deactivated = app.patch_user(&path, json!([{"op": "replace", "value": {"active": false}}])).await;
        let after_deactivate = app.fetch(&path).await;
        let reactivated = app.patch_user(&path, json!([{"op": "replace", "value": {"active": true}}])).await;
        let after_reactivate = app.fetch(&path).await;

        let mut expected = u2.clone();
        expected["active"] = json!(false);
        expected["meta"] = deactivated["meta"].clone();
        assert_eq!(deactivated, expected);
        assert_eq!(after_deactivate, deactivated);
        assert_eq!(reactivated["active"], json!(true));
        assert_eq!(after_reactivate, reactivated);
        assert_eq!(reactivated["meta"]["created"], u2["meta"]["created"]);
        assert_eq!(reactivated["meta"]["location"], json!(app.url(&path)));
        assert!(reactivated.get("password").is_none(), "{reactivated}");
    }
}

on_both_backends! {
    // P-03, P-04, P-05, P-07; §2.5 table (disable user with and without the flag)
    async fn entra_operation_spellings_and_string_booleans_are_accepted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u2 = app.create_user(&bob()).await;
        let path = path_of(&u2);
        let cases = [
            ("Replace", json!("False"), false),
            ("replace", json!("True"), true),
            ("REPLACE", json!("FALSE"), false),
            ("rEpLaCe", json!("true"), true),
            ("replace", json!("false"), false),
            ("Add", json!(true), true),
            ("add", json!("fAlSe"), false),
        ];

        for (op, value, expected) in cases {
            let patched = app
                .patch_user(&path, json!([{"op": op, "path": "active", "value": value}]))
                .await;
            assert_eq!(patched["active"], json!(expected), "{op} {value}");
            assert_eq!(app.fetch(&path).await["active"], json!(expected), "{op} {value}");
        }
    }
}

on_both_backends! {
    // P-05: MS-DEV's "Disable User" body verbatim, `Operations` before `schemas`
    async fn entra_disable_user_body_with_operations_first_answers_200(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u2 = app.create_user(&bob()).await;
        let body = r#"{"Operations":[{"op":"Replace","path":"active","value":false}],
                       "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#;

        let reply = app
            .send_raw(Method::PATCH, &path_of(&u2), "application/scim+json; charset=utf-8", body)
            .await;

        let patched = reply.assert_resource(StatusCode::OK, "User");
        assert_eq!(patched["active"], json!(false));
        assert_eq!(app.fetch(&path_of(&u2)).await["active"], json!(false));
    }
}

on_both_backends! {
    // P-07: "Add" and "Remove" capitalised
    async fn capitalised_add_and_remove_set_and_clear_an_attribute(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);

        let added = app.patch_user(&path, json!([{"op": "Add", "path": "nickName", "value": "Babs"}])).await;
        let removed = app.patch_user(&path, json!([{"op": "Remove", "path": "nickName"}])).await;

        assert_eq!(added["nickName"], "Babs");
        assert!(removed.get("nickName").is_none(), "{removed}");
        assert!(app.fetch(&path).await.get("nickName").is_none());
    }
}

on_both_backends! {
    // P-06
    async fn a_boolean_that_is_not_one_is_invalid_value_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u2 = app.create_user(&bob()).await;

        for value in [json!("maybe"), json!(1), json!({"x": true}), json!(["true"])] {
            let operations = json!([
                {"op": "replace", "path": "title", "value": "Boss"},
                {"op": "replace", "path": "active", "value": value}
            ]);
            assert_refused(&app, &u2, operations, "invalidValue", 2).await;
        }
    }
}

on_both_backends! {
    // P-08, P-24
    async fn bodies_that_are_not_a_patch_op_are_invalid_syntax_never_500(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let bodies = [
            json!([{"op": "replace", "path": "title", "value": "x"}]),
            json!("replace title"),
            json!({"schemas": [PATCH_URN]}),
            json!({"schemas": [PATCH_URN], "Operations": {"op": "replace", "path": "title", "value": "x"}}),
            json!({"schemas": [PATCH_URN], "Operations": ["replace"]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": 3, "path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": 7, "value": "x"}]}),
        ];

        for body in bodies {
            let reply = app.patch_json(&path, &body).await;
            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidSyntax"));
        }
        assert_eq!(app.fetch(&path).await, u1);
    }
}

on_both_backends! {
    // P-08
    async fn an_unknown_op_keyword_is_refused_naming_the_operation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);

        for op in ["merge", "copy", "move", "", "test"] {
            let operations = json!([
                {"op": "replace", "path": "title", "value": "Boss"},
                {"op": op, "path": "title", "value": "x"}
            ]);
            let reply = app.patch_json(&path, &patch_op(operations)).await;

            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{op:?}: {}", reply.text);
            let scim_type = reply.body["scimType"].as_str().unwrap_or_default();
            assert!(["invalidSyntax", "invalidValue"].contains(&scim_type), "{op:?}: {}", reply.text);
            reply.assert_error(StatusCode::BAD_REQUEST, Some(scim_type));
            let detail = reply.body["detail"].as_str().unwrap();
            assert!(detail.contains("operation 2"), "{op:?}: {detail}");
        }
        assert_eq!(app.fetch(&path).await, u1);
    }
}

on_both_backends! {
    // P-24; dossier §5.3 (empty Operations is a no-op); missing `schemas` and any-case key
    async fn empty_operations_answer_the_unchanged_user_with_the_same_version(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);

        let bodies = [
            json!({"schemas": [PATCH_URN], "Operations": []}),
            json!({"Operations": []}),
            json!({"schemas": [PATCH_URN], "operations": []}),
        ];
        for body in bodies {
            let reply = app.patch_json(&path, &body).await;
            assert_eq!(*reply.assert_resource(StatusCode::OK, "User"), u1, "{body}");
        }
        let lowercase_key = json!({"operations": [{"op": "replace", "path": "title", "value": "T"}]});
        let reply = app.patch_json(&path, &lowercase_key).await;

        assert_eq!(reply.assert_resource(StatusCode::OK, "User")["title"], "T");
        assert_eq!(app.fetch(&path).await["title"], "T");
    }
}

on_both_backends! {
    // P-09; §2.4 "Update user — multi-valued + sub-attribute"
    async fn entra_replace_of_the_work_email_value_and_family_name(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let operations = json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]);

        let patched = app.patch_user(&path_of(&u1), operations).await;

        assert_eq!(
            patched["emails"],
            json!([{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}])
        );
        assert_eq!(patched["name"]["familyName"], "updatedFamilyName");
        assert_eq!(patched["name"]["givenName"], "Alice");
        assert_eq!(patched["userName"], "alice@a.example");
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // The e-mail rows behind `emails.value eq` are rewritten only when the addresses change:
    // a PATCH of another attribute must keep them, one of the address must move them.
    async fn an_email_filter_follows_the_addresses_through_patches_of_them_and_of_others(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let by_email = |address: &str| format!("emails.value eq \"{address}\"");

        app.patch_user(&path_of(&u1), json!([{"op": "replace", "path": "displayName", "value": "Al"}]))
            .await;
        let kept = app.list_filtered(USERS, &by_email("alice@a.example")).await;
        assert_eq!(ids_in(&kept), vec![id_of(&u1).to_owned()]);

        app.patch_user(
            &path_of(&u1),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "al@b.example"}]),
        )
        .await;
        let moved = app.list_filtered(USERS, &by_email("AL@b.example")).await;
        let old = app.list_filtered(USERS, &by_email("alice@a.example")).await;
        assert_eq!(ids_in(&moved), vec![id_of(&u1).to_owned()]);
        assert_eq!(ids_in(&old), Vec::<String>::new());

        app.patch_user(&path_of(&u1), json!([{"op": "replace", "path": "title", "value": "Boss"}]))
            .await;
        let still = app.list_filtered(USERS, &by_email("al@b.example")).await;
        assert_eq!(ids_in(&still), vec![id_of(&u1).to_owned()]);
    }
}

on_both_backends! {
    // An update writes only the indexed columns whose value changed: whichever a PATCH
    // changes, one after another, every filter on them finds the user by its current values
    // and not by earlier ones.
    async fn filters_on_indexed_attributes_follow_patches_of_each_of_them(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let expect = |filters: &'static [(&'static str, bool)]| {
            let app = &app;
            let id = id_of(&u1).to_owned();
            async move {
                for (filter, found) in filters {
                    let list = app.list_filtered(USERS, filter).await;
                    let wanted = if *found { vec![id.clone()] } else { Vec::new() };
                    assert_eq!(ids_in(&list), wanted, "{filter}");
                }
            }
        };

        app.patch_user(&path, json!([{"op": "replace", "path": "displayName", "value": "Al"}])).await;
        expect(&[
            ("displayName eq \"al\"", true),
            ("userName eq \"alice@a.example\"", true),
            ("externalId eq \"ext-alice\"", true),
            ("active eq true", true),
        ])
        .await;

        app.patch_user(&path, json!([{"op": "replace", "path": "userName", "value": "al@a.example"}])).await;
        expect(&[
            ("userName eq \"AL@a.example\"", true),
            ("userName eq \"alice@a.example\"", false),
            ("displayName eq \"Al\"", true),
        ])
        .await;

        app.patch_user(&path, json!([{"op": "replace", "path": "externalId", "value": "ext-al"}])).await;
        expect(&[
            ("externalId eq \"ext-al\"", true),
            ("externalId eq \"ext-alice\"", false),
            ("userName eq \"al@a.example\"", true),
        ])
        .await;

        app.patch_user(&path, json!([{"op": "replace", "path": "active", "value": false}])).await;
        expect(&[("active eq false", true), ("active eq true", false), ("externalId eq \"ext-al\"", true)])
            .await;

        app.patch_user(&path, json!([{"op": "remove", "path": "displayName"}])).await;
        expect(&[("displayName pr", false), ("displayName eq \"Al\"", false), ("userName eq \"al@a.example\"", true)])
            .await;
    }
}

/// The only email of `user`, with `primary: true` dropped (the dossier leaves it optional for
/// an email created through a filtered path).
fn only_email(user: &Value) -> Value {
    let emails = user["emails"]
        .as_array()
        .unwrap_or_else(|| panic!("no emails: {user}"));
    assert_eq!(emails.len(), 1, "{user}");
    let mut email = emails[0].clone();
    if email.get("primary") == Some(&json!(true)) {
        email.as_object_mut().unwrap().remove("primary");
    }
    email
}

on_both_backends! {
    // P-10, P-11; §2.6 (the mail mapping creates the work email when none exists)
    async fn a_filtered_email_path_creates_the_work_email_when_none_exists(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let replaced = app.create_user(&bare("nomail@a.example")).await;
        let added = app.create_user(&bare("nomail2@a.example")).await;

        let after_replace = app.patch_user(&path_of(&replaced), json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.example"}
        ])).await;
        let after_add = app.patch_user(&path_of(&added), json!([
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@x.example"},
            {"op": "add", "path": "name.givenName", "value": "G"},
            {"op": "add", "path": "name.familyName", "value": "F"}
        ])).await;

        assert_eq!(only_email(&after_replace), json!({"type": "work", "value": "new@x.example"}));
        assert_eq!(only_email(&app.fetch(&path_of(&replaced)).await), only_email(&after_replace));
        let fetched = app.fetch(&path_of(&added)).await;
        assert_eq!(only_email(&fetched), json!({"type": "work", "value": "a@x.example"}));
        assert_eq!(fetched["name"]["givenName"], "G");
        assert_eq!(fetched["name"]["familyName"], "F");
        assert_eq!(fetched, after_add);
    }
}

on_both_backends! {
    // P-12; §2.5 (flag form: one path-less op with dotted and URN-prefixed keys)
    async fn entra_path_less_object_with_dotted_and_urn_keys_sets_those_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let operations = json!([{"op": "replace", "value": {
            "displayName": "Pvlo",
            "name.givenName": "Pvlo",
            "name.familyName": "Pvlo",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Pvlo"
        }}]);

        let patched = app.patch_user(&path_of(&u1), operations).await;
        let fetched = app.fetch(&path_of(&u1)).await;

        assert_eq!(fetched, patched);
        assert_eq!(fetched["displayName"], "Pvlo");
        assert_eq!(fetched["name"], json!({"givenName": "Pvlo", "familyName": "Pvlo"}));
        assert_eq!(fetched[ENTERPRISE_URN], json!({"employeeNumber": "Pvlo"}));
        assert!(fetched["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE_URN)), "{fetched}");
        let mut keys: Vec<&str> = fetched.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = vec![
            "active", "displayName", "emails", "externalId", "id", "meta", "name", "schemas",
            ENTERPRISE_URN, "userName",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}

on_both_backends! {
    // P-13
    async fn a_path_less_dotted_key_and_a_filtered_path_apply_together(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let operations = json!([
            {"op": "replace", "value": {"name.givenName": "A2"}},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a2@a.example"}
        ]);

        let patched = app.patch_user(&path_of(&u1), operations).await;

        assert_eq!(patched["name"], json!({"givenName": "A2", "familyName": "Anders"}));
        assert_eq!(patched["emails"], json!([{"value": "a2@a.example", "type": "work", "primary": true}]));
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // P-14
    async fn a_complex_replace_or_add_keeps_the_unspecified_sub_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);

        let replaced = app.patch_user(&path, json!([{"op": "replace", "value": {"name": {"givenName": "Y"}}}])).await;
        let added = app.patch_user(&path, json!([{"op": "add", "value": {"name": {"givenName": "Z"}}}])).await;
        let by_path = app.patch_user(&path, json!([{"op": "replace", "path": "name", "value": {"middleName": "M"}}])).await;

        assert_eq!(replaced["name"], json!({"givenName": "Y", "familyName": "Anders"}));
        assert_eq!(added["name"], json!({"givenName": "Z", "familyName": "Anders"}));
        assert_eq!(by_path["name"], json!({"givenName": "Z", "familyName": "Anders", "middleName": "M"}));
        assert_eq!(app.fetch(&path).await, by_path);
    }
}

on_both_backends! {
    // P-15; §2.4 "Update user — single-valued"
    async fn entra_username_replace_keeps_the_id_and_moves_the_filter_match(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let new_name = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com";

        let patched = app
            .patch_user(&path_of(&u1), json!([{"op": "Replace", "path": "userName", "value": new_name}]))
            .await;

        assert_eq!(patched["userName"], new_name);
        assert_eq!(patched["id"], u1["id"]);
        let by_new = app.list_filtered(USERS, &format!("userName eq \"{new_name}\"")).await;
        let by_old = app.list_filtered(USERS, "userName eq \"alice@a.example\"").await;
        assert_eq!(ids_in(&by_new), vec![id_of(&u1).to_owned()]);
        assert_eq!(by_new["totalResults"], 1);
        assert_eq!(by_old["totalResults"], 0);
        assert_eq!(ids_in(&by_old), Vec::<String>::new());
    }
}

on_both_backends! {
    // P-16
    async fn renaming_to_another_users_name_in_any_case_is_409_uniqueness(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.create_user(&alice()).await;
        let u2 = app.create_user(&bob()).await;

        for name in ["ALICE@A.EXAMPLE", "alice@a.example"] {
            let reply = app
                .patch_json(&path_of(&u2), &patch_op(json!([{"op": "replace", "path": "userName", "value": name}])))
                .await;
            reply.assert_error(StatusCode::CONFLICT, Some("uniqueness"));
        }
        assert_eq!(app.fetch(&path_of(&u2)).await, u2);
    }
}

on_both_backends! {
    // P-21, P-22; MS-LOGICAPP SCIM_Null_Update_Test
    async fn empty_string_null_and_remove_clear_a_single_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let clearings = [
            json!({"op": "Replace", "path": "title", "value": ""}),
            json!({"op": "Replace", "path": "title", "value": null}),
            json!({"op": "Remove", "path": "title"}),
            json!({"op": "replace", "value": {"title": ""}}),
            json!({"op": "replace", "value": {"title": null}}),
            json!({"op": "Add", "path": "title", "value": ""}),
        ];

        for clearing in clearings {
            let set = app.patch_user(&path, json!([{"op": "Replace", "path": "title", "value": "T"}])).await;
            assert_eq!(set["title"], "T");

            let cleared = app.patch_user(&path, json!([clearing])).await;

            assert!(cleared.get("title").is_none(), "{clearing}: {cleared}");
            assert!(app.fetch(&path).await.get("title").is_none(), "{clearing}");
        }
    }
}

on_both_backends! {
    // P-21 on sub-attributes and extension attributes (Entra sends "" for a deleted source value)
    async fn empty_string_clears_sub_and_extension_attributes_and_the_work_email(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body[ENTERPRISE_URN] = json!({"department": "Sales", "employeeNumber": "7"});
        let u1 = app.create_user(&body).await;

        let patched = app.patch_user(&path_of(&u1), json!([
            {"op": "Replace", "path": "name.givenName", "value": ""},
            {"op": "Replace", "path": format!("{ENTERPRISE_URN}:department"), "value": ""},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": null}
        ])).await;

        assert_eq!(patched["name"], json!({"familyName": "Anders"}));
        assert_eq!(patched[ENTERPRISE_URN], json!({"employeeNumber": "7"}));
        assert!(patched.get("emails").is_none_or(|e| *e == json!([])), "{patched}");
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // P-23, P-25, P-27, G-36 and the other refusals: atomic, the operation named
    async fn a_failing_operation_is_refused_naming_it_and_nothing_of_the_request_sticks(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body["displayName"] = json!("Alice");
        let u1 = app.create_user(&body).await;
        let set_name = json!({"op": "replace", "path": "displayName", "value": "SHOULD-NOT-STICK"});
        let set_title = json!({"op": "add", "path": "title", "value": "SHOULD-NOT-STICK"});
        let cases = [
            // P-23, P-25
            (json!({"op": "remove"}), "noTarget"),
            (json!({"op": "Remove", "path": ""}), "noTarget"),
            (json!({"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x.example"}}), "noTarget"),
            (json!({"op": "replace", "path": "noSuchAttribute", "value": "x"}), "invalidPath"),
            (json!({"op": "add", "path": "name.noSuchPart", "value": "x"}), "invalidPath"),
            (json!({"op": "replace", "path": "emails[type eq", "value": "x"}), "invalidPath"),
            // P-27, G-36
            (json!({"op": "replace", "path": "id", "value": "x"}), "mutability"),
            (json!({"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}), "mutability"),
            (json!({"op": "add", "path": "groups", "value": [{"value": "x"}]}), "mutability"),
            (json!({"op": "replace", "value": {"id": "00000000-0000-4000-8000-000000000000"}}), "mutability"),
            (json!({"op": "remove", "path": "userName"}), "mutability"),
            (json!({"op": "replace", "path": "userName", "value": ""}), "mutability"),
            // wrong types
            (json!({"op": "replace", "path": "title", "value": 42}), "invalidValue"),
            (json!({"op": "replace", "path": "name", "value": "Alice Anders"}), "invalidValue"),
            (json!({"op": "replace", "path": "emails", "value": "alice@a.example"}), "invalidValue"),
        ];

        for (failing, scim_type) in cases {
            let operations = json!([set_name, set_title, failing]);
            assert_refused(&app, &u1, operations, scim_type, 3).await;
        }
        let fetched = app.fetch(&path_of(&u1)).await;
        assert_eq!(fetched["displayName"], "Alice");
        assert_eq!(version_of(&fetched), version_of(&u1));
        assert_eq!(fetched["meta"]["lastModified"], u1["meta"]["lastModified"]);
    }
}

on_both_backends! {
    // meta.version / lastModified change only with the resource
    async fn the_version_changes_only_when_the_user_does(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body["title"] = json!("Engineer");
        let u1 = app.create_user(&body).await;
        let path = path_of(&u1);
        let no_ops = [
            json!([{"op": "replace", "path": "title", "value": "Engineer"}]),
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            json!([{"op": "replace", "value": {"name.givenName": "Alice", "active": true}}]),
            json!([{"op": "remove", "path": "nickName"}]),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
            json!([{"op": "add", "path": "emails", "value": [{"value": "alice@a.example", "type": "work", "primary": true}]}]),
        ];

        for operations in no_ops {
            let same = app.patch_user(&path, operations.clone()).await;
            assert_eq!(same, u1, "{operations}");
        }
        let changed = app.patch_user(&path, json!([{"op": "replace", "path": "title", "value": "Lead"}])).await;

        assert_ne!(version_of(&changed), version_of(&u1));
        assert!(time_of(&changed, "lastModified") >= time_of(&u1, "lastModified"));
        assert_eq!(changed["meta"]["created"], u1["meta"]["created"]);
        assert_eq!(app.fetch(&path).await, changed);
    }
}

on_both_backends! {
    // If-Match on PATCH (RFC 7644 §3.14)
    async fn a_stale_if_match_is_412_and_the_current_one_applies(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let body = patch_op(json!([{"op": "replace", "path": "title", "value": "Lead"}]));

        let stale = app.patch_json_with(&path, &body, &[("if-match", "W/\"999\"")]).await;
        stale.assert_error(StatusCode::PRECONDITION_FAILED, None);
        assert_eq!(app.fetch(&path).await, u1);

        let fresh = app.patch_json_with(&path, &body, &[("if-match", version_of(&u1))]).await;
        let patched = fresh.assert_resource(StatusCode::OK, "User").clone();
        assert_eq!(patched["title"], "Lead");
        let again = patch_op(json!([{"op": "replace", "path": "title", "value": "Other"}]));
        let outdated = app.patch_json_with(&path, &again, &[("if-match", version_of(&u1))]).await;
        outdated.assert_error(StatusCode::PRECONDITION_FAILED, None);
        assert_eq!(app.fetch(&path).await, patched);
        let any = app.patch_json_with(&path, &again, &[("if-match", "*")]).await;
        assert_eq!(any.assert_resource(StatusCode::OK, "User")["title"], "Other");
    }
}

on_both_backends! {
    // P-30; A-06/A-07 (tenancy)
    async fn patching_an_unknown_or_another_orgs_user_is_404_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let other = format!("Bearer {}", app.second_org_token("b"));
        let as_other = [("authorization", other.as_str())];
        let theirs = app.post_json_with(USERS, &carol(), &as_other).await;
        let theirs = theirs.assert_resource(StatusCode::CREATED, "User").clone();
        let ours = app.create_user(&alice()).await;
        let body = patch_op(json!([{"op": "replace", "value": {"active": false}}]));

        app.patch_json(&format!("{USERS}/6c1f7e43-50b2-4f5c-9e7d-1a2b3c4d5e6f"), &body)
            .await
            .assert_error(StatusCode::NOT_FOUND, None);
        app.patch_json(&format!("{USERS}/not-a-uuid"), &body).await.assert_error(StatusCode::NOT_FOUND, None);
        app.patch_json(&path_of(&theirs), &body).await.assert_error(StatusCode::NOT_FOUND, None);
        app.patch_json_with(&path_of(&ours), &body, &as_other).await.assert_error(StatusCode::NOT_FOUND, None);

        let their_view = app.get_reply_with(&path_of(&theirs), &as_other).await;
        assert_eq!(*their_view.assert_resource(StatusCode::OK, "User"), theirs);
        assert_eq!(app.fetch(&path_of(&ours)).await, ours);
    }
}

on_both_backends! {
    // P-31
    async fn add_on_a_single_valued_attribute_replaces_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = alice();
        body["displayName"] = json!("Alice");
        let u1 = app.create_user(&body).await;

        let patched = app.patch_user(&path_of(&u1), json!([{"op": "Add", "path": "displayName", "value": "New DN"}])).await;

        assert_eq!(patched["displayName"], "New DN");
        assert_eq!(app.fetch(&path_of(&u1)).await["displayName"], "New DN");
    }
}

on_both_backends! {
    // P-32; §2.6 (`.Value`, `.Formatted` capitalised in Microsoft's table)
    async fn attribute_names_in_paths_match_in_any_case(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;

        let patched = app.patch_user(&path_of(&u1), json!([
            {"op": "replace", "path": "Name.GivenName", "value": "Q"},
            {"op": "add", "path": "emails[Type eq \"other\"].Value", "value": "o@x.example"},
            {"op": "replace", "path": "TITLE", "value": "Boss"}
        ])).await;

        assert_eq!(patched["name"], json!({"givenName": "Q", "familyName": "Anders"}));
        assert_eq!(patched["title"], "Boss");
        assert_eq!(patched["emails"], json!([
            {"value": "alice@a.example", "type": "work", "primary": true},
            {"type": "other", "value": "o@x.example"}
        ]));
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // P-33
    async fn urn_prefixed_core_and_enterprise_paths_set_those_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;

        let patched = app.patch_user(&path_of(&u1), json!([
            {"op": "replace", "path": format!("{USER_URN}:name.givenName"), "value": "R"},
            {"op": "Replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "Sales"}
        ])).await;

        assert_eq!(patched["name"], json!({"givenName": "R", "familyName": "Anders"}));
        assert_eq!(patched[ENTERPRISE_URN], json!({"department": "Sales"}));
        assert!(patched.as_object().unwrap().keys().all(|k| k == ENTERPRISE_URN || !k.contains(':')), "{patched}");
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // §2.6 default attribute mappings, one Entra operation each, on a user without them
    async fn entra_default_mappings_patch_onto_a_user_without_those_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&bare("jyoung@testuser.com")).await;
        let mappings = [
            ("displayName", json!("Joy Young")),
            ("title", json!("Engineer")),
            ("externalId", json!("jyoung")),
            ("name.givenName", json!("Joy")),
            ("name.familyName", json!("Young")),
            ("emails[type eq \"work\"].value", json!("jyoung@contoso.com")),
            ("phoneNumbers[type eq \"work\"].value", json!("+1 555 0100")),
            ("phoneNumbers[type eq \"mobile\"].value", json!("+1 555 0101")),
            ("phoneNumbers[type eq \"fax\"].value", json!("+1 555 0102")),
            ("addresses[type eq \"work\"].streetAddress", json!("1 Main St")),
            ("addresses[type eq \"work\"].postalCode", json!("98052")),
            ("addresses[type eq \"other\"].Formatted", json!("Building 4")),
            ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", json!("Sales")),
            ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", json!("42")),
        ];
        let operations: Vec<Value> = mappings
            .iter()
            .map(|(path, value)| json!({"op": "Add", "path": path, "value": value}))
            .collect();

        let patched = app.patch_user(&path_of(&u1), Value::Array(operations)).await;

        assert_eq!(patched["displayName"], "Joy Young");
        assert_eq!(patched["title"], "Engineer");
        assert_eq!(patched["externalId"], "jyoung");
        assert_eq!(patched["name"], json!({"givenName": "Joy", "familyName": "Young"}));
        assert_eq!(only_email(&patched), json!({"type": "work", "value": "jyoung@contoso.com"}));
        assert_eq!(patched["phoneNumbers"], json!([
            {"type": "work", "value": "+1 555 0100"},
            {"type": "mobile", "value": "+1 555 0101"},
            {"type": "fax", "value": "+1 555 0102"}
        ]));
        assert_eq!(patched["addresses"], json!([
            {"type": "work", "streetAddress": "1 Main St", "postalCode": "98052"},
            {"type": "other", "formatted": "Building 4"}
        ]));
        assert_eq!(patched[ENTERPRISE_URN], json!({"department": "Sales", "employeeNumber": "42"}));
        assert_eq!(app.fetch(&path_of(&u1)).await, patched);
    }
}

on_both_backends! {
    // P-34
    async fn adding_the_same_phone_number_twice_keeps_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let add = json!([{"op": "add", "path": "phoneNumbers", "value": [{"type": "mobile", "value": "123"}]}]);

        let first = app.patch_user(&path_of(&u1), add.clone()).await;
        let second = app.patch_user(&path_of(&u1), add).await;

        assert_eq!(first["phoneNumbers"], json!([{"type": "mobile", "value": "123"}]));
        assert_eq!(second, first, "the second add changes nothing, version included");
    }
}

on_both_backends! {
    // Projection on the PATCH response (RFC 7644 §3.5.2: attributes/excludedAttributes apply)
    async fn the_patch_response_honours_attributes_and_excluded_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let body = patch_op(json!([{"op": "replace", "path": "title", "value": "Lead"}]));

        let narrow = app.patch_json(&format!("{path}?attributes=title"), &body).await;
        let excluded = app.patch_json(&format!("{path}?excludedAttributes=emails,name"), &body).await;

        narrow.assert_status(StatusCode::OK);
        assert_eq!(narrow.body, json!({"schemas": [USER_URN], "id": id_of(&u1), "title": "Lead"}));
        assert!(narrow.header("etag").is_some_and(|e| e.starts_with("W/")), "{:?}", narrow.headers);
        let fetched = app.fetch(&path).await;
        let mut expected = fetched.clone();
        expected.as_object_mut().unwrap().remove("emails");
        expected.as_object_mut().unwrap().remove("name");
        assert_eq!(*excluded.assert_resource(StatusCode::OK, "User"), expected);
        assert_eq!(fetched["title"], "Lead");
    }
}

on_both_backends! {
    // E-11: plain JSON content type; body limits
    async fn application_json_is_accepted_and_more_than_1000_operations_are_too_many(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let u1 = app.create_user(&alice()).await;
        let path = path_of(&u1);
        let operation = json!({"op": "replace", "path": "title", "value": "T"});

        let plain = app
            .send_raw(Method::PATCH, &path, "application/json", &patch_op(json!([operation])).to_string())
            .await;
        let at_limit = app.patch_json(&path, &patch_op(Value::Array(vec![operation.clone(); 1000]))).await;
        let over = app.patch_json(&path, &patch_op(Value::Array(vec![operation; 1001]))).await;

        assert_eq!(plain.assert_resource(StatusCode::OK, "User")["title"], "T");
        at_limit.assert_resource(StatusCode::OK, "User");
        over.assert_error(StatusCode::BAD_REQUEST, Some("tooMany"));
        assert!(over.body["detail"].as_str().unwrap().contains("1000"), "{}", over.text);
    }
}

on_both_backends! {
    // A user seeded with `user(...)`: the fixture's shape survives a PATCH of one attribute
    async fn a_patch_of_one_attribute_leaves_every_other_attribute_as_it_was(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut body = user("dora@a.example", "ext-dora", "Dora", "Diaz");
        body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
        body["title"] = json!("Engineer");
        body["phoneNumbers"] = json!([{"type": "work", "value": "1"}]);
        body[ENTERPRISE_URN] = json!({"department": "R&D", "employeeNumber": "9"});
        let created = app.create_user(&body).await;

        let patched = app.patch_user(&path_of(&created), json!([{"op": "replace", "path": "nickName", "value": "D"}])).await;

        let mut expected = created.clone();
        expected["nickName"] = json!("D");
        expected["meta"] = patched["meta"].clone();
        assert_eq!(patched, expected);
        assert_eq!(app.list(&format!("{USERS}?filter={}", encode("nickName eq \"D\""))).await["totalResults"], 1);
    }
}

on_both_backends! {
    // Issue 17: GitHub-style single quotes; a garbled quote is invalidPath and writes nothing
    async fn a_single_quoted_value_filter_updates_the_work_email_and_a_garbled_one_is_invalid_path(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created = app.create_user(&alice()).await;
        let path = path_of(&created);

        let patched = app.patch_user(&path, json!([{"op": "replace", "path": "emails[type eq 'work'].value", "value": "new@x.com"}])).await;

        assert_eq!(patched["emails"], json!([{"value": "new@x.com", "type": "work", "primary": true}]));
        assert_eq!(app.fetch(&path).await, patched);
        let garbled = json!([{"op": "replace", "path": "emails[type eq 'work].value", "value": "x@x.com"}]);
        assert_refused(&app, &patched, garbled, "invalidPath", 1).await;
    }
}
