//! Microsoft Entra ID: the requests of "Develop and plan provisioning for a SCIM endpoint"
//! (dossier §2.4), the `aadOptscim062020` compatibility notes (§2.5), the default mappings
//! (§2.6) and what the SCIM Validator and the gallery Logic App check (§2.7).

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{
    Case, Ctx, ENTERPRISE_URN, Feature, GROUP_URN, Outcome, PATCH_URN, Profile, USER_URN, field,
    has_null, id_of, member_ids, sorted,
};
use crate::client::{Request, encode};

const ENTRA: &[Profile] = &[Profile::Entra];
const MS_GROUP_URN: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
const ENTRA_JSON: &str = "application/scim+json; charset=utf-8";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "ENTRA-01", source: "MS-DEV 'Create User' (dossier §2.4, C-06)", purpose: "Entra's create body (enterprise schema, meta, roles []) answers 201", profiles: ENTRA, run: create_user },
    Case { id: "ENTRA-02", source: "MS-DEV 'Example 2' jyoung (dossier §2.4, C-07)", purpose: "explicit nulls and a typo'd extension URN are accepted; no null comes back", profiles: ENTRA, run: create_with_nulls },
    Case { id: "ENTRA-03", source: "MS-DEV 'Get User' (dossier §2.4)", purpose: "GET by id is 200; an unknown id is a SCIM 404 with status \"404\"", profiles: ENTRA, run: get_user },
    Case { id: "ENTRA-04", source: "MS-DEV 'Get User by query' (dossier §2.4)", purpose: "filter userName eq finds exactly the user", profiles: ENTRA, run: query_user },
    Case { id: "ENTRA-05", source: "MS-DEV 'Get User by query - Zero results'; Test Connection (§2.1, U-06)", purpose: "a userName or externalId that matches nothing is 200 with an empty ListResponse", profiles: ENTRA, run: query_zero_results },
    Case { id: "ENTRA-06", source: "MS-DEV 'Example 1' (dossier §2.4, U-15)", purpose: "an unquoted value (externalId eq jyoung) is answered, never 500", profiles: ENTRA, run: unquoted_value },
    Case { id: "ENTRA-07", source: "MS-DEV-2019 manager check (dossier §2.4, U-14)", purpose: "filter id eq X and manager eq Y with attributes=id", profiles: ENTRA, run: manager_filter },
    Case { id: "ENTRA-08", source: "MS-DEV 'Update User [Multi-valued properties]' (§2.4, P-09)", purpose: "PATCH emails[type eq \"work\"].value and name.familyName", profiles: ENTRA, run: patch_multi_valued },
    Case { id: "ENTRA-09", source: "MS-DEV 'Update User [Single-valued properties]' (§2.4, P-15)", purpose: "PATCH Replace userName; lookups follow the new name", profiles: ENTRA, run: patch_user_name },
    Case { id: "ENTRA-10", source: "MS-DEV 'Disable User' (§2.4, P-05)", purpose: "PATCH Replace active false, Operations before schemas", profiles: ENTRA, run: patch_disable },
    Case { id: "ENTRA-11", source: "MS-DEV 'Delete User' (§2.4, C-23)", purpose: "DELETE /Users/{id} is 204 with no body; then 404", profiles: ENTRA, run: delete_user },
    Case { id: "ENTRA-12", source: "MS-DEV 'Example 5' manager (§2.4, P-17)", purpose: "PATCH Add path manager with an array value sets the enterprise manager", profiles: ENTRA, run: patch_add_manager },
    Case { id: "ENTRA-13", source: "apache/directory-scimple#1242 (§2.4, P-18)", purpose: "PATCH Replace the URN manager path with a plain id string", profiles: ENTRA, run: patch_manager_string },
    Case { id: "ENTRA-14", source: "MS-LOGICAPP manager test; thomaspoignant/scim-patch#453 (§2.4, P-20)", purpose: "PATCH Remove the manager clears it", profiles: ENTRA, run: patch_remove_manager },
    Case { id: "ENTRA-15", source: "MS-DEV 'Create Group' (§2.4, G-02)", purpose: "a group with Microsoft's extra schema URI and meta is created with members []", profiles: ENTRA, run: create_group },
    Case { id: "ENTRA-16", source: "MS-DEV 'Get Group' (§2.4, G-10)", purpose: "GET /Groups/{id}?excludedAttributes=members has no members", profiles: ENTRA, run: get_group_without_members },
    Case { id: "ENTRA-17", source: "MS-DEV 'Get Group by displayName' (§2.4, G-08)", purpose: "filter displayName eq with excludedAttributes=members", profiles: ENTRA, run: query_group_without_members },
    Case { id: "ENTRA-18", source: "MS-DEV 'Update Group [Non-member attributes]' (§2.4, G-14)", purpose: "PATCH Replace displayName renames the group", profiles: ENTRA, run: patch_group_name },
    Case { id: "ENTRA-19", source: "MS-DEV 'Update Group [Add Members]' (§2.4, G-17)", purpose: "PATCH Add members with \"$ref\": null adds and keeps existing members", profiles: ENTRA, run: patch_add_members },
    Case { id: "ENTRA-20", source: "MS-DEV 'Update Group [Remove Members]'; MS-COMPAT (§2.4, G-21)", purpose: "PATCH Remove path members with a value list removes only those", profiles: ENTRA, run: patch_remove_listed_members },
    Case { id: "ENTRA-21", source: "MS-DEV 'Delete Group' (§2.4)", purpose: "DELETE /Groups/{id} is 204", profiles: ENTRA, run: delete_group },
    Case { id: "ENTRA-22", source: "rancher/rancher PR #55776 (§2.4, G-15)", purpose: "PATCH Add externalId onto an existing group", profiles: ENTRA, run: patch_group_external_id },
    Case { id: "ENTRA-23", source: "MS-COMPAT legacy 'Disable user' (§2.5, P-03, P-04)", purpose: "string booleans \"False\"/\"True\" for active are coerced", profiles: ENTRA, run: patch_string_booleans },
    Case { id: "ENTRA-24", source: "MS-COMPAT 'Add single-valued attribute' (§2.5)", purpose: "PATCH Add nickName sets it", profiles: ENTRA, run: patch_add_nick_name },
    Case { id: "ENTRA-25", source: "MS-COMPAT flag 'Replace several attributes' (§2.5, P-12)", purpose: "no-path replace with dotted and URN-qualified keys", profiles: ENTRA, run: patch_dotted_keys },
    Case { id: "ENTRA-26", source: "MS-COMPAT flag 'Remove a group member' (§2.5, G-22)", purpose: "PATCH remove members[value eq id] removes that member; re-add works", profiles: ENTRA, run: patch_remove_filtered_member },
    Case { id: "ENTRA-27", source: "MS-COMPAT ?aadOptscim062020 (§2.5, U-32)", purpose: "unknown query parameters are ignored", profiles: ENTRA, run: unknown_query_parameters },
    Case { id: "ENTRA-28", source: "MS-DEV mail mapping (§2.6, U-12); MicrosoftDocs/azure-docs#83855", purpose: "filter emails[type eq \"work\"].value eq finds the user", profiles: ENTRA, run: filter_work_email },
    Case { id: "ENTRA-29", source: "MS-ATTR custom extension (§2.6, C-10)", purpose: "an extension key not listed in schemas is accepted, never 500", profiles: ENTRA, run: custom_extension_key },
    Case { id: "ENTRA-30", source: "MS-DEV attribute table .Value/.Formatted (§2.6, P-32)", purpose: "PATCH paths match attribute names case-insensitively", profiles: ENTRA, run: patch_case_insensitive_paths },
    Case { id: "ENTRA-31", source: "MS-ATTR 'Provisioning a role' (§2.6, P-28)", purpose: "PATCH Add roles with a JSON-encoded string value is answered, never 500", profiles: ENTRA, run: patch_role_string },
    Case { id: "ENTRA-32", source: "ssoready/ssoready#228; SCIM-SDK#416 (§2.6, §2.7, P-11)", purpose: "add on emails[type eq \"work\"].value creates the e-mail when absent", profiles: ENTRA, run: patch_create_work_email },
    Case { id: "ENTRA-33", source: "scimmyjs/scimmy#59; AzureAD/SCIMReferenceCode#112 (§2.7, P-24)", purpose: "Operations: [] is answered 200 (or 400 invalidSyntax), never 500", profiles: ENTRA, run: patch_empty_operations },
    Case { id: "ENTRA-34", source: "MS-LOGICAPP SCIM_Null_Update_Test (§2.7, P-21)", purpose: "Replace title with \"\" then null clears it", profiles: ENTRA, run: patch_null_update },
    Case { id: "ENTRA-35", source: "MS-LOGICAPP 'User pagination' (§2.7, U-25)", purpose: "11 users paged with count=5 at startIndex 1, 6, 11", profiles: ENTRA, run: user_pagination },
    Case { id: "ENTRA-36", source: "MS-DEV '/Schemas'; MS-LOGICAPP; validator (§2.7, D-04, D-05)", purpose: "/Schemas has User, Group, EnterpriseUser, complex name, no nulls", profiles: ENTRA, run: schema_discovery },
    Case { id: "ENTRA-37", source: "MS-DEV Test Connection (§2.1); scim-for-keycloak#78 (U-05)", purpose: "a '+'-encoded filter finds the user", profiles: ENTRA, run: plus_encoded_filter },
    Case { id: "ENTRA-38", source: "MS-DEV 'requests about the members attribute' (§2.1, G-11)", purpose: "filter id eq G and members eq U on /Groups", profiles: ENTRA, run: group_member_filter },
    Case { id: "ENTRA-39", source: "MS-DEV soft delete; Microsoft Q&A 2238842 (§2.1, §2.7, U-11)", purpose: "a disabled user is still found by filter and by id with active false", profiles: ENTRA, run: disabled_user_visible },
    Case { id: "ENTRA-40", source: "MS-DEV '/Groups' displayName uniqueness (§2.1, G-04)", purpose: "a second group with the same displayName (any case) is 409", profiles: ENTRA, run: group_name_unique },
    Case { id: "ENTRA-41", source: "MS-DEV requests with charset (MicrosoftDocs/azure-docs#12728, E-01)", purpose: "PATCH with Content-Type application/scim+json; charset=utf-8", profiles: ENTRA, run: patch_with_charset },
];

