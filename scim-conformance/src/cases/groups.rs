//! RFC cases on groups and memberships without PATCH (RFC 7643 §4.2, RFC 7644 §3.3–§3.6).

use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, Feature, GROUP_URN, Outcome, Profile, field, id_of, member_ids, sorted,
};
use crate::client::encode;

const RFC: &[Profile] = &[Profile::Rfc];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "G-03", source: "RFC 7643 §4.2", purpose: "a group created with two members lists both, each with value", profiles: RFC, run: create_with_members },
    Case { id: "G-05", source: "RFC 7644 §3.4.2; Okta 'Retrieve Groups'", purpose: "GET /Groups?startIndex=1&count=100 is a ListResponse with integer counts", profiles: RFC, run: list_groups },
    Case { id: "G-09", source: "RFC 7643 §4.2 (displayName caseExact false)", purpose: "displayName eq matches case-insensitively", profiles: RFC, run: display_name_case_insensitive },
    Case { id: "G-12", source: "RFC 7643 §3.1; MS-DEV objectId → externalId", purpose: "filter externalId eq on /Groups", profiles: RFC, run: external_id_filter },
    Case { id: "G-33", source: "RFC 7644 §3.6 [INFERENCE]", purpose: "deleting a user removes it from its groups", profiles: RFC, run: deleted_user_leaves_group },
    Case { id: "G-36", source: "RFC 7643 §4.1.2 (groups is readOnly)", purpose: "a member's groups attribute lists the group", profiles: RFC, run: user_groups_attribute },
    Case { id: "G-38", source: "RFC 7644 §3.5.1", purpose: "PUT renames a group and replaces its members", profiles: RFC, run: put_group },
];

fn create_with_members(ctx: &mut Ctx) -> Outcome {
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("ops", &[id_of(&u1), id_of(&u2)])?;
    let read = ctx.get(&format!("/Groups/{}", id_of(&group)))?;
    read.ok(200)?;
    read.expect_at("/meta/resourceType", json!("Group"))?;
    read.check(
        read.at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(GROUP_URN))),
        "schemas containing the core Group URN",
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )
}

fn list_groups(ctx: &mut Ctx) -> Outcome {
    ctx.create_group("listed", &[])?;
    let reply = ctx.get("/Groups?startIndex=1&count=100")?;
    let resources = reply.expect_list(None, None)?;
    reply.check(
        !resources.is_empty(),
        "Resources not empty (a group exists)",
    )
}

fn expect_group(ctx: &mut Ctx, filter: &str, group: &Value) -> Outcome {
    let reply = ctx.get(&format!("/Groups?filter={}", encode(filter)))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(group)))
}

fn display_name_case_insensitive(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let group = ctx.create_group("Engineering", &[])?;
    let lower = field(&group, "displayName")
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    expect_group(
        ctx,
        &format!("displayName eq \"{}\"", lower.to_uppercase()),
        &group,
    )
}

fn external_id_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let external_id = ctx.unique("ga1-ext");
    let name = ctx.unique("group");
    let group = ctx.create(
        "/Groups",
        json!({"schemas": [GROUP_URN], "displayName": name, "externalId": external_id}),
    )?;
    expect_group(ctx, &format!("externalId eq \"{external_id}\""), &group)
}

fn deleted_user_leaves_group(ctx: &mut Ctx) -> Outcome {
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u1), id_of(&u2)])?;
    let path = format!("/Users/{}", id_of(&u2));
    ctx.delete(&path)?.expect_status(&[204])?;
    ctx.untrack(&path);
    let read = ctx.get(&format!("/Groups/{}", id_of(&group)))?;
    read.ok(200)?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1)]),
        "members = {u1}",
    )
}

fn user_groups_attribute(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&user)])?;
    let read = ctx.get(&format!("/Users/{}", id_of(&user)))?;
    read.ok(200)?;
    let listed = read
        .at("/groups")
        .and_then(Value::as_array)
        .is_some_and(|groups| {
            groups
                .iter()
                .any(|g| g.get("value") == Some(&json!(id_of(&group))))
        });
    read.check(
        read.at("/groups").is_none() || listed,
        "groups absent, or listing the group",
    )
}

fn put_group(ctx: &mut Ctx) -> Outcome {
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u1)])?;
    let path = format!("/Groups/{}", id_of(&group));
    let name = ctx.unique("renamed");
    let body =
        json!({"schemas": [GROUP_URN], "displayName": name, "members": [{"value": id_of(&u2)}]});
    let reply = ctx.put(&path, body)?;
    reply.ok(200)?;
    reply.expect_at("/displayName", json!(name))?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2)]),
        "members = {u2}",
    )
}
