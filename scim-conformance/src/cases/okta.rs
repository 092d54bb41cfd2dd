//! Okta: the SCIM 2.0 SPEC test steps (dossier §1.6) and the requests Okta sends (§1.5).

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, Feature, GROUP_URN, LIST_URN, Outcome, Profile, USER_URN, field, id_of, member_ids,
    sorted,
};
use crate::client::{Auth, Request, encode};

const OKTA: &[Profile] = &[Profile::Okta];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "OKTA-01", source: "Okta SPEC test step 1 (dossier §1.6)", purpose: "GET /Users?count=1&startIndex=1 lists a user with id, name, userName, active, emails", profiles: OKTA, run: spec_list_users },
    Case { id: "OKTA-02", source: "Okta SPEC test step 2 (dossier §1.6)", purpose: "GET /Users/{id} returns the user with the requested id", profiles: OKTA, run: spec_get_user },
    Case { id: "OKTA-03", source: "Okta SPEC test step 3 (dossier §1.6)", purpose: "filter on an unknown userName answers 200 with totalResults 0", profiles: OKTA, run: spec_unknown_user_name },
    Case { id: "OKTA-04", source: "Okta SPEC test step 4 (dossier §1.6)", purpose: "GET /Users/010101001010101011001010101011 is a SCIM 404", profiles: OKTA, run: spec_unknown_id },
    Case { id: "OKTA-05", source: "Okta SPEC test step 5 (dossier §1.6)", purpose: "a random userName does not exist yet: 200 with totalResults 0", profiles: OKTA, run: spec_random_user_absent },
    Case { id: "OKTA-06", source: "Okta SPEC test step 6 (dossier §1.6)", purpose: "POST /Users with Content-Type application/json creates the user (201)", profiles: OKTA, run: spec_create_user },
    Case { id: "OKTA-07", source: "Okta SPEC test step 7 (dossier §1.6)", purpose: "the created user reads back with the same userName and name", profiles: OKTA, run: spec_read_back },
    Case { id: "OKTA-08", source: "Okta SPEC test step 8 (dossier §1.6); RFC 7644 §3.3", purpose: "re-creating the same user is a 409 uniqueness error", profiles: OKTA, run: spec_recreate_conflicts },
    Case { id: "OKTA-09", source: "Okta SPEC test step 9 (dossier §1.6)", purpose: "a filter on the upper-cased userName answers 200", profiles: OKTA, run: spec_user_name_case },
    Case { id: "OKTA-10", source: "Okta SPEC test step 10 (dossier §1.6)", purpose: "GET /Groups without paging parameters answers a ListResponse", profiles: OKTA, run: spec_groups_endpoint },
    Case { id: "OKTA-11", source: "Okta SPEC test step 11 (dossier §1.6)", purpose: "Authorization: non-token is a SCIM 401 with status \"401\"", profiles: OKTA, run: spec_bad_token },
    Case { id: "OKTA-12", source: "Okta SPEC test step 12 (dossier §1.6)", purpose: "GET /Users/00919288221112222 is a SCIM 404 with status \"404\"", profiles: OKTA, run: spec_not_found },
    Case { id: "OKTA-13", source: "Okta SPEC test 2016 (dossier §1.6)", purpose: "ServiceProviderConfig has every field the 2016 suite checks", profiles: OKTA, run: spec_service_provider_config },
    Case { id: "OKTA-14", source: "Okta SPEC test 2016 (dossier §1.6); jelhub/scimgateway PR #17", purpose: "POST 'test' to the discovery endpoints is 405, not a body error", profiles: OKTA, run: spec_discovery_post_405 },
    Case { id: "OKTA-15", source: "Okta SPEC test 2016 (dossier §1.6)", purpose: "GET /ResourceTypes lists resources with name, endpoint and schema", profiles: OKTA, run: spec_resource_types },
    Case { id: "OKTA-16", source: "Okta SPEC test 2016 (dossier §1.6)", purpose: "GET /Schemas lists schemas with id and attributes", profiles: OKTA, run: spec_schemas },
    Case { id: "OKTA-17", source: "Okta SPEC test 2016 case step (dossier §1.6, U-27)", purpose: "a filter that is only a value is a 400 invalidFilter", profiles: OKTA, run: spec_value_only_filter },
    Case { id: "OKTA-18", source: "Okta reference §1.5(a) Test Connector Configuration", purpose: "GET /Users?startIndex=1&count=2 answers a full ListResponse", profiles: OKTA, run: test_connector },
    Case { id: "OKTA-19", source: "Okta reference §1.5(b); Okta support 'No results for users returned'", purpose: "the existence lookup of an absent user is exactly an empty ListResponse", profiles: OKTA, run: existence_lookup_absent },
    Case { id: "OKTA-20", source: "Okta reference §1.5(b)", purpose: "the existence lookup finds an existing user so Okta links to it", profiles: OKTA, run: existence_lookup_present },
    Case { id: "OKTA-21", source: "Okta reference §1.5(c) create (C-05)", purpose: "the full Okta create body is accepted; password never returned", profiles: OKTA, run: create_full_body },
    Case { id: "OKTA-22", source: "Okta reference §1.5(d) import", purpose: "paging with startIndex/count is stable and covers every user once", profiles: OKTA, run: import_paging },
    Case { id: "OKTA-23", source: "Okta reference §1.5(f) update (C-16)", purpose: "PUT with echoed id, meta and groups replaces the user", profiles: OKTA, run: put_update },
    Case { id: "OKTA-24", source: "Okta reference §1.5(g), AIW (C-17)", purpose: "PUT active:false deactivates and PUT active:true reactivates", profiles: OKTA, run: put_deactivate },
    Case { id: "OKTA-25", source: "Okta reference §1.5(g), OIN (P-01, P-02)", purpose: "PATCH replace without path {active:false} deactivates, {active:true} reactivates", profiles: OKTA, run: patch_deactivate },
    Case { id: "OKTA-26", source: "Okta reference §1.5(g) password sync (P-29)", purpose: "PATCH replace {password} succeeds and never returns the password", profiles: OKTA, run: patch_password },
    Case { id: "OKTA-27", source: "Okta reference §1.5(h) group create (G-01)", purpose: "POST /Groups with members [] answers 201 with Location = meta.location", profiles: OKTA, run: group_create },
    Case { id: "OKTA-28", source: "Okta reference §1.5(h); okta-developer-docs PR #3506 (G-07)", purpose: "filter displayName eq finds the pushed group", profiles: OKTA, run: group_lookup },
    Case { id: "OKTA-29", source: "Okta reference §1.5(h) rename (G-13)", purpose: "PATCH replace {id, displayName} renames and keeps members", profiles: OKTA, run: group_rename },
    Case { id: "OKTA-30", source: "Okta reference §1.5(h) membership (G-23)", purpose: "remove members[value eq] plus add members in one PATCH", profiles: OKTA, run: group_membership },
    Case { id: "OKTA-31", source: "Okta reference §1.5(h) full push (G-24)", purpose: "PATCH replace members sets exactly the given members", profiles: OKTA, run: group_full_push },
    Case { id: "OKTA-32", source: "Captain-P-Goldfish/SCIM-SDK#757 (§1.5(h), G-25)", purpose: "PATCH replace members [] empties the group", profiles: OKTA, run: group_push_empty },
    Case { id: "OKTA-33", source: "Tealium doc, Okta no-path form (§1.5(h), G-26)", purpose: "PATCH replace without path {members:[…]} sets the members", profiles: OKTA, run: group_no_path_members },
    Case { id: "OKTA-34", source: "simpleidserver/SimpleIdServer#247, Okta AIW (§1.5(h), G-30)", purpose: "PUT group with members [] then with two members", profiles: OKTA, run: group_put_members },
    Case { id: "OKTA-35", source: "Okta reference §1.5(h) delete (G-32)", purpose: "DELETE /Groups/{id} is 204; the group is gone, its members are not", profiles: OKTA, run: group_delete },
    Case { id: "OKTA-36", source: "Okta OIN 'Header' authentication (§1.2, A-04)", purpose: "a bare Authorization: <token> without scheme is accepted", profiles: OKTA, run: header_auth },
    Case { id: "OKTA-37", source: "croffasia/itsaplan PR #250 (§1.5(i))", purpose: "a retried create is 409 and leaves the existing user intact", profiles: OKTA, run: retried_create },
];

