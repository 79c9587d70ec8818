-- name: LiveCaseIDs :many
-- The cases VerifyKeys opens: every one not erased.
SELECT id FROM case_file WHERE erased_at IS NULL ORDER BY id;