fn entra_user(ctx: &mut Ctx) -> (Value, String) {
    let user_name = ctx.user_name("Test_User_00aa00aa");
    let external_id = ctx.unique("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef-");
    let body = json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    });
    (body, external_id)
}

fn post_entra(
    ctx: &mut Ctx,
    endpoint: &str,
    body: Value,
) -> Result<crate::case::Reply, crate::case::Stop> {
    let reply = ctx.send(Request::new(Method::POST, endpoint).raw(ENTRA_JSON, body.to_string()))?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("{endpoint}/{id}"));
    }
    Ok(reply)
}

fn create_user(ctx: &mut Ctx) -> Outcome {
    let (body, external_id) = entra_user(ctx);
    let reply = post_entra(ctx, "/Users", body.clone())?;
    reply.ok(201)?;
    reply.string("/id")?;
    reply.expect_at("/externalId", json!(external_id))?;
    reply.expect_at("/userName", field(&body, "userName").clone())?;
    reply.expect_at("/active", json!(true))?;
    reply.expect_at("/name/familyName", json!("familyName"))?;
    reply.expect_at("/emails/0/value", field(&body, "userName").clone())?;
    reply.expect_at("/emails/0/type", json!("work"))?;
    reply.expect_at("/emails/0/primary", json!(true))?;
    reply.string("/meta/created")?;
    reply.string("/meta/lastModified")?;
    reply.expect_at("/meta/resourceType", json!("User"))
}

