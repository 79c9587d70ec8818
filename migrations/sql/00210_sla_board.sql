-- The supervisors' SLA board, queue-health page and caller blocks.
--
-- referral.community is the community the referral was routed for, copied
-- from its case when it is made: routing already chose the provider by it,
-- and the board filters by it without reading case_file, which belongs to
-- casefile. Coarse and plaintext, like case_file.community.
-- +goose Up
ALTER TABLE referral ADD COLUMN community text NOT NULL DEFAULT '';
UPDATE referral r SET community = lower(c.community) FROM case_file c WHERE c.id = r.case_id;
-- The board lists each open state's referrals by the clock that runs for
-- it: acknowledge-by while the provider has not answered, serve-by after.
-- The expression must stay the one in referral/board.go (boardDue), or
-- every load sorts all open referrals. The included columns are what the
-- board counts and filters by, so counting 100,000 open referrals and
-- finding a filter's most pressing ones read this index alone.
CREATE INDEX referral_board_idx ON referral (status,
    (CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END), id)
    INCLUDE (community, need, service_id, ack_by, serve_by)
    WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted');
-- Queue health counts the texts that failed in the last hour.
CREATE INDEX outbound_message_failed_idx ON outbound_message (updated_at)
    WHERE status IN ('failed', 'undelivered');

-- A block set from a case names it, so the case's caller page lists it and
-- its audit rows belong to the case's trail. The case id says nothing of
-- her number, which stays an HMAC in phone_index.
ALTER TABLE caller_block ADD COLUMN case_id uuid;
CREATE INDEX caller_block_case_idx ON caller_block (case_id) WHERE case_id IS NOT NULL AND lifted_at IS NULL;

-- +goose Down
DROP INDEX caller_block_case_idx;
ALTER TABLE caller_block DROP COLUMN case_id;
DROP INDEX outbound_message_failed_idx;
DROP INDEX referral_board_idx;
ALTER TABLE referral DROP COLUMN community;
