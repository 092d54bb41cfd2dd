//! RFC cases on creating, reading, replacing and deleting users, and on ETags (RFC 7644
//! §3.3, §3.4.1, §3.5.1, §3.6, §3.14).

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, ENTERPRISE_URN, Feature, Outcome, Profile, Reply, Stop, USER_URN, field, id_of,
};
use crate::client::{Request, encode};

const RFC: &[Profile] = &[Profile::Rfc];
const OKTA: &[Profile] = &[Profile::Okta];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "C-01", source: "RFC 7644 §3.3; RFC 7643 §3.1", purpose: "201 with Location = meta.location and the full user shape", profiles: RFC, run: create_shape },
    Case { id: "C-04", source: "RFC 7643 §4.1.1 (userName unique, caseExact false); RFC 7644 §3.3", purpose: "a userName differing only in case is 409 uniqueness", profiles: RFC, run: duplicate_in_other_case },
    Case { id: "C-08", source: "MS-DEV 'General' (store verbatim); RFC 7643 §2.3.1", purpose: "strings come back byte for byte", profiles: RFC, run: verbatim_values },
    Case { id: "C-09", source: "RFC 7643 §4.3", purpose: "enterprise extension values, manager as an object", profiles: RFC, run: enterprise_extension },
    Case { id: "C-11", source: "RFC 7643 §4.1.1; RFC 7644 §3.12 (invalidValue)", purpose: "a missing or empty userName is 400 invalidValue", profiles: RFC, run: missing_user_name },
    Case { id: "C-12", source: "RFC 7643 §3.1 (id is assigned by the provider)", purpose: "an id in a POST body is ignored", profiles: RFC, run: client_id_ignored },
    Case { id: "C-13", source: "RFC 7643 §2.4 (at most one primary)", purpose: "two primary e-mails: 400 invalidValue, or 201 with one primary", profiles: RFC, run: two_primaries },
    Case { id: "C-14", source: "RFC 7644 §3.12; Okta SPEC steps 4, 12", purpose: "ids that are not UUIDs are SCIM 404s", profiles: RFC, run: non_uuid_ids },
    Case { id: "C-15", source: "RFC 7644 §3.4.1; RFC 7643 §3.1", purpose: "GET by id: id, schemas, userName, active, meta, no password", profiles: RFC, run: read_shape },
    Case { id: "C-18", source: "Delinea warning on Okta AIW (dossier §1.5(f)); RFC 7644 §3.5.1", purpose: "PUT without active leaves the user active", profiles: OKTA, run: put_without_active },
    Case { id: "C-19", source: "RFC 7644 §3.5.1 (replace clears what is null or [])", purpose: "PUT with emails [] and title null clears them", profiles: RFC, run: put_clears },
    Case { id: "C-20", source: "RFC 7644 §3.5.1 (readOnly values ignored)", purpose: "PUT with another id in the body keeps the id", profiles: RFC, run: put_ignores_id },
    Case { id: "C-21", source: "RFC 7644 §3.5.1", purpose: "PUT to an unknown id is 404 and creates nothing", profiles: RFC, run: put_unknown },
    Case { id: "C-22", source: "RFC 7644 §3.5.1, §3.12 (uniqueness)", purpose: "PUT taking another user's userName is 409", profiles: RFC, run: put_conflict },
    Case { id: "C-23", source: "RFC 7644 §3.6", purpose: "DELETE is 204; then GET, filter and DELETE again find nothing", profiles: RFC, run: delete_twice },
    Case { id: "C-24", source: "RFC 7644 §3.6; RFC 7643 §3.1 (ids never reused)", purpose: "re-creating a deleted userName gives a new id", profiles: RFC, run: recreate_after_delete },
    Case { id: "C-26", source: "better-auth/better-auth#11111 (dossier §1.5(i))", purpose: "a deactivated user is still found and a re-create is 409", profiles: OKTA, run: inactive_user_blocks_create },
    Case { id: "C-28", source: "RFC 7643 §4.1.1 (password returned never)", purpose: "a password is never returned, by id or in lists", profiles: RFC, run: password_never_returned },
    Case { id: "C-29", source: "RFC 7643 §2.5 (null is unassigned)", purpose: "middleName: null is not stored or returned", profiles: RFC, run: null_sub_attribute },
    Case { id: "X-07", source: "RFC 7644 §3.14 (ETag, If-None-Match)", purpose: "ETag equals meta.version; If-None-Match with it is 304", profiles: RFC, run: etag_not_modified },
    Case { id: "X-08", source: "RFC 7644 §3.14 (If-Match)", purpose: "PUT with a stale If-Match is 412 and changes nothing", profiles: RFC, run: etag_precondition },
];

