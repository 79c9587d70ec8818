-- A provider's inbox lists its organisation's open referrals (through
-- referral_service_open_idx) and then its most recently closed ones; this
-- index serves the second part without sorting every closed referral the
-- organisation ever had.
-- +goose Up
CREATE INDEX referral_service_closed_idx ON referral (service_id, updated_at DESC)
    WHERE status NOT IN ('pending', 'notified', 'acknowledged', 'accepted');

-- +goose Down
DROP INDEX referral_service_closed_idx;
