use diesel::RunQueryDsl;

use scimd::store::migrate::{self, MigrateError};

use crate::helpers::TestDatabase;
use crate::on_both_backends;

on_both_backends! {
    async fn migrations_go_up_down_and_up_again(backend: Backend) {
        let database = TestDatabase::empty(backend);
        let store = database.store();
        let applied = migrate::run_pending(&store).unwrap();
        assert_eq!(applied, migrate::known_versions(store.backend()).unwrap());
        migrate::revert_all(&store).unwrap();
        assert_eq!(migrate::run_pending(&store).unwrap(), applied);
        assert!(migrate::run_pending(&store).unwrap().is_empty(), "nothing left to apply");
    }
}

on_both_backends! {
    async fn a_database_migrated_by_a_newer_scimd_is_refused(backend: Backend) {
        let database = TestDatabase::empty(backend);
        let store = database.store();
        migrate::run_pending(&store).unwrap();
        store
            .run_blocking(|conn| {
                diesel::sql_query(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')",
                )
                .execute(conn)?;
                Ok(())
            })
            .unwrap();
        let error = migrate::run_pending(&store).unwrap_err();
        assert!(matches!(error, MigrateError::NewerSchema { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains("29991231000000") && message.contains("newer scimd"), "{message}");

        let output = crate::helpers::cli::scimd(&database.url, &["migrate"]);
        assert!(!output.status.success());
        let stderr = crate::helpers::cli::stderr(&output);
        // The log says which database first (lines starting with '['); the error is one line.
        let errors: Vec<&str> = stderr.lines().filter(|line| !line.starts_with('[')).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].starts_with("scimd: error: the database was migrated by a newer scimd"), "{stderr}");
    }
}

#[test]
fn both_migration_trees_carry_the_same_versions() {
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
    assert!(!list("sqlite").is_empty());
}