/// A user shaped like the SPEC test's "realistic values" (step 6).
fn spec_user(ctx: &mut Ctx) -> Value {
    let user_name = ctx.user_name("runscope");
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Runscope101", "familyName": "Abcdefghi123"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Runscope101 Abcdefghi123",
        "active": true,
    })
}

fn okta_post(body: Value) -> Request {
    Request::new(Method::POST, "/Users")
        .raw("application/json", body.to_string())
        .header("Accept", "application/scim+json; charset=utf-8")
}

/// The fields the SPEC test requires on a user (steps 1 and 2).
fn check_spec_fields(reply: &crate::case::Reply, base: &str) -> Outcome {
    for field in [
        "/id",
        "/name/familyName",
        "/name/givenName",
        "/userName",
        "/emails/0/value",
    ] {
        reply.string(&format!("{base}{field}"))?;
    }
    reply.check(
        reply
            .at(&format!("{base}/active"))
            .is_some_and(Value::is_boolean),
        format!("{base}/active as a boolean"),
    )
}

fn spec_list_users(ctx: &mut Ctx) -> Outcome {
    ctx.create_user("step1", json!({}))?;
    let reply = ctx.get("/Users?count=1&startIndex=1")?;
    let resources = reply.expect_list(None, Some(1))?;
    reply.check(!resources.is_empty(), "Resources not empty")?;
    check_spec_fields(&reply, "/Resources/0")
}

