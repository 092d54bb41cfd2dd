//! Filters on `GET /Users` and `GET /Groups` (RFC 7644 §3.4.2.2; dossier §4.3, §4.6).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::scim::{
    ENTERPRISE_URN, LIST_URN, USER_URN, carol, encode, engineering, field_in, group, id_of, ids_in,
};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const GROUPS: &str = "/scim/v2/Groups";

/// Ids of some of the five staff users (alice, bob, carl, dave, eve, created in this order).
struct Staff {
    alice: String,
    bob: String,
    carl: String,
    /// `meta.created` of carl, between bob's and dave's.
    carl_created: String,
}

/// alice, bob, carl, dave and eve: distinct names, titles, e-mails, externalIds, activity and
/// enterprise data (bob's manager is alice).
async fn seed_staff(app: &TestApp) -> Staff {
    let alice = app
        .create_user(&json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "alice@a.example", "externalId": "ext-alice",
            "name": {"givenName": "Alice", "familyName": "Anders"}, "title": "Engineer",
            "emails": [{"value": "alice@a.example", "type": "work", "primary": true},
                       {"value": "alice@home.example", "type": "home"}],
            "active": true,
            ENTERPRISE_URN: {"employeeNumber": "1001", "department": "Engineering"}
        }))
        .await;
    let bob = app
        .create_user(&json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "bob@a.example", "externalId": "ext-bob",
            "name": {"givenName": "Bob", "familyName": "Baker"}, "title": "Sales Rep",
            "emails": [{"value": "bob@a.example", "type": "work", "primary": true}],
            "active": true,
            ENTERPRISE_URN: {"employeeNumber": "1002", "department": "Sales",
                             "manager": {"value": id_of(&alice)}}
        }))
        .await;
    let carl = app
        .create_user(&json!({
            "schemas": [USER_URN],
            "userName": "carl@a.example", "externalId": "ext-carl",
            "name": {"givenName": "Carl", "familyName": "Clark"}, "title": "Engineering Manager",
            "emails": [{"value": "carl@a.example", "type": "work", "primary": true}],
            "active": true
        }))
        .await;
    app.create_user(&json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": "dave@x.example",
        "name": {"givenName": "Dave", "familyName": "Anders"},
        "emails": [{"value": "dave@x.example", "type": "work", "primary": true},
                   {"value": "dave@home.example", "type": "home"}],
        "active": false,
        ENTERPRISE_URN: {"department": "Sales"}
    }))
    .await;
    app.create_user(&json!({
        "schemas": [USER_URN],
        "userName": "eve@a.example", "externalId": "ext-eve",
        "name": {"givenName": "Eve"},
        "active": true
    }))
    .await;
    Staff {
        alice: id_of(&alice).to_owned(),
        bob: id_of(&bob).to_owned(),
        carl: id_of(&carl).to_owned(),
        carl_created: carl["meta"]["created"].as_str().unwrap().to_owned(),
    }
}

/// The local parts of the `userName`s a filter selects, in answer order.
async fn who(app: &TestApp, filter: &str) -> Vec<String> {
    let list = app.list_filtered(USERS, filter).await;
    assert_eq!(
        list["totalResults"],
        json!(list["Resources"].as_array().unwrap().len()),
        "{filter}: {list}"
    );
    field_in(&list, "userName")
        .iter()
        .map(|name| name.split('@').next().unwrap().to_owned())
        .collect()
}

