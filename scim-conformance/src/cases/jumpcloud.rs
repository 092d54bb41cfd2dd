//! JumpCloud's custom SCIM identity management integration (`IDPS.md` §3): what JumpCloud's
//! support articles state ("Identity Management using a Custom SCIM Integration", the group
//! management considerations of its SCIM connectors) and one peer server's note on its
//! membership bodies. JumpCloud documents behaviour, not bodies; cases say where a body comes
//! from RFC 7644 instead.

use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, Feature, GROUP_URN, Outcome, Profile, field, id_of, member_ids, sorted,
};
use crate::client::encode;

const JUMPCLOUD: &[Profile] = &[Profile::Jumpcloud];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "JC-01", source: "JumpCloud 'Custom SCIM Integration' (test user and test group, deleted after)", purpose: "Test Connection: create a user and a group, delete both (204), both then 404", profiles: JUMPCLOUD, run: test_connection },
    Case { id: "JC-02", source: "JumpCloud SCIM group considerations ('takes over ... when the name matches') [filter: RFC 7644 §3.4.2.2]", purpose: "an existing group is found by displayName eq before JumpCloud creates one", profiles: JUMPCLOUD, run: take_over_group_by_name },
    Case { id: "JC-03", source: "app.uni-moni.com JumpCloud KB (value=[{value:uid}] without a filter) [peer report]", purpose: "members added and removed by value lists, without a path filter", profiles: JUMPCLOUD, run: members_by_value_list },
    Case { id: "JC-04", source: "JumpCloud SCIM group considerations ('Group renaming is supported') [body: RFC 7644 §3.5.2.3]", purpose: "PATCH replace displayName renames the group and keeps its members", profiles: JUMPCLOUD, run: rename_group },
    Case { id: "JC-05", source: "JumpCloud DI events user_deprovision ('change an existing user to inactive') [body: RFC 7644 §3.5.2.3]", purpose: "deprovisioning sets active false; the user stays readable and findable", profiles: JUMPCLOUD, run: deprovision_keeps_user },
];

fn test_connection(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("jctest", json!({}))?;
    let name = ctx.unique("JumpCloud test group");
    let group = ctx.create(
        "/Groups",
        json!({"schemas": [GROUP_URN], "displayName": name}),
    )?;
    for path in [
        format!("/Groups/{}", id_of(&group)),
        format!("/Users/{}", id_of(&user)),
    ] {
        ctx.delete(&path)?.expect_status(&[204])?;
        ctx.untrack(&path);
        ctx.get(&path)?.expect_error(404, None)?;
    }
    Ok(())
}

fn take_over_group_by_name(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let group = ctx.create_group("Engineering ", &[])?;
    let name = field(&group, "displayName").as_str().unwrap_or_default();
    let reply = ctx.get(&format!(
        "/Groups?filter={}",
        encode(&format!("displayName eq \"{name}\""))
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&group)))
}

fn members_by_value_list(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("members", &[])?;
    let path = format!("/Groups/{}", id_of(&group));
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": id_of(&u1)}, {"value": id_of(&u2)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )?;
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "remove", "path": "members", "value": [{"value": id_of(&u1)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2)]),
        "members = {u2}",
    )
}

fn rename_group(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("before", &[id_of(&user)])?;
    let renamed = ctx.unique("after");
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "replace", "path": "displayName", "value": renamed}]),
    )?;
    read.expect_at("/displayName", json!(renamed))?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&user)]),
        "members unchanged",
    )
}

fn deprovision_keeps_user(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("leaver", json!({}))?;
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )?;
    read.expect_at("/active", json!(false))?;
    if !ctx.features().filter {
        return Ok(());
    }
    let user_name = field(&user, "userName").as_str().unwrap_or_default();
    let reply = ctx.get(&format!(
        "/Users?filter={}",
        encode(&format!("userName eq \"{user_name}\""))
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/active", Value::Bool(false))
}
