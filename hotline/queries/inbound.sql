-- name: InsertInbound :execrows
-- The first statement of the webhook's opening pipeline (receiveSMS): her
-- message, sealed, keyed by its MessageSid. A concurrent copy of this
-- MessageSid waits on the unique index until the first commits, then
-- inserts nothing (0 rows: a duplicate, which only replays).
INSERT INTO inbound_message (id, message_sid, phone_index, index_key_id, kek_id, wrapped_dek, body_sealed, received_at)
VALUES (@id, @message_sid::text, @phone_index, @index_key_id, @kek_id, @wrapped_dek, @body_sealed, @received_at)
ON CONFLICT (message_sid) DO NOTHING;

-- name: RecordInboundOutcome :exec
-- The message's final write, sent with the COMMIT. An erasure in this very
-- step has already shredded the row (wrapped_dek is NULL); its reply is
-- then sent once and not kept.
UPDATE inbound_message SET outcome = @outcome, reply_sealed = @reply_sealed
WHERE id = @id AND wrapped_dek IS NOT NULL;

-- name: InboundReply :one
-- The replies stored with an already handled MessageSid, for a copy of its
-- webhook.
SELECT id, kek_id, wrapped_dek, reply_sealed FROM inbound_message WHERE message_sid = @message_sid::text;

-- name: ShredCallerMessages :many
-- BORRAR: every inbound row of her number loses its key, texts and number
-- index; the sids come back, since Twilio keeps her texts under them.
UPDATE inbound_message SET phone_index = NULL, index_key_id = NULL, kek_id = NULL,
    wrapped_dek = NULL, body_sealed = NULL, reply_sealed = NULL, outcome = 'erased'
WHERE phone_index = ANY(@candidates::bytea[])
RETURNING message_sid;
