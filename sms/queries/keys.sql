-- name: RewrapCandidates :many
-- Rows whose data key is under an old KEK, or whose recipient index is
-- under an old index key.
SELECT id, kek_id, wrapped_dek, to_sealed FROM outbound_message
WHERE wrapped_dek IS NOT NULL AND (kek_id <> @kek_id::text OR (to_index IS NOT NULL AND index_key_id IS DISTINCT FROM @index_key_id::text))
LIMIT @max FOR UPDATE SKIP LOCKED;

-- name: Rewrap :exec
-- Queued in a batch, one per row. A row already shredded of its index keeps none.
UPDATE outbound_message SET kek_id = @kek_id, wrapped_dek = @wrapped_dek,
    to_index = CASE WHEN to_index IS NULL THEN NULL ELSE @to_index::bytea END,
    index_key_id = CASE WHEN to_index IS NULL THEN NULL ELSE @index_key_id::text END
WHERE id = @id;
