//! authentik's outbound SCIM provider (`IDPS.md` §4): the requests of
//! `goauthentik/authentik:authentik/providers/scim/clients/` (`base.py`, `users.py`,
//! `groups.py`) and the bodies its tests pin (`tests/test_user.py`).

use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, Feature, GROUP_URN, Outcome, Profile, Stop, USER_URN, field, id_of, member_ids,
    merge, sorted,
};
use crate::client::encode;

const AUTHENTIK: &[Profile] = &[Profile::Authentik];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "AK-01", source: "authentik clients/base.py get_service_provider_config; groups.py _patch_chunked", purpose: "ServiceProviderConfig has the patch/filter flags and the integer bulk.maxOperations authentik chunks PATCHes by", profiles: AUTHENTIK, run: service_provider_config },
    Case { id: "AK-02", source: "authentik tests/test_user.py test_user_create (default mapping)", purpose: "authentik's create body (emails type other, name.formatted, externalId = uid) answers 201", profiles: AUTHENTIK, run: create_user },
    Case { id: "AK-03", source: "authentik clients/users.py create (409 → filter userName eq, urlencode)", purpose: "a repeated create is 409 and the '+'-encoded userName lookup finds the user to adopt", profiles: AUTHENTIK, run: adopt_existing_user },
    Case { id: "AK-04", source: "authentik clients/users.py create at d7c971b (unquoted filter value)", purpose: "the older unquoted lookup userName eq <name> finds the user", profiles: AUTHENTIK, run: unquoted_user_name_lookup },
    Case { id: "AK-05", source: "authentik clients/users.py update (PUT with id); active from is_active [INFERENCE]", purpose: "PUT of the mapped body with id replaces the user; active false deactivates", profiles: AUTHENTIK, run: put_update },
    Case { id: "AK-06", source: "authentik clients/groups.py to_schema, create", purpose: "POST /Groups with schemas, displayName and externalId, no members, answers 201", profiles: AUTHENTIK, run: create_group },
    Case { id: "AK-07", source: "authentik clients/groups.py _patch_add_users (one op per user)", purpose: "one add operation per member in one PATCH adds every member", profiles: AUTHENTIK, run: add_one_op_per_member },
    Case { id: "AK-08", source: "authentik clients/groups.py patch_compare_users (adds, then removes)", purpose: "adds and value-list removes in one PATCH change exactly those members", profiles: AUTHENTIK, run: add_and_remove_in_one_patch },
    Case { id: "AK-09", source: "authentik clients/groups.py _update_patch_general (path None)", purpose: "a no-path replace of the whole group body (schemas, id, externalId) renames and keeps members", profiles: AUTHENTIK, run: whole_group_replace_without_path },
    Case { id: "AK-10", source: "authentik clients/groups.py create (409 → filter displayName eq)", purpose: "a repeated group create is 409 and the displayName lookup finds the group", profiles: AUTHENTIK, run: adopt_existing_group },
    Case { id: "AK-11", source: "authentik clients/groups.py discover (startIndex only)", purpose: "GET /Groups then /Groups?startIndex=N without count walks every group once", profiles: AUTHENTIK, run: discover_with_start_index_only },
    Case { id: "AK-12", source: "authentik clients/users.py, groups.py delete", purpose: "DELETE /Groups/{id} and /Users/{id} answer 204; both are gone", profiles: AUTHENTIK, run: delete_group_and_user },
    Case { id: "AK-13", source: "authentik clients/groups.py _patch_chunked (chunk = bulk.maxOperations)", purpose: "a PATCH of bulk.maxOperations member operations, authentik's chunk, is accepted", profiles: AUTHENTIK, run: full_chunk_of_operations },
    Case { id: "AK-14", source: "authentik clients/groups.py patch_compare_users; goauthentik/authentik PR #23950", purpose: "an empty group reads back with members [] (authentik before #23950 adds members only when the key is present)", profiles: AUTHENTIK, run: empty_group_lists_members },
];

/// The body authentik's default user mapping produces (`tests/test_user.py`): `userName` is
/// the authentik username, not an e-mail address.
fn authentik_user(ctx: &mut Ctx, label: &str) -> Value {
    let user_name = ctx.unique(label);
    json!({
        "schemas": [USER_URN],
        "active": true,
        "emails": [{"primary": true, "type": "other", "value": format!("{user_name}@goauthentik.example")}],
        "externalId": ctx.unique("uid"),
        "name": {"familyName": "Example", "formatted": "Akadmin Example", "givenName": "Akadmin"},
        "displayName": "Akadmin Example",
        "userName": user_name,
    })
}

fn new_user(ctx: &mut Ctx, label: &str) -> Result<Value, Stop> {
    let body = authentik_user(ctx, label);
    ctx.create("/Users", body)
}

fn new_group(ctx: &mut Ctx, label: &str) -> Result<Value, Stop> {
    let body = authentik_group(ctx, label);
    ctx.create("/Groups", body)
}

