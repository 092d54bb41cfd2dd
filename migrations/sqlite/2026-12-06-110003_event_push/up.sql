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
