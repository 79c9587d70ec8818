-- A provider's inbox (referral.Inbox) reads each of its organisation's
-- services along these two indexes: the open referrals in the order the
-- inbox shows them (the expression must match referral.inboxSQL), then the
-- most recently closed, so that neither part sorts every referral the
-- organisation ever had.
-- +goose Up
CREATE INDEX referral_inbox_open_idx ON referral (service_id,
    (CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END), urgent DESC, created_at, id)
    WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted');
CREATE INDEX referral_inbox_closed_idx ON referral (service_id, updated_at DESC, id DESC)
    WHERE status NOT IN ('pending', 'notified', 'acknowledged', 'accepted');

-- +goose Down
DROP INDEX referral_inbox_closed_idx;
DROP INDEX referral_inbox_open_idx;