fn user_path(user: &Value) -> String {
    format!("/Users/{}", id_of(user))
}

fn check_user_shape(reply: &Reply) -> Outcome {
    let id = reply.string("/id")?;
    reply.check(
        reply
            .at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(USER_URN))),
        "schemas containing the core User URN",
    )?;
    reply.string("/userName")?;
    reply.expect_at("/meta/resourceType", json!("User"))?;
    reply.string("/meta/created")?;
    reply.string("/meta/lastModified")?;
    let location = reply.string("/meta/location")?;
    reply.check(
        location.ends_with(&format!("/Users/{id}")),
        "meta.location ending in /Users/{id}",
    )?;
    reply.expect_absent("/password")
}

fn create_shape(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("shape");
    let reply = ctx.post(
        "/Users",
        json!({"schemas": [USER_URN], "userName": user_name, "active": true}),
    )?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    check_user_shape(&reply)?;
    reply.expect_at("/active", json!(true))?;
    let location = reply.response.header("location").map(str::to_owned);
    reply.check(
        location.is_some()
            && location.as_deref() == reply.at("/meta/location").and_then(Value::as_str),
        "a Location header equal to meta.location",
    )
}

fn post_expecting_error(ctx: &mut Ctx, body: Value, status: u16, scim_type: &str) -> Outcome {
    let reply = ctx.post("/Users", body)?;
    if reply.status() == 201
        && let Some(id) = reply.at("/id").and_then(Value::as_str)
    {
        ctx.track(format!("/Users/{id}"));
    }
    reply.expect_error(status, Some(scim_type))
}

fn duplicate_in_other_case(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("alice", json!({}))?;
    let upper = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    post_expecting_error(
        ctx,
        json!({"schemas": [USER_URN], "userName": upper}),
        409,
        "uniqueness",
    )
}

fn verbatim_values(ctx: &mut Ctx) -> Outcome {
    let email = format!("{}jyoung@Contoso.com", ctx.case_prefix());
    let user = ctx.create_user(
        "verbatim",
        json!({
            "phoneNumbers": [{"type": "work", "value": "55555555555"}],
            "emails": [{"type": "work", "value": email, "primary": true}],
            "displayName": "joy YOUNG",
        }),
    )?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    read.expect_at("/phoneNumbers/0/value", json!("55555555555"))?;
    read.expect_at("/emails/0/value", json!(email))?;
    read.expect_at("/displayName", json!("joy YOUNG"))
}

fn enterprise_extension(ctx: &mut Ctx) -> Outcome {
    let manager = ctx.create_user("manager", json!({}))?;
    let user = ctx.create_user(
        "employee",
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            ENTERPRISE_URN: {"employeeNumber": "701984", "department": "Eng", "manager": {"value": id_of(&manager)}},
        }),
    )?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    read.check(
        read.at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(ENTERPRISE_URN))),
        "schemas containing the enterprise URN",
    )?;
    let ext = format!("/{}", ENTERPRISE_URN.replace('/', "~1"));
    read.expect_at(&format!("{ext}/employeeNumber"), json!("701984"))?;
    read.expect_at(&format!("{ext}/department"), json!("Eng"))?;
    read.expect_at(&format!("{ext}/manager/value"), json!(id_of(&manager)))
}

fn missing_user_name(ctx: &mut Ctx) -> Outcome {
    post_expecting_error(
        ctx,
        json!({"schemas": [USER_URN], "displayName": "No Name"}),
        400,
        "invalidValue",
    )?;
    post_expecting_error(
        ctx,
        json!({"schemas": [USER_URN], "userName": ""}),
        400,
        "invalidValue",
    )
}