fn create_with_nulls(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("jyoung");
    let body = json!({
        "schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "externalId": ctx.unique("jyoung"), "userName": user_name, "active": true,
        "addresses": null, "displayName": "Joy Young",
        "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": true}],
        "meta": {"resourceType": "User"}, "name": {"familyName": "Young", "givenName": "Joy"},
        "phoneNumbers": null, "preferredLanguage": null, "title": null, "department": null, "manager": null,
    });
    let reply = post_entra(ctx, "/Users", body)?;
    reply.ok(201)?;
    let read = ctx.get(&format!("/Users/{}", reply.string("/id")?))?;
    read.ok(200)?;
    read.check(!has_null(read.body()), "no null anywhere")?;
    for absent in [
        "/addresses",
        "/phoneNumbers",
        "/title",
        "/preferredLanguage",
    ] {
        read.expect_absent(absent)?;
    }
    Ok(())
}

fn get_user(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("get", json!({}))?;
    let reply = ctx.get(&format!("/Users/{}", id_of(&user)))?;
    reply.ok(200)?;
    reply.expect_at("/id", json!(id_of(&user)))?;
    ctx.get("/Users/5d48a0a8e9f04aa38008")?
        .expect_error(404, None)
}

fn filter_path(attribute_filter: &str) -> String {
    format!("/Users?filter={}", encode(attribute_filter))
}

