//! RFC cases on PATCH (RFC 7644 §3.5.2) for users and groups. All skip unless the server
//! advertises `patch.supported`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, ENTERPRISE_URN, Feature, Outcome, PATCH_URN, Profile, Stop, field, id_of,
    member_ids, sorted,
};
use crate::client::Request;

const RFC: &[Profile] = &[Profile::Rfc];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "P-06", source: "RFC 7644 §3.12 (invalidValue)", purpose: "active: \"maybe\" is 400 invalidValue and changes nothing", profiles: RFC, run: invalid_boolean },
    Case { id: "P-07", source: "MS-DEV 'General'; langwatch/langwatch#6972", purpose: "op is matched case-insensitively (Replace, REPLACE, rEpLaCe, Add, Remove)", profiles: RFC, run: op_case_insensitive },
    Case { id: "P-08", source: "RFC 7644 §3.5.2", purpose: "an unknown op or a missing op is 400, never 500", profiles: RFC, run: bad_op },
    Case { id: "P-14", source: "RFC 7644 §3.5.2.1, §3.5.2.3 (complex values merge)", purpose: "replace/add of name {givenName} keeps familyName", profiles: RFC, run: complex_merge },
    Case { id: "P-16", source: "RFC 7644 §3.5.2, §3.12 (uniqueness)", purpose: "PATCH userName to another user's (other case) is 409", profiles: RFC, run: user_name_conflict },
    Case { id: "P-19", source: "RFC 7643 §4.3", purpose: "replace the URN manager path with {value}", profiles: RFC, run: manager_object },
    Case { id: "P-22", source: "RFC 7644 §3.5.2.2", purpose: "remove path title removes it", profiles: RFC, run: remove_title },
    Case { id: "P-23", source: "RFC 7644 §3.5.2.2 (noTarget)", purpose: "remove without path is 400 noTarget", profiles: RFC, run: remove_without_path },
    Case { id: "P-25", source: "RFC 7644 §3.5.2 (all or nothing)", purpose: "a failing second op leaves the first unapplied", profiles: RFC, run: atomic },
    Case { id: "P-27", source: "RFC 7644 §3.5.2 (mutability)", purpose: "replacing id or meta.created is 400 mutability", profiles: RFC, run: read_only_paths },
    Case { id: "P-30", source: "RFC 7644 §3.5.2", purpose: "PATCH to an unknown id is a SCIM 404", profiles: RFC, run: unknown_id },
    Case { id: "P-31", source: "RFC 7644 §3.5.2.1 (add on single-valued replaces)", purpose: "add displayName replaces the existing value", profiles: RFC, run: add_replaces_single_value },
    Case { id: "P-33", source: "RFC 7644 §3.5.2 (schema-qualified paths); zulip/zulip#39773", purpose: "URN-qualified core and enterprise paths", profiles: RFC, run: qualified_paths },
    Case { id: "P-35", source: "RFC 7643 §2.4 (one primary)", purpose: "adding a primary e-mail clears the old primary", profiles: RFC, run: single_primary },
    Case { id: "C-25", source: "MS-HOW (membership kept while inactive)", purpose: "deactivating and reactivating a user keeps its memberships", profiles: RFC, run: inactive_keeps_membership },
    Case { id: "G-18", source: "MS-DEV gallery checklist (several members per PATCH)", purpose: "one op adding three members, and three add ops in one request", profiles: RFC, run: add_several_members },
    Case { id: "G-19", source: "AzureAD/SCIMReferenceCode#10", purpose: "adding an existing member again keeps it once", profiles: RFC, run: add_member_twice },
    Case { id: "G-27", source: "RFC 7644 §3.5.2.2", purpose: "remove path members without value or filter removes every member", profiles: RFC, run: remove_all_members },
    Case { id: "G-28", source: "dossier §5.3 (idempotent retries)", purpose: "removing a non-member is a no-op success", profiles: RFC, run: remove_non_member },
    Case { id: "G-29", source: "better-auth/better-auth PR #10018 (RFC 7644 §3.5.2 atomic)", purpose: "an unknown member id is 400 (or 404) and nothing is added", profiles: RFC, run: unknown_member },
    Case { id: "G-36b", source: "RFC 7643 §4.1.2 (groups readOnly)", purpose: "PATCH add groups on a user is 400 mutability", profiles: RFC, run: user_groups_read_only },
    Case { id: "E-11", source: "RFC 7644 §3.1 (application/json accepted)", purpose: "PATCH with Content-Type application/json", profiles: RFC, run: patch_plain_json },
];

fn user_with_patch(ctx: &mut Ctx, label: &str, extra: Value) -> Result<(Value, String), Stop> {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user(label, extra)?;
    let path = format!("/Users/{}", id_of(&user));
    Ok((user, path))
}

