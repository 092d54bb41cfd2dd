-- Issue 7: token lifecycle. Expand-only, so an older scimd keeps working on this schema.
ALTER TABLE api_tokens ADD COLUMN allowed_cidrs TEXT;
ALTER TABLE api_tokens ADD COLUMN rate_limit_per_minute INTEGER;
ALTER TABLE api_tokens ADD COLUMN first_used_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN rotated_from TEXT;
ALTER TABLE api_tokens ADD COLUMN superseded_by TEXT;
ALTER TABLE api_tokens ADD COLUMN rotation_grace_seconds BIGINT;
ALTER TABLE api_tokens ADD COLUMN grace_until TIMESTAMP;
ALTER TABLE organizations ADD COLUMN inactivity_days INTEGER;
CREATE INDEX audit_events_org_target_idx ON audit_events (org_id, target, occurred_at);
