ALTER TABLE event_streams DROP COLUMN push_failing_since;
ALTER TABLE event_streams DROP COLUMN push_lease_until;
ALTER TABLE event_streams DROP COLUMN push_lease_owner;
DROP INDEX api_tokens_expires_idx;
DROP TABLE token_notices;