fn spec_get_user(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("step2", json!({}))?;
    let reply = ctx.get(&format!("/Users/{}", id_of(&user)))?;
    reply.ok(200)?;
    check_spec_fields(&reply, "")?;
    reply.expect_at("/id", json!(id_of(&user)))
}

fn expect_no_match(ctx: &mut Ctx, user_name: &str) -> Outcome {
    ctx.require(Feature::Filter)?;
    let filter = encode(&format!("userName eq \"{user_name}\""));
    let reply = ctx.get(&format!("/Users?filter={filter}"))?;
    reply.expect_list(Some(0), Some(0))?;
    Ok(())
}

fn spec_unknown_user_name(ctx: &mut Ctx) -> Outcome {
    let name = format!("{}abcdefgh@atko.com", ctx.case_prefix());
    expect_no_match(ctx, &name)
}

fn spec_unknown_id(ctx: &mut Ctx) -> Outcome {
    ctx.get("/Users/010101001010101011001010101011")?
        .expect_error(404, None)
}

fn spec_random_user_absent(ctx: &mut Ctx) -> Outcome {
    let name = ctx.user_name("Runscope123Abcdefghi456");
    expect_no_match(ctx, &name)
}

fn spec_create_user(ctx: &mut Ctx) -> Outcome {
    let body = spec_user(ctx);
    let reply = ctx.send(okta_post(body.clone()))?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    reply.expect_at("/active", json!(true))?;
    reply.string("/id")?;
    reply.expect_at("/userName", field(&body, "userName").clone())?;
    reply.expect_at("/name/givenName", json!("Runscope101"))?;
    reply.expect_at("/name/familyName", json!("Abcdefghi123"))?;
    reply.check(
        reply
            .at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(USER_URN))),
        "schemas containing the core User URN",
    )
}

fn spec_read_back(ctx: &mut Ctx) -> Outcome {
    let body = spec_user(ctx);
    let created = ctx.create("/Users", body.clone())?;
    let reply = ctx.get(&format!("/Users/{}", id_of(&created)))?;
    reply.ok(200)?;
    reply.expect_at("/userName", field(&body, "userName").clone())?;
    reply.expect_at("/name/familyName", json!("Abcdefghi123"))?;
    reply.expect_at("/name/givenName", json!("Runscope101"))
}

fn spec_recreate_conflicts(ctx: &mut Ctx) -> Outcome {
    let body = spec_user(ctx);
    ctx.create("/Users", body.clone())?;
    let reply = ctx.send(okta_post(body))?;
    if reply.status() == 201
        && let Some(id) = reply.at("/id").and_then(Value::as_str)
    {
        ctx.track(format!("/Users/{id}"));
    }
    reply.expect_error(409, Some("uniqueness"))
}

