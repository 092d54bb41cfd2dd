//! Which database a benchmark runs on: `DATABASE_URL` when set, else `BENCH_BACKEND`:
//! `sqlite` (the default, a file at the path the benchmark chooses) or `postgres` (a throwaway
//! cluster, started as the tests start theirs).

use std::path::Path;

#[allow(dead_code)]
#[path = "../../tests/api/helpers/postgres.rs"]
mod postgres;

pub use postgres::PgCluster;

/// The database URL, and the PostgreSQL cluster that must live as long as it is used.
pub fn database(sqlite_path: &Path) -> (String, Option<PgCluster>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return (url, None);
    }
    match std::env::var("BENCH_BACKEND").as_deref() {
        Ok("postgres" | "postgresql") => {
            let cluster = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
            (cluster.create_database(), Some(cluster))
        }
        Ok("sqlite") | Err(_) => (format!("sqlite://{}", sqlite_path.display()), None),
        Ok(other) => panic!("BENCH_BACKEND={other}: use sqlite or postgres"),
    }
}
