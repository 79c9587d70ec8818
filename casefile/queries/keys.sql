-- name: ContactsToRewrap :many
-- Contacts whose key is wrapped by an older KEK or whose phone is indexed
-- under an older index key. SKIP LOCKED lets the re-wrap job run beside live
-- traffic and beside another copy of itself; a locked row is left for the
-- next batch.
SELECT id, kek_id, wrapped_dek, phone_sealed FROM contact
WHERE wrapped_dek IS NOT NULL AND (kek_id <> @kek_id::text OR index_key_id <> @index_key_id::text)
LIMIT @max FOR UPDATE SKIP LOCKED;

-- name: RewrapContact :exec
UPDATE contact SET kek_id = @kek_id::text, wrapped_dek = @wrapped_dek, phone_index = @phone_index, index_key_id = @index_key_id::text
WHERE id = @id;

-- name: CaseKeysToRewrap :many
-- Live case keys wrapped by an older KEK; SKIP LOCKED as in ContactsToRewrap.
SELECT case_id, kek_id, wrapped_dek FROM case_key
WHERE destroyed_at IS NULL AND kek_id <> @kek_id::text
LIMIT @max FOR UPDATE SKIP LOCKED;

-- name: RewrapCaseKey :exec
UPDATE case_key SET kek_id = @kek_id::text, wrapped_dek = @wrapped_dek WHERE case_id = @case_id;