/// A filter encoded as Django's `urlencode` does it: spaces as `+`.
fn form_encoded(filter: &str) -> String {
    encode(filter).replace("%20", "+")
}

fn service_provider_config(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ServiceProviderConfig")?;
    reply.ok(200)?;
    for pointer in ["/patch/supported", "/filter/supported"] {
        reply.check(
            reply.at(pointer).is_some_and(Value::is_boolean),
            format!("{pointer} as a boolean"),
        )?;
    }
    reply.check(
        reply
            .at("/bulk/maxOperations")
            .is_none_or(|max| max.is_u64()),
        "/bulk/maxOperations absent or a non-negative integer",
    )
}

fn create_user(ctx: &mut Ctx) -> Outcome {
    let body = authentik_user(ctx, "akadmin");
    let created = ctx.create("/Users", body.clone())?;
    let read = ctx.get(&format!("/Users/{}", id_of(&created)))?;
    read.ok(200)?;
    read.expect_at("/userName", field(&body, "userName").clone())?;
    read.expect_at("/externalId", field(&body, "externalId").clone())?;
    read.expect_at("/name/formatted", json!("Akadmin Example"))?;
    read.expect_at("/emails/0/type", json!("other"))
}

fn adopt_existing_user(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let body = authentik_user(ctx, "adopt");
    let created = ctx.create("/Users", body.clone())?;
    let again = ctx.post("/Users", body.clone())?;
    if let Some(id) = again.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    again.expect_error(409, Some("uniqueness"))?;
    let name = field(&body, "userName").as_str().unwrap_or_default();
    let lookup = ctx.get(&format!(
        "/Users?filter={}",
        form_encoded(&format!("userName eq \"{name}\""))
    ))?;
    lookup.expect_list(Some(1), Some(1))?;
    lookup.expect_at("/Resources/0/id", json!(id_of(&created)))
}

fn unquoted_user_name_lookup(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let body = authentik_user(ctx, "unquoted");
    let created = ctx.create("/Users", body.clone())?;
    let name = field(&body, "userName").as_str().unwrap_or_default();
    let lookup = ctx.get(&format!(
        "/Users?filter={}",
        form_encoded(&format!("userName eq {name}"))
    ))?;
    lookup.expect_list(Some(1), Some(1))?;
    lookup.expect_at("/Resources/0/id", json!(id_of(&created)))
}

fn put_update(ctx: &mut Ctx) -> Outcome {
    let body = authentik_user(ctx, "update");
    let created = ctx.create("/Users", body.clone())?;
    let path = format!("/Users/{}", id_of(&created));
    let mut update = body;
    merge(
        &mut update,
        json!({
            "id": id_of(&created),
            "name": {"familyName": "bar", "formatted": "foo bar", "givenName": "foo"},
            "displayName": "foo bar",
            "active": false,
        }),
    );
    let reply = ctx.put(&path, update)?;
    reply.ok(200)?;
    reply.expect_at("/displayName", json!("foo bar"))?;
    reply.expect_at("/name/formatted", json!("foo bar"))?;
    reply.expect_at("/active", json!(false))?;
    ctx.get(&path)?.expect_at("/active", json!(false))
}

/// A group as authentik creates it when the server supports PATCH: no `members`.
fn authentik_group(ctx: &mut Ctx, label: &str) -> Value {
    json!({
        "schemas": [GROUP_URN],
        "displayName": ctx.unique(label),
        "externalId": ctx.unique("pk"),
    })
}

fn create_group(ctx: &mut Ctx) -> Outcome {
    let body = authentik_group(ctx, "akgroup");
    let created = ctx.create("/Groups", body.clone())?;
    let read = ctx.get(&format!("/Groups/{}", id_of(&created)))?;
    read.ok(200)?;
    read.expect_at("/displayName", field(&body, "displayName").clone())?;
    read.expect_at("/externalId", field(&body, "externalId").clone())?;
    read.check(member_ids(read.body()).is_empty(), "no members")
}

/// `{"op": "add"|"remove", "path": "members", "value": [{"value": id}]}`, authentik's only
/// membership operation shape.
fn member_op(op: &str, id: &str) -> Value {
    json!({"op": op, "path": "members", "value": [{"value": id}]})
}

fn add_one_op_per_member(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = new_user(ctx, "u1")?;
    let u2 = new_user(ctx, "u2")?;
    let group = new_group(ctx, "members")?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([member_op("add", id_of(&u1)), member_op("add", id_of(&u2))]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )
}

fn add_and_remove_in_one_patch(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = new_user(ctx, "u1")?;
    let u2 = new_user(ctx, "u2")?;
    let u3 = new_user(ctx, "u3")?;
    let group = new_group(ctx, "compare")?;
    let path = format!("/Groups/{}", id_of(&group));
    ctx.patch_and_read(
        &path,
        json!([member_op("add", id_of(&u1)), member_op("add", id_of(&u2))]),
    )?;
    let read = ctx.patch_and_read(
        &path,
        json!([
            member_op("add", id_of(&u3)),
            member_op("remove", id_of(&u1))
        ]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2), id_of(&u3)]),
        "members = {u2, u3}",
    )
}

