-- Message texts are shredded once they have served (hotline/retention.go):
-- the partial indexes find the rows that still hold a key, oldest first,
-- without scanning tables that only grow. A shredded outbound row drops its
-- recipient's index too, so that column becomes optional.
--
-- The referral index serves the withdrawal of a referral's notices
-- (hotline/notifier.go), which runs inside her erasure: without it, every
-- withdrawal would scan the whole table while her case rows are locked.
--
-- CONCURRENTLY, so that building them on a large table never holds up
-- incoming messages; that needs a migration outside a transaction.
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS inbound_message_sealed_idx ON inbound_message (received_at) WHERE wrapped_dek IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_sealed_idx ON outbound_message (created_at) WHERE wrapped_dek IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_referral_idx ON outbound_message (referral_id) WHERE referral_id IS NOT NULL;
ALTER TABLE outbound_message ALTER COLUMN to_index DROP NOT NULL;

-- +goose Down
UPDATE outbound_message SET to_index = '\x'::bytea WHERE to_index IS NULL;
ALTER TABLE outbound_message ALTER COLUMN to_index SET NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS outbound_message_referral_idx;
DROP INDEX CONCURRENTLY IF EXISTS outbound_message_sealed_idx;
DROP INDEX CONCURRENTLY IF EXISTS inbound_message_sealed_idx;
