-- name: LockOutbound :one
-- Locked across the call to Twilio, so two deliveries of the job (River is
-- at-least-once) cannot both send, and the status callback waits for the
-- sid to be recorded.
SELECT purpose, referral_id, case_id, to_index, kek_id, wrapped_dek, to_sealed, body_sealed,
       status, not_before, expires_at
FROM outbound_message WHERE id = @id FOR UPDATE;

-- name: Postpone :exec
UPDATE outbound_message SET not_before = @not_before, updated_at = @now WHERE id = @id;

-- name: HandedOver :exec
UPDATE outbound_message
SET status = @status, status_rank = @status_rank, twilio_sid = @twilio_sid, attempts = attempts + 1, updated_at = @now
WHERE id = @id;

-- name: SendFailedForNow :exec
-- error_code 0 is no code (a lost answer).
UPDATE outbound_message SET attempts = attempts + 1, error_code = NULLIF(@error_code::integer, 0),
    not_before = @not_before, updated_at = @now WHERE id = @id;

-- name: Finish :exec
-- Content is shredded: it will never be read again.
UPDATE outbound_message
SET status = @status, status_rank = @status_rank, error_code = @error_code,
    attempts = attempts + CASE WHEN @status = 'failed' THEN 1 ELSE 0 END,
    wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = @now
WHERE id = @id;

-- name: ApplyStatus :one
-- A row whose sid is not yet recorded (the sender crashed between Twilio's
-- answer and its commit) adopts it; status_rank only moves forward.
UPDATE outbound_message
SET status = @status, status_rank = @status_rank, twilio_sid = @twilio_sid, error_code = COALESCE(sqlc.narg('error_code'), error_code), updated_at = @now
WHERE id = @id AND (twilio_sid = @twilio_sid OR twilio_sid IS NULL) AND status_rank < @status_rank
RETURNING id, purpose, referral_id, case_id;

-- name: OutboxStats :one
-- Reads no content.
SELECT count(*) AS pending, min(p.not_before) FILTER (WHERE p.not_before <= @now) AS oldest_due,
       (SELECT count(*) FROM outbound_message f WHERE f.status IN ('failed', 'undelivered') AND f.updated_at > @failed_since) AS failed_last_hour
FROM outbound_message p WHERE p.status = 'pending';
