-- name: VoiceCallCase :one
-- The case a call that reached "in danger now" opened, for a retried
-- webhook of the same call.
SELECT case_id FROM voice_call WHERE call_sid = @call_sid;

-- name: InsertVoiceCall :execrows
INSERT INTO voice_call (call_sid, case_id, at) VALUES (@call_sid, @case_id, @at) ON CONFLICT DO NOTHING;

-- name: InsertVoiceEvent :execrows
-- A step of a call, inserted before its effects in their transaction: a
-- concurrent copy of the webhook waits on the unique key until the first
-- commits, then inserts nothing (0 rows) and replays.
INSERT INTO voice_event (id, call_sid, step, kek_id, wrapped_dek, at)
VALUES (@id, @call_sid, @step, @kek_id, @wrapped_dek, @at)
ON CONFLICT (call_sid, step) DO NOTHING;

-- name: SealVoiceAnswer :exec
UPDATE voice_event SET twiml_sealed = @twiml_sealed WHERE id = @id;

-- name: VoiceAnswer :one
-- The TwiML a step of a call was first answered with, sealed.
SELECT id, kek_id, wrapped_dek, twiml_sealed FROM voice_event WHERE call_sid = @call_sid AND step = @step;