fn query_user(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("query", json!({}))?;
    let name = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = ctx.get(&filter_path(&format!("userName eq \"{name}\"")))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))?;
    reply.expect_at("/startIndex", json!(1))
}

fn query_zero_results(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let absent = format!("{}non-existent user", ctx.case_prefix());
    ctx.get(&filter_path(&format!("userName eq \"{absent}\"")))?
        .expect_list(Some(0), Some(0))?;
    let guid = uuid::Uuid::new_v4();
    ctx.get(&filter_path(&format!("externalId eq \"{guid}\"")))?
        .expect_list(Some(0), Some(0))?;
    Ok(())
}

fn unquoted_value(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let external_id = ctx.unique("jyoung");
    let user = ctx.create_user("jyoung", json!({"externalId": external_id}))?;
    let reply = ctx.get(&filter_path(&format!("externalId eq {external_id}")))?;
    if reply.status() == 400 {
        return reply.expect_error(400, Some("invalidFilter"));
    }
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

fn manager_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let manager = ctx.create_user("manager", json!({}))?;
    let other = ctx.create_user("other", json!({}))?;
    let report = ctx.create_user(
        "report",
        json!({"schemas": [USER_URN, ENTERPRISE_URN], ENTERPRISE_URN: {"manager": {"value": id_of(&manager)}}}),
    )?;
    let id = id_of(&report);
    let reply = ctx.get(&format!(
        "{}&attributes=id",
        filter_path(&format!(
            "id eq \"{id}\" and manager eq \"{}\"",
            id_of(&manager)
        ))
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id))?;
    ctx.get(&filter_path(&format!(
        "id eq \"{id}\" and manager eq \"{}\"",
        id_of(&other)
    )))?
    .expect_list(Some(0), Some(0))?;
    Ok(())
}

fn patch_multi_valued(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("multi", json!({}))?;
    let email = ctx.user_name("updatedEmail");
    let path = format!("/Users/{}", id_of(&user));
    let reply = ctx.patch(
        &path,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": email},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ]),
    )?;
    reply.ok(200)?;
    let read = ctx.get(&path)?;
    read.ok(200)?;
    read.check(
        read.at("/emails")
            .and_then(Value::as_array)
            .is_some_and(|e| e.len() == 1),
        "exactly one e-mail",
    )?;
    read.expect_at("/emails/0/value", json!(email))?;
    read.expect_at("/emails/0/type", json!("work"))?;
    read.expect_at("/emails/0/primary", json!(true))?;
    read.expect_at("/name/familyName", json!("updatedFamilyName"))?;
    read.expect_at("/name/givenName", json!("Conformance"))
}

fn patch_user_name(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("before", json!({}))?;
    let old = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let new = ctx.user_name("5b50642d-79fc-4410-9e90-4c077cdd1a59");
    let path = format!("/Users/{}", id_of(&user));
    let reply = ctx.patch(
        &path,
        json!([{"op": "Replace", "path": "userName", "value": new}]),
    )?;
    reply.ok(200)?;
    reply.expect_at("/userName", json!(new))?;
    reply.expect_at("/id", json!(id_of(&user)))?;
    ctx.get(&filter_path(&format!("userName eq \"{new}\"")))?
        .expect_list(Some(1), Some(1))?;
    ctx.get(&filter_path(&format!("userName eq \"{old}\"")))?
        .expect_list(Some(0), Some(0))?;
    Ok(())
}

