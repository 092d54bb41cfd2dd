-- Issue 14: fewer B-trees under every event (see the SQLite migration of the same name: there
-- they are pages in every commit; here, index entries and WAL records).
--
-- `event_deliveries` is keyed by (stream, state, position), as on SQLite, which makes the
-- pending index redundant: "the next pending events of stream S" is a range of the key. The
-- same key on both backends also lets `scimd copy` page through the table in an order both
-- keep. Deliveries are reached by stream, not by event, and nothing deletes an event before
-- its deliveries, so the index by event and the foreign key to `events` (whose cascade needed
-- it) go.
ALTER TABLE event_deliveries DROP CONSTRAINT event_deliveries_pkey;
ALTER TABLE event_deliveries ADD PRIMARY KEY (stream_id, state, event_seq);
DROP INDEX event_deliveries_pending_idx;
DROP INDEX event_deliveries_event_idx;
ALTER TABLE event_deliveries DROP CONSTRAINT event_deliveries_event_seq_fkey;

-- The sweep walks events by position (their order of time) instead.
DROP INDEX events_occurred_idx;