fn invalid_boolean(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "maybe", json!({}))?;
    ctx.patch(
        &path,
        json!([{"op": "replace", "path": "active", "value": "maybe"}]),
    )?
    .expect_error(400, Some("invalidValue"))?;
    ctx.get(&path)?.expect_at("/active", json!(true))
}

fn op_case_insensitive(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "ops", json!({}))?;
    for op in ["Replace", "REPLACE", "rEpLaCe", "Add"] {
        let value = format!("{op} title");
        ctx.patch_and_read(&path, json!([{"op": op, "path": "title", "value": value}]))?
            .expect_at("/title", json!(value))?;
    }
    ctx.patch_and_read(&path, json!([{"op": "Remove", "path": "title"}]))?
        .expect_absent("/title")
}

fn bad_op(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "badop", json!({}))?;
    for operations in [
        json!([{"op": "merge", "path": "title", "value": "x"}]),
        json!([{"path": "title", "value": "x"}]),
    ] {
        let reply = ctx.patch(&path, operations)?;
        reply.expect_error(400, None)?;
    }
    ctx.get(&path)?.expect_absent("/title")
}

fn complex_merge(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "merge", json!({}))?;
    for (op, given) in [("replace", "Y"), ("add", "Z")] {
        let read = ctx.patch_and_read(
            &path,
            json!([{"op": op, "value": {"name": {"givenName": given}}}]),
        )?;
        read.expect_at("/name/givenName", json!(given))?;
        read.expect_at("/name/familyName", json!("merge"))?;
    }
    Ok(())
}

fn user_name_conflict(ctx: &mut Ctx) -> Outcome {
    let (alice, _) = user_with_patch(ctx, "alice", json!({}))?;
    let (bob, path) = user_with_patch(ctx, "bob", json!({}))?;
    let taken = field(&alice, "userName")
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    ctx.patch(
        &path,
        json!([{"op": "replace", "path": "userName", "value": taken}]),
    )?
    .expect_error(409, Some("uniqueness"))?;
    ctx.get(&path)?
        .expect_at("/userName", field(&bob, "userName").clone())
}

fn manager_pointer() -> String {
    format!("/{}/manager/value", ENTERPRISE_URN.replace('/', "~1"))
}

fn manager_object(ctx: &mut Ctx) -> Outcome {
    let (manager, _) = user_with_patch(ctx, "manager", json!({}))?;
    let (_, path) = user_with_patch(ctx, "report", json!({}))?;
    ctx.patch_and_read(
        &path,
        json!([{"op": "replace", "path": format!("{ENTERPRISE_URN}:manager"), "value": {"value": id_of(&manager)}}]),
    )?
    .expect_at(&manager_pointer(), json!(id_of(&manager)))
}

fn remove_title(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "title", json!({"title": "Boss"}))?;
    ctx.patch_and_read(&path, json!([{"op": "Remove", "path": "title"}]))?
        .expect_absent("/title")
}

fn remove_without_path(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "nopath", json!({}))?;
    ctx.patch(&path, json!([{"op": "remove"}]))?
        .expect_error(400, Some("noTarget"))
}

fn atomic(ctx: &mut Ctx) -> Outcome {
    let (user, path) = user_with_patch(ctx, "atomic", json!({"displayName": "Before"}))?;
    ctx.patch(
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "SHOULD-NOT-STICK"}, {"op": "remove"}]),
    )?
    .expect_error(400, Some("noTarget"))?;
    let read = ctx.get(&path)?;
    read.expect_at("/displayName", json!("Before"))?;
    read.expect_at(
        "/meta/lastModified",
        user.pointer("/meta/lastModified")
            .cloned()
            .unwrap_or_default(),
    )
}

fn read_only_paths(ctx: &mut Ctx) -> Outcome {
    let (user, path) = user_with_patch(ctx, "readonly", json!({}))?;
    for operations in [
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        json!([{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}]),
    ] {
        ctx.patch(&path, operations)?
            .expect_error(400, Some("mutability"))?;
    }
    ctx.get(&path)?.expect_at(
        "/meta/created",
        user.pointer("/meta/created").cloned().unwrap_or_default(),
    )
}

fn unknown_id(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let path = format!("/Users/{}", uuid::Uuid::new_v4());
    ctx.patch(
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "x"}]),
    )?
    .expect_error(404, None)
}

fn add_replaces_single_value(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "dn", json!({"displayName": "Old DN"}))?;
    ctx.patch_and_read(
        &path,
        json!([{"op": "Add", "path": "displayName", "value": "New DN"}]),
    )?
    .expect_at("/displayName", json!("New DN"))
}

fn qualified_paths(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "qualified", json!({}))?;
    let read = ctx.patch_and_read(
        &path,
        json!([
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "R"},
            {"op": "Replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "Sales"},
        ]),
    )?;
    read.expect_at("/name/givenName", json!("R"))?;
    read.expect_at(
        &format!("/{}/department", ENTERPRISE_URN.replace('/', "~1")),
        json!("Sales"),
    )
}

