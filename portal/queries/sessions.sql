-- name: DeleteExpiredSessions :exec
-- scs's pgxstore owns the rows' contents; an expired row is never used
-- (the store checks expiry on every read), this only keeps the table small.
DELETE FROM sessions WHERE expiry < current_timestamp;
