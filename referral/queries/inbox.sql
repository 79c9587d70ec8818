-- name: ReferralScope :one
-- Who may see a referral: the organisation whose service it was sent to.
SELECT r.case_id, o.key AS org_key, r.status
FROM referral r JOIN service v ON v.id = r.service_id JOIN organization o ON o.id = v.organization_id
WHERE r.id = @id;

-- name: Inbox :many
-- Reads each service's referrals along its own index and merges them: an
-- organisation's services are few, its referrals many, and an index scan
-- per service stops after what the page shows, where one scan over all of
-- them would sort every closed referral the organisation ever had. The open
-- ones' order expression is the one referral_inbox_open_idx
-- (migrations/sql/00200_provider_inbox.sql) indexes; keep them equal.
WITH svc AS (
    SELECT v.id, v.name FROM service v JOIN organization o ON o.id = v.organization_id WHERE o.key = @org_key
)
(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached::bool AS breached, r.updated_at
 FROM svc CROSS JOIN LATERAL (
    SELECT id, case_id, need, status, urgent, ack_by, serve_by, breached_at IS NOT NULL AS breached, updated_at, created_at,
        CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END AS due
    FROM referral
    WHERE service_id = svc.id AND status IN ('pending', 'notified', 'acknowledged', 'accepted')
    ORDER BY CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END, urgent DESC, created_at, id
    LIMIT @open_max) r
 ORDER BY r.due, r.urgent DESC, r.created_at, r.id
 LIMIT @open_max)
UNION ALL
(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached, r.updated_at
 FROM svc CROSS JOIN LATERAL (
    SELECT id, case_id, need, status, urgent, ack_by, serve_by, breached_at IS NOT NULL AS breached, updated_at
    FROM referral
    WHERE service_id = svc.id AND status NOT IN ('pending', 'notified', 'acknowledged', 'accepted')
    ORDER BY updated_at DESC, id DESC
    LIMIT @closed_max) r
 ORDER BY r.updated_at DESC, r.id DESC
 LIMIT @closed_max);

-- name: ServiceTimezone :one
-- The zone a provider reads its packet's times in.
SELECT timezone FROM service WHERE id = @id;
