//! The check that the seeded data (`benches/support/seed.rs`) still is what the server writes
//! for the same users and groups, and the removal of what an interrupted check left behind.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use serde_json::{Value, json};

use scimd::store::DbConn;

pub(crate) use crate::support::seed::{
    Dialect, email_columns, execute, external_id, group_columns, group_name, load, user_columns,
    user_group_id, user_id, user_name,
};

use crate::Settings;
use crate::cases::Bench;

/// The POST body of user `n`; the SQL in `user_columns` must store exactly what the server
/// stores for it, which [`check_seed_shape`] verifies on every run.
fn user_body(n: i64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name(n),
        "externalId": external_id(n),
        "name": {"givenName": format!("Given{n}"), "familyName": format!("Family{n}")},
        "displayName": format!("User {n}"),
        "emails": [{"value": user_name(n), "type": "work", "primary": true}],
        "active": true,
    })
}

fn group_body(g: i64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": group_name(g),
    })
}

// ---------------------------------------------------------------------------------------------
// The seed's rows compared with the rows the server writes for the same request.

#[derive(QueryableByName, Debug, PartialEq)]
struct UserShape {
    #[diesel(sql_type = Text)]
    user_name: String,
    #[diesel(sql_type = Text)]
    user_name_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name_lower: Option<String>,
    #[diesel(sql_type = Bool)]
    active: bool,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct EmailShape {
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = Text)]
    value_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    type_lower: Option<String>,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct GroupShape {
    #[diesel(sql_type = Text)]
    display_name: String,
    #[diesel(sql_type = Text)]
    display_name_lower: String,
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

const USER_SHAPE: &str = "user_name, user_name_lower, external_id, display_name, \
    display_name_lower, active, resource, password_hash, version";
const GROUP_SHAPE: &str = "display_name, display_name_lower, external_id, resource, version";

/// POSTs user `users + 1` and group `groups + 1` through the server, compares the rows it
/// wrote with the seed's SQL for the same numbers, and deletes them again.
pub(crate) async fn check_seed_shape(
    bench: &Bench,
    conn: &mut DbConn,
    org: &str,
    settings: &Settings,
) -> Result<(), String> {
    let d = Dialect(conn.backend());
    let p = d.org();
    let n = settings.users + 1;
    let created = bench.post("/scim/v2/Users", &user_body(n)).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let stored: Vec<UserShape> = load(
        conn,
        &format!("SELECT {USER_SHAPE} FROM users WHERE org_id = {p} AND id = '{id}'"),
        org,
    );
    let seeded: Vec<UserShape> = load(
        conn,
        &format!(
            "SELECT {USER_SHAPE} FROM ({}) AS seeded",
            d.rows(n, n, &user_columns(d))
        ),
        org,
    );
    let stored_emails: Vec<EmailShape> = load(
        conn,
        &format!(
            "SELECT position, value_lower, type_lower FROM user_emails WHERE org_id = {p} AND user_id = '{id}'"
        ),
        org,
    );
    let seeded_emails: Vec<EmailShape> = load(
        conn,
        &format!(
            "SELECT position, value_lower, type_lower FROM ({}) AS seeded",
            d.rows(n, n, &email_columns(d))
        ),
        org,
    );
    bench.delete(&format!("/scim/v2/Users/{id}")).await?;
    if stored != seeded {
        return Err(format!(
            "users row differs:\n server: {stored:?}\n seed:   {seeded:?}"
        ));
    }
    if stored_emails != seeded_emails {
        return Err(format!(
            "user_emails rows differ:\n server: {stored_emails:?}\n seed:   {seeded_emails:?}"
        ));
    }

    let g = settings.groups + 1;
    let created = bench.post("/scim/v2/Groups", &group_body(g)).await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let stored: Vec<GroupShape> = load(
        conn,
        &format!("SELECT {GROUP_SHAPE} FROM groups WHERE org_id = {p} AND id = '{id}'"),
        org,
    );
    let seeded: Vec<GroupShape> = load(
        conn,
        &format!(
            "SELECT {GROUP_SHAPE} FROM ({}) AS seeded",
            d.rows(g, g, &group_columns(d))
        ),
        org,
    );
    bench.delete(&format!("/scim/v2/Groups/{id}")).await?;
    if stored != seeded {
        return Err(format!(
            "groups row differs:\n server: {stored:?}\n seed:   {seeded:?}"
        ));
    }
    Ok(())
}

/// Removes what an interrupted shape check may have left behind.
pub(crate) fn remove_probes(conn: &mut DbConn, org: &str, settings: &Settings) {
    let p = Dialect(conn.backend()).org();
    let probe_user = user_name(settings.users + 1);
    let probe_group = group_name(settings.groups + 1);
    for sql in [
        format!(
            "DELETE FROM group_members WHERE org_id = {p} AND member_id IN \
             (SELECT id FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}')"
        ),
        format!(
            "DELETE FROM user_emails WHERE org_id = {p} AND user_id IN \
             (SELECT id FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}')"
        ),
        format!("DELETE FROM users WHERE org_id = {p} AND user_name_lower = '{probe_user}'"),
        format!("DELETE FROM groups WHERE org_id = {p} AND display_name_lower = '{probe_group}'"),
    ] {
        execute(conn, &sql, org);
    }
}
