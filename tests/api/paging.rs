//! Index paging, sorting and cursor paging of `GET /Users` and `GET /Groups`
//! (RFC 7644 §3.4.2.3–4, RFC 9865; dossier §4.3).

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::scim::{USER_URN, alice, bob, carl, encode, group, id_of, ids_in};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const GROUPS: &str = "/scim/v2/Groups";

/// Creates the dossier's U1..U3 and answers their ids in creation order.
async fn seed_three(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for body in [alice(), bob(), carl()] {
        ids.push(id_of(&app.create_user(&body).await).to_owned());
    }
    ids
}

/// Creates users `{prefix}{n}@a.example` for `n` in `0..count`, eight requests at a time;
/// answers how many were created.
async fn seed_many(app: &TestApp, prefix: &str, count: usize) -> usize {
    let mut created = 0;
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..count {
        let (client, url, bearer) = (app.client.clone(), app.url(USERS), app.bearer());
        let body = json!({"schemas": [USER_URN], "userName": format!("{prefix}{n}@a.example")});
        pending.spawn(async move {
            let response = client
                .post(url)
                .header("authorization", bearer)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .expect("request");
            response.status()
        });
        while pending.len() >= 8 || (n + 1 == count && !pending.is_empty()) {
            assert_eq!(
                pending.join_next().await.unwrap().unwrap(),
                StatusCode::CREATED
            );
            created += 1;
        }
    }
    created
}

on_both_backends! {
    // U-01, U-24
    async fn okta_first_page_of_one_holds_the_first_user_with_its_attributes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ids = seed_three(&app).await;

        let first = app.list(&format!("{USERS}?count=1&startIndex=1")).await;
        let plain = app.list(USERS).await;

        assert_eq!((first["totalResults"].clone(), first["startIndex"].clone()), (json!(3), json!(1)));
        assert_eq!(ids_in(&first), ids[..1]);
        let user = &first["Resources"][0];
        for field in ["/userName", "/name/familyName", "/name/givenName", "/emails/0/value"] {
            assert!(user.pointer(field).and_then(Value::as_str).is_some_and(|v| !v.is_empty()), "{field}: {user}");
        }
        assert_eq!(user["active"], true);
        assert_eq!(plain["startIndex"], 1);
        assert_eq!(ids_in(&plain), ids);
    }
}

on_both_backends! {
    // U-19, U-20, U-21, U-22
    async fn out_of_range_start_index_and_count_are_clamped_not_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ids = seed_three(&app).await;

        let mut mismatches = Vec::new();
        for (query, start, items) in [
            ("startIndex=0&count=2", 1, &ids[..2]),
            ("startIndex=-5&count=2", 1, &ids[..2]),
            ("count=0", 1, &ids[..0]),
            ("count=-1", 1, &ids[..0]),
            ("startIndex=2&count=-7", 2, &ids[..0]),
            ("startIndex=1000&count=10", 1000, &ids[..0]),
            ("startIndex=3", 3, &ids[2..]),
            ("startIndex=2&count=1", 2, &ids[1..2]),
        ] {
            let list = app.list(&format!("{USERS}?{query}")).await;
            let got = (list["totalResults"].clone(), list["startIndex"].clone(), ids_in(&list));
            if got != (json!(3), json!(start), items.to_vec()) {
                mismatches.push(format!("{query}: {list}"));
            }
        }
        assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
    }
}

on_both_backends! {
    async fn non_numeric_paging_parameters_are_scim_errors(backend: Backend) {
        let app = TestApp::spawn(backend).await;

        for query in ["count=abc", "startIndex=abc", "count=1.5"] {
            let reply = app.get_reply(&format!("{USERS}?{query}")).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.text);
            assert_eq!(reply.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{query}");
        }
    }
}

on_both_backends! {
    // U-25
    async fn pages_of_five_cover_eleven_users_once_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for n in 0..11 {
            let body = json!({"schemas": [USER_URN], "userName": format!("u{n}@a.example")});
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }
        app.create_group(&group("Not a user", &[])).await;

        let mut pages = Vec::new();
        for start in [1, 6, 11] {
            pages.push(app.list(&format!("{USERS}?startIndex={start}&count=5")).await);
        }

        let sizes: Vec<usize> = pages.iter().map(|p| ids_in(p).len()).collect();
        assert_eq!(sizes, [5, 5, 1]);
        assert!(pages.iter().all(|p| p["totalResults"] == 11));
        assert_eq!(pages.iter().map(|p| p["startIndex"].clone()).collect::<Vec<_>>(), [json!(1), json!(6), json!(11)]);
        assert_eq!(pages.iter().flat_map(ids_in).collect::<Vec<_>>(), ids);
    }
}

