DROP INDEX audit_events_org_target_idx;
ALTER TABLE organizations DROP COLUMN inactivity_days;
ALTER TABLE api_tokens DROP COLUMN grace_until;
ALTER TABLE api_tokens DROP COLUMN rotation_grace_seconds;
ALTER TABLE api_tokens DROP COLUMN superseded_by;
ALTER TABLE api_tokens DROP COLUMN rotated_from;
ALTER TABLE api_tokens DROP COLUMN first_used_at;
ALTER TABLE api_tokens DROP COLUMN rate_limit_per_minute;
ALTER TABLE api_tokens DROP COLUMN allowed_cidrs;
