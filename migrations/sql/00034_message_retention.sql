-- Message texts are shredded once they have served (hotline/retention.go).
-- These indexes find the rows that still hold a key, oldest first, without
-- scanning tables that only grow. Neither indexes a column that a message's
-- own later updates change, so those updates can stay HOT.
-- +goose Up
CREATE INDEX inbound_message_sealed_idx ON inbound_message (received_at) WHERE wrapped_dek IS NOT NULL;
CREATE INDEX outbound_message_sealed_idx ON outbound_message (created_at) WHERE wrapped_dek IS NOT NULL;

-- +goose Down
DROP INDEX outbound_message_sealed_idx;
DROP INDEX inbound_message_sealed_idx;
