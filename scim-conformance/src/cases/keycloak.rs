//! Keycloak's SCIM client extension (`IDPS.md` §5): `libre.sh/keycloak-scim` as mirrored in
//! `mitodl/keycloak-scim` (`ScimClient.java`, `UserAdapter.java`, `GroupAdapter.java` at
//! 1e3ae07), which sends through the UnboundID SCIM 2 SDK (`pingidentity/scim2`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, GROUP_URN, Outcome, Profile, Reply, Stop, USER_URN, field, id_of, member_ids, merge,
    sorted,
};
use crate::client::Request;

const KEYCLOAK: &[Profile] = &[Profile::Keycloak];
/// What the UnboundID SDK's `RequestBuilder.buildRequest` accepts, in its order.
const UNBOUNDID_ACCEPT: &str = "application/scim+json, application/json";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "KC-01", source: "keycloak-scim ScimClient.create, UserAdapter.toSCIM; scim2 RequestBuilder (Accept)", purpose: "POST /Users as application/json with roles and Accept listing both types answers 201 in one of them", profiles: KEYCLOAK, run: create_user },
    Case { id: "KC-02", source: "keycloak-scim ScimClient.replace, UserAdapter.toSCIM(true); scim2 ScimService.resolveWebTarget", purpose: "PUT with id and a relative meta.location replaces the user; a disabled user is active false", profiles: KEYCLOAK, run: replace_user },
    Case { id: "KC-03", source: "keycloak-scim GroupAdapter.toSCIM (relative member $ref)", purpose: "POST /Groups with members whose $ref is relative (Users/{id}) answers 201 with those members", profiles: KEYCLOAK, run: create_group_relative_refs },
    Case { id: "KC-04", source: "keycloak-scim ScimClient.replace, GroupAdapter.toSCIM(true)", purpose: "PUT /Groups/{id} with relative $refs and meta.location renames and sets exactly the members", profiles: KEYCLOAK, run: replace_group },
    Case { id: "KC-05", source: "keycloak-scim ScimClient.importResources (searchRequest without parameters)", purpose: "GET /Users and GET /Groups without parameters answer ListResponses", profiles: KEYCLOAK, run: import_lists },
    Case { id: "KC-06", source: "keycloak-scim ScimClient.delete", purpose: "DELETE /Users/{id} and /Groups/{id} answer 204", profiles: KEYCLOAK, run: delete_resources },
];

fn keycloak_request(method: Method, path: &str, body: Value) -> Request {
    Request::new(method, path)
        .raw("application/json", body.to_string())
        .header("Accept", UNBOUNDID_ACCEPT)
}

/// Sends a Keycloak-shaped create and tracks what it created.
fn keycloak_create(ctx: &mut Ctx, endpoint: &str, body: Value) -> Result<Reply, Stop> {
    let reply = ctx.send(keycloak_request(Method::POST, endpoint, body))?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("{endpoint}/{id}"));
    }
    reply.ok(201)?;
    reply.string("/id")?;
    Ok(reply)
}

/// `UserAdapter.toSCIM`: the Keycloak user id as `externalId`, one primary e-mail without a
/// type, and the user's SCIM-flagged roles.
fn keycloak_user(ctx: &mut Ctx, label: &str) -> Value {
    let user_name = ctx.unique(label);
    json!({
        "schemas": [USER_URN],
        "externalId": ctx.unique("kc-uuid"),
        "userName": user_name,
        "displayName": "Keycloak User",
        "emails": [{"primary": true, "value": format!("{user_name}@keycloak.example")}],
        "active": true,
        "roles": [{"value": "scim-editor"}],
    })
}

fn new_user(ctx: &mut Ctx, label: &str) -> Result<Value, Stop> {
    let body = keycloak_user(ctx, label);
    Ok(keycloak_create(ctx, "/Users", body)?.response.body)
}

fn create_user(ctx: &mut Ctx) -> Outcome {
    let body = keycloak_user(ctx, "kcuser");
    let reply = keycloak_create(ctx, "/Users", body.clone())?;
    // Both types are listed at equal weight, so either answer is right (RFC 9110 §12.5.1);
    // `ok` has already checked it is one of them.
    reply.expect_at("/userName", field(&body, "userName").clone())?;
    reply.expect_at("/externalId", field(&body, "externalId").clone())?;
    reply.expect_at(
        "/emails/0/value",
        body.pointer("/emails/0/value").cloned().unwrap_or_default(),
    )
}