on_both_backends! {
    // U-02, U-23, D-01
    async fn count_is_capped_at_max_results_and_pages_stay_stable_beyond_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let config = app.get_reply("/scim/v2/ServiceProviderConfig").await.body;
        let max = config["filter"]["maxResults"].as_u64().unwrap();
        assert_eq!(max, 1000);
        assert_eq!(seed_many(&app, "bulk", 1003).await, 1003);

        let huge = app.list(&format!("{USERS}?count=100000")).await;
        let rest = app.list(&format!("{USERS}?startIndex=1001&count=100000")).await;
        let mut hundreds = Vec::new();
        for start in [1, 101, 201] {
            hundreds.push(app.list(&format!("{USERS}?startIndex={start}&count=100")).await);
        }

        assert_eq!((huge["totalResults"].clone(), huge["itemsPerPage"].clone()), (json!(1003), json!(1000)));
        assert_eq!((rest["totalResults"].clone(), rest["itemsPerPage"].clone()), (json!(1003), json!(3)));
        let all: Vec<String> = [ids_in(&huge), ids_in(&rest)].concat();
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 1003);
        for (page, start) in hundreds.iter().zip([0, 100, 200]) {
            assert_eq!(page["totalResults"], 1003);
            assert_eq!(page["startIndex"], start + 1);
            assert_eq!(ids_in(page), all[start..start + 100]);
        }
    }
}

/// Four users whose sortable attributes differ, some absent; answers ids in creation order.
async fn seed_sortable(app: &TestApp) -> Vec<String> {
    let bodies = [
        json!({"schemas": [USER_URN], "userName": "Delta@a.example", "externalId": "e-3",
               "name": {"familyName": "Young"}, "title": "Engineer",
               "emails": [{"value": "b@mail.example"}, {"value": "y@mail.example", "primary": true}]}),
        json!({"schemas": [USER_URN], "userName": "Alpha@a.example", "externalId": "e-1",
               "name": {"familyName": "Anders"}, "title": "Manager",
               "emails": [{"value": "c@mail.example", "primary": true}]}),
        json!({"schemas": [USER_URN], "userName": "charlie@a.example",
               "name": {"familyName": "Anders"},
               "emails": [{"value": "a@mail.example", "primary": true}]}),
        json!({"schemas": [USER_URN], "userName": "bravo@a.example", "externalId": "e-2",
               "title": "designer"}),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        ids.push(id_of(&app.create_user(&body).await).to_owned());
    }
    ids
}

on_both_backends! {
    // E-13
    async fn sort_by_orders_by_the_attribute_with_absent_values_last_and_ties_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ids = seed_sortable(&app).await;
        let replaced = json!({"schemas": [USER_URN], "userName": "Delta@a.example", "externalId": "e-3",
               "name": {"familyName": "Young"}, "title": "Engineer",
               "emails": [{"value": "b@mail.example"}, {"value": "y@mail.example", "primary": true}]});
        app.put_json(&format!("{USERS}/{}", ids[0]), &replaced).await.assert_status(StatusCode::OK);
        let by_family = encode(r#"name.familyName eq "Anders""#);
        let core_user_name = "urn:ietf:params:scim:schemas:core:2.0:User:userName";

        let order = |positions: &[usize]| positions.iter().map(|&p| ids[p].clone()).collect::<Vec<_>>();
        let table: Vec<(String, Vec<String>)> = vec![
            ("sortBy=userName".into(), order(&[1, 3, 2, 0])),
            ("sortBy=userName&sortOrder=ascending".into(), order(&[1, 3, 2, 0])),
            ("sortBy=userName&sortOrder=descending".into(), order(&[0, 2, 3, 1])),
            ("sortBy=USERNAME&sortOrder=DESCENDING".into(), order(&[0, 2, 3, 1])),
            (format!("sortBy={core_user_name}&sortOrder=Ascending"), order(&[1, 3, 2, 0])),
            ("sortBy=externalId".into(), order(&[1, 3, 0, 2])),
            ("sortBy=externalId&sortOrder=descending".into(), order(&[0, 3, 1, 2])),
            ("sortBy=name.familyName".into(), order(&[1, 2, 0, 3])),
            ("sortBy=name.familyName&sortOrder=descending".into(), order(&[0, 1, 2, 3])),
            ("sortBy=title".into(), order(&[3, 0, 1, 2])),
            ("sortBy=title&sortOrder=descending".into(), order(&[1, 0, 3, 2])),
            ("sortBy=emails".into(), order(&[2, 1, 0, 3])),
            ("sortBy=emails&sortOrder=descending".into(), order(&[0, 1, 2, 3])),
            ("sortBy=meta.created".into(), order(&[0, 1, 2, 3])),
            ("sortBy=meta.created&sortOrder=descending".into(), order(&[3, 2, 1, 0])),
            ("sortBy=meta.lastModified".into(), order(&[1, 2, 3, 0])),
            ("sortBy=meta.lastModified&sortOrder=descending".into(), order(&[0, 3, 2, 1])),
            ("sortBy=userName&startIndex=2&count=2".into(), order(&[3, 2])),
            (format!("filter={by_family}&sortBy=userName&sortOrder=descending"), order(&[2, 1])),
        ];
        let mut mismatches = Vec::new();
        for (query, expected) in &table {
            let list = app.list(&format!("{USERS}?{query}")).await;
            if ids_in(&list) != *expected {
                let got: Vec<&Value> = list["Resources"].as_array().unwrap().iter().map(|r| &r["userName"]).collect();
                mismatches.push(format!("{query}: got {got:?}"));
            }
        }
        assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
    }
}

