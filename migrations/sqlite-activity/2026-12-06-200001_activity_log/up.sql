-- The activity log's own SQLite file (beside the database, see src/store/activity.rs):
-- the same table as the main tree's 2026-12-06-110001, which PostgreSQL keeps using.
CREATE TABLE activity (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    request_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    status_class INTEGER NOT NULL,
    scim_type TEXT,
    duration_us BIGINT NOT NULL,
    token_id TEXT,
    token_name TEXT,
    client_addr TEXT,
    user_agent TEXT,
    idp TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    resource_name TEXT,
    resource_key TEXT,
    summary TEXT NOT NULL,
    request_body TEXT,
    response_body TEXT
);
CREATE INDEX activity_org_time ON activity (org_id, occurred_at, id);
CREATE INDEX activity_org_resource ON activity (org_id, resource_id);
CREATE INDEX activity_org_resource_key ON activity (org_id, resource_key);
CREATE INDEX activity_org_status ON activity (org_id, status_class, occurred_at);
CREATE INDEX activity_org_token ON activity (org_id, token_id, occurred_at);
