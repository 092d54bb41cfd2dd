//! RFC cases on filters, paging, sorting, projection and `.search` (RFC 7644 §3.4, §3.9).
//! Every list is narrowed to the case's own users with `userName sw "<case prefix>"`, so the
//! counts hold on a server with other data.

use serde_json::{Value, json};

use crate::case::{Case, Ctx, Feature, Outcome, Profile, id_of};
use crate::client::encode;

const RFC: &[Profile] = &[Profile::Rfc];
const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { id: "U-03", source: "RFC 7644 §3.4.2; Okta SPEC steps 3, 5; MS-DEV 'Zero results'", purpose: "no match is exactly {ListResponse, totalResults 0, startIndex 1, itemsPerPage 0, Resources []}", profiles: RFC, run: empty_list_shape },
    Case { id: "U-07", source: "RFC 7643 §4.1.1 (userName caseExact false); Okta SPEC step 9", purpose: "userName eq matches case-insensitively", profiles: RFC, run: user_name_case_insensitive },
    Case { id: "U-08", source: "RFC 7644 §3.4.2.2 (names and operators case-insensitive)", purpose: "USERNAME EQ and userName Eq both match", profiles: RFC, run: filter_names_case_insensitive },
    Case { id: "U-09", source: "RFC 7643 §3.1 (externalId caseExact true)", purpose: "externalId eq matches exactly and not in another case", profiles: RFC, run: external_id_case_exact },
    Case { id: "U-10", source: "RFC 7644 §3.4.2.2; MS-DEV 'Retrieve a known resource'", purpose: "filter id eq finds the user", profiles: RFC, run: filter_by_id },
    Case { id: "U-13", source: "RFC 7643 §4.1.2 (emails.value caseExact false)", purpose: "emails.value eq and emails eq match case-insensitively", profiles: RFC, run: filter_emails },
    Case { id: "U-16", source: "RFC 7644 §3.4.2.2 (and); MS-DEV 'eq, and'", purpose: "userName eq X and active eq true / false", profiles: RFC, run: filter_and_active },
    Case { id: "U-17", source: "RFC 7644 §3.9 (attributes)", purpose: "attributes=userName returns id, schemas, userName and not name or emails", profiles: RFC, run: attributes_projection },
    Case { id: "U-18", source: "RFC 7644 §3.9 (excludedAttributes)", purpose: "excludedAttributes=emails,name on GET by id", profiles: RFC, run: excluded_attributes },
    Case { id: "U-19", source: "RFC 7644 §3.4.2.4 (startIndex < 1 is 1)", purpose: "startIndex=0 and startIndex=-5 are treated as 1", profiles: RFC, run: start_index_below_one },
    Case { id: "U-20", source: "RFC 7644 §3.4.2.4 (count=0)", purpose: "count=0 gives totalResults only, with Resources []", profiles: RFC, run: count_zero },
    Case { id: "U-21", source: "RFC 7644 §3.4.2.4 (negative count is 0)", purpose: "count=-1 is treated as 0", profiles: RFC, run: count_negative },
    Case { id: "U-22", source: "RFC 7644 §3.4.2.4", purpose: "a startIndex past the end gives Resources [] and the true total", profiles: RFC, run: start_index_past_end },
    Case { id: "U-23", source: "RFC 7644 §3.4.2.4; RFC 7643 §5 filter.maxResults", purpose: "a huge count is capped at filter.maxResults, not an error", profiles: RFC, run: count_capped },
    Case { id: "U-24", source: "RFC 7644 §3.4.2.4; Okta SPEC step 10", purpose: "GET /Users without parameters answers startIndex 1", profiles: RFC, run: list_without_parameters },
    Case { id: "U-26", source: "RFC 7644 §3.4.2.2, §3.12 (invalidFilter)", purpose: "malformed filters are 400 invalidFilter, never a full list", profiles: RFC, run: invalid_filters },
    Case { id: "U-28", source: "RFC 7644 §3.4.2.2", purpose: "filters on other attributes and operators answer 200 or 400 invalidFilter, never 500", profiles: RFC, run: other_attributes_and_operators },
    Case { id: "U-29", source: "RFC 7644 §3.4.2.2 (JSON string escapes)", purpose: "a filter value with an escaped quote matches", profiles: RFC, run: escaped_quote },
    Case { id: "U-30", source: "RFC 7644 §7.5 [INFERENCE: injection]", purpose: "quotes and LIKE wildcards in values are literal", profiles: RFC, run: literal_values },
    Case { id: "U-31", source: "RFC 7644 §3.4.3", purpose: "POST /Users/.search with a SearchRequest", profiles: RFC, run: search_users },
    Case { id: "X-02", source: "RFC 7644 §3.4.3 (root .search)", purpose: "POST /.search finds users across resource types", profiles: RFC, run: search_root },
    Case { id: "X-03", source: "RFC 7644 §3.4.2.3", purpose: "sortBy=userName ascending and descending", profiles: RFC, run: sorting },
    Case { id: "X-04", source: "RFC 9865 §3 (cursor pagination)", purpose: "cursor= then nextCursor pages cover every user once", profiles: RFC, run: cursor_paging },
    Case { id: "X-05", source: "RFC 7644 §3.4.2.2 (operators)", purpose: "co, sw, ew, ne, pr, gt, or, not and grouping", profiles: RFC, run: filter_operators },
    Case { id: "X-06", source: "RFC 7644 §3.9 (projection on POST)", purpose: "POST /Users?attributes=userName returns a partial representation", profiles: RFC, run: projection_on_create },
];

