-- Issue 15: the index of audit events by target leaves out the SCIM writes. A `scim.write`
-- event targets the user or group written, so each PATCH, PUT or DELETE put an entry at a
-- random page of this index, in the writer every SCIM write waits for (3.5% of `PATCH /Users`
-- throughput). The index serves look-ups of a token's events, and a token is never the target
-- of a SCIM write; those queries name the condition, so the planner still uses the index.
DROP INDEX audit_events_org_target_idx;
CREATE INDEX audit_events_org_target_idx ON audit_events (org_id, target, occurred_at)
    WHERE event_type <> 'scim.write';
