CREATE INDEX events_occurred_idx ON events (occurred_at);
ALTER TABLE event_deliveries ADD CONSTRAINT event_deliveries_event_seq_fkey
    FOREIGN KEY (event_seq) REFERENCES events (seq) ON DELETE CASCADE;
CREATE INDEX event_deliveries_event_idx ON event_deliveries (event_seq);
