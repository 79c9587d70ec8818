-- name: InsertOutbound :exec
INSERT INTO outbound_message
    (id, purpose, referral_id, case_id, to_index, index_key_id, kek_id, wrapped_dek, to_sealed, body_sealed,
     not_before, expires_at, created_at, updated_at)
VALUES (@id, @purpose, @referral_id, @case_id, @to_index, @index_key_id, @kek_id, @wrapped_dek, @to_sealed, @body_sealed,
        @not_before, @expires_at, @now, @now);

-- name: InsertOptOut :exec
INSERT INTO sms_opt_out (phone_index, index_key_id, at) VALUES (@phone_index, @index_key_id, @at) ON CONFLICT DO NOTHING;

-- name: CancelPendingToRecipient :exec
-- Her SALIR: every text to her not yet handed to Twilio is dropped and shredded.
UPDATE outbound_message
SET status = 'canceled', status_rank = @status_rank, wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = @now
WHERE to_index = ANY(@candidates::bytea[]) AND purpose = @purpose AND status = 'pending';

-- name: DeleteOptOut :execrows
DELETE FROM sms_opt_out WHERE phone_index = ANY(@candidates::bytea[]);

-- name: SaidStop :one
-- Under every accepted index key: a rotation may have replaced the key
-- her SALIR was recorded under.
SELECT EXISTS (SELECT 1 FROM sms_opt_out WHERE phone_index = ANY(@candidates::bytea[]));

-- name: Shred :many
-- A row finished early (sent, failed, canceled) shed its key then, but kept
-- the rest. SKIP LOCKED leaves a text the sender holds to the next sweep.
WITH old AS (SELECT m.id, m.twilio_sid FROM outbound_message m WHERE (m.to_index IS NOT NULL OR m.twilio_sid IS NOT NULL)
        AND m.created_at < @cutoff ORDER BY m.created_at LIMIT @max FOR UPDATE SKIP LOCKED),
    done AS (UPDATE outbound_message o SET to_index = NULL, index_key_id = NULL, kek_id = NULL, wrapped_dek = NULL,
        to_sealed = NULL, body_sealed = NULL, twilio_sid = NULL FROM old WHERE o.id = old.id)
SELECT twilio_sid FROM old;

-- name: ForgetRecipient :many
-- Whatever its purpose: pending ones are canceled, and every row loses its
-- key, content and her phone index.
UPDATE outbound_message SET status = CASE WHEN status = 'pending' THEN 'canceled' ELSE status END,
        status_rank = CASE WHEN status = 'pending' THEN @canceled_rank ELSE status_rank END, to_index = NULL, index_key_id = NULL,
        wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = @now
WHERE to_index = ANY(@candidates::bytea[]) RETURNING twilio_sid;
