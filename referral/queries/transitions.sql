-- name: LockReferral :one
-- Held until the transaction ends, so that workers, replies and the portal
-- acting at once see each other's result instead of racing.
SELECT sqlc.embed(referral) FROM referral WHERE id = @id FOR NO KEY UPDATE;

-- name: MoveReferral :execrows
-- One edge of the state machine. The status guard makes a move on an
-- unlocked row that changed underneath affect nothing, rather than record
-- a transition that did not happen.
UPDATE referral SET status = @to_status, updated_at = @now WHERE id = @id AND status = @from_status;

-- name: InsertEvent :exec
-- An empty from_status is the creation (from_status NULL).
INSERT INTO referral_event (referral_id, from_status, to_status, actor, reason, at)
VALUES (@referral_id, NULLIF(@from_status::text, ''), @to_status, @actor, @reason, @at);

-- name: ServiceLang :one
SELECT lang FROM service WHERE id = @id;

-- name: ServicePlace :one
-- What she is told of a health post: its name and address, and the zone
-- to read her deadline in.
SELECT name, address, timezone FROM service WHERE id = @id;

-- name: LockWithdrawnReferrals :many
-- The case's open referrals, other than overrides, for needs she no longer
-- consents to, locked in id order (as every lock on referrals is taken).
SELECT r.id, r.status, r.case_id, r.reply_code, r.code_phone, s.lang
FROM referral r JOIN service s ON s.id = r.service_id
WHERE r.case_id = @case_id AND r.need = ANY(@needs::text[]) AND r.status = ANY(@open_statuses::text[]) AND NOT r.override
ORDER BY r.id FOR NO KEY UPDATE OF r;

-- name: RevokeReferral :exec
-- The caller holds the row (LockWithdrawnReferrals, LockErasedReferrals).
UPDATE referral SET status = @status, updated_at = @at WHERE id = @id;

-- name: MilestoneDone :one
-- A serve-by milestone acts once: its event (by its reason) marks it done.
SELECT EXISTS (SELECT 1 FROM referral_event WHERE referral_id = @referral_id AND reason = @reason);

-- name: MarkBreached :exec
UPDATE referral SET breached_at = @now::timestamptz, updated_at = @now WHERE id = @id;
