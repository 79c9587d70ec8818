-- Staff alerts about one case to one phone within a minute become one text
-- (hotline/staffalert.go): alert_kinds lists what a pending text carries,
-- so a later alert joins it instead of queueing another. Kinds are codes,
-- like the purpose; the text itself stays sealed. NULL for every other
-- text, and for danger alerts, which are never folded or delayed.
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE outbound_message ADD COLUMN IF NOT EXISTS alert_kinds text[];
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_alert_case_idx ON outbound_message (case_id, to_index)
    WHERE alert_kinds IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS outbound_message_alert_case_idx;
ALTER TABLE outbound_message DROP COLUMN IF EXISTS alert_kinds;
