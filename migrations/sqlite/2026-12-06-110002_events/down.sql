DROP TABLE event_signing_keys;
DROP TABLE event_deliveries;
DROP TABLE events;
DROP TABLE event_streams;