/// Runs a table of filter → expected users, failing once with every mismatch.
async fn assert_filters(app: &TestApp, table: &[(&str, &[&str])]) {
    let mut mismatches = Vec::new();
    for (filter, expected) in table {
        let got = who(app, filter).await;
        if got != *expected {
            mismatches.push(format!(
                "{filter}\n    expected {expected:?}\n    got      {got:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

on_both_backends! {
    // U-04, U-07, U-08, U-09, U-10, U-13, U-16, U-29 (operators), U-28 (sw)
    async fn every_comparison_operator_selects_the_users_it_names(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        assert_filters(&app, &[
            (r#"userName eq "alice@a.example""#, &["alice"]),
            (r#"userName eq "ALICE@A.EXAMPLE""#, &["alice"]),
            (r#"USERNAME EQ "alice@a.example""#, &["alice"]),
            (r#"userName Eq "alice@a.example""#, &["alice"]),
            (r#"externalId eq "ext-alice""#, &["alice"]),
            (r#"externalId eq "EXT-ALICE""#, &[]),
            (r#"userName ne "alice@a.example""#, &["bob", "carl", "dave", "eve"]),
            (r#"userName co "@A.EX""#, &["alice", "bob", "carl", "eve"]),
            (r#"userName sw "B""#, &["bob"]),
            (r#"userName ew "x.example""#, &["dave"]),
            (r#"title gt "f""#, &["bob"]),
            (r#"title ge "ENGINEER""#, &["alice", "bob", "carl"]),
            (r#"title lt "Engineering""#, &["alice"]),
            (r#"title le "engineering manager""#, &["alice", "carl"]),
            ("externalId pr", &["alice", "bob", "carl", "eve"]),
            ("title pr", &["alice", "bob", "carl"]),
            ("emails pr", &["alice", "bob", "carl", "dave"]),
            ("active eq true", &["alice", "bob", "carl", "eve"]),
            ("active eq false", &["dave"]),
            (r#"userName eq "alice@a.example" and active eq true"#, &["alice"]),
            (r#"userName eq "alice@a.example" and active eq false"#, &[]),
        ]).await;
    }
}

on_both_backends! {
    async fn and_binds_tighter_than_or_and_parentheses_and_not_change_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        assert_filters(&app, &[
            (r#"userName sw "a" or userName sw "b" and active eq false"#, &["alice"]),
            (r#"(userName sw "a" or userName sw "d") and active eq false"#, &["dave"]),
            (r#"userName sw "d" or userName sw "e""#, &["dave", "eve"]),
            (r#"not (userName sw "a") and not (userName sw "b")"#, &["carl", "dave", "eve"]),
            (r#"not (externalId eq "ext-alice")"#, &["bob", "carl", "dave", "eve"]),
            ("not (title pr)", &["dave", "eve"]),
            (r#"title ne "Engineer""#, &["bob", "carl"]),
            (r#"((title co "eng")) or (active eq false and not (externalId pr))"#,
             &["alice", "carl", "dave"]),
        ]).await;
    }
}

on_both_backends! {
    // U-12, U-13
    async fn email_value_paths_and_bare_emails_match_any_of_a_users_addresses(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        assert_filters(&app, &[
            (r#"emails[type eq "work"].value eq "alice@a.example""#, &["alice"]),
            (r#"emails[type eq "home"].value eq "alice@a.example""#, &[]),
            (r#"emails.value eq "ALICE@A.EXAMPLE""#, &["alice"]),
            (r#"emails eq "alice@a.example""#, &["alice"]),
            (r#"emails.value eq "dave@home.example""#, &["dave"]),
            (r#"emails[type eq "home"]"#, &["alice", "dave"]),
            (r#"emails[type eq "home" and value co "@HOME"]"#, &["alice", "dave"]),
            (r#"emails[type eq "work" and value co "@home"]"#, &[]),
            (r#"emails.type eq "home""#, &["alice", "dave"]),
            (r#"emails.value ew "a.example" and not (emails.type eq "home")"#,
             &["bob", "carl"]),
        ]).await;
    }
}

on_both_backends! {
    async fn attributes_no_index_answers_still_filter_correctly(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        let department = format!(r#"{ENTERPRISE_URN}:department eq "Sales""#);
        let employee = format!(r#"{ENTERPRISE_URN}:employeeNumber eq "1002""#);
        let core = format!(r#"{USER_URN}:userName eq "bob@a.example""#);
        let given = format!(r#"{USER_URN}:name.givenName sw "c""#);
        assert_filters(&app, &[
            (r#"title co "Eng""#, &["alice", "carl"]),
            (r#"name.familyName eq "Anders""#, &["alice", "dave"]),
            (r#"name.familyName eq "anders""#, &["alice", "dave"]),
            ("name.familyName pr", &["alice", "bob", "carl", "dave"]),
            (&department, &["bob", "dave"]),
            (&employee, &["bob"]),
            (&core, &["bob"]),
            (&given, &["carl"]),
        ]).await;
    }
}

on_both_backends! {
    // U-10, U-14, U-15
    async fn entra_id_manager_and_unquoted_value_filters_are_understood(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let staff = seed_staff(&app).await;

        let (bob, alice, carl) = (&staff.bob, &staff.alice, &staff.carl);
        let upper = staff.alice.to_uppercase();
        let manager_value = format!(r#"{ENTERPRISE_URN}:manager.value eq "{alice}""#);
        assert_filters(&app, &[
            (&format!(r#"id eq "{alice}""#), &["alice"]),
            (&format!(r#"id eq "{upper}""#), &["alice"]),
            (&format!(r#"id eq "{bob}" and manager eq "{alice}""#), &["bob"]),
            (&format!(r#"id eq "{bob}" and manager eq "{carl}""#), &[]),
            (&format!("id eq {bob} and manager eq {alice}"), &["bob"]),
            (&format!("id eq {} and manager eq {alice}", bob.to_uppercase()), &["bob"]),
            (&manager_value, &["bob"]),
            (&format!(r#"id eq "{}" and manager eq "{alice}""#, bob.to_uppercase()), &["bob"]),
            (&format!(r#"id eq "{}" and active eq true"#, bob.to_uppercase()), &["bob"]),
            (&format!(r#"id eq "{upper}" or userName eq "x""#), &["alice"]),
            (&format!(r#"id eq "{upper}" and title pr"#), &["alice"]),
            (&format!(r#"manager eq "{}""#, alice.to_uppercase()), &["bob"]),
            ("externalId eq ext-alice", &["alice"]),
        ]).await;
        let projected = app
            .list(&format!(
                "{USERS}?filter={}&attributes=id",
                encode(&format!("id eq {bob} and manager eq {alice}"))
            ))
            .await;
        assert_eq!(ids_in(&projected), vec![staff.bob.clone()]);
    }
}

on_both_backends! {
    async fn meta_timestamps_compare_as_instants(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let staff = seed_staff(&app).await;

        let created = &staff.carl_created;
        assert_filters(&app, &[
            (&format!(r#"meta.created eq "{created}""#), &["carl"]),
            (&format!(r#"meta.created gt "{created}""#), &["dave", "eve"]),
            (&format!(r#"meta.created ge "{created}""#), &["carl", "dave", "eve"]),
            (&format!(r#"meta.created lt "{created}""#), &["alice", "bob"]),
            (r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
             &["alice", "bob", "carl", "dave", "eve"]),
            (r#"meta.lastModified gt "2000-01-01T01:00:00+01:00""#,
             &["alice", "bob", "carl", "dave", "eve"]),
            (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
        ]).await;
    }
}

on_both_backends! {
    // U-03, U-04, U-05, U-06, U-32
    async fn okta_and_entra_lookups_answer_a_list_response_even_when_empty(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let staff = seed_staff(&app).await;

        let absent = app.list(&format!("{USERS}?filter=userName%20eq%20%22abcdefgh%40atko.com%22")).await;
        let okta = app.list(&format!(
            "{USERS}?filter=userName%20eq%20%22alice%40a.example%22&startIndex=1&count=100"
        )).await;
        let plus = app.list(&format!("{USERS}?filter=userName+eq+%22alice%40a.example%22")).await;
        let azure = app.list(&format!(
            "{USERS}?filter=userName+eq+%22AzureAD_Test-bdd952ba-be0b-47d4-b4c9-be5afee16d2d%22"
        )).await;
        let guid = app.list_filtered(USERS, r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#).await;
        let flag = app.list(&format!(
            "{USERS}?aadOptscim062020&filter=userName+eq+%22alice%40a.example%22"
        )).await;
        let flag_true = app.list(&format!(
            "{USERS}?aadOptscim062020=true&filter=userName%20eq%20%22alice%40a.example%22"
        )).await;

        let empty = json!({
            "schemas": [LIST_URN], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0,
            "Resources": []
        });
        assert_eq!(absent, empty);
        assert_eq!(azure, empty);
        assert_eq!(guid, empty);
        for list in [&okta, &plus, &flag, &flag_true] {
            assert_eq!((list["totalResults"].clone(), list["startIndex"].clone()), (json!(1), json!(1)));
            assert_eq!(ids_in(list), vec![staff.alice.clone()], "{list}");
        }
    }
}

on_both_backends! {
    // U-29, U-30
    async fn quotes_sql_and_like_wildcards_in_values_are_plain_characters(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;
        app.create_user(&json!({"schemas": [USER_URN], "userName": "o\"brien@a.example"})).await;
        app.create_user(&json!({"schemas": [USER_URN], "userName": "under_score@a.example"})).await;

        assert_filters(&app, &[
            (r#"userName eq "o\"brien@a.example""#, &["o\"brien"]),
            (r#"userName eq "x' OR '1'='1""#, &[]),
            (r#"userName eq "%""#, &[]),
            (r#"userName co "%""#, &[]),
            (r#"userName co "_""#, &["under_score"]),
            (r#"userName sw "_""#, &[]),
            (r#"userName co "\\""#, &[]),
        ]).await;
    }
}

on_both_backends! {
    // A-08, A-12
    async fn filters_see_only_the_callers_organization(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let staff = seed_staff(&app).await;
        let eng = app.create_group(&engineering(&[&staff.alice])).await;
        let other = app.second_org_token("b");
        let auth = format!("Bearer {other}");
        let headers = [("authorization", auth.as_str())];
        let mut twin = carol();
        twin["userName"] = json!("alice@a.example");
        let theirs = app.post_json_with(USERS, &twin, &headers).await;
        theirs.assert_status(StatusCode::CREATED);
        let their_group = app.post_json_with(GROUPS, &group("Engineering", &[]), &headers).await;
        their_group.assert_status(StatusCode::CREATED);

        let by_name = format!("{USERS}?filter={}", encode(r#"userName eq "alice@a.example""#));
        let by_group = format!("{GROUPS}?filter={}", encode(r#"displayName eq "Engineering""#));
        let ours = app.list(&by_name).await;
        let seen_by_b = app.list_with(&by_name, &headers).await;
        let our_groups = app.list(&by_group).await;
        let their_groups = app.list_with(&by_group, &headers).await;
        let everyone_b_sees = app.list_with(&format!("{USERS}?filter=userName%20pr"), &headers).await;

        assert_eq!(ids_in(&ours), vec![staff.alice.clone()]);
        assert_eq!(ids_in(&seen_by_b), vec![id_of(&theirs.body).to_owned()]);
        assert_eq!(ids_in(&our_groups), vec![id_of(&eng).to_owned()]);
        assert_eq!(ids_in(&their_groups), vec![id_of(&their_group.body).to_owned()]);
        assert_eq!(ids_in(&everyone_b_sees), vec![id_of(&theirs.body).to_owned()]);
    }
}

on_both_backends! {
    // G-07, G-09, G-11, G-12
    async fn group_filters_match_names_externalids_and_members(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let staff = seed_staff(&app).await;
        let eng = app.create_group(&engineering(&[&staff.alice])).await;
        let sales = app.create_group(&group("Sales", &[&staff.bob, &staff.carl])).await;
        let ops = app.create_group(&group("Eng Ops", &[])).await;
        let (eng, sales, ops) = (id_of(&eng), id_of(&sales), id_of(&ops));

        let (alice, bob, carl) = (&staff.alice, &staff.bob, &staff.carl);
        let table: Vec<(String, Vec<&str>)> = vec![
            (r#"displayName eq "Engineering""#.into(), vec![eng]),
            (r#"displayName eq "engineering""#.into(), vec![eng]),
            (r#"displayName sw "ENG""#.into(), vec![eng, ops]),
            (r#"externalId eq "ga1-ext""#.into(), vec![eng]),
            (format!(r#"id eq "{eng}" and members eq "{alice}""#), vec![eng]),
            (format!(r#"id eq "{eng}" and members eq "{bob}""#), vec![]),
            (format!(r#"members eq "{bob}""#), vec![sales]),
            (format!(r#"members.value eq "{carl}""#), vec![sales]),
            ("members pr".into(), vec![eng, sales]),
            ("not (members pr)".into(), vec![ops]),
            (r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Sales""#.into(), vec![sales]),
        ];
        let mut mismatches = Vec::new();
        for (filter, expected) in &table {
            let got = ids_in(&app.list_filtered(GROUPS, filter).await);
            if got != *expected {
                mismatches.push(format!("{filter}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
    }
}

on_both_backends! {
    // U-26, U-27
    async fn malformed_filters_are_invalid_filter_errors_naming_a_position(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        for filter in [
            "userName eq",
            r#"userName eq "unterminated"#,
            r#"(userName eq "x""#,
            "RUNSCOPE123SMITHXYZ456@ATKO.COM",
            r#"userName xx "alice@a.example""#,
            r#"userName eq "a" and"#,
            r#"emails[type eq "work""#,
            r#"userName eq "a")"#,
        ] {
            let reply = app.filter_reply(USERS, filter).await;
            reply.assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
            let detail = reply.body["detail"].as_str().unwrap();
            assert!(detail.contains("position"), "{filter}: {detail}");
        }
    }
}

on_both_backends! {
    // U-28
    async fn unknown_attributes_are_invalid_filter_but_known_unset_ones_match_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;

        for (endpoint, filter) in [
            (USERS, r#"fooBar eq "x""#),
            (USERS, r#"name.fooBar eq "x""#),
            (USERS, r#"urn:example:unknown:fooBar eq "x""#),
            (GROUPS, r#"userName eq "alice@a.example""#),
        ] {
            app.filter_reply(endpoint, filter)
                .await
                .assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
        }
        assert_eq!(who(&app, r#"nickName eq "x""#).await, Vec::<String>::new());
    }
}

on_both_backends! {
    async fn filters_too_long_or_too_deep_are_refused_and_the_limits_themselves_are_allowed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_staff(&app).await;
        let padded = |len: usize| {
            let head = r#"userName eq ""#;
            format!("{head}{}\"", "a".repeat(len - head.len() - 1))
        };
        let nested = |depth: usize| {
            format!(r#"{}userName eq "alice@a.example"{}"#, "(".repeat(depth), ")".repeat(depth))
        };

        let longest = app.filter_reply(USERS, &padded(4096)).await;
        let too_long = app.filter_reply(USERS, &padded(4097)).await;
        let shallow = app.filter_reply(USERS, &nested(3)).await;
        let too_deep = app.filter_reply(USERS, &nested(40)).await;
        let nots = format!(r#"{}userName eq "x"{}"#, "not (".repeat(40), ")".repeat(40));
        let too_many_nots = app.filter_reply(USERS, &nots).await;

        assert_eq!(padded(4096).len(), 4096);
        longest.assert_status(StatusCode::OK);
        too_long.assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
        shallow.assert_status(StatusCode::OK);
        assert_eq!(field_in(&shallow.body, "userName"), ["alice@a.example"]);
        too_deep.assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
        too_many_nots.assert_error(StatusCode::BAD_REQUEST, Some("invalidFilter"));
    }
}
