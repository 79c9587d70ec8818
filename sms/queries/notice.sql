-- name: CancelPendingNotices :many
-- SKIP LOCKED rather than a wait: the sender holds a notice's row across
-- its call to Twilio and may then lock the referral (NoticeFailed), which
-- our caller already holds.
UPDATE outbound_message
SET status = 'canceled', status_rank = @status_rank, wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = @now
WHERE id IN (SELECT p.id FROM outbound_message p WHERE p.referral_id = @referral_id AND p.purpose = @purpose AND p.status = 'pending'
    FOR UPDATE SKIP LOCKED)
RETURNING attempts;

-- name: NoticesInFlight :one
-- handed_over: texts Twilio took that may yet arrive.
SELECT count(*) FILTER (WHERE status = 'pending') AS in_flight,
       count(*) FILTER (WHERE status NOT IN ('pending', 'canceled', 'expired', 'failed', 'undelivered')) AS handed_over
FROM outbound_message WHERE referral_id = @referral_id AND purpose = @purpose;
