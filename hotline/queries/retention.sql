-- Each sweep shreds, or deletes, one batch of the rows past their time
-- (before) and returns the Twilio sid that Twilio's log keeps of each, if
-- any, or only how many it changed. SKIP LOCKED leaves a row that a webhook
-- or the sender is using to the next sweep.

-- name: ShredOldInbound :many
-- Her texts: body, reply, key, index, and the sid.
WITH old AS (SELECT id, message_sid FROM inbound_message WHERE message_sid IS NOT NULL AND received_at < @before::timestamptz
        ORDER BY received_at LIMIT @max FOR UPDATE SKIP LOCKED),
    done AS (UPDATE inbound_message i SET phone_index = NULL, index_key_id = NULL, kek_id = NULL, wrapped_dek = NULL,
        body_sealed = NULL, reply_sealed = NULL, message_sid = NULL FROM old WHERE i.id = old.id)
SELECT message_sid FROM old;

-- name: DeleteOldVoiceEvents :many
-- A call's steps.
DELETE FROM voice_event WHERE id IN (SELECT id FROM voice_event WHERE at < @before::timestamptz ORDER BY at LIMIT @max FOR UPDATE SKIP LOCKED)
RETURNING call_sid;

-- name: DeleteOldVoiceCalls :many
-- The link between a call and her case.
DELETE FROM voice_call WHERE call_sid IN (SELECT call_sid FROM voice_call WHERE at < @before::timestamptz ORDER BY at LIMIT @max FOR UPDATE SKIP LOCKED)
RETURNING call_sid;

-- name: DeleteOldRateCounters :execrows
-- A rate counter whose window has passed counts nothing any more, but
-- still says when her number last wrote.
DELETE FROM caller_rate WHERE phone_index IN (SELECT phone_index FROM caller_rate WHERE window_start < @before::timestamptz
    LIMIT @max FOR UPDATE SKIP LOCKED);

-- name: UnlinkEndedBlocks :execrows
-- A block that is over blocks nothing: its reason and times stay, for the
-- record, but not whom it was about.
UPDATE caller_block SET phone_index = NULL, index_key_id = NULL WHERE id IN (SELECT id FROM caller_block
    WHERE phone_index IS NOT NULL AND (lifted_at IS NOT NULL OR until < @before::timestamptz) LIMIT @max FOR UPDATE SKIP LOCKED);

-- name: EraseCalls :many
-- Erasing cases (EraseHook): the rows that link a CallSid to them go, and
-- the sids come back for Twilio to forget the calls too.
DELETE FROM voice_call WHERE case_id = ANY(@case_ids::uuid[]) RETURNING call_sid;

-- name: EraseCallEvents :exec
-- The steps of those calls, and the TwiML that named the case.
DELETE FROM voice_event WHERE call_sid = ANY(@call_sids::text[]);
