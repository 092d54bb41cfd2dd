CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (name);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    token_digest TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TIMESTAMP,
    disabled_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP,
    last_used_ip TEXT
);
CREATE UNIQUE INDEX api_tokens_token_digest_key ON api_tokens (token_digest);
CREATE INDEX api_tokens_org_created_idx ON api_tokens (org_id, created_at);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    user_name_lower TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT,
    display_name_lower TEXT,
    active BOOLEAN NOT NULL,
    resource TEXT NOT NULL,
    password_hash TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_org_user_name_key ON users (org_id, user_name_lower);
CREATE INDEX users_org_external_id_idx ON users (org_id, external_id, created_at, id);
CREATE INDEX users_org_display_name_idx ON users (org_id, display_name_lower, created_at, id);
CREATE INDEX users_org_created_idx ON users (org_id, created_at, id);
CREATE INDEX users_org_last_modified_idx ON users (org_id, last_modified, id);

CREATE TABLE user_emails (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    value_lower TEXT NOT NULL,
    type_lower TEXT,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_org_value_idx ON user_emails (org_id, value_lower);

CREATE TABLE groups (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id TEXT,
    resource TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX groups_org_display_name_key ON groups (org_id, display_name_lower);
CREATE INDEX groups_org_external_id_idx ON groups (org_id, external_id, created_at, id);
CREATE INDEX groups_org_created_idx ON groups (org_id, created_at, id);
CREATE INDEX groups_org_last_modified_idx ON groups (org_id, last_modified, id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_org_member_idx ON group_members (org_id, member_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    event_type TEXT NOT NULL,
    actor TEXT,
    target TEXT,
    remote_addr TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_org_occurred_idx ON audit_events (org_id, occurred_at);
CREATE INDEX audit_events_type_occurred_idx ON audit_events (event_type, occurred_at);

CREATE TABLE server_state (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
