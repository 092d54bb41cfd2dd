//! Dossier §4.6 G-13..G-29 (Group PATCH) with the real bodies, plus Okta §1.5h and Entra §2.4,
//! §2.5 group requests. Members never enter the JSON: each request yields a change list.

use serde_json::{Value, json};

use super::{
    GA1, GROUP, U1, U2, U3, engineering, member, member_shown, member_typed, patch_group, removed,
    scim_type,
};
use crate::scim::error::ScimType;
use crate::scim::filter::{CompareOp, ResolvedFilter, ResolvedValue};
use crate::scim::patch::MemberChange;
use crate::scim::resource::MemberType;

struct Case {
    id: &'static str,
    operations: Value,
    changes: Vec<MemberChange>,
    resource: Value,
}

fn case(id: &'static str, operations: Value, changes: Vec<MemberChange>) -> Case {
    Case {
        id,
        operations,
        changes,
        resource: engineering(),
    }
}

fn renamed(name: &str) -> Value {
    json!({"schemas": [GROUP], "displayName": name, "externalId": "ga1-ext"})
}

fn run(cases: Vec<Case>) {
    for case in cases {
        let applied = patch_group(case.operations.clone())
            .unwrap_or_else(|error| panic!("{}: {error}", case.id));
        assert_eq!(applied.member_changes, case.changes, "{}", case.id);
        assert_eq!(applied.resource, case.resource, "{}", case.id);
        assert_eq!(
            applied.changed,
            case.resource != engineering(),
            "{}",
            case.id
        );
        assert_eq!(applied.password, None);
    }
}

#[test]
fn okta_and_entra_renames_change_only_the_display_name() {
    run(vec![
        Case {
            resource: renamed("Eng 2"),
            ..case(
                "G-13 Okta rename echoing the group's id",
                json!([{"op": "replace", "value": {"id": GA1, "displayName": "Eng 2"}}]),
                vec![],
            )
        },
        Case {
            resource: renamed("Test SCIMv2"),
            ..case(
                "§1.5h Okta rename, verbatim",
                json!([{"op": "replace", "value": {"id": GA1, "displayName": "Test SCIMv2"}}]),
                vec![],
            )
        },
        Case {
            resource: renamed("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"),
            ..case(
                "G-14 MS-DEV rename",
                json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
                vec![],
            )
        },
        Case {
            resource: json!({"schemas": [GROUP], "displayName": "Engineering", "externalId": "obj-123"}),
            ..case(
                "G-15 Entra externalId add",
                json!([{"op": "Add", "path": "externalId", "value": "obj-123"}]),
                vec![],
            )
        },
        case(
            "Okta rename with the current name changes nothing",
            json!([{"op": "replace", "value": {"id": GA1, "displayName": "Engineering"}}]),
            vec![],
        ),
    ]);
}

#[test]
fn okta_rename_with_another_id_is_a_mutability_error() {
    let result = patch_group(json!([{"op": "replace", "value": {"id": U1, "displayName": "x"}}]));
    assert_eq!(scim_type(result), ScimType::Mutability);
}

#[test]
fn member_additions_become_add_changes() {
    run(vec![
        case(
            "G-16 Okta add",
            json!([{"op": "add", "path": "members", "value": [{"value": U2, "display": "bob@a.example"}]}]),
            vec![MemberChange::Add(vec![member_shown(U2, "bob@a.example")])],
        ),
        case(
            "G-17 Entra Add with $ref null",
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": U3}]}]),
            vec![MemberChange::Add(vec![member(U3)])],
        ),
        case(
            "G-18 one op with three",
            json!([{"op": "add", "path": "members", "value": [{"value": U1}, {"value": U2}, {"value": U3}]}]),
            vec![MemberChange::Add(vec![member(U1), member(U2), member(U3)])],
        ),
        case(
            "G-18 three ops",
            json!([
                {"op": "add", "path": "members", "value": [{"value": U1}]},
                {"op": "add", "path": "members", "value": [{"value": U2}]},
                {"op": "add", "path": "members", "value": [{"value": U3}]}]),
            vec![MemberChange::Add(vec![member(U1), member(U2), member(U3)])],
        ),
        case(
            "G-19 the same member twice",
            json!([
                {"op": "add", "path": "members", "value": [{"value": U1}]},
                {"op": "add", "path": "members", "value": [{"value": U1}]}]),
            vec![MemberChange::Add(vec![member(U1)])],
        ),
        case(
            "G-20 with and without type",
            json!([{"op": "add", "path": "members", "value": [{"value": U1}, {"value": U2, "type": "User"}]}]),
            vec![MemberChange::Add(vec![
                member(U1),
                member_typed(U2, MemberType::User),
            ])],
        ),
        case(
            "G-29 unknown ids are the server's to refuse",
            json!([{"op": "add", "path": "members", "value": [{"value": U2}, {"value": "3f0e0000-0000-4000-8000-000000000000"}]}]),
            vec![MemberChange::Add(vec![
                member(U2),
                member("3f0e0000-0000-4000-8000-000000000000"),
            ])],
        ),
        case(
            "add of an empty list changes nothing",
            json!([{"op": "add", "path": "members", "value": []}]),
            vec![],
        ),
        case(
            "add of null changes nothing (never a wipe)",
            json!([{"op": "add", "path": "members", "value": null}]),
            vec![],
        ),
    ]);
}

