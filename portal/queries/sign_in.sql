-- name: PasswordCheck :one
SELECT id, password_hash, locked_until, (disabled_at IS NOT NULL)::bool AS disabled
FROM staff_user WHERE username = @username;

-- name: CountFailure :one
UPDATE staff_user SET failed_attempts = failed_attempts + 1 WHERE id = @id RETURNING failed_attempts;

-- name: LockAccount :exec
UPDATE staff_user SET locked_until = @locked_until::timestamptz WHERE id = @id;

-- name: CodeCheck :one
SELECT kek_id, wrapped_dek, totp_sealed, totp_last_step, locked_until, (disabled_at IS NOT NULL)::bool AS disabled
FROM staff_user WHERE id = @id;

-- name: AcceptCode :execrows
-- A code is good once: only a step later than the last accepted one moves
-- it on, so of two requests with one code only one changes the row.
UPDATE staff_user SET totp_last_step = @step, failed_attempts = 0, locked_until = NULL,
    totp_enrolled_at = COALESCE(totp_enrolled_at, @now::timestamptz)
WHERE id = @id AND totp_last_step < @step;

-- name: Enrolment :one
SELECT username, kek_id, wrapped_dek, totp_sealed, (totp_enrolled_at IS NOT NULL)::bool AS enrolled
FROM staff_user WHERE id = @id AND disabled_at IS NULL;

-- name: TOTPSecret :one
SELECT id, kek_id, wrapped_dek, totp_sealed FROM staff_user WHERE username = @username;
