-- name: ActiveConversation :one
-- Her live conversation, locked for the webhook's transaction; the last
-- statement of its opening pipeline (receiveSMS).
SELECT id, contact_id, case_id, danger, last_activity, kek_id, wrapped_dek, state_sealed
FROM conversation WHERE phone_index = ANY(@candidates::bytea[]) AND status = 'active'
FOR UPDATE;

-- name: UpdateConversation :exec
-- Her conversation's state, sealed, sent with the COMMIT. Her index is
-- written again: one found under an index key that a rotation has since
-- replaced moves to the current key. Unchanged, it keeps the update HOT.
UPDATE conversation SET state_sealed = @state_sealed, contact_id = @contact_id, case_id = @case_id, danger = @danger,
    last_activity = @last_activity, phone_index = @phone_index, index_key_id = @index_key_id
WHERE id = @id;

-- name: InsertConversation :exec
-- A new conversation, sent with the COMMIT.
INSERT INTO conversation
    (id, phone_index, index_key_id, contact_id, case_id, kek_id, wrapped_dek, state_sealed, danger, started_at, last_activity)
VALUES (@id, @phone_index, @index_key_id, @contact_id, @case_id, @kek_id, @wrapped_dek, @state_sealed, @danger, @now, @now);

-- name: CloseConversation :exec
-- Ends a conversation and shreds its state: what she answered lives on only
-- in the case, if she opened one. Its phone index goes too: kept, it would
-- tie her number to when she wrote and to her case.
UPDATE conversation SET status = @status, kek_id = NULL, wrapped_dek = NULL, state_sealed = NULL,
    phone_index = NULL, index_key_id = NULL
WHERE id = @id;

-- name: EraseActiveConversation :exec
-- BORRAR with her record: her live conversation keeps nothing of hers.
UPDATE conversation SET status = 'erased', contact_id = NULL, case_id = NULL, kek_id = NULL,
    wrapped_dek = NULL, state_sealed = NULL, phone_index = NULL, index_key_id = NULL
WHERE phone_index = ANY(@candidates::bytea[]) AND status = 'active';

-- name: DeletePastConversations :exec
-- Past conversations would still tie her contact and cases to the dates
-- she wrote and whether she flagged danger. contact_id may be NULL: then
-- only her number finds them.
DELETE FROM conversation
WHERE (phone_index = ANY(@candidates::bytea[]) OR contact_id = sqlc.narg('contact_id')) AND id <> @id;

-- name: IdleConversations :many
-- A batch of conversations idle since idle_since, locked. last_activity is
-- deliberately not indexed, so that a message's update of it can be HOT;
-- started_at never changes and is never later than last_activity, so its
-- index narrows the scan to conversations old enough to be idle, however
-- many live ones there are. SKIP LOCKED leaves a conversation that is being
-- answered right now to that message.
SELECT id, case_id, danger FROM conversation
WHERE status = 'active' AND started_at < @idle_since AND last_activity < @idle_since
ORDER BY last_activity LIMIT @max FOR UPDATE SKIP LOCKED;
