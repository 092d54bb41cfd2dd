//! RFC cases on authentication, discovery, content types, errors, routing and Bulk.

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, ENTERPRISE_URN, Feature, GROUP_URN, Outcome, Profile, USER_URN, has_null,
};
use crate::client::{Auth, Request};

const RFC: &[Profile] = &[Profile::Rfc];
const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "A-02", source: "RFC 7644 §3.12; RFC 7235 §3.1", purpose: "no Authorization header is a SCIM 401 with WWW-Authenticate", profiles: RFC, run: missing_token },
    Case { id: "A-03", source: "RFC 7235 §2.1 (scheme case-insensitive)", purpose: "Authorization: bearer <token> (lowercase scheme) is accepted", profiles: RFC, run: lowercase_scheme },
    Case { id: "A-05", source: "RFC 6750 §3.1; RFC 7644 §3.12", purpose: "an unknown bearer token is a SCIM 401", profiles: RFC, run: unknown_token },
    Case { id: "A-05b", source: "RFC 6750 §3.1", purpose: "a 401 is answered before the body of a write is looked at", profiles: RFC, run: unauthenticated_write },
    Case { id: "D-01", source: "RFC 7643 §5; Okta SPEC 2016", purpose: "ServiceProviderConfig has typed feature flags and an oauthbearertoken scheme", profiles: RFC, run: service_provider_config },
    Case { id: "D-03", source: "RFC 7643 §6; RFC 7644 §4", purpose: "ResourceTypes has User (with the enterprise extension) and Group", profiles: RFC, run: resource_types },
    Case { id: "D-03b", source: "RFC 7644 §4", purpose: "GET /ResourceTypes/User returns the single resource type", profiles: RFC, run: resource_type_by_name },
    Case { id: "D-04", source: "RFC 7643 §7; MS-DEV '/Schemas'", purpose: "every schema attribute carries all characteristics, camelCase, no nulls", profiles: RFC, run: schemas_described },
    Case { id: "D-06", source: "RFC 7643 §4.1.1, §3.1", purpose: "userName required, caseExact false, uniqueness server; id readOnly", profiles: RFC, run: user_schema_characteristics },
    Case { id: "D-07", source: "RFC 7644 §4", purpose: "GET /Schemas/urn:example:unknown is a SCIM 404", profiles: RFC, run: unknown_schema },
    Case { id: "D-08", source: "RFC 7644 §4 (filter on discovery)", purpose: "a filter on ServiceProviderConfig is ignored or 403, never 500", profiles: RFC, run: discovery_filter },
    Case { id: "E-01", source: "RFC 7644 §3.1; MicrosoftDocs/azure-docs#12728", purpose: "POST with application/scim+json; charset=utf-8 creates", profiles: RFC, run: charset_content_type },
    Case { id: "E-04", source: "RFC 7644 §3.12 (invalidSyntax)", purpose: "a truncated, array or string body is 400 invalidSyntax", profiles: RFC, run: malformed_bodies },
    Case { id: "E-05", source: "RFC 7644 §3.1, §3.12", purpose: "Content-Type text/plain is accepted (201) or a SCIM 415, never another body", profiles: RFC, run: text_plain },
    Case { id: "E-06", source: "RFC 7644 §3.12", purpose: "unknown endpoints are SCIM 404s", profiles: RFC, run: unknown_endpoint },
    Case { id: "E-07", source: "RFC 7644 §3.12 (405)", purpose: "DELETE /Users and PATCH /Groups (collections) are SCIM 405s", profiles: RFC, run: collection_methods },
    Case { id: "E-09", source: "RFC 7644 §3.12 (413); RFC 7643 §5 bulk.maxPayloadSize", purpose: "a body far above the advertised maximum is 413", profiles: RFC, run: payload_too_large },
    Case { id: "E-10", source: "RFC 7644 §3.8; Okta SPEC Accept header", purpose: "Accept scim+json with charset, application/json and */* are all served", profiles: RFC, run: accept_headers },
    Case { id: "X-01", source: "RFC 7644 §3.7 Bulk", purpose: "a BulkRequest creating a user and a group referring to it by bulkId", profiles: RFC, run: bulk_create },
];

fn missing_token(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.send(Request::new(Method::GET, "/Users").auth(Auth::Missing))?;
    reply.expect_error(401, None)?;
    reply.check(
        reply.response.header("www-authenticate").is_some(),
        "a WWW-Authenticate header",
    )
}

fn lowercase_scheme(ctx: &mut Ctx) -> Outcome {
    let request =
        Request::new(Method::GET, "/Users?count=1").auth(Auth::Raw("bearer {token}".to_owned()));
    ctx.send(request)?.expect_list(None, None).map(|_| ())
}

