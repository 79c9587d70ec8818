-- A provider that was sent a request is told when it is withdrawn (she erased
-- her case or withdrew her consent). Such a text is its own purpose: it is not
-- a notice to cancel when the request is withdrawn, and its failure escalates
-- nothing.
-- +goose Up
ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_purpose_check;
ALTER TABLE outbound_message ADD CONSTRAINT outbound_message_purpose_check
    CHECK (purpose IN ('provider_notice', 'provider_withdrawal', 'staff_alert', 'survivor'));

-- +goose Down
DELETE FROM outbound_message WHERE purpose = 'provider_withdrawal';
ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_purpose_check;
ALTER TABLE outbound_message ADD CONSTRAINT outbound_message_purpose_check
    CHECK (purpose IN ('provider_notice', 'staff_alert', 'survivor'));
