-- Issue 14: the change feed. Expand-only: nothing existing changes.

-- A receiver of an organization's SCIM events. `delivery` is 'poll' or 'push', `detail`
-- 'full' or 'notice', `status` 'enabled', 'paused' or 'failed'. `event_types` and
-- `resource_types` are space-separated lists; NULL takes every one. `push_authorization` is
-- the Authorization header value sent to the receiver: a secret, never shown again.
CREATE TABLE event_streams (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    delivery TEXT NOT NULL,
    detail TEXT NOT NULL,
    event_types TEXT,
    resource_types TEXT,
    poll_token_id TEXT REFERENCES api_tokens (id) ON DELETE SET NULL,
    push_url TEXT,
    push_authorization TEXT,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT,
    last_error_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Every write of an organization looks its streams up: this is the index it probes.
CREATE UNIQUE INDEX event_streams_org_name_key ON event_streams (org_id, name);

-- The outbox, written in the transaction of the write it describes. `seq` orders events
-- (a sequence: a position once handed out is never reused, so replay positions hold);
-- `id` is the SET's `jti`, `txn_id` its `txn`. `attributes`, `members_added` and
-- `members_removed` are JSON arrays; `data` the resource as a SCIM answer renders it
-- (no `returned: never` attribute), stored only when a stream wants full events.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    activation TEXT,
    resource_type TEXT,
    resource_id TEXT,
    external_id TEXT,
    attributes TEXT,
    data TEXT,
    members_added TEXT,
    members_removed TEXT,
    txn_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_id_key ON events (id);
CREATE INDEX events_occurred_idx ON events (occurred_at);

-- Each event once per stream that wants it, fanned out when the event is written.
-- `state` is 'pending' or 'delivered'.
CREATE TABLE event_deliveries (
    stream_id TEXT NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    PRIMARY KEY (stream_id, event_seq)
);
-- "The next pending events of stream S, in order".
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (stream_id, state, event_seq);
CREATE INDEX event_deliveries_event_idx ON event_deliveries (event_seq);

-- The keys an organization signs its SETs with (ES256). The private key is PKCS#8 DER, in
-- the database like every other secret scimd keeps; `retired_at` set: published for
-- verification until `retired_at` plus the grace period, never used to sign.
CREATE TABLE event_signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    private_key BYTEA NOT NULL,
    public_x TEXT NOT NULL,
    public_y TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE INDEX event_signing_keys_org_idx ON event_signing_keys (org_id, created_at);