fn unknown_token(ctx: &mut Ctx) -> Outcome {
    let request = Request::new(Method::GET, "/Users").auth(Auth::Raw(format!(
        "Bearer {}",
        uuid::Uuid::new_v4().simple()
    )));
    ctx.send(request)?.expect_error(401, None)?;
    let request = Request::new(Method::GET, "/Users").auth(Auth::Raw("Bearer ".to_owned()));
    ctx.send(request)?.expect_error(401, None)
}

fn unauthenticated_write(ctx: &mut Ctx) -> Outcome {
    let request = Request::new(Method::POST, "/Users")
        .raw("application/scim+json", "{not json")
        .auth(Auth::Missing);
    ctx.send(request)?.expect_error(401, None)
}

fn service_provider_config(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ServiceProviderConfig")?;
    reply.ok(200)?;
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        reply.check(
            reply
                .at(&format!("/{feature}/supported"))
                .is_some_and(Value::is_boolean),
            format!("{feature}.supported as a boolean"),
        )?;
    }
    for integer in [
        "/bulk/maxOperations",
        "/bulk/maxPayloadSize",
        "/filter/maxResults",
    ] {
        reply.check(
            reply.at(integer).is_some_and(Value::is_u64),
            format!("{integer} as an integer"),
        )?;
    }
    reply.check(
        reply
            .at("/authenticationSchemes")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .any(|x| x.get("type") == Some(&json!("oauthbearertoken")))
            }),
        "an authenticationSchemes entry of type oauthbearertoken",
    )?;
    reply.check(!has_null(reply.body()), "no null anywhere")
}

fn resource_types(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ResourceTypes")?;
    let resources = reply.expect_list(None, None)?;
    let find = |name: &str| {
        resources
            .iter()
            .find(|r| r.get("name") == Some(&json!(name)))
    };
    let user = find("User");
    reply.check(
        user.is_some_and(|u| {
            u.get("endpoint") == Some(&json!("/Users")) && u.get("schema") == Some(&json!(USER_URN))
        }),
        "User with endpoint /Users and the core User schema",
    )?;
    reply.check(
        user.and_then(|u| u.pointer("/schemaExtensions/0/schema")) == Some(&json!(ENTERPRISE_URN)),
        "User schemaExtensions[0].schema = the enterprise URN",
    )?;
    reply.check(
        find("Group").is_some_and(|g| {
            g.get("endpoint") == Some(&json!("/Groups"))
                && g.get("schema") == Some(&json!(GROUP_URN))
        }),
        "Group with endpoint /Groups and the core Group schema",
    )
}

fn resource_type_by_name(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ResourceTypes/User")?;
    reply.ok(200)?;
    reply.expect_at("/name", json!("User"))?;
    reply.expect_at("/endpoint", json!("/Users"))
}

fn attributes_described(attributes: &[Value]) -> Result<(), String> {
    for attribute in attributes {
        for key in [
            "name",
            "type",
            "multiValued",
            "required",
            "caseExact",
            "mutability",
            "returned",
            "uniqueness",
        ] {
            if attribute.get(key).is_none() {
                return Err(format!("{key} missing in {attribute}"));
            }
        }
        let mutability = attribute
            .get("mutability")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !["readOnly", "readWrite", "immutable", "writeOnly"].contains(&mutability) {
            return Err(format!("mutability {mutability:?} in {attribute}"));
        }
        if let Some(subs) = attribute.get("subAttributes").and_then(Value::as_array) {
            attributes_described(subs)?;
        }
    }
    Ok(())
}

fn schemas_described(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/Schemas")?;
    let resources = reply.expect_list(None, None)?;
    reply.check(!has_null(reply.body()), "no null anywhere")?;
    for schema in &resources {
        let attributes = schema
            .get("attributes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Err(problem) = attributes_described(&attributes) {
            return Err(reply.fail(format!("every attribute fully described ({problem})")));
        }
    }
    Ok(())
}

fn user_schema_characteristics(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get(&format!("/Schemas/{USER_URN}"))?;
    reply.ok(200)?;
    reply.expect_at("/id", json!(USER_URN))?;
    let attributes = reply
        .at("/attributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let find = |name: &str| {
        attributes
            .iter()
            .find(|a| a.get("name") == Some(&json!(name)))
    };
    let user_name = find("userName");
    reply.check(
        user_name.is_some_and(|a| {
            a.get("required") == Some(&json!(true))
                && a.get("caseExact") == Some(&json!(false))
                && a.get("uniqueness") == Some(&json!("server"))
        }),
        "userName: required true, caseExact false, uniqueness server",
    )?;
    if let Some(id) = find("id") {
        reply.check(
            id.get("mutability") == Some(&json!("readOnly")),
            "id: mutability readOnly",
        )?;
    }
    if let Some(password) = find("password") {
        reply.check(
            password.get("returned") == Some(&json!("never"))
                && password.get("mutability") == Some(&json!("writeOnly")),
            "password: returned never, mutability writeOnly",
        )?;
    }
    Ok(())
}

