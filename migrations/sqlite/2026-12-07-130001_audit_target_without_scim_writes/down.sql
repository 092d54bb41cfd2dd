DROP INDEX audit_events_org_target_idx;
CREATE INDEX audit_events_org_target_idx ON audit_events (org_id, target, occurred_at);
