-- Issue 14: push delivery and token notices. Expand-only.

-- One row per token notice sent (`expiring-14d`, `expiring-1d`, `expired`,
-- `used-after-rotation`), so that each goes out once per token, whichever instance scans.
CREATE TABLE token_notices (
    token_id TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    notice TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (token_id, notice)
);
-- The notice scan looks at every organization's tokens near their expiry at once.
CREATE INDEX api_tokens_expires_idx ON api_tokens (expires_at);

-- Push delivery: the instance delivering a stream holds its lease until `push_lease_until`
-- (renewed while it works; another instance takes it over once it expires), and
-- `push_failing_since` starts the failure period of the stream's current run of failures.
ALTER TABLE event_streams ADD COLUMN push_lease_owner TEXT;
ALTER TABLE event_streams ADD COLUMN push_lease_until TIMESTAMP;
ALTER TABLE event_streams ADD COLUMN push_failing_since TIMESTAMP;
