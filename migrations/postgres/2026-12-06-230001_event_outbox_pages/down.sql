CREATE INDEX events_occurred_idx ON events (occurred_at);
ALTER TABLE event_deliveries ADD CONSTRAINT event_deliveries_event_seq_fkey
    FOREIGN KEY (event_seq) REFERENCES events (seq) ON DELETE CASCADE;
CREATE INDEX event_deliveries_event_idx ON event_deliveries (event_seq);
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (stream_id, state, event_seq);
ALTER TABLE event_deliveries DROP CONSTRAINT event_deliveries_pkey;
ALTER TABLE event_deliveries ADD PRIMARY KEY (stream_id, event_seq);
