-- Issue 14: fewer B-trees under every event. Each B-tree an event touches is at least one more
-- page in the WAL for every commit of the SQLite writer (a commit carries a few requests), and
-- those pages, not the rows, were what a push stream cost `POST /Users`.
--
-- `event_deliveries` loses its index by event: the sweep reaches deliveries through their
-- streams instead, and nothing deletes an event before its deliveries, so the foreign key to
-- `events` (which needed that index for its cascade) goes with it. SQLite drops a foreign key
-- only with the table around it.
CREATE TABLE event_deliveries_by_stream (
    stream_id TEXT NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    PRIMARY KEY (stream_id, event_seq)
);
INSERT INTO event_deliveries_by_stream (stream_id, event_seq, state, attempts, next_attempt_at, last_error)
    SELECT stream_id, event_seq, state, attempts, next_attempt_at, last_error FROM event_deliveries;
DROP TABLE event_deliveries;
ALTER TABLE event_deliveries_by_stream RENAME TO event_deliveries;
-- "The next pending events of stream S, in order".
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (stream_id, state, event_seq);

-- The sweep walks events by position (their order of time) instead.
DROP INDEX events_occurred_idx;