fn whole_group_replace_without_path(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_user(ctx, "member")?;
    let body = authentik_group(ctx, "rename");
    let group = ctx.create("/Groups", body.clone())?;
    let id = id_of(&group).to_owned();
    let path = format!("/Groups/{id}");
    ctx.patch_and_read(&path, json!([member_op("add", id_of(&user))]))?;
    let renamed = ctx.unique("renamed");
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "replace", "value": {
            "schemas": [GROUP_URN],
            "id": id,
            "displayName": renamed,
            "externalId": field(&body, "externalId"),
        }}]),
    )?;
    read.expect_at("/displayName", json!(renamed))?;
    read.expect_at("/externalId", field(&body, "externalId").clone())?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&user)]),
        "members unchanged",
    )
}

fn adopt_existing_group(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let body = authentik_group(ctx, "adopt");
    let created = ctx.create("/Groups", body.clone())?;
    let again = ctx.post("/Groups", body.clone())?;
    if let Some(id) = again.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Groups/{id}"));
    }
    again.expect_error(409, Some("uniqueness"))?;
    let name = field(&body, "displayName").as_str().unwrap_or_default();
    let lookup = ctx.get(&format!(
        "/Groups?filter={}",
        form_encoded(&format!("displayName eq \"{name}\""))
    ))?;
    lookup.expect_list(Some(1), Some(1))?;
    lookup.expect_at("/Resources/0/id", json!(id_of(&created)))
}

/// authentik's discovery loop: first page without parameters, then `startIndex` = seen + 1
/// until `totalResults` are seen. Bounded so a server that never advances fails the case.
fn discover_with_start_index_only(ctx: &mut Ctx) -> Outcome {
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(id_of(&new_group(ctx, "discover")?).to_owned());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut reply = ctx.get("/Groups")?;
    for _ in 0..10_000 {
        let resources = reply.expect_list(None, None)?;
        let total = reply
            .at("/totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if resources.is_empty() && (seen.len() as u64) < total {
            return Err(reply.fail("a non-empty page while fewer than totalResults were seen"));
        }
        seen.extend(resources.iter().map(|r| id_of(r).to_owned()));
        if seen.len() as u64 >= total {
            break;
        }
        reply = ctx.get(&format!("/Groups?startIndex={}", seen.len() + 1))?;
        reply.expect_at("/startIndex", json!(seen.len() + 1))?;
    }
    for id in &created {
        let times = seen.iter().filter(|s| *s == id).count();
        if times != 1 {
            return Err(ctx.fail(
                "GET /Groups, then /Groups?startIndex=N",
                format!("group {id} seen exactly once"),
                format!("seen {times} times"),
            ));
        }
    }
    Ok(())
}

fn delete_group_and_user(ctx: &mut Ctx) -> Outcome {
    let user = new_user(ctx, "gone")?;
    let group = new_group(ctx, "gone")?;
    for path in [
        format!("/Groups/{}", id_of(&group)),
        format!("/Users/{}", id_of(&user)),
    ] {
        let reply = ctx.delete(&path)?;
        reply.expect_status(&[204])?;
        ctx.untrack(&path);
        ctx.get(&path)?.expect_error(404, None)?;
    }
    Ok(())
}

/// authentik puts up to `bulk.maxOperations` operations in one PATCH, so a server must accept
/// that many in a PATCH, not only in a Bulk request.
fn full_chunk_of_operations(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let config = ctx.get("/ServiceProviderConfig")?;
    config.ok(200)?;
    let chunk = config
        .at("/bulk/maxOperations")
        .and_then(Value::as_u64)
        .filter(|max| *max >= 1)
        .unwrap_or(1);
    let u1 = new_user(ctx, "u1")?;
    let u2 = new_user(ctx, "u2")?;
    let group = new_group(ctx, "chunk")?;
    let operations: Vec<Value> = (0..chunk)
        .map(|n| member_op("add", if n % 2 == 0 { id_of(&u1) } else { id_of(&u2) }))
        .collect();
    let read = ctx.patch_and_read(&format!("/Groups/{}", id_of(&group)), json!(operations))?;
    let expected = if chunk == 1 {
        sorted(&[id_of(&u1)])
    } else {
        sorted(&[id_of(&u1), id_of(&u2)])
    };
    read.check(
        member_ids(read.body()) == expected,
        "every added member once",
    )
}

/// Before authentik PR #23950, `patch_compare_users` computed the members to add only when
/// `GET /Groups/{id}` returned a `members` key; an omitted key (RFC 7643 §2.5 allows it for an
/// empty list) left the group empty forever.
fn empty_group_lists_members(ctx: &mut Ctx) -> Outcome {
    let group = new_group(ctx, "empty")?;
    let read = ctx.get(&format!("/Groups/{}", id_of(&group)))?;
    read.ok(200)?;
    read.expect_at("/members", json!([]))
}
