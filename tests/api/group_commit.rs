//! Group commit (issue 15): on SQLite the writes of concurrent requests share one transaction
//! and one fsync, each in a savepoint of its own, and none is answered before its commit.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::cli::ServeProcess;
use crate::helpers::scim::USER_URN;
use crate::helpers::{TestApp, TestDatabase};
use crate::on_both_backends;

const USERS: &str = "/scim/v2/Users";
const SECRET: &str = "group-commit-test-secret-0123456789abcdef";

fn user(user_name: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": user_name})
}

on_both_backends! {
    // Requests that share a transaction are answered each with its own outcome: a duplicate
    // userName's 409 undoes only its own insert, and every 201 is stored.
    async fn concurrent_creates_with_duplicates_each_get_their_own_answer(backend: Backend) {
        const NAMES: usize = 40;
        let app = TestApp::spawn(backend).await;
        let mut creates = tokio::task::JoinSet::new();
        for n in 0..NAMES {
            // The second spelling differs in case only: userName is unique case-insensitively.
            for name in [format!("dup{n}@a.example"), format!("DUP{n}@a.example")] {
                let request = app
                    .client
                    .post(app.url(USERS))
                    .bearer_auth(&app.token)
                    .json(&user(&name));
                creates.spawn(async move {
                    let response = request.send().await.expect("send POST");
                    (name, response.status(), response.json::<Value>().await.expect("JSON"))
                });
            }
        }
        let mut created = Vec::new();
        let mut taken = 0;
        while let Some(answer) = creates.join_next().await {
            let (name, status, body) = answer.expect("POST task");
            match status {
                StatusCode::CREATED => {
                    assert_eq!(body["userName"], name.as_str());
                    created.push(body);
                }
                StatusCode::CONFLICT => {
                    assert_eq!(body["scimType"], "uniqueness", "{body}");
                    taken += 1;
                }
                other => panic!("{name}: {other} {body}"),
            }
        }
        assert_eq!((created.len(), taken), (NAMES, NAMES));
        for body in &created {
            let id = body["id"].as_str().expect("id");
            let (status, stored) = app.get(&format!("{USERS}/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(stored["userName"], body["userName"]);
        }
        let (_, listed) = app.get(&format!("{USERS}?count=0")).await;
        assert_eq!(listed["totalResults"], NAMES);
    }
}

on_both_backends! {
    // An answer before the COMMIT would acknowledge a write that a crash loses: every user
    // whose POST was answered 201 is there after the server is killed mid-flood and restarted.
    // Four rounds, since a kill lands at a random point of a batch.
    async fn every_create_answered_201_survives_a_kill_9_during_a_flood(backend: Backend) {
        const ROUNDS: usize = 4;
        let database = TestDatabase::new(backend);
        let start = {
            let url = database.url.clone();
            move || ServeProcess::start(&url, &[("AUTH_SECRET", SECRET)])
        };
        let client = reqwest::Client::new();
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut server = tokio::task::spawn_blocking(start.clone()).await.expect("start scimd");
        for round in 0..ROUNDS {
            flood_until_killed(&client, server, round, &acknowledged).await;
            server = tokio::task::spawn_blocking(start.clone()).await.expect("restart scimd");
            let ids = acknowledged.lock().expect("lock").clone();
            let mut lost = Vec::new();
            for id in &ids {
                let status = client
                    .get(format!("{}{USERS}/{id}", server.base_url))
                    .bearer_auth(SECRET)
                    .send()
                    .await
                    .expect("GET after restart")
                    .status();
                if status != StatusCode::OK {
                    lost.push((id, status));
                }
            }
            assert!(lost.is_empty(), "round {round}: {} of {} acknowledged users lost: {lost:?}", lost.len(), ids.len());
        }
    }
}

/// Creates users from 16 clients, noting each one answered 201, and kills the server with
/// SIGKILL once 150 more were.
async fn flood_until_killed(
    client: &reqwest::Client,
    server: ServeProcess,
    round: usize,
    acknowledged: &Arc<Mutex<Vec<String>>>,
) {
    const CLIENTS: usize = 16;
    const BEFORE_KILL: usize = 150;
    let target = acknowledged.lock().expect("lock").len() + BEFORE_KILL;
    let mut flood = tokio::task::JoinSet::new();
    for worker in 0..CLIENTS {
        let (client, acknowledged) = (client.clone(), Arc::clone(acknowledged));
        let url = format!("{}{USERS}", server.base_url);
        flood.spawn(async move {
            for n in 0.. {
                let sent = client
                    .post(&url)
                    .bearer_auth(SECRET)
                    .json(&user(&format!("r{round}-w{worker}-{n}@a.example")))
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                if response.status() != StatusCode::CREATED {
                    continue;
                }
                let Ok(body) = response.json::<Value>().await else {
                    return;
                };
                let id = body["id"].as_str().expect("id").to_owned();
                acknowledged.lock().expect("lock").push(id);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < target {
        assert!(
            Instant::now() < deadline,
            "the flood never reached {target} users"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal("KILL");
    while flood.join_next().await.is_some() {}
    let (exited_cleanly, _, _) = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("wait");
    assert!(!exited_cleanly, "SIGKILL ends the process");
}
