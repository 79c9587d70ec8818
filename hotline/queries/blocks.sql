-- name: ConversationCaller :one
-- The phone index a block set from a conversation names. A conversation
-- that has ended no longer knows its caller.
SELECT phone_index, index_key_id FROM conversation WHERE id = @id AND phone_index IS NOT NULL;

-- name: InsertBlock :exec
INSERT INTO caller_block (id, phone_index, index_key_id, reason, until, set_by, created_at, case_id)
VALUES (@id, @phone_index, @index_key_id, @reason, @until, @set_by, @created_at, @case_id);

-- name: LiftBlock :one
-- Ends a block still in force; when case_id is given, only a block set
-- from that case.
UPDATE caller_block SET lifted_at = @now::timestamptz
WHERE id = @id AND lifted_at IS NULL AND (sqlc.narg('case_id')::uuid IS NULL OR case_id = sqlc.narg('case_id'))
RETURNING case_id;

-- name: CaseBlocks :many
-- The blocks in force set from a case, oldest first.
SELECT id, reason, until, set_by, created_at FROM caller_block
WHERE case_id = @case_id::uuid AND lifted_at IS NULL AND until > @now
ORDER BY created_at, id;