fn replace_user(ctx: &mut Ctx) -> Outcome {
    let body = keycloak_user(ctx, "replace");
    let created = keycloak_create(ctx, "/Users", body.clone())?.response.body;
    let id = id_of(&created).to_owned();
    let mut replacement = body;
    merge(
        &mut replacement,
        json!({
            "id": id,
            "displayName": "Renamed User",
            "active": false,
            "meta": {"location": format!("Users/{id}")},
        }),
    );
    let path = format!("/Users/{id}");
    let reply = ctx.send(keycloak_request(Method::PUT, &path, replacement))?;
    reply.ok(200)?;
    reply.expect_at("/displayName", json!("Renamed User"))?;
    reply.expect_at("/active", json!(false))?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.check(
        read.at("/meta/location")
            .and_then(Value::as_str)
            .is_some_and(|location| location.ends_with(&path)),
        "meta.location still the server's own absolute URL",
    )
}

/// `GroupAdapter.toSCIM`: members with the SCIM id as `value` and a relative `$ref`.
fn keycloak_group(ctx: &mut Ctx, label: &str, member_ids: &[&str]) -> Value {
    let members: Vec<Value> = member_ids
        .iter()
        .map(|id| json!({"value": id, "$ref": format!("Users/{id}")}))
        .collect();
    json!({
        "schemas": [GROUP_URN],
        "externalId": ctx.unique("kc-group"),
        "displayName": ctx.unique(label),
        "members": members,
    })
}

fn create_group_relative_refs(ctx: &mut Ctx) -> Outcome {
    let u1 = new_user(ctx, "u1")?;
    let u2 = new_user(ctx, "u2")?;
    let body = keycloak_group(ctx, "kcgroup", &[id_of(&u1), id_of(&u2)]);
    let reply = keycloak_create(ctx, "/Groups", body)?;
    reply.check(
        member_ids(reply.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )
}

fn replace_group(ctx: &mut Ctx) -> Outcome {
    let u1 = new_user(ctx, "u1")?;
    let u2 = new_user(ctx, "u2")?;
    let body = keycloak_group(ctx, "replace", &[id_of(&u1)]);
    let group = keycloak_create(ctx, "/Groups", body)?.response.body;
    let id = id_of(&group).to_owned();
    let mut replacement = keycloak_group(ctx, "replaced", &[id_of(&u2)]);
    merge(
        &mut replacement,
        json!({
            "id": id,
            "externalId": field(&group, "externalId"),
            "meta": {"location": format!("Groups/{id}")},
        }),
    );
    let path = format!("/Groups/{id}");
    ctx.send(keycloak_request(Method::PUT, &path, replacement.clone()))?
        .ok(200)?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.expect_at("/displayName", field(&replacement, "displayName").clone())?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2)]),
        "members = exactly {u2}",
    )
}

fn import_lists(ctx: &mut Ctx) -> Outcome {
    new_user(ctx, "import")?;
    for endpoint in ["/Users", "/Groups"] {
        let request = Request::new(Method::GET, endpoint).header("Accept", UNBOUNDID_ACCEPT);
        ctx.send(request)?.expect_list(None, None)?;
    }
    Ok(())
}

fn delete_resources(ctx: &mut Ctx) -> Outcome {
    let user = new_user(ctx, "gone")?;
    let body = keycloak_group(ctx, "gone", &[id_of(&user)]);
    let group = keycloak_create(ctx, "/Groups", body)?.response.body;
    for path in [
        format!("/Groups/{}", id_of(&group)),
        format!("/Users/{}", id_of(&user)),
    ] {
        let request = Request::new(Method::DELETE, path.clone()).header("Accept", UNBOUNDID_ACCEPT);
        ctx.send(request)?.expect_status(&[204])?;
        ctx.untrack(&path);
        ctx.get(&path)?.expect_error(404, None)?;
    }
    Ok(())
}
