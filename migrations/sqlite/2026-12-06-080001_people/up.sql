-- Issue 12: the people who administer organizations in the console, their sessions and their
-- one-time set-up links. Secrets (session cookies, set-up codes) are kept only as SHA-256
-- digests; passwords only as argon2id hashes.
CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    -- Lower-cased: unique ignoring case, as people type their addresses.
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    -- NULL until the person follows a set-up link.
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP
);
CREATE UNIQUE INDEX people_email_key ON people (email);

CREATE TABLE memberships (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (person_id, org_id)
);
CREATE INDEX memberships_org_idx ON memberships (org_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    secret_digest TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT,
    client_addr TEXT
);
CREATE UNIQUE INDEX sessions_secret_digest_key ON sessions (secret_digest);
CREATE INDEX sessions_person_idx ON sessions (person_id);

CREATE TABLE setup_codes (
    code_digest TEXT PRIMARY KEY NOT NULL,
    -- NULL for the first owner's link: whoever follows it says who they are.
    person_id TEXT REFERENCES people (id) ON DELETE CASCADE,
    org_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    role TEXT,
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX setup_codes_person_idx ON setup_codes (person_id);