fn unknown_schema(ctx: &mut Ctx) -> Outcome {
    ctx.get("/Schemas/urn:example:unknown")?
        .expect_error(404, None)
}

fn discovery_filter(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/ServiceProviderConfig?filter=patch.supported%20eq%20true")?;
    if reply.status() == 403 {
        return reply.expect_error(403, None);
    }
    reply.ok(200)?;
    reply.check(
        reply.at("/patch/supported").is_some(),
        "the ServiceProviderConfig document",
    )
}

fn charset_content_type(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("charset");
    let body = json!({"schemas": [USER_URN], "userName": user_name});
    let request = Request::new(Method::POST, "/Users")
        .raw("application/scim+json; charset=utf-8", body.to_string());
    let reply = ctx.send(request)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)
}

fn malformed_bodies(ctx: &mut Ctx) -> Outcome {
    for body in ["{\"userName\":", "[]", "\"x\""] {
        let reply =
            ctx.send(Request::new(Method::POST, "/Users").raw("application/scim+json", body))?;
        if let Some(id) = reply.at("/id").and_then(Value::as_str) {
            ctx.track(format!("/Users/{id}"));
        }
        reply.expect_error(400, Some("invalidSyntax"))?;
    }
    Ok(())
}

fn text_plain(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("plain");
    let body = json!({"schemas": [USER_URN], "userName": user_name});
    let reply =
        ctx.send(Request::new(Method::POST, "/Users").raw("text/plain", body.to_string()))?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    match reply.status() {
        201 => reply.ok(201),
        _ => reply.expect_error(415, None),
    }
}

fn unknown_endpoint(ctx: &mut Ctx) -> Outcome {
    ctx.get("/Foo")?.expect_error(404, None)?;
    ctx.get("/Users/x/y")?.expect_error(404, None)
}

fn collection_methods(ctx: &mut Ctx) -> Outcome {
    ctx.delete("/Users")?.expect_error(405, None)?;
    ctx.patch("/Groups", json!([{"op": "remove", "path": "members"}]))?
        .expect_error(405, None)
}

fn payload_too_large(ctx: &mut Ctx) -> Outcome {
    let config = ctx.get("/ServiceProviderConfig")?;
    let advertised = config
        .at("/bulk/maxPayloadSize")
        .and_then(Value::as_u64)
        .unwrap_or(1_048_576)
        .clamp(1024, 8 * 1_048_576);
    let size = usize::try_from(advertised * 2).unwrap_or(2 * 1_048_576);
    let user_name = ctx.user_name("huge");
    let body =
        json!({"schemas": [USER_URN], "userName": user_name, "displayName": "x".repeat(size)});
    let reply = ctx.post("/Users", body)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.expect_error(413, None)
}

fn accept_headers(ctx: &mut Ctx) -> Outcome {
    for accept in [
        "application/scim+json; charset=utf-8",
        "application/json",
        "*/*",
    ] {
        let request = Request::new(Method::GET, "/Users?count=1").header("Accept", accept);
        ctx.send(request)?.expect_list(None, None)?;
    }
    Ok(())
}

fn bulk_create(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Bulk)?;
    let user_name = ctx.user_name("bulk");
    let group_name = ctx.unique("bulk group");
    let body = json!({
        "schemas": [BULK_REQUEST_URN],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": [USER_URN], "userName": user_name}},
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {
                "schemas": [GROUP_URN], "displayName": group_name, "members": [{"value": "bulkId:u1"}]}},
        ],
    });
    let reply = ctx.post("/Bulk", body)?;
    let operations = reply
        .at("/Operations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for operation in &operations {
        if let Some(location) = operation.get("location").and_then(Value::as_str)
            && let Some(at) = location
                .rfind("/Users/")
                .or_else(|| location.rfind("/Groups/"))
        {
            ctx.track(location.get(at..).unwrap_or_default().to_owned());
        }
    }
    reply.ok(200)?;
    reply.expect_at("/schemas", json!([BULK_RESPONSE_URN]))?;
    reply.check(
        operations.len() == 2
            && operations
                .iter()
                .all(|o| o.get("status") == Some(&json!("201"))),
        "two operations, each with status \"201\"",
    )
}
