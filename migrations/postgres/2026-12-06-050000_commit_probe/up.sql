-- Issue 18: one scratch row that each SQLite instance rewrites to check that the commit counter
-- it reads beside the database moves (src/store/data_version.rs). Unused on PostgreSQL; here so
-- both trees keep the same versions.
CREATE TABLE commit_probe (
    id INTEGER PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL
);
