-- name: Desk :many
-- The caseworker's queue, most pressing first; each tier is one indexed
-- range bounded by @max. Desk runs it planned for its arguments every time
-- (QueryExecModeExec): a cached generic plan would not know that @status is
-- 'open' and so could not use the partial indexes the tiers are built on.
-- Every tier applies the same scope to its case row c: the viewer works the
-- cases in @communities (every community when empty) and those assigned to
-- her; @community and @assigned_to are the page's own filters.
-- The stalled cases and since when come as text: QueryExecModeExec sends
-- untyped parameters.
WITH tiers AS (
    (SELECT c.id, 0 AS tier, c.created_at AS due FROM case_file c
     WHERE c.status = @status AND c.urgent
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY c.created_at LIMIT @max)
    UNION ALL
    (SELECT c.id, 0, f.due_at FROM follow_up f JOIN case_file c ON c.id = f.case_id
     WHERE f.status = 'open' AND (f.kind = 'callback' OR f.urgent) AND c.status = @status
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY f.due_at LIMIT @max)
    UNION ALL
    -- Each window on its own: next_deadline would hide an open EC
    -- window once the PEP window before it has closed.
    (SELECT c.id, 1, c.pep_deadline FROM case_file c
     WHERE c.status = @status AND c.pep_deadline > @now::timestamptz
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY c.pep_deadline LIMIT @max)
    UNION ALL
    (SELECT c.id, 1, c.ec_deadline FROM case_file c
     WHERE c.status = @status AND c.ec_deadline > @now::timestamptz
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY c.ec_deadline LIMIT @max)
    UNION ALL
    (SELECT c.id, 2, s.since FROM ROWS FROM (unnest(CAST(sqlc.arg(stalled_ids)::text[] AS uuid[])), unnest(CAST(sqlc.arg(stalled_since)::text[] AS timestamptz[]))) AS s(id, since)
     JOIN case_file c ON c.id = s.id WHERE c.status = @status
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY s.since LIMIT @max)
    UNION ALL
    (SELECT c.id, 3, f.due_at FROM follow_up f JOIN case_file c ON c.id = f.case_id
     WHERE f.status = 'open' AND f.due_at <= @horizon::timestamptz AND c.status = @status
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY f.due_at LIMIT @max)
    UNION ALL
    (SELECT c.id, 4, c.created_at FROM case_file c
     WHERE c.status = @status
       AND (cardinality(@communities::text[]) = 0 OR lower(c.community) = ANY(@communities::text[]) OR c.assigned_to = @viewer::uuid)
           AND (@community::text = '' OR lower(c.community) = @community)
           AND (sqlc.narg('assigned_to')::uuid IS NULL OR c.assigned_to = sqlc.narg('assigned_to'))
     ORDER BY c.created_at DESC LIMIT @max)
), best AS (
    SELECT DISTINCT ON (id) id, tier, due FROM tiers ORDER BY id, tier, due
)
SELECT c.id, c.reference, c.status, c.urgent, c.needs, c.community, c.assigned_to, b.tier, b.due
FROM best b JOIN case_file c ON c.id = b.id
-- the last tier runs newest first: nothing in it is due
ORDER BY b.tier, CASE WHEN b.tier = 4 THEN -extract(epoch FROM b.due) ELSE extract(epoch FROM b.due) END, c.id
LIMIT @max;

-- name: CaseScope :one
-- What an access decision needs to know of a case; an erased case has one
-- too (its plaintext columns remain).
SELECT community, assigned_to, status FROM case_file WHERE id = @id;

-- name: Assign :one
UPDATE case_file SET assigned_to = @assigned_to::uuid WHERE id = @id RETURNING erased_at;

-- name: SetIncidentType :execrows
UPDATE case_file SET incident_type = @incident_type::text WHERE id = @id AND erased_at IS NULL;

-- name: IncidentType :one
SELECT incident_type FROM case_file WHERE id = @id;
