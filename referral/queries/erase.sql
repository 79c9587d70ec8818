-- name: LockErasedReferrals :many
-- The referrals of erased cases that are open or still carry a serve-by or
-- breach time (each tells the incident time), locked in id order. Rows the
-- erasure has handled never match again.
SELECT r.id, r.status, r.case_id, r.reply_code, r.code_phone, s.lang
FROM referral r JOIN service s ON s.id = r.service_id
WHERE r.case_id = ANY(@case_ids::uuid[])
  AND (r.status = ANY(@open_statuses::text[]) OR r.serve_by IS NOT NULL OR r.breached_at IS NOT NULL)
ORDER BY r.id FOR NO KEY UPDATE OF r;

-- name: ForgetDeadlines :exec
UPDATE referral SET serve_by = NULL, breached_at = NULL, updated_at = @at WHERE id = ANY(@ids::uuid[]);

-- name: DeleteMilestoneEvents :exec
-- The serve-deadline milestone events are timed by the deadline itself.
DELETE FROM referral_event WHERE referral_id = ANY(@ids::uuid[]) AND reason = ANY(@reasons::text[]);

-- name: CasesReferralIDs :many
SELECT id FROM referral WHERE case_id = ANY(@case_ids::uuid[]);
