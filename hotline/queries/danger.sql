-- name: DangerAlerted :one
-- Whether a danger alert went to phone since since: its sender may be
-- answering it with a code. referral asks the same of provider phones
-- (referral.QueueProviderCheck). Sent in the webhook's opening pipeline.
SELECT EXISTS (SELECT 1 FROM danger_alert WHERE phone = @phone AND created_at > @since) AS alerted;

-- name: InsertDangerAlert :exec
INSERT INTO danger_alert (id, case_id, phone, reply_code, created_at, answer_by)
VALUES (@id, @case_id, @phone, @reply_code, @created_at, @answer_by);

-- name: LockDangerCodes :exec
-- Serialises the choice of a danger alert's reply code, to the end of the
-- transaction.
SELECT pg_advisory_xact_lock(hashtextextended('hotline.danger_code', 0));

-- name: DangerCodesInUse :many
-- The reply codes of danger alerts since since, which a new alert must not
-- reuse.
SELECT DISTINCT reply_code::int FROM danger_alert WHERE created_at > @since ORDER BY 1;

-- name: LockDangerAlert :one
-- A case's danger alerts, locked while the escalation decides and records
-- itself, so it acts once: whether any was answered or escalated, and the
-- earliest answer-by time. A case may have none (the alert reached nobody):
-- then answer_by is NULL and the flags are false, not NULL (the casts
-- are for sqlc, which cannot type COALESCE here).
WITH locked AS (SELECT answered_at, escalated_at, answer_by FROM danger_alert WHERE case_id = @case_id FOR UPDATE)
SELECT COALESCE(bool_or(answered_at IS NOT NULL), false)::boolean AS answered,
    COALESCE(bool_or(escalated_at IS NOT NULL), false)::boolean AS escalated,
    min(answer_by) AS answer_by
FROM locked;

-- name: EscalateDangerAlert :exec
UPDATE danger_alert SET escalated_at = @now::timestamptz WHERE case_id = @case_id;

-- name: AnswerDangerAlert :one
-- "OK <code>" from a phone the alert went to, within the code's life. The
-- first answer's time is kept.
UPDATE danger_alert SET answered_at = COALESCE(answered_at, @now::timestamptz)
WHERE phone = @phone AND reply_code = @reply_code AND created_at > @since
RETURNING case_id;
