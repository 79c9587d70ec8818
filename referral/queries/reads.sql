-- name: GetReferral :one
SELECT sqlc.embed(referral) FROM referral WHERE id = @id;

-- name: CaseReferrals :many
-- Oldest first, escalated ones included.
SELECT sqlc.embed(referral) FROM referral WHERE case_id = @case_id ORDER BY created_at, id;

-- name: History :many
-- A referral's events, oldest first; the creation has no from_status.
SELECT COALESCE(from_status, '') AS from_status, to_status, actor, reason, at
FROM referral_event WHERE referral_id = @referral_id ORDER BY id;

-- name: Overdue :many
-- Open referrals past their acknowledge-by or serve-by time, and breached
-- ones, most urgent and oldest deadline first. A serve-by time is met up to
-- and including its instant, so it is overdue only strictly after it.
SELECT sqlc.embed(referral) FROM referral
WHERE status = ANY(@open_statuses::text[]) AND (breached_at IS NOT NULL OR serve_by < @now::timestamptz
    OR (ack_by <= @now AND status IN ('pending', 'notified')))
ORDER BY urgent DESC, LEAST(serve_by, ack_by), id;

-- name: ReferralStatus :one
-- Without a lock: the sender asks while it holds a message row, and must
-- not queue behind an erasure that holds the referral.
SELECT status FROM referral WHERE id = @id;

-- name: Stats :many
-- Open referrals by status, with those waiting for an answer since before
-- the stall grace and those past serve-by.
SELECT status, count(*) AS open,
    count(*) FILTER (WHERE status IN ('pending', 'notified') AND ack_by < @stalled_before) AS ack_stalled,
    count(*) FILTER (WHERE serve_by < @now::timestamptz) AS serve_overdue
FROM referral WHERE status = ANY(@open_statuses::text[]) GROUP BY status;

-- name: StalledCases :many
-- Up to max cases with a referral waiting for a provider past its
-- acknowledge-by time, each with the earliest such time; the limit applies
-- to referrals, oldest first (referral_stalled_idx).
SELECT case_id, min(ack_by)::timestamptz AS since FROM (
    SELECT case_id, ack_by FROM referral
    WHERE status IN ('pending', 'notified') AND ack_by <= @now
    ORDER BY ack_by LIMIT @max) s
GROUP BY case_id;