fn patch_disable(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("disable", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    // Operations before schemas, as Microsoft's example orders them.
    let body = format!(
        r#"{{"Operations":[{{"op":"Replace","path":"active","value":false}}],"schemas":["{PATCH_URN}"]}}"#
    );
    let reply = ctx.send(Request::new(Method::PATCH, path.as_str()).raw(ENTRA_JSON, body))?;
    reply.ok(200)?;
    reply.expect_at("/active", json!(false))?;
    ctx.get(&path)?.expect_at("/active", json!(false))
}

fn delete_user(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("delete", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    let reply = ctx.delete(&path)?;
    reply.expect_status(&[204])?;
    reply.check(reply.response.text.is_empty(), "an empty body")?;
    ctx.untrack(&path);
    ctx.get(&path)?.expect_error(404, None)
}

fn manager_value(read: &crate::case::Reply) -> Option<&Value> {
    read.at(&format!(
        "/{}/manager/value",
        ENTERPRISE_URN.replace('/', "~1")
    ))
}

fn patch_add_manager(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let manager = ctx.create_user("manager", json!({}))?;
    let user = ctx.create_user("report", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    let mid = id_of(&manager);
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "Add", "path": "manager", "value": [{"$ref": format!("{}/Users/{mid}", ctx.base_url()), "value": mid}]}]),
    )?;
    read.check(
        manager_value(&read) == Some(&json!(mid)),
        "enterprise manager.value = the manager's id",
    )?;
    read.check(
        read.at("/schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(ENTERPRISE_URN))),
        "schemas containing the enterprise URN",
    )
}

fn patch_manager_string(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let manager = ctx.create_user("manager", json!({}))?;
    let user = ctx.create_user("report", json!({}))?;
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "Replace", "path": format!("{ENTERPRISE_URN}:manager"), "value": id_of(&manager)}]),
    )?;
    read.check(
        manager_value(&read) == Some(&json!(id_of(&manager))),
        "enterprise manager.value = the manager's id",
    )
}

fn patch_remove_manager(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let manager = ctx.create_user("manager", json!({}))?;
    let mid = id_of(&manager).to_owned();
    let user = ctx.create_user(
        "report",
        json!({"schemas": [USER_URN, ENTERPRISE_URN], ENTERPRISE_URN: {"manager": {"value": mid}}}),
    )?;
    let path = format!("/Users/{}", id_of(&user));
    let removals = [
        json!([{"op": "remove", "path": format!("manager[value eq \"{mid}\"]")}]),
        json!([{"op": "Remove", "path": format!("{ENTERPRISE_URN}:manager")}]),
        json!([{"op": "Replace", "path": "manager", "value": ""}]),
    ];
    for removal in removals {
        let read = ctx.patch_and_read(&path, removal)?;
        read.check(manager_value(&read).is_none(), "no manager afterwards")?;
        ctx.patch_and_read(
            &path,
            json!([{"op": "replace", "path": format!("{ENTERPRISE_URN}:manager"), "value": {"value": mid}}]),
        )?;
    }
    Ok(())
}

fn create_group(ctx: &mut Ctx) -> Outcome {
    let external_id = ctx.unique("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159-");
    let name = ctx.unique("displayName");
    let body = json!({
        "schemas": [GROUP_URN, MS_GROUP_URN],
        "externalId": external_id, "displayName": name, "meta": {"resourceType": "Group"},
    });
    let reply = post_entra(ctx, "/Groups", body)?;
    reply.ok(201)?;
    reply.string("/id")?;
    reply.expect_at("/externalId", json!(external_id))?;
    reply.expect_at("/displayName", json!(name))?;
    reply.check(
        reply.at("/members").is_none_or(|m| m == &json!([])),
        "members [] or absent",
    )
}