fn users(filter: &str) -> String {
    format!("/Users?filter={}", encode(filter))
}

fn name_of(user: &Value) -> String {
    user.get("userName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn empty_list_shape(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let absent = format!("{}abcdefgh@atko.com", ctx.case_prefix());
    let path = users(&format!("userName eq \"{absent}\""));
    let reply = ctx.get(&path)?;
    reply.expect_list(Some(0), Some(0))?;
    reply.expect_at("/startIndex", json!(1))?;
    let keys: Vec<&String> = reply
        .body()
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    reply.check(
        keys.iter().all(|k| {
            [
                "schemas",
                "totalResults",
                "startIndex",
                "itemsPerPage",
                "Resources",
            ]
            .contains(&k.as_str())
        }),
        "only schemas, totalResults, startIndex, itemsPerPage, Resources",
    )
}

fn expect_one(ctx: &mut Ctx, path: &str, user: &Value) -> Outcome {
    let reply = ctx.get(path)?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(user)))
}

fn user_name_case_insensitive(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("Alice", json!({}))?;
    let path = users(&format!(
        "userName eq \"{}\"",
        name_of(&user).to_uppercase()
    ));
    expect_one(ctx, &path, &user)
}

fn filter_names_case_insensitive(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("alice", json!({}))?;
    for template in ["USERNAME EQ \"{}\"", "userName Eq \"{}\""] {
        let path = users(&template.replace("{}", &name_of(&user)));
        expect_one(ctx, &path, &user)?;
    }
    Ok(())
}

fn external_id_case_exact(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let external_id = ctx.unique("ext-alice");
    let user = ctx.create_user("alice", json!({"externalId": external_id}))?;
    let path = users(&format!("externalId eq \"{external_id}\""));
    expect_one(ctx, &path, &user)?;
    let path = users(&format!("externalId eq \"{}\"", external_id.to_uppercase()));
    ctx.get(&path)?.expect_list(Some(0), Some(0)).map(|_| ())
}

fn filter_by_id(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("byid", json!({}))?;
    let path = users(&format!("id eq \"{}\"", id_of(&user)));
    expect_one(ctx, &path, &user)
}

fn filter_emails(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("mail", json!({}))?;
    let upper = name_of(&user).to_uppercase();
    for filter in [
        format!("emails.value eq \"{upper}\""),
        format!("emails eq \"{}\"", name_of(&user)),
    ] {
        let path = users(&filter);
        expect_one(ctx, &path, &user)?;
    }
    Ok(())
}

fn filter_and_active(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("active", json!({}))?;
    let path = users(&format!(
        "userName eq \"{}\" and active eq true",
        name_of(&user)
    ));
    expect_one(ctx, &path, &user)?;
    let path = users(&format!(
        "userName eq \"{}\" and active eq false",
        name_of(&user)
    ));
    ctx.get(&path)?.expect_list(Some(0), Some(0)).map(|_| ())
}

fn attributes_projection(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.create_user("projected", json!({}))?;
    let filter = ctx.own_filter("userName");
    let reply = ctx.get(&format!("/Users?filter={filter}&attributes=userName"))?;
    reply.expect_list(Some(1), Some(1))?;
    reply.string("/Resources/0/id")?;
    reply.string("/Resources/0/userName")?;
    reply.check(
        reply.at("/Resources/0/schemas").is_some(),
        "schemas (returned always)",
    )?;
    reply.expect_absent("/Resources/0/name")?;
    reply.expect_absent("/Resources/0/emails")
}