fn spec_user_name_case(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("caps", json!({}))?;
    let caps = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    let reply = ctx.get(&format!(
        "/Users?filter={}",
        encode(&format!("userName eq \"{caps}\""))
    ))?;
    reply.expect_status(&[200])?;
    reply.expect_list(None, None).map(|_| ())
}

fn spec_groups_endpoint(ctx: &mut Ctx) -> Outcome {
    ctx.create_group("step10", &[])?;
    let reply = ctx.get("/Groups")?;
    let resources = reply.expect_list(None, None)?;
    reply.check(
        !resources.is_empty(),
        "Resources not empty (a group exists)",
    )
}

fn spec_bad_token(ctx: &mut Ctx) -> Outcome {
    let filter = encode("userName eq \"RUNSCOPE101ABCDEFGHI123@ATKO.COM\"");
    let request = Request::new(Method::GET, format!("/Users?filter={filter}"))
        .auth(Auth::Raw("non-token".to_owned()));
    ctx.send(request)?.expect_error(401, None)
}

fn spec_not_found(ctx: &mut Ctx) -> Outcome {
    ctx.get("/Users/00919288221112222")?.expect_error(404, None)
}

fn spec_service_provider_config(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ServiceProviderConfig")?;
    reply.ok(200)?;
    reply.check(
        reply
            .at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.contains(&json!(
                    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
                ))
            }),
        "schemas containing the ServiceProviderConfig URN",
    )?;
    for pointer in [
        "/patch/supported",
        "/bulk/supported",
        "/bulk/maxOperations",
        "/bulk/maxPayloadSize",
        "/filter/supported",
        "/filter/maxResults",
        "/changePassword/supported",
        "/sort/supported",
        "/etag/supported",
        "/authenticationSchemes/0/type",
        "/authenticationSchemes/0/description",
    ] {
        reply.check(
            reply
                .at(pointer)
                .is_some_and(|v| !v.is_null() && v != &json!("")),
            format!("a non-empty {pointer}"),
        )?;
    }
    Ok(())
}

fn spec_discovery_post_405(ctx: &mut Ctx) -> Outcome {
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        let request = Request::new(Method::POST, path).raw("application/scim+json", "test");
        ctx.send(request)?.expect_status(&[405])?;
    }
    Ok(())
}

fn spec_resource_types(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ResourceTypes")?;
    reply.expect_list(None, None)?;
    for field in ["name", "endpoint", "schema"] {
        reply.string(&format!("/Resources/0/{field}"))?;
    }
    Ok(())
}

fn spec_schemas(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/Schemas")?;
    reply.expect_list(None, None)?;
    reply.string("/Resources/0/id")?;
    reply.check(
        reply
            .at("/Resources/0/attributes")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty()),
        "Resources[0].attributes non-empty",
    )
}

fn spec_value_only_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.get("/Users?filter=RUNSCOPE123SMITHXYZ456%40ATKO.COM")?
        .expect_error(400, Some("invalidFilter"))
}

fn test_connector(ctx: &mut Ctx) -> Outcome {
    ctx.create_user("connector", json!({}))?;
    let reply = ctx.get("/Users?startIndex=1&count=2")?;
    let resources = reply.expect_list(None, None)?;
    reply.check((1..=2).contains(&resources.len()), "1 or 2 Resources")?;
    reply.expect_at("/startIndex", json!(1))
}

fn existence_lookup_absent(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let name = ctx.user_name("test.user");
    let filter = encode(&format!("userName eq \"{name}\""));
    let reply = ctx.get(&format!("/Users?filter={filter}&startIndex=1&count=100"))?;
    reply.expect_list(Some(0), Some(0))?;
    reply.expect_at("/startIndex", json!(1))?;
    reply.expect_at("/schemas", json!([LIST_URN]))
}

