-- The retention sweep (hotline/retention.go) also drops, once a message or
-- call is past its retention, what still links it to her: a finished
-- outbound row's recipient index and Twilio sid, an inbound row's Twilio
-- sid, and a call's sid and case. These partial indexes find those rows,
-- oldest first, without scanning tables that only grow.
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS inbound_message_sid_kept_idx ON inbound_message (received_at) WHERE message_sid IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_linked_idx ON outbound_message (created_at)
    WHERE to_index IS NOT NULL OR twilio_sid IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_event_at_idx ON voice_event (at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_call_at_idx ON voice_call (at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS voice_call_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS voice_event_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS outbound_message_linked_idx;
DROP INDEX CONCURRENTLY IF EXISTS inbound_message_sid_kept_idx;
