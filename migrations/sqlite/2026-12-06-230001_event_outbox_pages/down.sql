CREATE INDEX events_occurred_idx ON events (occurred_at);

CREATE TABLE event_deliveries_by_event (
    stream_id TEXT NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    PRIMARY KEY (stream_id, event_seq)
);
INSERT INTO event_deliveries_by_event (stream_id, event_seq, state, attempts, next_attempt_at, last_error)
    SELECT stream_id, event_seq, state, attempts, next_attempt_at, last_error FROM event_deliveries;
DROP TABLE event_deliveries;
ALTER TABLE event_deliveries_by_event RENAME TO event_deliveries;
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (stream_id, state, event_seq);
CREATE INDEX event_deliveries_event_idx ON event_deliveries (event_seq);