fn client_id_ignored(ctx: &mut Ctx) -> Outcome {
    let first = ctx.create_user("first", json!({}))?;
    let second = ctx.create_user("second", json!({"id": id_of(&first)}))?;
    if id_of(&second) == id_of(&first) {
        return Err(ctx.fail(
            "POST /Users with \"id\" of another user",
            "a new server-assigned id",
            id_of(&second),
        ));
    }
    let read = ctx.get(&user_path(&first))?;
    read.ok(200)?;
    read.expect_at("/userName", field(&first, "userName").clone())
}

fn two_primaries(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("primaries");
    let body = json!({
        "schemas": [USER_URN], "userName": user_name,
        "emails": [{"value": "a@x.example", "type": "work", "primary": true}, {"value": "b@x.example", "type": "home", "primary": true}],
    });
    let reply = ctx.post("/Users", body)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    if reply.status() == 400 {
        return reply.expect_error(400, Some("invalidValue"));
    }
    reply.ok(201)?;
    let primaries = reply.at("/emails").and_then(Value::as_array).map(|e| {
        e.iter()
            .filter(|m| m.get("primary") == Some(&json!(true)))
            .count()
    });
    reply.check(
        primaries == Some(1),
        "400 invalidValue, or exactly one primary e-mail",
    )
}

fn non_uuid_ids(ctx: &mut Ctx) -> Outcome {
    for id in [
        "010101001010101011001010101011",
        "00919288221112222",
        "not-a-uuid",
    ] {
        ctx.get(&format!("/Users/{id}"))?.expect_error(404, None)?;
    }
    Ok(())
}

fn read_shape(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("read", json!({"password": "Secr3t-Pass"}))?;
    let reply = ctx.get(&user_path(&user))?;
    reply.ok(200)?;
    check_user_shape(&reply)?;
    reply.expect_at("/id", json!(id_of(&user)))?;
    reply.check(
        reply.at("/active").is_some_and(Value::is_boolean),
        "active as a boolean",
    )
}

fn replacement(user: &Value, changes: Value) -> Value {
    let mut body = user.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("meta");
        map.remove("groups");
        if let Value::Object(changes) = changes {
            map.extend(changes);
        }
    }
    body
}

fn put_without_active(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("aiw", json!({}))?;
    let mut body = replacement(&user, json!({"displayName": "Changed"}));
    if let Some(map) = body.as_object_mut() {
        map.remove("active");
    }
    ctx.put(&user_path(&user), body)?.ok(200)?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    read.expect_at("/active", json!(true))
}

fn put_clears(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("clear", json!({"title": "Boss"}))?;
    let body = replacement(&user, json!({"emails": [], "title": null}));
    ctx.put(&user_path(&user), body)?.ok(200)?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    read.check(
        read.at("/emails").is_none_or(|e| e == &json!([])),
        "no e-mails",
    )?;
    read.expect_absent("/title")
}

fn put_ignores_id(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("id", json!({}))?;
    let body = replacement(&user, json!({"id": "something-else"}));
    let reply = ctx.put(&user_path(&user), body)?;
    reply.ok(200)?;
    reply.expect_at("/id", json!(id_of(&user)))
}

fn put_unknown(ctx: &mut Ctx) -> Outcome {
    let id = uuid::Uuid::new_v4();
    let user_name = ctx.user_name("ghost");
    let body = json!({"schemas": [USER_URN], "userName": user_name});
    let reply = ctx.put(&format!("/Users/{id}"), body)?;
    if reply.status() < 300 {
        ctx.track(format!("/Users/{id}"));
    }
    reply.expect_error(404, None)?;
    if ctx.features().filter {
        let filter = encode(&format!("userName eq \"{user_name}\""));
        ctx.get(&format!("/Users?filter={filter}"))?
            .expect_list(Some(0), Some(0))?;
    }
    Ok(())
}

fn put_conflict(ctx: &mut Ctx) -> Outcome {
    let alice = ctx.create_user("alice", json!({}))?;
    let bob = ctx.create_user("bob", json!({}))?;
    let body = replacement(&bob, json!({"userName": field(&alice, "userName")}));
    ctx.put(&user_path(&bob), body)?
        .expect_error(409, Some("uniqueness"))?;
    ctx.get(&user_path(&bob))?
        .expect_at("/userName", field(&bob, "userName").clone())
}

