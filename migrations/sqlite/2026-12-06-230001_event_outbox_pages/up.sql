-- Issue 14: fewer B-trees under every event. A push stream cost `POST /Users` a quarter of its
-- throughput, nearly all of it in the SQLite writer, which every SCIM write waits for: each
-- event was an insert into eight B-trees (events, its id and time indexes, the sequence, and
-- the delivery's table, key, pending index and index by event), and each delivery an update
-- of two more.
--
-- `event_deliveries` becomes one B-tree: its rows live in their key, (stream, state,
-- position), which is also the order the deliverer reads them in ("the next pending events of
-- stream S"); a delivery that is made moves within it. Queries by stream and position name the
-- state (there are two). The index by event goes: the sweep reaches deliveries through their
-- streams, and nothing deletes an event before its deliveries, so the foreign key to `events`
-- (whose cascade needed that index) goes too. PostgreSQL gets the same key and drops the same
-- index and foreign key.
CREATE TABLE event_deliveries_by_stream (
    stream_id TEXT NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    PRIMARY KEY (stream_id, state, event_seq)
) WITHOUT ROWID;
INSERT INTO event_deliveries_by_stream (stream_id, event_seq, state, attempts, next_attempt_at, last_error)
    SELECT stream_id, event_seq, state, attempts, next_attempt_at, last_error FROM event_deliveries;
DROP TABLE event_deliveries;
ALTER TABLE event_deliveries_by_stream RENAME TO event_deliveries;

-- The sweep walks events by position (their order of time) instead.
DROP INDEX events_occurred_idx;