fn existence_lookup_present(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("linked", json!({}))?;
    let filter = encode(&format!(
        "userName eq \"{}\"",
        field(&user, "userName").as_str().unwrap_or_default()
    ));
    let reply = ctx.get(&format!("/Users?filter={filter}&startIndex=1&count=100"))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

fn create_full_body(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("test.user");
    let external_id = ctx.unique("00ujl29u0le5T6Aj10h7");
    let body = json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "1mz050nq",
        "active": true,
    });
    let reply = ctx.post("/Users", body)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    reply.expect_at("/externalId", json!(external_id))?;
    reply.expect_absent("/password")?;
    reply.check(
        reply.at("/groups").is_none_or(|g| g == &json!([])),
        "groups absent or []",
    )?;
    let id = reply.string("/id")?;
    let read = ctx.get(&format!("/Users/{id}"))?;
    read.ok(200)?;
    read.expect_absent("/password")
}

fn import_paging(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(id_of(&ctx.create_user("import", json!({}))?).to_owned());
    }
    let filter = ctx.own_filter("userName");
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let reply = ctx.get(&format!(
            "/Users?filter={filter}&startIndex={start}&count=2"
        ))?;
        let resources = reply.expect_list(Some(5), None)?;
        reply.expect_at("/startIndex", json!(start))?;
        reply.check(
            resources.len() == if start == 5 { 1 } else { 2 },
            "pages of 2, 2, 1",
        )?;
        seen.extend(resources.iter().map(|r| id_of(r).to_owned()));
    }
    seen.sort();
    created.sort();
    if seen != created {
        return Err(ctx.fail(
            "GET /Users?filter=…&startIndex=1,3,5&count=2",
            format!("each of the 5 users exactly once: {created:?}"),
            format!("{seen:?}"),
        ));
    }
    Ok(())
}

fn put_update(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("update", json!({}))?;
    let id = id_of(&user).to_owned();
    let user_name = field(&user, "userName").clone();
    let body = json!({
        "schemas": [USER_URN],
        "id": id,
        "userName": user_name,
        "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work", "display": user_name}],
        "active": true,
        "groups": [],
        "meta": {"resourceType": "User"},
    });
    let reply = ctx.put(&format!("/Users/{id}"), body)?;
    reply.ok(200)?;
    reply.expect_at("/id", json!(id))?;
    reply.expect_at("/name/givenName", json!("Another"))?;
    reply.expect_at("/name/middleName", json!("Excited"))?;
    reply.expect_at(
        "/meta/created",
        user.pointer("/meta/created").cloned().unwrap_or_default(),
    )
}

fn put_deactivate(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("aiw", json!({}))?;
    let id = id_of(&user).to_owned();
    for active in [false, true] {
        let mut body = user.clone();
        if let Some(map) = body.as_object_mut() {
            map.insert("active".to_owned(), json!(active));
            map.remove("meta");
        }
        ctx.put(&format!("/Users/{id}"), body)?.ok(200)?;
        let read = ctx.get(&format!("/Users/{id}"))?;
        read.ok(200)?;
        read.expect_at("/active", json!(active))?;
    }
    Ok(())
}

fn patch_deactivate(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("oin", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    for active in [false, true] {
        let reply = ctx.patch(
            &path,
            json!([{"op": "replace", "value": {"active": active}}]),
        )?;
        reply.ok_or_no_content()?;
        if reply.status() == 200 {
            reply.expect_at("/active", json!(active))?;
        }
        ctx.get(&path)?.expect_at("/active", json!(active))?;
    }
    Ok(())
}

fn patch_password(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("password", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    let reply = ctx.patch(
        &path,
        json!([{"op": "replace", "value": {"password": "N3w-p@ss"}}]),
    )?;
    reply.ok_or_no_content()?;
    reply.expect_absent("/password")?;
    ctx.get(&path)?.expect_absent("/password")
}

fn group_create(ctx: &mut Ctx) -> Outcome {
    let name = ctx.unique("Test SCIMv2 ");
    let reply = ctx.post(
        "/Groups",
        json!({"schemas": [GROUP_URN], "displayName": name, "members": []}),
    )?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Groups/{id}"));
    }
    reply.ok(201)?;
    reply.string("/id")?;
    reply.expect_at("/displayName", json!(name))?;
    reply.check(
        reply.at("/members").is_none_or(|m| m == &json!([])),
        "members [] or absent",
    )?;
    reply.expect_at("/meta/resourceType", json!("Group"))?;
    let location = reply.response.header("location").map(str::to_owned);
    reply.check(
        location.is_some()
            && location.as_deref() == reply.at("/meta/location").and_then(Value::as_str),
        "a Location header equal to meta.location",
    )
}

fn group_lookup(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let group = ctx.create_group("pushed ", &[])?;
    let name = field(&group, "displayName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = ctx.get(&format!(
        "/Groups?filter={}",
        encode(&format!("displayName eq \"{name}\""))
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&group)))
}

