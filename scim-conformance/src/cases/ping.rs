//! PingFederate's SCIM Provisioner and PingOne outbound provisioning (`IDPS.md` §2): what
//! Ping Identity's documentation states (docs.pingidentity.com, "SCIM Provisioner",
//! "User and group management", "SCIM provisioner settings reference", PingOne "SCIM filter
//! expressions"). Ping documents which operations it uses, not their bodies; where a case
//! needs a body it uses RFC 7644's own example and says so.

use serde_json::{Value, json};

use crate::case::{Case, Ctx, Feature, Outcome, Profile, field, id_of, member_ids, sorted};
use crate::client::encode;

const PING: &[Profile] = &[Profile::Ping];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "PING-01", source: "PingOne 'SCIM filter expressions' (example username Eq \"%s\")", purpose: "the default user filter with a lower-case attribute and Eq finds the user", profiles: PING, run: default_filter_expression },
    Case { id: "PING-02", source: "PingOne 'SCIM filter expressions' (example email Co \"%s\")", purpose: "a filter on an attribute SCIM does not define matches no user: 400 invalidFilter or an empty list, never other users", profiles: PING, run: unknown_attribute_filter },
    Case { id: "PING-03", source: "PingFederate 'SCIM Provisioner' (PATCH Users: No); 'User and group management' (User updates)", purpose: "updates arrive as PUT of the whole user; an omitted attribute is cleared or kept (RFC 7644 §3.5.1 allows both)", profiles: PING, run: put_update },
    Case { id: "PING-04", source: "PingFederate 'User and group management' (User deprovisioning: disable) [body: RFC 7644 §3.5.1]", purpose: "PUT with active false disables, PUT with active true re-enables; the user stays readable", profiles: PING, run: put_disable_and_enable },
    Case { id: "PING-05", source: "PingFederate 'SCIM Provisioner' (groups: 'retrieving all groups and finding a match')", purpose: "paging through every group finds the pushed group by displayName", profiles: PING, run: find_group_in_full_list },
    Case { id: "PING-06", source: "PingFederate 'SCIM Provisioner' (PATCH Groups: Yes) [body: RFC 7644 §3.5.2.1, §3.5.2.2 examples]", purpose: "membership PATCH: add members, then remove members[value eq \"id\"]", profiles: PING, run: patch_membership },
];

fn default_filter_expression(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("pingone", json!({}))?;
    let user_name = field(&user, "userName").as_str().unwrap_or_default();
    let reply = ctx.get(&format!(
        "/Users?filter={}",
        encode(&format!("username Eq \"{user_name}\""))
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

/// Ping links the first user a lookup returns; a server that ignored the unknown attribute and
/// listed every user would link the wrong account.
fn unknown_attribute_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.create_user("email", json!({}))?;
    let reply = ctx.get(&format!(
        "/Users?filter={}",
        encode("email Co \"@conformance.example\"")
    ))?;
    if reply.status() == 400 {
        return reply.expect_error(400, Some("invalidFilter"));
    }
    reply.expect_list(Some(0), Some(0)).map(|_| ())
}

fn put_update(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("update", json!({"title": "Engineer"}))?;
    let path = format!("/Users/{}", id_of(&user));
    let mut body = user.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("meta");
        map.remove("title");
        map.insert("displayName".to_owned(), json!("Janet Smith"));
    }
    let reply = ctx.put(&path, body)?;
    reply.ok(200)?;
    reply.expect_at("/displayName", json!("Janet Smith"))?;
    reply.check(
        reply
            .at("/title")
            .is_none_or(|title| title == &json!("Engineer")),
        "title cleared or kept, never another value",
    )
}

fn put_disable_and_enable(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("jsmith", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    for active in [false, true] {
        let mut body = user.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("meta");
            map.insert("active".to_owned(), json!(active));
        }
        ctx.put(&path, body)?.ok(200)?;
        let read = ctx.get(&path)?;
        read.ok(200)?;
        read.expect_at("/active", json!(active))?;
    }
    Ok(())
}

/// Walks `/Groups` with `startIndex`/`count` pages until `totalResults` are seen. Ping does not
/// document its page parameters; these are RFC 7644 §3.4.2.4's.
fn find_group_in_full_list(ctx: &mut Ctx) -> Outcome {
    let group = ctx.create_group("ping ", &[])?;
    let name = field(&group, "displayName").clone();
    let mut start = 1_u64;
    for _ in 0..10_000 {
        let reply = ctx.get(&format!("/Groups?startIndex={start}&count=100"))?;
        let page = reply.expect_list(None, None)?;
        if let Some(found) = page.iter().find(|g| g.get("displayName") == Some(&name)) {
            return reply.check(id_of(found) == id_of(&group), "the pushed group's id");
        }
        let total = reply
            .at("/totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        start += page.len() as u64;
        if page.is_empty() || start > total {
            return Err(reply.fail(format!("the group {name} on some page")));
        }
    }
    Err(ctx.fail(
        "GET /Groups?startIndex=…&count=100",
        "the group within 10000 pages",
        "not found",
    ))
}

fn patch_membership(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("members", &[])?;
    let path = format!("/Groups/{}", id_of(&group));
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "add", "path": "members", "value": [
            {"display": "Babs Jensen", "$ref": format!("{}/Users/{}", ctx.base_url(), id_of(&u1)), "value": id_of(&u1)},
            {"value": id_of(&u2)},
        ]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )?;
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id_of(&u1))}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2)]),
        "members = {u2}",
    )
}
