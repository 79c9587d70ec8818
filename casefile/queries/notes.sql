-- name: InsertNote :exec
INSERT INTO case_note (id, case_id, author, body_sealed, created_at)
VALUES (@id, @case_id, @author, @body_sealed, @created_at);

-- name: Notes :many
SELECT * FROM case_note WHERE case_id = @case_id ORDER BY created_at, id;

-- name: InsertFollowUp :exec
INSERT INTO follow_up (id, case_id, kind, due_at, urgent, note_sealed, created_at)
VALUES (@id, @case_id, @kind, @due_at, @urgent, @note_sealed, @created_at);

-- name: FollowUps :many
SELECT * FROM follow_up WHERE case_id = @case_id ORDER BY created_at, id;

-- name: OpenFollowUps :one
SELECT count(*) FILTER (WHERE urgent) AS urgent, count(*) FILTER (WHERE NOT urgent) AS routine
FROM follow_up WHERE status = 'open';

-- name: FollowUpCase :one
SELECT case_id FROM follow_up WHERE id = @id;

-- name: CompleteFollowUp :execrows
-- Only an open one: done twice is refused, not repeated.
UPDATE follow_up SET status = 'done' WHERE id = @id AND status = 'open';

-- name: RescheduleFollowUp :execrows
UPDATE follow_up SET due_at = @due_at WHERE id = @id AND status = 'open';
