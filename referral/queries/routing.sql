-- name: Provider :one
SELECT sqlc.embed(service) FROM service WHERE id = @id;

-- name: Candidates :many
-- The services that cover the need in the community ('*' covers every
-- community), by priority, skipping those excluded (already tried or in the chain).
SELECT sqlc.embed(service) FROM service
WHERE active AND @need::text = ANY(needs) AND (@community::text = ANY(communities) OR '*' = ANY(communities))
  AND NOT (id = ANY(@exclude::uuid[]))
ORDER BY priority, key;

-- name: LockService :exec
-- Held until the transaction ends, so two referrals racing for a
-- service's last place cannot both get it.
SELECT 1 FROM service WHERE id = @id FOR NO KEY UPDATE;

-- name: CountOpenReferrals :one
-- A service's referrals that hold a place (the open ones), against its capacity.
SELECT count(*) FROM referral WHERE service_id = @service_id AND status = ANY(@open_statuses::text[]);

-- name: LockPhoneCodes :exec
-- Serialises the choice of reply codes per duty phone; the partial unique
-- index on (code_phone, reply_code) is the backstop.
SELECT pg_advisory_xact_lock(hashtextextended('referral.code:' || @phone::text, 0));

-- name: UsedCodes :many
-- The phone's codes held by an open referral, or quarantined: their
-- referral closed within codeQuarantine (a closed referral's updated_at
-- is when it closed, or later).
SELECT DISTINCT reply_code::int FROM referral
WHERE code_phone = @phone AND (status = ANY(@open_statuses::text[]) OR updated_at > @quarantined_since)
ORDER BY 1;

-- name: InsertReferral :exec
-- community is kept lower-cased for the SLA board's filter.
INSERT INTO referral (id, case_id, service_id, parent_id, need, status, urgent, override, ack_by, serve_by,
                      reply_code, code_phone, created_at, updated_at, community)
VALUES (@id, @case_id, @service_id, @parent_id, @need, @status, @urgent, @override, @ack_by, @serve_by,
        @reply_code, @code_phone, @now, @now, lower(@community::text));

-- name: OpenReferralForNeed :one
-- The live referral for a need of a case (at most one: referral_open_need_idx).
SELECT sqlc.embed(referral) FROM referral
WHERE case_id = @case_id AND need = @need AND status = ANY(@open_statuses::text[]);

-- name: TriedServices :many
-- Every service already asked for this need of this case, never asked again.
SELECT DISTINCT service_id FROM referral WHERE case_id = @case_id AND need = @need;
