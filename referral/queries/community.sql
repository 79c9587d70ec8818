-- name: Communities :many
-- The communities offered to survivors, in the order she reads them.
SELECT key, name FROM community ORDER BY position;

-- name: CoveredCommunities :many
-- What active services cover, for a directory that lists no communities;
-- '*' (AnyCommunity) covers every community and names none.
SELECT DISTINCT c::text AS c FROM service, unnest(communities) c
WHERE active AND c <> @any_community::text ORDER BY c;

-- name: DeleteCommunities :exec
-- The list is replaced whole: its order is part of what it says.
DELETE FROM community;

-- name: InsertCommunity :exec
INSERT INTO community (key, name, position, demo) VALUES (@key, @name, @position, @demo);