fn excluded_attributes(ctx: &mut Ctx) -> Outcome {
    let user = ctx.create_user("excluded", json!({}))?;
    let reply = ctx.get(&format!(
        "/Users/{}?excludedAttributes=emails,name",
        id_of(&user)
    ))?;
    reply.ok(200)?;
    reply.string("/id")?;
    reply.string("/userName")?;
    reply.expect_absent("/emails")?;
    reply.expect_absent("/name")
}

fn two_users(ctx: &mut Ctx) -> Result<String, crate::case::Stop> {
    ctx.require(Feature::Filter)?;
    ctx.create_user("one", json!({}))?;
    ctx.create_user("two", json!({}))?;
    Ok(ctx.own_filter("userName"))
}

fn start_index_below_one(ctx: &mut Ctx) -> Outcome {
    let filter = two_users(ctx)?;
    for start in ["0", "-5"] {
        let reply = ctx.get(&format!(
            "/Users?filter={filter}&startIndex={start}&count=2"
        ))?;
        reply.expect_list(Some(2), Some(2))?;
        reply.expect_at("/startIndex", json!(1))?;
    }
    Ok(())
}

fn count_zero(ctx: &mut Ctx) -> Outcome {
    let filter = two_users(ctx)?;
    ctx.get(&format!("/Users?filter={filter}&count=0"))?
        .expect_list(Some(2), Some(0))
        .map(|_| ())
}

fn count_negative(ctx: &mut Ctx) -> Outcome {
    let filter = two_users(ctx)?;
    ctx.get(&format!("/Users?filter={filter}&count=-1"))?
        .expect_list(Some(2), Some(0))
        .map(|_| ())
}

fn start_index_past_end(ctx: &mut Ctx) -> Outcome {
    let filter = two_users(ctx)?;
    let reply = ctx.get(&format!("/Users?filter={filter}&startIndex=1000&count=10"))?;
    reply.expect_list(Some(2), Some(0))?;
    Ok(())
}

fn count_capped(ctx: &mut Ctx) -> Outcome {
    let max = ctx
        .get("/ServiceProviderConfig")?
        .at("/filter/maxResults")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let filter = two_users(ctx)?;
    let reply = ctx.get(&format!("/Users?filter={filter}&count=100000"))?;
    let resources = reply.expect_list(Some(2), Some(2))?;
    reply.check(
        resources.len() as u64 <= max,
        "itemsPerPage ≤ filter.maxResults",
    )
}

fn list_without_parameters(ctx: &mut Ctx) -> Outcome {
    ctx.create_user("plain", json!({}))?;
    let reply = ctx.get("/Users")?;
    let resources = reply.expect_list(None, None)?;
    reply.check(!resources.is_empty(), "Resources not empty (a user exists)")?;
    reply.expect_at("/startIndex", json!(1))
}

fn invalid_filters(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    for filter in [
        "userName eq",
        "userName eq \"unterminated",
        "(userName eq \"x\"",
    ] {
        let path = users(filter);
        ctx.get(&path)?.expect_error(400, Some("invalidFilter"))?;
    }
    Ok(())
}

fn other_attributes_and_operators(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let prefix = ctx.case_prefix();
    for filter in [
        format!("nickName eq \"{prefix}x\""),
        format!("userName sw \"{prefix}al\""),
    ] {
        let path = users(&filter);
        let reply = ctx.get(&path)?;
        if reply.status() == 400 {
            reply.expect_error(400, Some("invalidFilter"))?;
        } else {
            reply.expect_list(Some(0), Some(0))?;
        }
    }
    Ok(())
}

fn escaped_quote(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user_name = format!("{}o\"brien@conformance.example", ctx.case_prefix());
    let user = ctx.create(
        "/Users",
        json!({"schemas": [crate::case::USER_URN], "userName": user_name}),
    )?;
    let escaped = user_name.replace('"', "\\\"");
    let path = users(&format!("userName eq \"{escaped}\""));
    expect_one(ctx, &path, &user)
}

fn literal_values(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.create_user("x", json!({}))?;
    let prefix = ctx.case_prefix();
    for value in [
        format!("{prefix}x' OR '1'='1"),
        format!("{prefix}%"),
        format!("{prefix}_1@conformance.example"),
    ] {
        let path = users(&format!("userName eq \"{}\"", value.replace('"', "\\\"")));
        ctx.get(&path)?.expect_list(Some(0), Some(0))?;
    }
    Ok(())
}

