//! Scripts written against GitHub's SCIM REST documentation (`IDPS.md` §6): the request
//! examples of "REST API endpoints for SCIM" (docs.github.com, enterprise-cloud@latest
//! `rest/enterprise-admin/scim` and `rest/scim/scim`, generated from
//! `github/rest-api-description`) and the filters documented in `google/go-github`
//! `github/scim.go`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{Case, Ctx, Feature, Outcome, Profile, USER_URN, field, id_of};
use crate::client::{Request, encode};

const GITHUB: &[Profile] = &[Profile::Github];

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "GH-01", source: "GitHub 'Provision a SCIM enterprise user' example", purpose: "a create body listing groups [{value}] answers 201 and ignores the read-only groups", profiles: GITHUB, run: create_with_groups },
    Case { id: "GH-02", source: "GitHub 'Update an attribute for a SCIM enterprise user' example userMultiValuedProperties", purpose: "PATCH emails[type eq 'work'].value (single quotes) and name.familyName", profiles: GITHUB, run: patch_multi_valued },
    Case { id: "GH-03", source: "GitHub 'Update an attribute for a SCIM enterprise user' example userSingleValuedProperties", purpose: "PATCH replace userName and displayName", profiles: GITHUB, run: patch_single_valued },
    Case { id: "GH-04", source: "GitHub 'Update an attribute for a SCIM enterprise user' example disableUser", purpose: "PATCH replace path active false deactivates", profiles: GITHUB, run: patch_disable },
    Case { id: "GH-05", source: "GitHub 'Update an attribute for a SCIM enterprise user', earlier page version (copy at apidog.com)", purpose: "a PATCH body without schemas: {\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}", profiles: GITHUB, run: patch_without_schemas },
    Case { id: "GH-06", source: "GitHub 'Update an attribute for a SCIM enterprise user', earlier page version (copy at apidog.com)", purpose: "PATCH add emails [{type home}] and replace name.givenName in one request", profiles: GITHUB, run: patch_add_home_email },
    Case { id: "GH-07", source: "GitHub 'List SCIM provisioned identities' filter; go-github ListSCIMProvisionedIdentitiesOptions", purpose: "filter emails eq \"address\" finds the user before a create", profiles: GITHUB, run: filter_emails_eq },
    Case { id: "GH-08", source: "GitHub 'List SCIM provisioned identities' filter (userName, externalId)", purpose: "filter userName eq and externalId eq find the user", profiles: GITHUB, run: filter_user_name_and_external_id },
    Case { id: "GH-09", source: "GitHub 'List provisioned SCIM groups for an enterprise' (excludedAttributes=members)", purpose: "GET /Groups?excludedAttributes=members lists groups without members", profiles: GITHUB, run: groups_without_members },
];

/// GitHub's documented example user (`mona.octocat@okta.example.com`), run-unique, plus the
/// optional `externalId` of go-github's `SCIMUserAttributes` so it can be looked up by it.
fn octocat(ctx: &mut Ctx, label: &str) -> Value {
    let user_name = format!("{}@okta.example.com", ctx.unique(label));
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"familyName": "Octocat", "givenName": "Mona"},
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "externalId": ctx.unique("00dowz5dhvdXqorwQ4x7"),
    })
}

fn new_octocat(ctx: &mut Ctx, label: &str) -> Result<Value, crate::case::Stop> {
    let body = octocat(ctx, label);
    ctx.create("/Users", body)
}

fn create_with_groups(ctx: &mut Ctx) -> Outcome {
    let mut body = octocat(ctx, "mona");
    crate::case::merge(
        &mut body,
        json!({"groups": [{"value": "468dd3fa-a1d6-11ea-9031-15a1f0d7811d"}]}),
    );
    let created = ctx.create("/Users", body)?;
    let read = ctx.get(&format!("/Users/{}", id_of(&created)))?;
    read.ok(200)?;
    read.check(
        read.at("/groups").is_none_or(|groups| groups == &json!([])),
        "groups absent or [] (readOnly, RFC 7643 §4.1.2)",
    )
}

fn patch_multi_valued(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_octocat(ctx, "multi")?;
    let updated = format!("{}updatedEmail@microsoft.com", ctx.case_prefix());
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([
            {"op": "replace", "path": "emails[type eq 'work'].value", "value": updated},
            {"op": "replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ]),
    )?;
    read.expect_at(
        "/emails",
        json!([{"primary": true, "type": "work", "value": updated}]),
    )?;
    read.expect_at("/name/familyName", json!("updatedFamilyName"))
}

fn patch_single_valued(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_octocat(ctx, "single")?;
    let new_name = ctx.user_name("5b50642d-79fc-4410-9e90-4c077cdd1a59");
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([
            {"op": "replace", "path": "userName", "value": new_name},
            {"op": "replace", "path": "displayName", "value": "Monalisa Octocat"},
        ]),
    )?;
    read.expect_at("/userName", json!(new_name))?;
    read.expect_at("/displayName", json!("Monalisa Octocat"))
}

fn patch_disable(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_octocat(ctx, "disable")?;
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )?;
    read.expect_at("/active", json!(false))
}

fn patch_without_schemas(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_octocat(ctx, "noschemas")?;
    let path = format!("/Users/{}", id_of(&user));
    let request = Request::new(Method::PATCH, path.clone())
        .json(json!({"Operations": [{"op": "replace", "value": {"active": false}}]}));
    ctx.send(request)?.ok_or_no_content()?;
    ctx.get(&path)?.expect_at("/active", json!(false))
}

fn patch_add_home_email(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = new_octocat(ctx, "home")?;
    let home = format!("{}monalisa@octocat.github.com", ctx.case_prefix());
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([
            {"op": "add", "path": "emails", "value": [{"type": "home", "value": home}]},
            {"op": "replace", "path": "name.givenName", "value": "Monalisa"},
        ]),
    )?;
    read.expect_at("/name/givenName", json!("Monalisa"))?;
    let emails = read.at("/emails").and_then(Value::as_array).cloned();
    read.check(
        emails.is_some_and(|emails| {
            emails.len() == 2
                && emails.contains(&json!({"type": "home", "value": home}))
                && emails
                    .iter()
                    .any(|e| e.get("value") == user.pointer("/emails/0/value"))
        }),
        "the work address kept and the home address added",
    )
}

fn expect_found(ctx: &mut Ctx, filter: &str, user: &Value) -> Outcome {
    let reply = ctx.get(&format!("/Users?filter={}", encode(filter)))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(user)))
}

fn filter_emails_eq(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = new_octocat(ctx, "emails")?;
    let address = field(&user, "userName").as_str().unwrap_or_default();
    expect_found(ctx, &format!("emails eq \"{address}\""), &user)
}

fn filter_user_name_and_external_id(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = new_octocat(ctx, "lookup")?;
    let user_name = field(&user, "userName").as_str().unwrap_or_default();
    expect_found(ctx, &format!("userName eq \"{user_name}\""), &user)?;
    let external_id = field(&user, "externalId").as_str().unwrap_or_default();
    expect_found(ctx, &format!("externalId eq \"{external_id}\""), &user)
}

fn groups_without_members(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = new_octocat(ctx, "member")?;
    ctx.create_group("team", &[id_of(&user)])?;
    let reply = ctx.get(&format!(
        "/Groups?excludedAttributes=members&filter={}",
        ctx.own_filter("displayName")
    ))?;
    let groups = reply.expect_list(Some(1), Some(1))?;
    reply.check(
        groups.iter().all(|group| group.get("members").is_none()),
        "no members in any listed group",
    )
}
