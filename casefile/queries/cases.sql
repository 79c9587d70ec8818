-- name: GetCase :one
-- The case and its key, to open it. A case is read as a whole row here and
-- in every CaseRow query, so its columns are listed once, by the schema, and
-- factsOf turns the row into the package's types.
SELECT sqlc.embed(case_file), case_key.kek_id, case_key.wrapped_dek
FROM case_file JOIN case_key ON case_key.case_id = case_file.id
WHERE case_file.id = @id;

-- name: CaseRow :one
SELECT * FROM case_file WHERE id = @id;

-- name: CaseRowForShare :one
-- LockCaseFacts: an erasure of the case waits for the caller's transaction.
SELECT * FROM case_file WHERE id = @id FOR SHARE;

-- name: CaseRowForNoKeyUpdate :one
-- FOR NO KEY UPDATE, not FOR UPDATE: AddNote, AddFollowUp and referral
-- inserts check their foreign key with FOR KEY SHARE on this row while
-- holding locks an erasure needs next (the case key, the audit chain), so a
-- FOR UPDATE here deadlocks with them and PostgreSQL aborts the erasure.
-- Completing or shredding a case changes no key column, so the weaker lock
-- is all their UPDATEs need.
SELECT * FROM case_file WHERE id = @id FOR NO KEY UPDATE;

-- name: ListCases :many
-- Queue order: urgent first, then the nearest clinical deadline, then the
-- oldest. Zero filters match everything.
SELECT * FROM case_file
WHERE (sqlc.narg('contact_id')::uuid IS NULL OR contact_id = sqlc.narg('contact_id'))
  AND (@status::text = '' OR status = @status)
ORDER BY urgent DESC, next_deadline NULLS LAST, created_at, id
LIMIT @max;

-- name: CountCases :many
SELECT status, count(*) FROM case_file GROUP BY status;

-- name: CaseReference :one
SELECT reference FROM case_file WHERE id = @id;

-- name: CaseReferences :many
SELECT id, reference FROM case_file WHERE id = ANY(@ids::uuid[]);

-- name: CaseContact :one
SELECT contact_id FROM case_file WHERE id = @id;

-- name: KeyOfCase :one
SELECT * FROM case_key WHERE case_id = @case_id;

-- name: KeyOfCaseForShare :one
-- A write sealed under the key cannot interleave with an erasure of the case.
SELECT * FROM case_key WHERE case_id = @case_id FOR SHARE;

-- name: InsertCase :execrows
-- A clash of references inserts nothing; OpenCase draws another.
INSERT INTO case_file (id, reference, contact_id, urgent, needs, consented_needs, community,
    may_text, may_call, contact_from_hour, contact_to_hour, lang,
    pep_deadline, ec_deadline, incident_sealed, narrative_sealed, created_at)
VALUES (@id, @reference, @contact_id, @urgent, @needs, @consented_needs, @community,
    @may_text, @may_call, @contact_from_hour, @contact_to_hour, @lang,
    @pep_deadline, @ec_deadline, @incident_sealed, @narrative_sealed, @created_at)
ON CONFLICT (reference) DO NOTHING;

-- name: InsertCaseKey :exec
INSERT INTO case_key (case_id, kek_id, wrapped_dek) VALUES (@case_id, @kek_id::text, @wrapped_dek);

-- name: CompleteCase :exec
UPDATE case_file SET urgent = @urgent, needs = @needs, consented_needs = @consented_needs,
    community = @community, may_text = @may_text, may_call = @may_call,
    contact_from_hour = @contact_from_hour, contact_to_hour = @contact_to_hour, lang = @lang,
    pep_deadline = @pep_deadline, ec_deadline = @ec_deadline,
    incident_sealed = @incident_sealed, narrative_sealed = @narrative_sealed
WHERE id = @id;

-- name: LiveCasesOfContactForNoKeyUpdate :many
-- EraseContact locks her live cases as EraseCase locks one (FOR NO KEY
-- UPDATE), in id order.
SELECT id, reference FROM case_file
WHERE contact_id = @contact_id AND erased_at IS NULL
ORDER BY id FOR NO KEY UPDATE;

-- name: ShredCaseKey :exec
UPDATE case_key SET kek_id = NULL, wrapped_dek = NULL, destroyed_at = @now::timestamptz WHERE case_id = @case_id;

-- name: ShredCase :exec
-- The clinical deadlines go too: they imply the incident time.
UPDATE case_file SET status = 'erased', erased_at = @now::timestamptz, incident_sealed = NULL, narrative_sealed = NULL,
    pep_deadline = NULL, ec_deadline = NULL
WHERE id = @id;

-- name: ShredCaseNotes :exec
UPDATE case_note SET body_sealed = NULL WHERE case_id = @case_id;

-- name: ShredFollowUps :exec
-- Some tasks are timed by a clinical deadline (referral's "serve deadline
-- near"), so their times would tell the incident time.
UPDATE follow_up SET note_sealed = NULL, status = CASE WHEN status = 'open' THEN 'canceled' ELSE status END,
    due_at = @now, created_at = @now
WHERE case_id = @case_id;