fn group_rename(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("rename", &[id_of(&user)])?;
    let id = id_of(&group).to_owned();
    let new_name = ctx.unique("renamed");
    let read = ctx.patch_and_read(
        &format!("/Groups/{id}"),
        json!([{"op": "replace", "value": {"id": id, "displayName": new_name}}]),
    )?;
    read.expect_at("/displayName", json!(new_name))?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&user)]),
        "members unchanged",
    )
}

fn group_membership(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let u3 = ctx.create_user("u3", json!({}))?;
    let group = ctx.create_group("membership", &[id_of(&u1), id_of(&u2)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", id_of(&u1))},
            {"op": "add", "path": "members", "value": [{"value": id_of(&u3), "display": field(&u3, "userName")}]},
        ]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2), id_of(&u3)]),
        "members = {u2, u3}",
    )
}

fn group_full_push(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let u3 = ctx.create_user("u3", json!({}))?;
    let group = ctx.create_group("push", &[id_of(&u2)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "replace", "path": "members", "value": [{"value": id_of(&u1)}, {"value": id_of(&u3)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u3)]),
        "members = exactly {u1, u3}",
    )
}

fn group_push_empty(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let group = ctx.create_group("empty", &[id_of(&u1)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "replace", "path": "members", "value": []}]),
    )?;
    read.check(member_ids(read.body()).is_empty(), "no members")
}

fn group_no_path_members(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("nopath", &[id_of(&u1)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "replace", "value": {"members": [{"value": id_of(&u2)}]}}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2)]),
        "members = {u2}",
    )
}

fn group_put_members(ctx: &mut Ctx) -> Outcome {
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("aiw", &[])?;
    let id = id_of(&group).to_owned();
    let name = field(&group, "displayName").clone();
    let path = format!("/Groups/{id}");
    let empty = json!({"schemas": [GROUP_URN], "id": id, "displayName": name, "members": []});
    ctx.put(&path, empty)?.ok(200)?;
    let full = json!({
        "schemas": [GROUP_URN], "id": id, "displayName": name,
        "members": [{"value": id_of(&u1)}, {"value": id_of(&u2)}],
    });
    ctx.put(&path, full)?.ok(200)?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )
}

fn group_delete(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("delete", &[id_of(&user)])?;
    let path = format!("/Groups/{}", id_of(&group));
    let reply = ctx.delete(&path)?;
    reply.expect_status(&[204])?;
    reply.check(reply.response.text.is_empty(), "an empty body")?;
    ctx.untrack(&path);
    ctx.get(&path)?.expect_error(404, None)?;
    ctx.get(&format!("/Users/{}", id_of(&user)))?.ok(200)
}

fn header_auth(ctx: &mut Ctx) -> Outcome {
    let request = Request::new(Method::GET, "/Users?count=1").auth(Auth::Raw("{token}".to_owned()));
    ctx.send(request)?.expect_list(None, None).map(|_| ())
}

fn retried_create(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("retry", json!({"displayName": "Kept"}))?;
    let mut again = user.clone();
    if let Some(map) = again.as_object_mut() {
        map.remove("id");
        map.remove("meta");
        map.insert("displayName".to_owned(), json!("Overwritten"));
    }
    let reply = ctx.post("/Users", again)?;
    if reply.status() == 201
        && let Some(id) = reply.at("/id").and_then(Value::as_str)
    {
        ctx.track(format!("/Users/{id}"));
    }
    reply.expect_error(409, Some("uniqueness"))?;
    let read = ctx.get(&format!("/Users/{}", id_of(&user)))?;
    read.ok(200)?;
    read.expect_at("/displayName", json!("Kept"))
}
