-- name: LockChain :exec
-- Serialises appends so each row sees its true predecessor.
SELECT pg_advisory_xact_lock(@key::bigint);

-- name: ChainHead :one
SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1;

-- name: AppendRow :exec
-- An empty case id is a row about no case.
INSERT INTO audit_log (at, actor, action, case_id, detail, prev_hash, hash)
VALUES (@at, @actor, @action, NULLIF(@case_id::text, '')::uuid, @detail, @prev_hash, @hash);

-- name: Chain :many
-- Oldest first, as the hashes chain. The case id comes back as the text
-- that was hashed ('' for none). Verify streams it row by row (the
-- exported Chain text): the generated method would hold the whole log.
SELECT id, at, actor, action, COALESCE(case_id::text, '')::text AS case_id, detail, prev_hash, hash
FROM audit_log ORDER BY id;

-- name: ForCase :many
-- Newest first.
SELECT id, at, actor, action, detail FROM audit_log
WHERE case_id = (@case_id::text)::uuid ORDER BY id DESC LIMIT @max;
