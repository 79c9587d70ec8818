-- name: FindContacts :many
-- Every contact under any accepted index key of her number, newest first;
-- the index is only a hint, the sealed number decides.
SELECT id, kek_id, wrapped_dek, phone_sealed, (code_word_token IS NOT NULL)::boolean AS has_code_word, created_at
FROM contact WHERE phone_index = ANY(@indexes::bytea[]) ORDER BY created_at DESC;

-- name: ContactIndexed :one
-- An older index key may still hold her: the UNIQUE constraint only sees
-- the current one.
SELECT EXISTS (SELECT 1 FROM contact WHERE phone_index = ANY(@indexes::bytea[]));

-- name: InsertContact :execrows
INSERT INTO contact (id, phone_index, index_key_id, kek_id, wrapped_dek, phone_sealed, created_at)
VALUES (@id, @phone_index, @index_key_id::text, @kek_id::text, @wrapped_dek, @phone_sealed, @created_at)
ON CONFLICT (phone_index) DO NOTHING;

-- name: ContactKey :one
SELECT kek_id, wrapped_dek FROM contact WHERE id = @id;

-- name: ContactPhone :one
SELECT phone_sealed FROM contact WHERE id = @id;

-- name: ContactErasedForShare :one
-- An EraseContact running now either sees the case being written or waits
-- for it.
SELECT erased_at FROM contact WHERE id = @id FOR SHARE;

-- name: ContactErasedForNoKeyUpdate :one
-- As ContactErasedForShare, for a transaction that goes on to write her
-- code word.
SELECT erased_at FROM contact WHERE id = @id FOR NO KEY UPDATE;

-- name: ContactErasedForUpdate :one
-- EraseContact: its UPDATE clears phone_index, a unique (key) column, which
-- needs this lock anyway, and taking it first avoids upgrading a weaker
-- one. Nothing inserts a row referencing a contact without first locking it
-- FOR SHARE or stronger (OpenCase, CompleteCase).
SELECT erased_at FROM contact WHERE id = @id FOR UPDATE;

-- name: AddCodeWord :exec
-- Only where she has none: her word and its guessing lock are hers.
UPDATE contact SET code_word_token = @token, code_word_key_id = @key_id::text
WHERE id = @id AND code_word_token IS NULL;

-- name: SetCodeWord :exec
UPDATE contact SET code_word_token = @token, code_word_key_id = @key_id::text,
    code_word_failures = 0, code_word_locked_until = NULL
WHERE id = @id;

-- name: CodeWordForUpdate :one
SELECT code_word_token, code_word_key_id, code_word_failures, code_word_locked_until,
    erased_at
FROM contact WHERE id = @id FOR UPDATE;

-- name: CodeWordFailed :exec
UPDATE contact SET code_word_failures = @failures, code_word_locked_until = sqlc.narg('locked_until')
WHERE id = @id;

-- name: ShredContact :exec
UPDATE contact SET phone_index = NULL, index_key_id = NULL, kek_id = NULL, wrapped_dek = NULL,
    phone_sealed = NULL, code_word_token = NULL, code_word_key_id = NULL,
    code_word_failures = 0, code_word_locked_until = NULL, erased_at = @now::timestamptz
WHERE id = @id;