on_both_backends! {
    async fn groups_sort_by_display_name_case_insensitively(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let sales = id_of(&app.create_group(&group("Sales", &[])).await).to_owned();
        let eng = id_of(&app.create_group(&group("engineering", &[])).await).to_owned();
        let ops = id_of(&app.create_group(&group("Ops", &[])).await).to_owned();

        let ascending = app.list(&format!("{GROUPS}?sortBy=displayName")).await;
        let descending = app.list(&format!("{GROUPS}?sortBy=displayName&sortOrder=descending")).await;

        assert_eq!(ids_in(&ascending), [eng.clone(), ops.clone(), sales.clone()]);
        assert_eq!(ids_in(&descending), [sales, ops, eng]);
    }
}

on_both_backends! {
    // D-01
    async fn unknown_sort_attributes_and_orders_are_invalid_values_and_discovery_advertises_support(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_three(&app).await;

        for query in ["sortBy=fooBar", "sortBy=userName&sortOrder=sideways", "sortBy=name.fooBar"] {
            app.get_reply(&format!("{USERS}?{query}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
        let config = app.get_reply("/scim/v2/ServiceProviderConfig").await.body;
        assert_eq!(config["sort"]["supported"], true);
        assert_eq!(config["filter"]["supported"], true);
        assert_eq!(config["pagination"]["cursor"], true, "{config}");
        assert_eq!(config["pagination"]["index"], true, "{config}");
    }
}

/// Follows `nextCursor` from `first` (a path with `cursor=` and `count`) to the end; answers
/// the pages' ids.
async fn walk_cursor(app: &TestApp, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut path = first.to_owned();
    loop {
        let reply = app.get_reply(&path).await;
        reply.assert_status(StatusCode::OK);
        let resources = reply.body["Resources"].as_array().expect("Resources").len();
        assert_eq!(
            reply.body["itemsPerPage"],
            json!(resources),
            "{}",
            reply.text
        );
        pages.push(ids_in(&reply.body));
        match reply.body.get("nextCursor").and_then(Value::as_str) {
            Some(next) => {
                path = format!("{}&cursor={}", first.replace("cursor=&", ""), encode(next))
            }
            None => return pages,
        }
        assert!(pages.len() < 20, "cursor paging does not end");
    }
}

on_both_backends! {
    async fn cursor_pages_follow_creation_order_to_a_last_page_without_next_cursor(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut ids = Vec::new();
        for name in ["p1", "q1", "p2", "p3", "q2", "p4", "p5"] {
            let body = json!({"schemas": [USER_URN], "userName": format!("{name}@a.example")});
            ids.push(id_of(&app.create_user(&body).await).to_owned());
        }
        let only_p: Vec<String> = [0, 2, 3, 5, 6].iter().map(|&i| ids[i].clone()).collect();

        let everyone = walk_cursor(&app, &format!("{USERS}?cursor=&count=2")).await;
        let filtered = walk_cursor(
            &app,
            &format!("{USERS}?cursor=&count=2&filter={}", encode(r#"userName sw "p""#)),
        ).await;

        assert_eq!(everyone.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
        assert_eq!(everyone.concat(), ids);
        assert_eq!(filtered.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(filtered.concat(), only_p);
    }
}

on_both_backends! {
    async fn a_cursor_continues_past_users_created_after_it_was_issued(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ids = seed_three(&app).await;

        let first = app.get_reply(&format!("{USERS}?cursor=&count=2")).await;
        let late = app.create_user(&json!({"schemas": [USER_URN], "userName": "late@a.example"})).await;
        let next = first.body["nextCursor"].as_str().expect("nextCursor").to_owned();
        let second = app.get_reply(&format!("{USERS}?count=2&cursor={}", encode(&next))).await;

        assert_eq!(ids_in(&first.body), ids[..2]);
        assert_eq!(ids_in(&second.body), [ids[2].clone(), id_of(&late).to_owned()]);
        assert!(second.body.get("nextCursor").is_none(), "{}", second.text);
    }
}

on_both_backends! {
    async fn a_garbage_cursor_or_a_cursor_with_sort_by_is_invalid_value(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        seed_three(&app).await;

        for query in ["cursor=garbage&count=2", "cursor=%21%21&count=2", "cursor=&count=2&sortBy=userName"] {
            app.get_reply(&format!("{USERS}?{query}"))
                .await
                .assert_error(StatusCode::BAD_REQUEST, Some("invalidValue"));
        }
    }
}
