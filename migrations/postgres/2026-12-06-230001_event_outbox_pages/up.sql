-- Issue 14: fewer B-trees under every event (see the SQLite migration of the same name: there
-- they are pages in every commit; here, index entries and WAL records). Deliveries are reached
-- by stream, not by event, and nothing deletes an event before its deliveries, so the index
-- by event and the foreign key to `events` (whose cascade needed it) go.
DROP INDEX event_deliveries_event_idx;
ALTER TABLE event_deliveries DROP CONSTRAINT event_deliveries_event_seq_fkey;

-- The sweep walks events by position (their order of time) instead.
DROP INDEX events_occurred_idx;