fn delete_twice(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("carl", json!({}))?;
    let path = user_path(&user);
    let reply = ctx.delete(&path)?;
    reply.expect_status(&[204])?;
    reply.check(reply.response.text.is_empty(), "an empty body")?;
    ctx.untrack(&path);
    ctx.get(&path)?.expect_error(404, None)?;
    if ctx.features().filter {
        let filter = encode(&format!(
            "userName eq \"{}\"",
            field(&user, "userName").as_str().unwrap_or_default()
        ));
        ctx.get(&format!("/Users?filter={filter}"))?
            .expect_list(Some(0), Some(0))?;
    }
    ctx.delete(&path)?.expect_error(404, None)
}

fn recreate_after_delete(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("again", json!({}))?;
    let path = user_path(&user);
    ctx.delete(&path)?.expect_status(&[204])?;
    ctx.untrack(&path);
    let again = ctx.create(
        "/Users",
        json!({"schemas": [USER_URN], "userName": field(&user, "userName")}),
    )?;
    if id_of(&again) == id_of(&user) {
        return Err(ctx.fail("POST /Users after DELETE", "a new id", id_of(&again)));
    }
    Ok(())
}

fn inactive_user_blocks_create(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let external_id = ctx.unique("ext-bob");
    let user = ctx.create_user("bob", json!({"externalId": external_id}))?;
    ctx.put(
        &user_path(&user),
        replacement(&user, json!({"active": false})),
    )?
    .ok(200)?;
    let filter = encode(&format!(
        "userName eq \"{}\"",
        field(&user, "userName").as_str().unwrap_or_default()
    ));
    let reply = ctx.get(&format!("/Users?filter={filter}"))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/active", json!(false))?;
    post_expecting_error(
        ctx,
        json!({"schemas": [USER_URN], "userName": field(&user, "userName"), "externalId": external_id}),
        409,
        "uniqueness",
    )
}

fn password_never_returned(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("secret", json!({"password": "1mz050nq-Longer"}))?;
    ctx.get(&user_path(&user))?.expect_absent("/password")?;
    if ctx.features().filter {
        let filter = encode(&format!(
            "userName eq \"{}\"",
            field(&user, "userName").as_str().unwrap_or_default()
        ));
        let reply = ctx.get(&format!("/Users?filter={filter}"))?;
        reply.expect_list(Some(1), Some(1))?;
        reply.expect_absent("/Resources/0/password")?;
    }
    let reply = ctx.get(&format!("{}?attributes=password", user_path(&user)))?;
    reply.ok(200)?;
    reply.expect_absent("/password")
}

fn null_sub_attribute(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("nulls");
    let body = json!({"schemas": [USER_URN], "userName": user_name, "name": {"givenName": "A", "familyName": "B", "middleName": null}});
    let reply = ctx.post("/Users", body)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    reply.expect_absent("/name/middleName")?;
    reply.expect_at("/name/givenName", json!("A"))
}

fn etag_of(reply: &Reply) -> Result<String, Stop> {
    let etag = reply
        .response
        .header("etag")
        .map(str::to_owned)
        .ok_or_else(|| reply.fail("an ETag header"))?;
    reply.check(
        reply.at("/meta/version").and_then(Value::as_str) == Some(etag.as_str()),
        "meta.version equal to the ETag header",
    )?;
    Ok(etag)
}

fn etag_not_modified(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Etag)?;
    let user = ctx.create_user("etag", json!({}))?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    let etag = etag_of(&read)?;
    let request = Request::new(Method::GET, user_path(&user)).header("If-None-Match", &etag);
    ctx.send(request)?.expect_status(&[304])
}

fn etag_precondition(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Etag)?;
    let user = ctx.create_user("etag", json!({}))?;
    let read = ctx.get(&user_path(&user))?;
    read.ok(200)?;
    let stale = etag_of(&read)?;
    ctx.put(
        &user_path(&user),
        replacement(&user, json!({"displayName": "First"})),
    )?
    .ok(200)?;
    let request = Request::new(Method::PUT, user_path(&user))
        .json(replacement(&user, json!({"displayName": "Second"})))
        .header("If-Match", &stale);
    ctx.send(request)?.expect_error(412, None)?;
    ctx.get(&user_path(&user))?
        .expect_at("/displayName", json!("First"))
}
