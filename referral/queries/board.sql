-- The board's overdue counts and rows are built in Go (Board): their filters are
-- chosen at run time for the planner. What follows has no filters.

-- name: BoardChains :many
-- The earlier referrals of each listed referral, oldest first per leaf, each
-- with the reason on the event that closed it. depth bounds a chain that,
-- through a bug, pointed at itself.
WITH RECURSIVE chain (leaf, id, depth) AS (
    SELECT id, parent_id, 1 FROM referral WHERE id = ANY(@leaves::uuid[]) AND parent_id IS NOT NULL
    UNION ALL
    SELECT c.leaf, p.parent_id, c.depth + 1 FROM chain c JOIN referral p ON p.id = c.id
    WHERE p.parent_id IS NOT NULL AND c.depth < 32)
SELECT c.leaf, s.name, p.status, p.updated_at,
    COALESCE((SELECT e.reason FROM referral_event e WHERE e.referral_id = p.id AND e.to_status = p.status
        ORDER BY e.id DESC LIMIT 1), '')::text AS reason
FROM chain c JOIN referral p ON p.id = c.id JOIN service s ON s.id = p.service_id
ORDER BY c.leaf, c.depth DESC;

-- name: BoardServices :many
SELECT id, name FROM service ORDER BY name, id;

-- name: BoardCommunities :many
-- Spelled as cases and referrals spell them ("el-porvenir"); read from the
-- directory, which costs nothing, not from the open referrals.
SELECT DISTINCT replace(c, ' ', '-') FROM service, unnest(communities) c
WHERE c <> @any_community::text ORDER BY 1;

-- name: BoardCounts :many
-- Open referrals per state from the counters kept by the trigger of
-- migration 00260, with the board's filters (an empty one: any). The
-- catch-alls cost nothing here: the table has a row per (state, community,
-- need, service), a few hundred, not one per referral.
SELECT status, sum(n)::bigint AS n
FROM referral_board_count
WHERE status = ANY(@states::text[])
  AND (COALESCE(cardinality(@scope::text[]), 0) = 0 OR community = ANY(@scope::text[]))
  AND (@community::text = '' OR community = @community::text)
  AND (@need::text = '' OR need = @need::text)
  AND (@service_id::uuid = '00000000-0000-0000-0000-000000000000' OR service_id = @service_id::uuid)
GROUP BY status;
