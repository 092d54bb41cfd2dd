-- Issue 15: PostgreSQL notifies running servers of token changes by trigger. SQLite needs
-- nothing: its servers read the commit counter instead (`store::data_version`). Kept so both
-- backends list the same migrations.
SELECT 1;