fn get_group_without_members(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&user)])?;
    let path = format!("/Groups/{}", id_of(&group));
    let reply = ctx.get(&format!("{path}?excludedAttributes=members"))?;
    reply.ok(200)?;
    reply.expect_absent("/members")?;
    reply.expect_at("/id", json!(id_of(&group)))?;
    let full = ctx.get(&path)?;
    full.ok(200)?;
    full.check(
        member_ids(full.body()) == sorted(&[id_of(&user)]),
        "members = [the user]",
    )
}

fn query_group_without_members(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("member", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&user)])?;
    let filter = encode(&format!(
        "displayName eq \"{}\"",
        field(&group, "displayName").as_str().unwrap_or_default()
    ));
    let reply = ctx.get(&format!(
        "/Groups?excludedAttributes=members&filter={filter}"
    ))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_absent("/Resources/0/members")?;
    reply.expect_at("/Resources/0/id", json!(id_of(&group)))
}

fn patch_group_name(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let group = ctx.create_group("group", &[])?;
    let name = ctx.unique("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "Replace", "path": "displayName", "value": name}]),
    )?;
    read.expect_at("/displayName", json!(name))
}

fn patch_add_members(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u1)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id_of(&u2)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u1), id_of(&u2)]),
        "members = {u1, u2}",
    )
}

fn patch_remove_listed_members(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let u3 = ctx.create_user("u3", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u1), id_of(&u2), id_of(&u3)])?;
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": id_of(&u1)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2), id_of(&u3)]),
        "members = {u2, u3}: only the listed member removed",
    )
}

fn delete_group(ctx: &mut Ctx) -> Outcome {
    let group = ctx.create_group("group", &[])?;
    let path = format!("/Groups/{}", id_of(&group));
    ctx.delete(&path)?.expect_status(&[204])?;
    ctx.untrack(&path);
    ctx.get(&path)?.expect_error(404, None)
}

fn patch_group_external_id(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let group = ctx.create_group("group", &[])?;
    let external_id = ctx.unique("obj-");
    let read = ctx.patch_and_read(
        &format!("/Groups/{}", id_of(&group)),
        json!([{"op": "Add", "path": "externalId", "value": external_id}]),
    )?;
    read.expect_at("/externalId", json!(external_id))
}

fn patch_string_booleans(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("legacy", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    for (text, expected) in [
        ("False", false),
        ("True", true),
        ("FALSE", false),
        ("true", true),
    ] {
        let reply = ctx.patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": text}]),
        )?;
        reply.ok(200)?;
        reply.expect_at("/active", json!(expected))?;
    }
    Ok(())
}

fn patch_add_nick_name(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("nick", json!({}))?;
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
    )?;
    read.expect_at("/nickName", json!("Babs"))
}

fn patch_dotted_keys(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("dotted", json!({}))?;
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "replace", "value": {
            "displayName": "Pvlo", "name.givenName": "Pvlo", "name.familyName": "Pvlo",
            format!("{ENTERPRISE_URN}:employeeNumber"): "Pvlo",
        }}]),
    )?;
    read.expect_at("/displayName", json!("Pvlo"))?;
    read.expect_at("/name/givenName", json!("Pvlo"))?;
    read.expect_at("/name/familyName", json!("Pvlo"))?;
    read.expect_at(
        &format!("/{}/employeeNumber", ENTERPRISE_URN.replace('/', "~1")),
        json!("Pvlo"),
    )?;
    read.expect_absent("/name.givenName")?;
    read.expect_absent(&format!("/{ENTERPRISE_URN}:employeeNumber"))
}

fn patch_remove_filtered_member(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let u3 = ctx.create_user("u3", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u2), id_of(&u3)])?;
    let path = format!("/Groups/{}", id_of(&group));
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id_of(&u2))}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u3)]),
        "members = {u3}",
    )?;
    let read = ctx.patch_and_read(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": id_of(&u2)}]}]),
    )?;
    read.check(
        member_ids(read.body()) == sorted(&[id_of(&u2), id_of(&u3)]),
        "members = {u2, u3} after re-adding",
    )
}

