//! Which statements PostgreSQL keeps prepared: those whose plan does not depend on the values
//! bound (primary-key and unique lookups), and not those whose plan does (array parameters,
//! LIMIT, an organization's size), which a generic plan can get badly wrong.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use scimd::store::{DbConn, UserId, members, migrate, users};

use crate::helpers::{Backend, TestDatabase};

#[derive(diesel::QueryableByName)]
struct Prepared {
    #[diesel(sql_type = Text)]
    statement: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_prepares_key_lookups_but_plans_value_dependent_statements_per_run() {
    let database = TestDatabase::new(Backend::Postgres);
    let store = database.store();
    migrate::run_pending(&store).unwrap();
    let org = scimd::bootstrap::ensure_org(&store, "acme").unwrap();
    let user = UserId::parse("2819c223-7f76-453a-919d-413861904646").unwrap();
    let two_users = [
        user.as_str().to_owned(),
        "902c246b-6245-4190-8e05-00816be7344a".to_owned(),
    ];
    let prepared = store
        .run_blocking(|conn| {
            // Prepared statements belong to the session: all on this one connection.
            for _ in 0..6 {
                users::find_user(conn, &org, &user)?;
                // Two users: `member_id = ANY($2)`.
                members::groups_of_users(conn, &org, &two_users)?;
            }
            let DbConn::Postgres(_) = conn else {
                panic!("a PostgreSQL test database");
            };
            Ok(
                diesel::sql_query("SELECT statement FROM pg_prepared_statements")
                    .load::<Prepared>(conn)?,
            )
        })
        .unwrap();
    let statements: Vec<&str> = prepared.iter().map(|p| p.statement.as_str()).collect();
    assert!(
        statements
            .iter()
            .any(|s| s.contains("FROM \"users\"") && s.contains("\"users\".\"id\" = $")),
        "the user lookup by primary key stays prepared: {statements:#?}"
    );
    assert!(
        !statements.iter().any(|s| s.contains("ANY(")),
        "no statement with an array parameter is prepared: {statements:#?}"
    );
}
