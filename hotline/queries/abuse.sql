-- name: Admit :one
-- Whether a recorded message (or a call as it begins) is processed: a
-- blocked caller or one over the rate limit gets nothing more. It counts
-- the message against the caller's window; the counter's row lock is held
-- to the end of the transaction, which also serialises one caller's
-- messages, so her conversation is never stepped twice at once. receiveSMS
-- sends it in the pipeline that opens the webhook's transaction. (sqlc.arg,
-- not @: sqlc 1.31 rejects its own rewrite of `@now - @rate_window`.)
WITH hit AS (
    INSERT INTO caller_rate (phone_index, window_start, hits, index_key_id)
    VALUES (sqlc.arg(phone_index), sqlc.arg(now), 1, sqlc.arg(index_key_id)::text)
    ON CONFLICT (phone_index) DO UPDATE SET
        hits = CASE WHEN caller_rate.window_start <= sqlc.arg(now) - sqlc.arg(rate_window)::interval
            THEN 1 ELSE caller_rate.hits + 1 END,
        window_start = CASE WHEN caller_rate.window_start <= sqlc.arg(now) - sqlc.arg(rate_window)::interval
            THEN sqlc.arg(now) ELSE caller_rate.window_start END
    RETURNING hits)
SELECT hit.hits,
    EXISTS (SELECT 1 FROM caller_block WHERE phone_index = ANY(sqlc.arg(candidates)::bytea[]) AND lifted_at IS NULL
        AND until > sqlc.arg(now)) AS blocked
FROM hit;

-- name: Standing :one
-- What Admit would decide, without counting anything: for a later step of
-- a call that was counted when it began (a block may come in the middle of
-- a call).
SELECT
    COALESCE((SELECT hits FROM caller_rate WHERE phone_index = @phone_index::bytea AND window_start > @window_opened::timestamptz), 0)::integer AS hits,
    EXISTS (SELECT 1 FROM caller_block WHERE phone_index = ANY(@candidates::bytea[]) AND lifted_at IS NULL AND until > @now::timestamptz) AS blocked;

-- name: DropStaleRateCounters :execrows
-- For the key re-wrap: rate counters under an old index key are dropped,
-- since no lookup reads them again; her next message starts a new window.
DELETE FROM caller_rate WHERE phone_index IN (
    SELECT phone_index FROM caller_rate WHERE index_key_id IS DISTINCT FROM @index_key_id::text
    LIMIT @max FOR UPDATE SKIP LOCKED);
