-- Every phone index records the index key it was computed under, as
-- contact.index_key_id always has: `amparo keys status` counts the rows that
-- still depend on each key, and an old index key is retirable only when
-- none does. Rows written before this migration have NULL there; status
-- counts them as unrecorded and then calls no old index key retirable.
--
-- A conversation that ended keeps no phone index (it tied her number to
-- the dates she wrote), and a message row past its retention keeps no
-- Twilio sid (Twilio's own log ties the sid to her number), so both
-- columns become optional.
-- +goose Up
ALTER TABLE conversation ADD COLUMN index_key_id text;
ALTER TABLE conversation ALTER COLUMN phone_index DROP NOT NULL;
ALTER TABLE inbound_message ADD COLUMN index_key_id text;
ALTER TABLE inbound_message ALTER COLUMN message_sid DROP NOT NULL;
ALTER TABLE outbound_message ADD COLUMN index_key_id text;
ALTER TABLE sms_opt_out ADD COLUMN index_key_id text;
ALTER TABLE caller_rate ADD COLUMN index_key_id text;
ALTER TABLE caller_block ADD COLUMN index_key_id text;
ALTER TABLE caller_block ALTER COLUMN phone_index DROP NOT NULL;

-- +goose Down
DELETE FROM caller_block WHERE phone_index IS NULL;
ALTER TABLE caller_block ALTER COLUMN phone_index SET NOT NULL;
ALTER TABLE caller_block DROP COLUMN index_key_id;
ALTER TABLE caller_rate DROP COLUMN index_key_id;
ALTER TABLE sms_opt_out DROP COLUMN index_key_id;
ALTER TABLE outbound_message DROP COLUMN index_key_id;
DELETE FROM inbound_message WHERE message_sid IS NULL;
ALTER TABLE inbound_message ALTER COLUMN message_sid SET NOT NULL;
ALTER TABLE inbound_message DROP COLUMN index_key_id;
DELETE FROM conversation WHERE phone_index IS NULL;
ALTER TABLE conversation ALTER COLUMN phone_index SET NOT NULL;
ALTER TABLE conversation DROP COLUMN index_key_id;
