-- name: StaleKeys :many
-- Up to max data keys of each of hotline's sealed tables still wrapped under
-- another KEK than kek_id, locked for the re-wrap; rows held by live
-- traffic are skipped (SKIP LOCKED) and left for the next batch.
WITH c AS (
    SELECT id, kek_id, wrapped_dek FROM conversation
    WHERE wrapped_dek IS NOT NULL AND kek_id <> sqlc.arg(kek_id)::text
    LIMIT sqlc.arg(max) FOR UPDATE SKIP LOCKED
), i AS (
    SELECT id, kek_id, wrapped_dek FROM inbound_message
    WHERE wrapped_dek IS NOT NULL AND kek_id <> sqlc.arg(kek_id)::text
    LIMIT sqlc.arg(max) FOR UPDATE SKIP LOCKED
), v AS (
    SELECT id, kek_id, wrapped_dek FROM voice_event
    WHERE kek_id <> sqlc.arg(kek_id)::text
    LIMIT sqlc.arg(max) FOR UPDATE SKIP LOCKED
)
SELECT 'conversation'::text AS tbl, c.id, c.kek_id::text AS kek_id, c.wrapped_dek::bytea AS wrapped_dek FROM c
UNION ALL
SELECT 'inbound_message', i.id, i.kek_id::text, i.wrapped_dek::bytea FROM i
UNION ALL
SELECT 'voice_event', v.id, v.kek_id, v.wrapped_dek FROM v;

-- name: RewrapConversationKey :exec
UPDATE conversation SET kek_id = @kek_id, wrapped_dek = @wrapped_dek WHERE id = @id;

-- name: RewrapInboundKey :exec
UPDATE inbound_message SET kek_id = @kek_id, wrapped_dek = @wrapped_dek WHERE id = @id;

-- name: RewrapVoiceEventKey :exec
UPDATE voice_event SET kek_id = @kek_id, wrapped_dek = @wrapped_dek WHERE id = @id;