fn single_primary(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "primary", json!({}))?;
    let home = ctx.user_name("home");
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "add", "path": "emails", "value": [{"type": "home", "value": home, "primary": true}]}]),
    )?;
    let emails = read
        .at("/emails")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let primaries: Vec<&Value> = emails
        .iter()
        .filter(|e| e.get("primary") == Some(&json!(true)))
        .collect();
    read.check(
        primaries.len() == 1
            && primaries.first().and_then(|e| e.get("value")) == Some(&json!(home)),
        "exactly one primary e-mail: the new one",
    )
}

fn inactive_keeps_membership(ctx: &mut Ctx) -> Outcome {
    let (user, path) = user_with_patch(ctx, "member", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&user)])?;
    for active in [false, true] {
        ctx.patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": active}]),
        )?
        .ok_or_no_content()?;
        let read = ctx.get(&format!("/Groups/{}", id_of(&group)))?;
        read.ok(200)?;
        read.check(
            member_ids(read.body()) == sorted(&[id_of(&user)]),
            "the user still a member",
        )?;
    }
    Ok(())
}

fn three_users(ctx: &mut Ctx) -> Result<Vec<String>, Stop> {
    ctx.require(Feature::Patch)?;
    let mut ids = Vec::new();
    for label in ["u1", "u2", "u3"] {
        ids.push(id_of(&ctx.create_user(label, json!({}))?).to_owned());
    }
    Ok(ids)
}

fn add_several_members(ctx: &mut Ctx) -> Outcome {
    let ids = three_users(ctx)?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let one_op = ctx.create_group("one", &[])?;
    let values: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&one_op)),
        json!([{"op": "add", "path": "members", "value": values}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&refs),
        "all three members",
    )?;
    let three_ops = ctx.create_group("three", &[])?;
    let operations: Vec<Value> = ids
        .iter()
        .map(|id| json!({"op": "add", "path": "members", "value": [{"value": id}]}))
        .collect();
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&three_ops)),
        Value::Array(operations),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&refs),
        "all three members",
    )
}

fn add_member_twice(ctx: &mut Ctx) -> Outcome {
    let ids = three_users(ctx)?;
    let first = ids.first().cloned().unwrap_or_default();
    let group = ctx.create_group("group", &[first.as_str()])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "add", "path": "members", "value": [{"value": first}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[first.as_str()]),
        "the member listed once",
    )
}

fn remove_all_members(ctx: &mut Ctx) -> Outcome {
    let ids = three_users(ctx)?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = ctx.create_group("group", &refs)?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "remove", "path": "members"}]),
    )?;
    read.check(member_ids(read.body()).is_empty(), "no members")
}

fn remove_non_member(ctx: &mut Ctx) -> Outcome {
    let ids = three_users(ctx)?;
    let (member, outsider) = (
        ids.first().cloned().unwrap_or_default(),
        ids.last().cloned().unwrap_or_default(),
    );
    let group = ctx.create_group("group", &[member.as_str()])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "remove", "path": format!("members[value eq \"{outsider}\"]")}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[member.as_str()]),
        "members unchanged",
    )
}

fn unknown_member(ctx: &mut Ctx) -> Outcome {
    let ids = three_users(ctx)?;
    let known = ids.get(1).cloned().unwrap_or_default();
    let group = ctx.create_group("group", &[])?;
    let path = format!("/Groups/{}", id_of(&group));
    let ghost = uuid::Uuid::new_v4().to_string();
    for values in [
        json!([{"value": ghost}]),
        json!([{"value": known}, {"value": ghost}]),
    ] {
        let reply = ctx.patch(
            &path,
            json!([{"op": "add", "path": "members", "value": values}]),
        )?;
        if reply.status() == 404 {
            reply.expect_error(404, None)?;
        } else {
            reply.expect_error(400, Some("invalidValue"))?;
        }
    }
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.check(member_ids(read.body()).is_empty(), "no members added")
}

fn user_groups_read_only(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "groups", json!({}))?;
    let group = ctx.create_group("group", &[])?;
    ctx.patch(
        &path,
        json!([{"op": "add", "path": "groups", "value": [{"value": id_of(&group)}]}]),
    )?
    .expect_error(400, Some("mutability"))
}

fn patch_plain_json(ctx: &mut Ctx) -> Outcome {
    let (_, path) = user_with_patch(ctx, "json", json!({}))?;
    let body = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "displayName", "value": "Plain"}]});
    let reply = ctx.send(
        Request::new(Method::PATCH, path.as_str()).raw("application/json", body.to_string()),
    )?;
    reply.ok_or_no_content()?;
    ctx.get(&path)?.expect_at("/displayName", json!("Plain"))
}
