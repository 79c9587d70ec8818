-- One spelling per word: a follow-up is 'canceled', as an outbound message
-- already was (Twilio's spelling, which its status callbacks carry, so that
-- one cannot change). casefile.FollowUpCanceled is the Go side; a test ties
-- the constant to this CHECK.
-- +goose Up
ALTER TABLE follow_up DROP CONSTRAINT follow_up_status_check;
UPDATE follow_up SET status = 'canceled' WHERE status = 'cancelled';
ALTER TABLE follow_up ADD CONSTRAINT follow_up_status_check
    CHECK (status IN ('open', 'done', 'canceled'));

-- +goose Down
ALTER TABLE follow_up DROP CONSTRAINT follow_up_status_check;
UPDATE follow_up SET status = 'cancelled' WHERE status = 'canceled';
ALTER TABLE follow_up ADD CONSTRAINT follow_up_status_check
    CHECK (status IN ('open', 'done', 'cancelled'));
