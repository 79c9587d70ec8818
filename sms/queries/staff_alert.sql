-- name: LockStaffAlerts :exec
-- Two transactions alerting about one case to one phone take turns, so the
-- second sees the text the first queued and joins it.
SELECT pg_advisory_xact_lock(hashtextextended('hotline.staff_alert:' || @case_id::text || @phone::text, 0));

-- name: WaitingStaffAlert :one
-- SKIP LOCKED: a text the sender holds is being handed over now; the alert
-- then waits for the next text instead.
SELECT id, kek_id, wrapped_dek, alert_kinds FROM outbound_message
WHERE case_id = @case_id AND to_index = @to_index AND alert_kinds IS NOT NULL AND status = 'pending' AND wrapped_dek IS NOT NULL
ORDER BY created_at DESC LIMIT 1 FOR UPDATE SKIP LOCKED;

-- name: LastStaffAlert :one
SELECT max(not_before) AS last FROM outbound_message
WHERE case_id = @case_id AND to_index = @to_index AND alert_kinds IS NOT NULL AND not_before <= @now;

-- name: SetAlertKinds :exec
UPDATE outbound_message SET alert_kinds = @alert_kinds WHERE id = @id;

-- name: FoldAlert :exec
UPDATE outbound_message SET body_sealed = @body_sealed, alert_kinds = @alert_kinds, updated_at = @now WHERE id = @id;
