//! Dossier §4.5 P-01..P-35 (User PATCH), with the real bodies, plus the Okta (§1.5g) and Entra
//! (§2.4, §2.5, §2.6) user requests they come from. P-26 (response shape) and P-30 (404) are
//! the HTTP layer's; P-16's 409 is the store's (the core accepts the new name).

use serde_json::{Value, json};

use super::{
    ENTERPRISE, U1, U2, U3, USER, alice, alice_with, apply_and_prepare, bob_without_email, body,
    patch_user, scim_type,
};
use crate::scim::error::ScimType;
use crate::scim::schema::USER_RESOURCE_TYPE;

struct Case {
    id: &'static str,
    stored: Value,
    operations: Value,
    expected: Result<Value, ScimType>,
}

fn case(id: &'static str, stored: Value, operations: Value, expected: Value) -> Case {
    Case {
        id,
        stored,
        operations,
        expected: Ok(expected),
    }
}

fn fails(id: &'static str, operations: Value, scim_type: ScimType) -> Case {
    Case {
        id,
        stored: alice(),
        operations,
        expected: Err(scim_type),
    }
}

fn with_manager(id: &str) -> Value {
    alice_with(json!({"schemas": [USER, ENTERPRISE], ENTERPRISE: {"manager": {"value": id}}}))
}

fn run(cases: Vec<Case>) {
    for case in cases {
        let result = patch_user(&case.stored, case.operations.clone());
        match (&case.expected, result) {
            (Ok(expected), Ok(applied)) => {
                assert_eq!(
                    &applied.resource, expected,
                    "{}: {}",
                    case.id, case.operations
                );
                assert_eq!(
                    applied.changed,
                    applied.resource != case.stored,
                    "{}: changed",
                    case.id
                );
            }
            (Err(expected), Err(error)) => {
                assert_eq!(&error.scim_type, expected, "{}: {}", case.id, error.detail);
            }
            (expected, actual) => panic!("{}: expected {expected:?}, got {actual:?}", case.id),
        }
    }
}

