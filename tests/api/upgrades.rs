//! Upgrades (issue 16): `migrate --dry-run` shows what an upgrade would apply and applies
//! nothing; this binary starts on the schema the previous version left.

use scimd::store::migrate;

use crate::helpers::cli::{ServeProcess, scimd, stderr, stdout};
use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;

/// The database's dump less pg_dump's `\restrict` lines, whose key is new on every run.
fn schema_and_rows(database: &TestDatabase) -> String {
    String::from_utf8_lossy(&database.dump())
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

on_both_backends! {
    async fn migrate_dry_run_lists_pending_migrations_and_applies_nothing(backend: Backend) {
        let database = TestDatabase::empty(backend);
        let known = migrate::known_versions(database.database_url().backend()).unwrap();
        let before = schema_and_rows(&database);

        let dry = scimd(&database.url, &["migrate", "--dry-run"]);
        assert!(dry.status.success(), "{}", stderr(&dry));
        let listed: Vec<String> = stdout(&dry)
            .lines()
            .filter_map(|line| line.strip_prefix("  ").map(str::to_owned))
            .collect();
        assert_eq!(listed, known, "{}", stdout(&dry));
        assert!(stdout(&dry).contains("nothing applied"), "{}", stdout(&dry));
        assert_eq!(schema_and_rows(&database), before, "a dry run wrote to the database");
        // On SQLite the activity log's own file: named, and not created either.
        let log = database.database_url().activity_log();
        if backend == Backend::Sqlite {
            assert!(database.database_url().sqlite_path().is_some_and(|p| !p.exists()));
            let log_path = log.as_ref().and_then(|log| log.sqlite_path()).unwrap();
            assert!(!log_path.exists());
            assert!(stdout(&dry).contains("no activity log yet"), "{}", stdout(&dry));
        }

        let applied = scimd(&database.url, &["migrate"]);
        assert!(applied.status.success(), "{}", stderr(&applied));
        assert!(log.as_ref().and_then(|log| log.sqlite_path()).is_none_or(std::path::Path::is_file));
        assert!(stdout(&applied).contains(&known.join(", ")), "{}", stdout(&applied));
        let again = scimd(&database.url, &["migrate", "--dry-run"]);
        assert!(stdout(&again).contains("schema is up to date"), "{}", stdout(&again));
    }
}

on_both_backends! {
    /// The previous version's schema is this one's less its newest migration: the new binary
    /// lists that one as pending, applies it on start, and the data stays.
    async fn the_new_binary_starts_on_the_previous_schema(backend: Backend) {
        let database = TestDatabase::empty(backend);
        let migrated = scimd(&database.url, &["migrate"]);
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        let created = scimd(&database.url, &["org", "create", "from-last-release"]);
        assert!(created.status.success(), "{}", stderr(&created));
        let newest = migrate::revert_last(&database.store()).unwrap();

        let dry = scimd(&database.url, &["migrate", "--dry-run"]);
        assert!(stdout(&dry).contains("1 pending"), "{}", stdout(&dry));
        assert!(stdout(&dry).contains(&format!("  {newest}")), "{}", stdout(&dry));

        let url = database.url.clone();
        let server = tokio::task::spawn_blocking(move || ServeProcess::start(&url, &[]))
            .await
            .unwrap();
        assert!(server.startup_log().contains(&format!("applied migrations {newest}")), "{}", server.startup_log());
        let orgs = scimd(&database.url, &["org", "list"]);
        assert!(stdout(&orgs).contains("from-last-release"), "{}", stdout(&orgs));
        let (stopped, _, log) = tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
        assert!(stopped, "{log}");
    }
}