fn search_users(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("search", json!({}))?;
    let body = json!({
        "schemas": [SEARCH_URN],
        "filter": format!("userName eq \"{}\"", name_of(&user)),
        "startIndex": 1,
        "count": 10,
    });
    let reply = ctx.post("/Users/.search", body)?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

fn search_root(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let user = ctx.create_user("root", json!({}))?;
    let body =
        json!({"schemas": [SEARCH_URN], "filter": format!("userName eq \"{}\"", name_of(&user))});
    let reply = ctx.post("/.search", body)?;
    reply.expect_list(Some(1), Some(1))?;
    reply.expect_at("/Resources/0/id", json!(id_of(&user)))
}

fn ids_in(resources: &[Value]) -> Vec<String> {
    resources.iter().map(|r| id_of(r).to_owned()).collect()
}

fn sorting(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.require(Feature::Sort)?;
    let b = ctx.create_user("b", json!({}))?;
    let c = ctx.create_user("c", json!({}))?;
    let a = ctx.create_user("a", json!({}))?;
    let filter = ctx.own_filter("userName");
    let ascending: Vec<String> = [&a, &b, &c].iter().map(|u| id_of(u).to_owned()).collect();
    for (order, expected) in [
        ("ascending", ascending.clone()),
        ("descending", ascending.into_iter().rev().collect()),
    ] {
        let reply = ctx.get(&format!(
            "/Users?filter={filter}&sortBy=userName&sortOrder={order}"
        ))?;
        let resources = reply.expect_list(Some(3), Some(3))?;
        reply.check(
            ids_in(&resources) == expected,
            format!("users a, b, c in {order} order"),
        )?;
    }
    Ok(())
}

fn cursor_paging(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    ctx.require(Feature::Cursor)?;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(id_of(&ctx.create_user("cursor", json!({}))?).to_owned());
    }
    let filter = ctx.own_filter("userName");
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..5 {
        let reply = ctx.get(&format!(
            "/Users?filter={filter}&count=2&cursor={}",
            encode(&cursor)
        ))?;
        let resources = reply.expect_list(Some(5), None)?;
        seen.extend(ids_in(&resources));
        match reply.at("/nextCursor").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => cursor = next.to_owned(),
            _ => break,
        }
    }
    seen.sort();
    created.sort();
    if seen != created {
        return Err(ctx.fail(
            "GET /Users?filter=…&count=2&cursor=…",
            "each of the 5 users once over the cursor pages",
            format!("{seen:?}"),
        ));
    }
    Ok(())
}

fn filter_operators(ctx: &mut Ctx) -> Outcome {
    ctx.require(Feature::Filter)?;
    let alpha = ctx.create_user("alpha", json!({"title": "Engineer"}))?;
    let beta = ctx.create_user("beta", json!({}))?;
    let gamma = ctx.create_user("gamma", json!({}))?;
    let prefix = ctx.case_prefix();
    let within = |f: String| format!("userName sw \"{prefix}\" and ({f})");
    let cases = [
        (
            within("userName co \"alpha\" or userName co \"gamma\"".to_owned()),
            vec![&alpha, &gamma],
        ),
        (
            within("not (userName co \"beta\")".to_owned()),
            vec![&alpha, &gamma],
        ),
        (
            within(format!("userName ne \"{}\"", name_of(&beta))),
            vec![&alpha, &gamma],
        ),
        (within("title pr".to_owned()), vec![&alpha]),
        (
            within(format!(
                "userName ew \"{}\"",
                name_of(&gamma).trim_start_matches(&prefix)
            )),
            vec![&gamma],
        ),
        (
            within("meta.created gt \"2000-01-01T00:00:00Z\"".to_owned()),
            vec![&alpha, &beta, &gamma],
        ),
    ];
    for (filter, expected) in cases {
        let path = users(&filter);
        let reply = ctx.get(&path)?;
        let resources = reply.expect_list(Some(expected.len() as u64), None)?;
        let mut got = ids_in(&resources);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|u| id_of(u).to_owned()).collect();
        want.sort();
        reply.check(got == want, format!("exactly the users matching {filter}"))?;
    }
    Ok(())
}

fn projection_on_create(ctx: &mut Ctx) -> Outcome {
    let user_name = ctx.user_name("partial");
    let body = json!({"schemas": [crate::case::USER_URN], "userName": user_name, "name": {"givenName": "P"}});
    let reply = ctx.post("/Users?attributes=userName", body)?;
    if let Some(id) = reply.at("/id").and_then(Value::as_str) {
        ctx.track(format!("/Users/{id}"));
    }
    reply.ok(201)?;
    reply.string("/id")?;
    reply.expect_at("/userName", json!(user_name))?;
    reply.expect_absent("/name")
}