#[test]
fn okta_deactivation_reactivation_and_entra_disable_requests_set_active() {
    let inactive = alice_with(json!({"active": false}));
    run(vec![
        case(
            "P-01 Okta §1.5g deactivate",
            alice(),
            json!([{"op": "replace", "value": {"active": false}}]),
            inactive.clone(),
        ),
        case(
            "P-02 Okta reactivate",
            inactive.clone(),
            json!([{"op": "replace", "value": {"active": true}}]),
            alice(),
        ),
        case(
            "P-03 Entra legacy disable",
            alice(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            inactive.clone(),
        ),
        case(
            "P-04 True",
            inactive.clone(),
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            alice(),
        ),
        case(
            "P-04 true",
            inactive.clone(),
            json!([{"op": "replace", "path": "active", "value": "true"}]),
            alice(),
        ),
        case(
            "P-04 FALSE",
            alice(),
            json!([{"op": "replace", "path": "active", "value": "FALSE"}]),
            inactive.clone(),
        ),
        case(
            "P-04 string boolean in a path-less object",
            alice(),
            json!([{"op": "Replace", "value": {"active": "False"}}]),
            inactive.clone(),
        ),
        case(
            "P-05 flag form",
            alice(),
            json!([{"op": "replace", "path": "active", "value": false}]),
            inactive.clone(),
        ),
        fails(
            "P-06",
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            ScimType::InvalidValue,
        ),
    ]);
}

#[test]
fn entra_disable_with_operations_before_schemas_is_accepted() {
    let request = json!({
        "Operations": [{"op": "Replace", "path": "active", "value": false}],
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    });
    let applied = apply_and_prepare(&USER_RESOURCE_TYPE, U1, &alice(), &request).unwrap();
    assert_eq!(applied.resource["active"], json!(false));
    assert!(applied.changed);
}

#[test]
fn op_keywords_are_accepted_in_any_case_and_unknown_ones_are_invalid_syntax() {
    let titled = alice_with(json!({"title": "x"}));
    run(vec![
        case(
            "P-07 Replace",
            alice(),
            json!([{"op": "Replace", "path": "title", "value": "x"}]),
            titled.clone(),
        ),
        case(
            "P-07 REPLACE",
            alice(),
            json!([{"op": "REPLACE", "path": "title", "value": "x"}]),
            titled.clone(),
        ),
        case(
            "P-07 rEpLaCe",
            alice(),
            json!([{"op": "rEpLaCe", "path": "title", "value": "x"}]),
            titled.clone(),
        ),
        case(
            "P-07 Add",
            alice(),
            json!([{"op": "Add", "path": "title", "value": "x"}]),
            titled.clone(),
        ),
        case(
            "P-07 Remove",
            titled.clone(),
            json!([{"op": "Remove", "path": "title"}]),
            alice(),
        ),
        case(
            "§2.5 legacy Add nickName",
            alice(),
            json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
            alice_with(json!({"nickName": "Babs"})),
        ),
        case(
            "§2.5 flag add nickName",
            alice(),
            json!([{"op": "add", "path": "nickName", "value": "Babs"}]),
            alice_with(json!({"nickName": "Babs"})),
        ),
        fails(
            "P-08 merge",
            json!([{"op": "merge", "path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
        fails(
            "P-08 no op",
            json!([{"path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
    ]);
}

#[test]
fn entra_filtered_email_paths_update_or_create_the_work_email() {
    run(vec![
        case(
            "P-09 MS-DEV multi-valued update",
            alice(),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]),
            alice_with(json!({
                "name": {"givenName": "Alice", "familyName": "updatedFamilyName"},
                "emails": [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}]})),
        ),
        case(
            "P-10 replace creates the missing work email",
            bob_without_email(),
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.example"}]),
            json!({"schemas": [USER], "externalId": "ext-bob", "userName": "bob@a.example", "active": true,
                   "emails": [{"type": "work", "value": "new@x.example"}]}),
        ),
        case(
            "P-11 validator 'Patch User - Add Attributes'",
            bob_without_email(),
            json!([
                {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@x.example"},
                {"op": "add", "path": "name.givenName", "value": "G"},
                {"op": "add", "path": "name.familyName", "value": "F"}]),
            json!({"schemas": [USER], "externalId": "ext-bob", "userName": "bob@a.example", "active": true,
                   "emails": [{"type": "work", "value": "a@x.example"}],
                   "name": {"givenName": "G", "familyName": "F"}}),
        ),
        case(
            "P-32 capitalised names",
            alice(),
            json!([
                {"op": "replace", "path": "Name.GivenName", "value": "Q"},
                {"op": "add", "path": "emails[Type eq \"other\"].Value", "value": "o@x.example"}]),
            alice_with(json!({
                "name": {"givenName": "Q", "familyName": "Anders"},
                "emails": [{"value": "alice@a.example", "type": "work", "primary": true},
                           {"type": "other", "value": "o@x.example"}]})),
        ),
    ]);
}

#[test]
fn single_quoted_value_filters_select_like_double_quoted_ones() {
    run(vec![
        case(
            "issue 17: GitHub-style single quotes update the work email",
            alice(),
            json!([{"op": "replace", "path": "emails[type eq 'work'].value", "value": "new@x.com"}]),
            alice_with(json!({
                "emails": [{"value": "new@x.com", "type": "work", "primary": true}]})),
        ),
        case(
            "issue 17: single quotes create the missing work email with the unquoted type",
            bob_without_email(),
            json!([{"op": "replace", "path": "emails[type eq 'work'].value", "value": "new@x.com"}]),
            json!({"schemas": [USER], "externalId": "ext-bob", "userName": "bob@a.example", "active": true,
                   "emails": [{"type": "work", "value": "new@x.com"}]}),
        ),
    ]);
}

#[test]
fn garbled_value_filters_are_invalid_path_and_never_create_a_value() {
    let garbled = [
        "emails[type eq 'work].value",
        "emails[type eq work'].value",
        "emails[type eq \"work'].value",
        "emails[type eq ''work''].value",
        "emails[type eq 'work'.value",
        "emails[type eq].value",
    ];
    for path in garbled {
        for stored in [alice(), bob_without_email()] {
            let result = patch_user(
                &stored,
                json!([{"op": "replace", "path": path, "value": "new@x.com"}]),
            );
            assert_eq!(scim_type(result), ScimType::InvalidPath, "{path}");
        }
    }
}

#[test]
fn entra_flag_form_path_less_objects_with_dotted_and_urn_keys_are_split_into_paths() {
    let pvlo = json!({
        "schemas": [USER, ENTERPRISE], "externalId": "ext-alice", "userName": "alice@a.example",
        "name": {"givenName": "Pvlo", "familyName": "Pvlo"}, "displayName": "Pvlo", "active": true,
        "emails": [{"value": "alice@a.example", "type": "work", "primary": true}],
        ENTERPRISE: {"employeeNumber": "Pvlo"}
    });
    run(vec![
        case(
            "P-12 MS-COMPAT flag form",
            alice(),
            json!([{"op": "replace", "value": {
                "displayName": "Pvlo", "name.givenName": "Pvlo", "name.familyName": "Pvlo",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Pvlo"}}]),
            pvlo,
        ),
        case(
            "P-13 mixed forms",
            alice(),
            json!([
                {"op": "replace", "value": {"name.givenName": "A2"}},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a2@a.example"}]),
            alice_with(json!({
                "name": {"givenName": "A2", "familyName": "Anders"},
                "emails": [{"value": "a2@a.example", "type": "work", "primary": true}]})),
        ),
        case(
            "P-14 replace keeps unspecified sub-attributes",
            alice(),
            json!([{"op": "replace", "value": {"name": {"givenName": "Y"}}}]),
            alice_with(json!({"name": {"givenName": "Y", "familyName": "Anders"}})),
        ),
        case(
            "P-14 add keeps unspecified sub-attributes",
            alice(),
            json!([{"op": "add", "value": {"name": {"givenName": "Z"}}}]),
            alice_with(json!({"name": {"givenName": "Z", "familyName": "Anders"}})),
        ),
        case(
            "P-33 schema-qualified paths",
            alice(),
            json!([
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "R"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}]),
            alice_with(json!({"schemas": [USER, ENTERPRISE],
                "name": {"givenName": "R", "familyName": "Anders"}, ENTERPRISE: {"department": "Sales"}})),
        ),
    ]);
}

#[test]
fn single_valued_updates_replace_the_value() {
    run(vec![
        case(
            "P-15 MS-DEV single-valued",
            alice(),
            json!([{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]),
            alice_with(json!({"userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"})),
        ),
        case(
            "P-16 the core accepts; the 409 is the store's",
            alice(),
            json!([{"op": "replace", "path": "userName", "value": "ALICE@A.EXAMPLE"}]),
            alice_with(json!({"userName": "ALICE@A.EXAMPLE"})),
        ),
        case(
            "P-31 add on a single value replaces it",
            alice_with(json!({"displayName": "Old"})),
            json!([{"op": "Add", "path": "displayName", "value": "New DN"}]),
            alice_with(json!({"displayName": "New DN"})),
        ),
        case(
            "G-15-like externalId add",
            alice(),
            json!([{"op": "Add", "path": "externalId", "value": "obj-123"}]),
            alice_with(json!({"externalId": "obj-123"})),
        ),
    ]);
}

#[test]
fn entra_manager_shapes_become_a_reference_object_under_the_enterprise_urn() {
    let u1_ref = format!("http://x/scim/Users/{U1}");
    let with_ref = alice_with(json!({"schemas": [USER, ENTERPRISE],
        ENTERPRISE: {"manager": {"value": U1, "$ref": u1_ref}}}));
    run(vec![
        case(
            "P-17 MS-DEV Example 5 (array, bare path)",
            alice(),
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": u1_ref, "value": U1}]}]),
            with_ref,
        ),
        case(
            "P-18 plain string with URN",
            with_manager(U1),
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": U3}]),
            with_manager(U3),
        ),
        case(
            "P-19 RFC object",
            alice(),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": U1}}]),
            with_manager(U1),
        ),
        case(
            "P-20 filtered remove",
            with_manager(U1),
            json!([{"op": "remove", "path": format!("manager[value eq \"{U1}\"]")}]),
            alice(),
        ),
        case(
            "P-20 filtered remove of another manager changes nothing",
            with_manager(U2),
            json!([{"op": "remove", "path": format!("manager[value eq \"{U1}\"]")}]),
            with_manager(U2),
        ),
        case(
            "P-20 Remove with URN",
            with_manager(U1),
            json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
            alice(),
        ),
        case(
            "P-20 Replace with empty string",
            with_manager(U1),
            json!([{"op": "Replace", "path": "manager", "value": ""}]),
            alice(),
        ),
        case(
            "manager in a path-less object",
            alice(),
            json!([{"op": "replace", "value": {ENTERPRISE: {"manager": U2}}}]),
            with_manager(U2),
        ),
        case(
            "manager as a one-element array in a path-less dotted key",
            alice(),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": [{"value": U2}]}}]),
            with_manager(U2),
        ),
        case(
            "Entra value-list remove of the manager",
            with_manager(U1),
            json!([{"op": "Remove", "path": "manager", "value": [{"value": U1}]}]),
            alice(),
        ),
        case(
            "plain string, bare path",
            alice(),
            json!([{"op": "replace", "path": "manager", "value": U3}]),
            with_manager(U3),
        ),
        case(
            "Add of a plain string, bare path",
            alice(),
            json!([{"op": "Add", "path": "manager", "value": U1}]),
            with_manager(U1),
        ),
        case(
            "RFC object, bare path",
            alice(),
            json!([{"op": "Replace", "path": "manager", "value": {"value": U3}}]),
            with_manager(U3),
        ),
        case(
            "one-element array with URN",
            alice(),
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": [{"value": U1}]}]),
            with_manager(U1),
        ),
        case(
            "a new manager drops the old one's $ref",
            alice_with(json!({"schemas": [USER, ENTERPRISE],
                ENTERPRISE: {"manager": {"value": U1, "$ref": format!("http://x/scim/Users/{U1}")}}})),
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": U3}]),
            with_manager(U3),
        ),
        case(
            "P-20 Replace with null with URN",
            with_manager(U1),
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": null}]),
            alice(),
        ),
        case(
            "P-20 remove, bare path",
            with_manager(U1),
            json!([{"op": "remove", "path": "manager"}]),
            alice(),
        ),
    ]);
}

#[test]
fn empty_and_null_values_unassign_and_remove_needs_a_path() {
    let titled = alice_with(json!({"title": "T"}));
    run(vec![
        case(
            "P-21 set",
            alice(),
            json!([{"op": "Replace", "path": "title", "value": "T"}]),
            titled.clone(),
        ),
        case(
            "P-21 empty string",
            titled.clone(),
            json!([{"op": "Replace", "path": "title", "value": ""}]),
            alice(),
        ),
        case(
            "P-21 null",
            titled.clone(),
            json!([{"op": "Replace", "path": "title", "value": null}]),
            alice(),
        ),
        case(
            "P-21 null in a path-less object",
            titled.clone(),
            json!([{"op": "replace", "value": {"title": null}}]),
            alice(),
        ),
        case(
            "P-21 empty work email removes the email",
            alice(),
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": ""}]),
            alice_with(json!({"emails": null})),
        ),
        case(
            "P-22",
            titled,
            json!([{"op": "Remove", "path": "title"}]),
            alice(),
        ),
        case(
            "P-22 absent attribute",
            alice(),
            json!([{"op": "Remove", "path": "title"}]),
            alice(),
        ),
        fails("P-23", json!([{"op": "remove"}]), ScimType::NoTarget),
        case("P-24 empty Operations", alice(), json!([]), alice()),
        fails(
            "P-25 atomic",
            json!([
            {"op": "replace", "path": "displayName", "value": "SHOULD-NOT-STICK"}, {"op": "remove"}]),
            ScimType::NoTarget,
        ),
    ]);
}

#[test]
fn read_only_targets_are_mutability_errors() {
    run(vec![
        fails(
            "P-27 id",
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            ScimType::Mutability,
        ),
        fails(
            "P-27 meta.created",
            json!([{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}]),
            ScimType::Mutability,
        ),
        fails(
            "G-36 groups",
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
            ScimType::Mutability,
        ),
        fails(
            "manager.displayName",
            json!([{"op": "replace", "path": "manager.displayName", "value": "x"}]),
            ScimType::Mutability,
        ),
        fails(
            "different id in a path-less object",
            json!([{"op": "replace", "value": {"id": "other", "title": "x"}}]),
            ScimType::Mutability,
        ),
        fails(
            "required userName",
            json!([{"op": "remove", "path": "userName"}]),
            ScimType::Mutability,
        ),
        fails(
            "required userName set to empty",
            json!([{"op": "replace", "path": "userName", "value": ""}]),
            ScimType::Mutability,
        ),
        case(
            "own id echoed as a path",
            alice(),
            json!([{"op": "replace", "path": "id", "value": U1}]),
            alice(),
        ),
    ]);
}

#[test]
fn entra_app_roles_keep_json_encoded_values_verbatim() {
    let role = "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}";
    run(vec![
        case(
            "P-28 MS-ATTR",
            alice(),
            json!([{"op": "Add", "path": "roles", "value": [{"value": role}]}]),
            alice_with(json!({"roles": [{"value": role}]})),
        ),
        case(
            "§2.6 roles[primary eq \"True\"].value creates a primary role",
            alice(),
            json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": role}]),
            alice_with(json!({"roles": [{"primary": true, "value": role}]})),
        ),
        case(
            "§2.6 roles[primary eq \"True\"].value next to a role that is not primary",
            alice_with(json!({"roles": [{"value": role}]})),
            json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]),
            alice_with(json!({"roles": [{"value": role}, {"primary": true, "value": "Admin"}]})),
        ),
    ]);
}

#[test]
fn okta_password_sync_returns_the_password_and_never_stores_it() {
    let applied = patch_user(
        &alice(),
        json!([{"op": "replace", "value": {"password": "N3w-p@ss"}}]),
    )
    .unwrap();
    assert_eq!(applied.password.as_deref(), Some("N3w-p@ss"), "P-29");
    assert_eq!(applied.resource, alice());
    assert!(!applied.changed);
    let by_path = patch_user(
        &alice(),
        json!([{"op": "replace", "path": "password", "value": "0th3r-p@ss"}]),
    )
    .unwrap();
    assert_eq!(by_path.password.as_deref(), Some("0th3r-p@ss"), "P-29 path");
    assert_eq!(by_path.resource, alice());
}

#[test]
fn multi_valued_adds_append_without_duplicates_and_keep_one_primary() {
    let mobile = json!({"type": "mobile", "value": "123"});
    run(vec![
        case(
            "P-34 added twice",
            alice(),
            json!([
                {"op": "add", "path": "phoneNumbers", "value": [mobile]},
                {"op": "add", "path": "phoneNumbers", "value": [mobile]}]),
            alice_with(json!({"phoneNumbers": [{"value": "123", "type": "mobile"}]})),
        ),
        case(
            "P-35 new primary clears the old one",
            alice(),
            json!([{"op": "add", "path": "emails", "value": [{"type": "home", "value": "h@x", "primary": true}]}]),
            alice_with(json!({"emails": [
                {"value": "alice@a.example", "type": "work", "primary": false},
                {"value": "h@x", "type": "home", "primary": true}]})),
        ),
    ]);
    let once = patch_user(
        &alice(),
        json!([{"op": "add", "path": "phoneNumbers", "value": [mobile]}]),
    )
    .unwrap();
    let twice = patch_user(
        &once.resource,
        json!([{"op": "add", "path": "phoneNumbers", "value": [mobile]}]),
    )
    .unwrap();
    assert!(!twice.changed, "P-34: the second request changes nothing");
}

#[test]
fn entra_mapping_paths_with_capitalised_sub_attributes_create_typed_values() {
    run(vec![
        case(
            "§2.6 proxyAddresses",
            alice(),
            json!([{"op": "Add", "path": "emails[type eq \"other\"].Value", "value": "smtp@x"}]),
            alice_with(json!({"emails": [
                {"value": "alice@a.example", "type": "work", "primary": true},
                {"type": "other", "value": "smtp@x"}]})),
        ),
        case(
            "§2.6 physicalDeliveryOfficeName",
            alice(),
            json!([{"op": "Replace", "path": "addresses[type eq \"other\"].Formatted", "value": "Bldg 7"}]),
            alice_with(json!({"addresses": [{"type": "other", "formatted": "Bldg 7"}]})),
        ),
        case(
            "§2.6 mobile",
            alice(),
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"}]),
            alice_with(json!({"phoneNumbers": [{"type": "mobile", "value": "+1 555"}]})),
        ),
    ]);
}

#[test]
fn the_dossier_bodies_parse_without_the_schemas_member() {
    let request = json!({"Operations": [{"op": "Replace", "path": "title", "value": "T"}]});
    let applied = apply_and_prepare(&USER_RESOURCE_TYPE, U1, &alice(), &request).unwrap();
    assert_eq!(applied.resource["title"], json!("T"));
    let _ = body(json!([]));
}
