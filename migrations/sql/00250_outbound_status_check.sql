-- outbound_message.status had no CHECK: its words are Twilio's MessageStatus
-- and two of ours, which sms.Statuses lists and a test ties to this list.
-- A status callback with a word outside it is ignored, never written
-- (sms.ApplyStatus), so no stored row holds another.
-- +goose Up
ALTER TABLE outbound_message ADD CONSTRAINT outbound_message_status_check
    CHECK (status IN ('pending', 'accepted', 'scheduled', 'queued', 'sending', 'sent',
                      'delivered', 'undelivered', 'failed', 'canceled', 'expired'));

-- +goose Down
ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_status_check;
