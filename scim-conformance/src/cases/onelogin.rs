//! OneLogin's "SCIM Provisioner with SAML" connectors (`IDPS.md` §1): the SCIM JSON templates
//! OneLogin's knowledge base and vendors' set-up guides give for the v2 Enterprise and Core
//! Schema connectors, and what peer servers record about OneLogin's bodies.

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{Case, Ctx, ENTERPRISE_URN, Outcome, Profile, USER_URN, field, id_of};
use crate::client::{Request, encode};

const ONELOGIN: &[Profile] = &[Profile::Onelogin];
const PLAIN_JSON: &str = "application/json";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "OL-01", source: "OneLogin KB0013904 (SCIM v2 Enterprise); livingsecurity.com OneLogin guide (template)", purpose: "the v2 Enterprise template body (addresses, enterprise manager) answers 201 and reads back", profiles: ONELOGIN, run: enterprise_template },
    Case { id: "OL-02", source: "scim.dev/guide/applications/onelogin (Core Schema template)", purpose: "the Core Schema template's legacy schemas [\"urn:scim:schemas:core:1.0\"] at a /v2 base answers 201", profiles: ONELOGIN, run: legacy_core_schema_template },
    Case { id: "OL-03", source: "15five/django-scim2 adapters.py parse_emails ('OneLogin sends a dict') [peer report]", purpose: "emails as one object instead of an array is stored as a one-element array", profiles: ONELOGIN, run: emails_as_object },
    Case { id: "OL-05", source: "goauthentik/authentik#11249 (OneLogin SCIM v2 Enterprise request log)", purpose: "the lookup GET /Users?filter=userName+eq+%22…%22& ('+' spaces, trailing '&') finds the user", profiles: ONELOGIN, run: logged_lookup },
    Case { id: "OL-06", source: "goauthentik/authentik#11249 (OneLogin SCIM v2 Enterprise request log)", purpose: "PUT /Users/{id}? with the legacy urn:scim:schemas:core:2.0 schemas replaces the user, values kept verbatim", profiles: ONELOGIN, run: logged_put_with_legacy_schemas },
    Case { id: "OL-07", source: "OneLogin set-up guides' base URLs end in '/' (scim.dev, livingsecurity.com) [joining: INFERENCE]", purpose: "a base URL kept with its trailing '/' (…/v2//Users, …/Users/) still reaches the endpoints", profiles: ONELOGIN, run: trailing_slash_base_url },
    Case { id: "OL-04", source: "issue 17 (OneLogin requires application/json) [UNVERIFIED]; RFC 7644 §3.8", purpose: "Accept: application/json is answered as application/json, errors included", profiles: ONELOGIN, run: plain_json_responses },
];

/// The v2 Enterprise template with OneLogin's placeholders filled in.
fn enterprise_user(ctx: &mut Ctx, label: &str, manager_id: &str) -> Value {
    let user_name = ctx.user_name(label);
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": user_name,
        "name": {"familyName": "Login", "givenName": "One"},
        "title": "Engineer",
        "userType": "Employee",
        "timezone": "America/Los_Angeles",
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "addresses": [{"locality": "San Francisco", "region": "CA", "country": "US"}],
        ENTERPRISE_URN: {
            "organization": "OneLogin",
            "division": "R&D",
            "department": "Identity",
            "manager": {"value": manager_id, "displayName": "Boss Person"},
        },
    })
}

fn enterprise_template(ctx: &mut Ctx) -> Outcome {
    let manager = ctx.create_user("manager", json!({}))?;
    let body = enterprise_user(ctx, "onelogin", id_of(&manager));
    let created = ctx.create("/Users", body.clone())?;
    let read = ctx.get(&format!("/Users/{}", id_of(&created)))?;
    read.ok(200)?;
    read.expect_at("/title", json!("Engineer"))?;
    read.expect_at("/addresses/0/locality", json!("San Francisco"))?;
    // The URN holds no '/' or '~', so it is a JSON pointer segment as it stands.
    read.expect_at(&format!("/{ENTERPRISE_URN}/department"), json!("Identity"))?;
    read.expect_at(
        &format!("/{ENTERPRISE_URN}/manager/value"),
        json!(id_of(&manager)),
    )
}

fn legacy_core_schema_template(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("core");
    let body = json!({
        "schemas": ["urn:scim:schemas:core:1.0"],
        "userName": user_name,
        "name": {"givenName": "One", "familyName": "Login", "formatted": "One Login"},
    });
    let reply = ctx.send(Request::new(Method::POST, "/Users").raw(PLAIN_JSON, body.to_string()))?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    reply.expect_at("/userName", json!(user_name))?;
    reply.expect_at("/name/formatted", json!("One Login"))
}

fn emails_as_object(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("dict");
    let created = ctx.create(
        "/Users",
        json!({
            "schemas": [USER_URN],
            "userName": user_name,
            "emails": {"value": user_name, "primary": true},
        }),
    )?;
    let read = ctx.get(&format!("/Users/{}", id_of(&created)))?;
    read.ok(200)?;
    read.expect_at("/emails", json!([{"value": user_name, "primary": true}]))
}

fn plain_json_responses(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("json", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    let filter = encode(&format!(
        "userName eq \"{}\"",
        field(&user, "userName").as_str().unwrap_or_default()
    ));
    let exchanges = [
        Request::new(Method::GET, path.clone()),
        Request::new(Method::GET, format!("/Users?filter={filter}")),
        Request::new(Method::GET, "/Users/00000000-0000-4000-8000-000000000000"),
    ];
    for request in exchanges {
        let reply = ctx.send(request.header("Accept", PLAIN_JSON))?;
        reply.check(
            reply.response.media_type().as_deref() == Some(PLAIN_JSON),
            format!("Content-Type {PLAIN_JSON}"),
        )?;
        reply.check(reply.body().is_object(), "a JSON object body")?;
    }
    Ok(())
}

fn logged_lookup(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("onelogin-test-user", json!({}))?;
    let user_name = field(&user, "userName").as_str().unwrap_or_default();
    let filter = encode(&format!("userName eq \"{user_name}\"")).replace("%20", "+");
    let reply = ctx.get(&format!("/Users?filter={filter}&"))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

/// The log shows the body up to `name`; nothing after it is sent here.
fn logged_put_with_legacy_schemas(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("legacy", json!({}))?;
    let user_name = field(&user, "userName").clone();
    let body = json!({
        "schemas": ["urn:scim:schemas:core:2.0", "urn:scim:schemas:extension:enterprise:2.0"],
        "userName": user_name,
        "name": {"familyName": " User 01", "givenName": "AAA Test"},
    });
    let path = format!("/Users/{}", id_of(&user));
    let reply =
        ctx.send(Request::new(Method::PUT, format!("{path}?")).raw(PLAIN_JSON, body.to_string()))?;
    reply.ok(200)?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.expect_at("/name/familyName", json!(" User 01"))?;
    read.expect_at("/name/givenName", json!("AAA Test"))
}

fn trailing_slash_base_url(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("slash", json!({}))?;
    let user_name = field(&user, "userName").as_str().unwrap_or_default();
    let filter = encode(&format!("userName eq \"{user_name}\""));
    for path in [
        format!("//Users?filter={filter}"),
        format!("/Users/?filter={filter}"),
    ] {
        let reply = ctx.get(&path)?;
        reply.expect_list(Some(1), Some(1))?;
        reply.expect_at("/Resources/0/id", json!(id_of(&user)))?;
    }
    ctx.get(&format!("//Users/{}", id_of(&user)))?.ok(200)
}
