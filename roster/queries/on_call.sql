-- name: OnCall :many
-- The phones of staff in a role whose shift covers now.
SELECT DISTINCT phone FROM on_call
WHERE role = @role AND starts_at <= @now AND ends_at > @now
ORDER BY phone;

-- name: RosteredPhones :many
-- Phones on shifts under way or to come, each once per role.
SELECT DISTINCT role, phone FROM on_call WHERE ends_at > @now ORDER BY role, phone;

-- name: InsertShift :one
INSERT INTO on_call (role, phone, name, starts_at, ends_at)
VALUES (@role, @phone, @name, @starts_at, @ends_at)
RETURNING id;

-- name: Shifts :many
-- Shifts under way or still to come, soonest first.
SELECT id, role, phone, name, starts_at, ends_at FROM on_call
WHERE ends_at > @now ORDER BY starts_at, id;

-- name: DeleteShift :one
DELETE FROM on_call WHERE id = @id RETURNING role, phone;
