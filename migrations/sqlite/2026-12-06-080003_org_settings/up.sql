-- Issue 12: an organization's default rate limit, and indexes for the console's token list
-- (sorted and paged in SQL over thousands of tokens) and its suspicion query. Expand-only.
ALTER TABLE organizations ADD COLUMN default_rate_limit_per_minute INTEGER;
CREATE INDEX api_tokens_org_last_used_idx ON api_tokens (org_id, last_used_at, id);
CREATE INDEX api_tokens_org_expires_idx ON api_tokens (org_id, expires_at, id);
CREATE INDEX api_tokens_org_name_idx ON api_tokens (org_id, lower(name), id);
CREATE INDEX audit_events_org_type_occurred_idx ON audit_events (org_id, event_type, occurred_at, target);
CREATE INDEX audit_events_org_actor_occurred_idx ON audit_events (org_id, actor, occurred_at);
