-- The three reads of an account as the portal sees it (User) select the
-- same columns, so staff.go converts all three with one function; none
-- reads the password hash or the sealed secret.

-- name: UserByID :one
SELECT id, username, role, COALESCE(org_key, '')::text AS org_key, communities,
       (totp_enrolled_at IS NOT NULL)::bool AS enrolled, (disabled_at IS NOT NULL)::bool AS disabled, created_at
FROM staff_user WHERE id = @id;

-- name: UserByName :one
SELECT id, username, role, COALESCE(org_key, '')::text AS org_key, communities,
       (totp_enrolled_at IS NOT NULL)::bool AS enrolled, (disabled_at IS NOT NULL)::bool AS disabled, created_at
FROM staff_user WHERE username = @username;

-- name: ListUsers :many
SELECT id, username, role, COALESCE(org_key, '')::text AS org_key, communities,
       (totp_enrolled_at IS NOT NULL)::bool AS enrolled, (disabled_at IS NOT NULL)::bool AS disabled, created_at
FROM staff_user ORDER BY username;

-- name: InsertUser :exec
-- A unique violation is a taken username; a foreign key one, an unknown
-- organisation.
INSERT INTO staff_user (id, username, role, org_key, communities, password_hash, kek_id, wrapped_dek, totp_sealed, created_at)
VALUES (@id, @username, @role, NULLIF(@org_key::text, ''), @communities, @password_hash, @kek_id, @wrapped_dek, @totp_sealed, @created_at);

-- name: ResetTOTP :exec
-- The new secret is enrolled again at the next sign-in.
UPDATE staff_user SET kek_id = @kek_id, wrapped_dek = @wrapped_dek, totp_sealed = @totp_sealed,
    totp_enrolled_at = NULL, totp_last_step = 0
WHERE id = @id;

-- name: DisableUser :one
-- Disabling twice keeps the first time.
UPDATE staff_user SET disabled_at = COALESCE(disabled_at, @now::timestamptz) WHERE username = @username RETURNING id;

-- name: StaleStaffKeys :many
-- Staff accounts whose data key is wrapped under another KEK than kek_id,
-- locked for the re-wrap; an account signing in now is skipped for the
-- next batch.
SELECT id, kek_id, wrapped_dek FROM staff_user
WHERE kek_id <> @kek_id LIMIT @max FOR UPDATE SKIP LOCKED;

-- name: RewrapStaffKey :exec
UPDATE staff_user SET kek_id = @kek_id, wrapped_dek = @wrapped_dek WHERE id = @id;
