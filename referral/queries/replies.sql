-- name: ProviderPhone :one
-- Whether the phone (E.164) may be a provider's phone: a service's duty phone,
-- or the phone a live referral's code went to. The literal status list lets
-- the planner use the partial index instead of scanning referrals. The
-- hotline queues this text in its own pipeline (QueueProviderCheck).
SELECT EXISTS (SELECT 1 FROM service WHERE duty_phone = @phone)
    OR EXISTS (SELECT 1 FROM referral WHERE code_phone = @phone
               AND status IN ('pending', 'notified', 'acknowledged', 'accepted'));

-- name: CountReply :one
-- Counts a reply against the phone's fixed window, starting a new window
-- once the window's length has passed since the last began; returns the count.
-- sqlc.arg, not @: sqlc reads "- @x" as PostgreSQL's prefix @ operator.
INSERT INTO provider_reply_limit AS l (phone, window_start, count) VALUES (sqlc.arg(phone), sqlc.arg(now), 1)
ON CONFLICT (phone) DO UPDATE SET
    window_start = CASE WHEN l.window_start <= sqlc.arg(now) - sqlc.arg(window_length)::interval THEN sqlc.arg(now) ELSE l.window_start END,
    count        = CASE WHEN l.window_start <= sqlc.arg(now) - sqlc.arg(window_length)::interval THEN 1 ELSE l.count + 1 END
RETURNING count;

-- name: CodesLocked :one
-- A phone past its wrong-code limit in a window still running.
SELECT EXISTS (SELECT 1 FROM provider_code_miss
    WHERE phone = @phone AND window_start > @since AND misses >= @max_misses);

-- name: LockOpenReferralByCode :one
-- A code means something only together with the phone it was sent to.
SELECT sqlc.embed(referral) FROM referral
WHERE code_phone = @phone AND reply_code = @code AND status = ANY(@open_statuses::text[])
FOR NO KEY UPDATE;

-- name: RecentlyClosedByCode :one
-- The referral the code was last sent for, if it escalated or was revoked
-- within the code quarantine, so that a late answer is told what became of the request.
SELECT id, status FROM referral
WHERE code_phone = @phone AND reply_code = @code AND status = ANY(@statuses::text[]) AND updated_at > @since
ORDER BY updated_at DESC LIMIT 1;

-- name: CountWrongCode :one
-- Counts a code that matched nothing against the phone's window, as
-- CountReply counts replies; returns the misses.
-- sqlc.arg, not @: sqlc reads "- @x" as PostgreSQL's prefix @ operator.
INSERT INTO provider_code_miss AS m (phone, window_start, misses) VALUES (sqlc.arg(phone), sqlc.arg(now), 1)
ON CONFLICT (phone) DO UPDATE SET
    window_start = CASE WHEN m.window_start <= sqlc.arg(now) - sqlc.arg(window_length)::interval THEN sqlc.arg(now) ELSE m.window_start END,
    misses       = CASE WHEN m.window_start <= sqlc.arg(now) - sqlc.arg(window_length)::interval THEN 1 ELSE m.misses + 1 END
RETURNING misses;

-- name: PhoneService :one
-- The service a phone answers for: the one whose duty phone it is, else
-- one whose code went to it. Alerts name the service, never the number.
SELECT id, name FROM (
    SELECT v.id, v.name, 0 AS o FROM service v WHERE v.duty_phone = @phone
    UNION ALL
    SELECT s.id, s.name, 1 FROM referral r JOIN service s ON s.id = r.service_id WHERE r.code_phone = @phone
) p ORDER BY o, name LIMIT 1;
