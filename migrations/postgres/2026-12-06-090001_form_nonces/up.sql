-- Issue 12: the one-time nonces of the console forms that mint a secret (Generate token,
-- Rotate). Re-sending such a form (a reload without JavaScript, a double click) finds its
-- nonce used and creates nothing. A nonce grants nothing by itself; it goes with its session.
CREATE TABLE form_nonces (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    used_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, nonce)
);