#[test]
fn member_removals_name_only_the_listed_members() {
    run(vec![
        case(
            "G-21 Entra legacy value-list remove (critical)",
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": U1}]}]),
            vec![removed(&[U1])],
        ),
        case(
            "§2.5 legacy remove of two",
            json!([{"op": "Remove", "path": "members", "value": [{"value": U1}, {"value": U2}]}]),
            vec![removed(&[U1, U2])],
        ),
        case(
            "legacy remove with an empty list removes nothing",
            json!([{"op": "Remove", "path": "members", "value": []}]),
            vec![],
        ),
        case(
            "G-22 filtered remove",
            json!([{"op": "remove", "path": format!("members[value eq \"{U2}\"]")}]),
            vec![removed(&[U2])],
        ),
        case(
            "§2.5 flag form, capitalised op",
            json!([{"op": "Remove", "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]),
            vec![removed(&["7f4bc1a3-285e-48ae-8202-5accb43efb0e"])],
        ),
        case(
            "or-joined ids",
            json!([{"op": "remove", "path": format!("members[value eq \"{U1}\" or value eq \"{U2}\"]")}]),
            vec![removed(&[U1, U2])],
        ),
        case(
            "G-27 remove all",
            json!([{"op": "remove", "path": "members"}]),
            vec![MemberChange::RemoveAll],
        ),
        case(
            "G-28 remove of a non-member is a plain removal",
            json!([{"op": "remove", "path": format!("members[value eq \"{U3}\"]")}]),
            vec![removed(&[U3])],
        ),
    ]);
}

#[test]
fn other_member_filters_are_left_for_the_server_to_evaluate() {
    let applied =
        patch_group(json!([{"op": "remove", "path": "members[type eq \"Group\"]"}])).unwrap();
    let [MemberChange::RemoveMatching(filter)] = applied.member_changes.as_slice() else {
        panic!(
            "expected one RemoveMatching, got {:?}",
            applied.member_changes
        );
    };
    let ResolvedFilter::Compare { target, op, value } = filter else {
        panic!("unexpected filter {filter:?}");
    };
    assert_eq!((target.sub_attribute, *op), (Some("type"), CompareOp::Eq));
    assert_eq!(value, &ResolvedValue::String("Group".to_owned()));
}

#[test]
fn okta_combined_and_full_push_requests_keep_their_order() {
    run(vec![
        case(
            "G-23 / §1.5h Okta membership",
            json!([
                {"op": "remove", "path": format!("members[value eq \"{U1}\"]")},
                {"op": "add", "path": "members", "value": [{"value": U3, "display": "carl@a.example"}]}]),
            vec![
                removed(&[U1]),
                MemberChange::Add(vec![member_shown(U3, "carl@a.example")]),
            ],
        ),
        case(
            "§1.5h Okta membership, verbatim",
            json!([
                {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
                {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}]),
            vec![
                removed(&["89bb1940-b905-4575-9e7f-6f887cfb368e"]),
                MemberChange::Add(vec![member_shown(
                    "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                    "test.user@okta.local",
                )]),
            ],
        ),
        case(
            "G-24 full push",
            json!([{"op": "replace", "path": "members", "value": [{"value": U1}, {"value": U3}]}]),
            vec![MemberChange::ReplaceAll(vec![member(U1), member(U3)])],
        ),
        case(
            "G-25 Okta 'Push now' on an empty group",
            json!([{"op": "replace", "path": "members", "value": []}]),
            vec![MemberChange::ReplaceAll(vec![])],
        ),
        case(
            "G-26 Tealium no-path form",
            json!([{"op": "replace", "value": {"members": [{"value": U2}]}}]),
            vec![MemberChange::ReplaceAll(vec![member(U2)])],
        ),
        Case {
            resource: renamed("Eng 3"),
            ..case(
                "rename and members in one path-less object",
                json!([{"op": "replace", "value": {"id": GA1, "displayName": "Eng 3", "members": [{"value": U2}]}}]),
                vec![MemberChange::ReplaceAll(vec![member(U2)])],
            )
        },
    ]);
}

#[test]
fn member_sub_attributes_and_filtered_additions_are_refused() {
    let cases = [
        (
            json!([{"op": "replace", "path": format!("members[value eq \"{U1}\"].display"), "value": "x"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "add", "path": format!("members[value eq \"{U1}\"]"), "value": {"value": U2}}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "Remove", "path": "members", "value": [{"display": "no id"}]}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": U1, "type": "Robot"}]}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "remove", "path": "displayName"}]),
            ScimType::Mutability,
        ),
    ];
    for (operations, expected) in cases {
        assert_eq!(
            scim_type(patch_group(operations.clone())),
            expected,
            "{operations}"
        );
    }
}

#[test]
fn an_entra_value_list_of_many_members_becomes_one_removal() {
    let ids: Vec<String> = (0..300).map(|n| format!("user-{n:03}")).collect();
    let list: Vec<Value> = ids
        .iter()
        .map(|id| json!({"$ref": null, "value": id}))
        .collect();
    let applied = patch_group(json!([{"op": "Remove", "path": "members", "value": list}])).unwrap();
    assert_eq!(applied.member_changes, vec![MemberChange::Remove(ids)]);
    assert!(!applied.changed);
}