fn unknown_query_parameters(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("flag", json!({}))?;
    let filter = encode(&format!(
        "userName eq \"{}\"",
        field(&user, "userName").as_str().unwrap_or_default()
    ));
    for flag in ["aadOptscim062020", "aadOptscim062020=true"] {
        ctx.get(&format!("/Users?{flag}&filter={filter}"))?
            .expect_list(Some(1), Some(1))?;
    }
    Ok(())
}

fn filter_work_email(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("mail", json!({}))?;
    let name = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = ctx.get(&filter_path(&format!(
        "emails[type eq \"work\"].value eq \"{name}\""
    )))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

fn custom_extension_key(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("custom");
    let body = json!({
        "schemas": [USER_URN], "userName": user_name, "active": true,
        "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {"tag": "701984"},
    });
    let reply = post_entra(ctx, "/Users", body)?;
    reply.ok(201)
}

fn patch_case_insensitive_paths(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("case", json!({}))?;
    let other = ctx.user_name("other");
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([
            {"op": "replace", "path": "Name.GivenName", "value": "Q"},
            {"op": "add", "path": "emails[Type eq \"other\"].Value", "value": other},
        ]),
    )?;
    read.expect_at("/name/givenName", json!("Q"))?;
    let has_other = read
        .at("/emails")
        .and_then(Value::as_array)
        .is_some_and(|e| {
            e.iter().any(|m| {
                m.get("type") == Some(&json!("other")) && m.get("value") == Some(&json!(other))
            })
        });
    read.check(has_other, "an e-mail of type other with the new value")
}

fn patch_role_string(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("role", json!({}))?;
    let role =
        r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#;
    let reply = ctx.patch(
        &format!("/Users/{}", id_of(&user)),
        json!([{"op": "Add", "path": "roles", "value": [{"value": role}]}]),
    )?;
    if reply.status() == 400 {
        return reply.expect_error(400, Some("invalidPath"));
    }
    reply.ok_or_no_content()
}

fn patch_create_work_email(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user_name = ctx.user_name("noemail");
    let user = ctx.create(
        "/Users",
        json!({"schemas": [USER_URN], "userName": user_name}),
    )?;
    let email = ctx.user_name("a");
    let read = ctx.patch_and_read(
        &format!("/Users/{}", id_of(&user)),
        json!([
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": email},
            {"op": "add", "path": "name.givenName", "value": "G"},
            {"op": "add", "path": "name.familyName", "value": "F"},
        ]),
    )?;
    read.expect_at("/emails/0/value", json!(email))?;
    read.expect_at("/emails/0/type", json!("work"))?;
    read.expect_at("/name/givenName", json!("G"))?;
    read.expect_at("/name/familyName", json!("F"))
}

fn patch_empty_operations(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("empty", json!({}))?;
    let reply = ctx.patch(&format!("/Users/{}", id_of(&user)), json!([]))?;
    if reply.status() == 400 {
        return reply.expect_error(400, Some("invalidSyntax"));
    }
    reply.ok(200)?;
    reply.expect_at("/userName", field(&user, "userName").clone())
}

fn patch_null_update(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("null", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    ctx.patch_and_read(
        &path,
        json!([{"op": "Replace", "path": "title", "value": "T"}]),
    )?
    .expect_at("/title", json!("T"))?;
    for cleared in [json!(""), Value::Null] {
        let read = ctx.patch_and_read(
            &path,
            json!([{"op": "Replace", "path": "title", "value": cleared}]),
        )?;
        read.check(
            read.at("/title").is_none_or(|t| t == &json!("")),
            "no title (or an empty one)",
        )?;
        ctx.patch_and_read(
            &path,
            json!([{"op": "Replace", "path": "title", "value": "T"}]),
        )?;
    }
    Ok(())
}

fn user_pagination(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let mut created = Vec::new();
    for _ in 0..11 {
        created.push(id_of(&ctx.create_user("page", json!({}))?).to_owned());
    }
    let filter = ctx.own_filter("userName");
    let mut seen = Vec::new();
    for (start, size) in [(1, 5), (6, 5), (11, 1)] {
        let reply = ctx.get(&format!(
            "/Users?filter={filter}&startIndex={start}&count=5"
        ))?;
        let resources = reply.expect_list(Some(11), Some(size))?;
        seen.extend(resources.iter().map(|r| id_of(r).to_owned()));
    }
    seen.sort();
    created.sort();
    if seen != created {
        return Err(ctx.fail(
            "GET /Users?filter=…&count=5&startIndex=1,6,11",
            "each of the 11 users once",
            format!("{seen:?}"),
        ));
    }
    Ok(())
}

fn schema_discovery(ctx: &mut Ctx) -> Outcome {
    let reply = ctx.get("/Schemas")?;
    let resources = reply.expect_list(None, None)?;
    reply.check(!has_null(reply.body()), "no null anywhere")?;
    for urn in [USER_URN, GROUP_URN, ENTERPRISE_URN] {
        reply.check(
            resources.iter().any(|r| r.get("id") == Some(&json!(urn))),
            format!("a schema {urn}"),
        )?;
    }
    let user = resources
        .iter()
        .find(|r| r.get("id") == Some(&json!(USER_URN)));
    let attribute = |name: &str| {
        user.and_then(|u| u.get("attributes"))
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| x.get("name") == Some(&json!(name))))
    };
    reply.check(
        attribute("name").and_then(|a| a.get("type")) == Some(&json!("complex")),
        "User attribute name of type complex",
    )?;
    reply.check(
        attribute("emails").and_then(|a| a.get("multiValued")) == Some(&json!(true)),
        "User attribute emails multiValued",
    )
}

fn plus_encoded_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("plus", json!({}))?;
    let name = encode(field(&user, "userName").as_str().unwrap_or_default());
    let reply = ctx.get(&format!("/Users?filter=userName+eq+%22{name}%22"))?;
    reply.expect_list(Some(1), Some(1))?;
    let guid = format!("{}AzureAD_Test-{}", ctx.case_prefix(), uuid::Uuid::new_v4());
    ctx.get(&format!(
        "/Users?filter=userName+eq+%22{}%22",
        encode(&guid)
    ))?
    .expect_list(Some(0), Some(0))?;
    Ok(())
}

fn group_member_filter(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let u1 = ctx.create_user("u1", json!({}))?;
    let u2 = ctx.create_user("u2", json!({}))?;
    let group = ctx.create_group("group", &[id_of(&u1)])?;
    let gid = id_of(&group);
    let query = |uid: &str| {
        format!(
            "/Groups?filter={}",
            encode(&format!("id eq \"{gid}\" and members eq \"{uid}\""))
        )
    };
    let reply = ctx.get(&query(id_of(&u1)))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(gid))?;
    ctx.get(&query(id_of(&u2)))?.expect_list(Some(0), Some(0))?;
    Ok(())
}

fn disabled_user_visible(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("soft", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    ctx.patch(
        &path,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )?
    .ok_or_no_content()?;
    let name = field(&user, "userName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = ctx.get(&filter_path(&format!("userName eq \"{name}\"")))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/active", json!(false))?;
    ctx.get(&path)?.expect_at("/active", json!(false))
}

fn group_name_unique(ctx: &mut Ctx) -> Outcome {
    let group = ctx.create_group("Engineering", &[])?;
    let name = field(&group, "displayName")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for candidate in [name.clone(), name.to_uppercase()] {
        let reply = ctx.post(
            "/Groups",
            json!({"schemas": [GROUP_URN], "displayName": candidate}),
        )?;
        if reply.status() == 201
            && let Some(id) = reply.at("/id").and_then(Value::as_str)
        {
            ctx.track(format!("/Groups/{id}"));
        }
        reply.expect_error(409, Some("uniqueness"))?;
    }
    Ok(())
}

fn patch_with_charset(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Patch)?;
    let user = ctx.create_user("charset", json!({}))?;
    let path = format!("/Users/{}", id_of(&user));
    let body = json!({"schemas": [PATCH_URN], "Operations": [{"op": "Replace", "path": "displayName", "value": "Charset"}]});
    let reply =
        ctx.send(Request::new(Method::PATCH, path.as_str()).raw(ENTRA_JSON, body.to_string()))?;
    reply.ok(200)?;
    reply.expect_at("/displayName", json!("Charset"))
}
