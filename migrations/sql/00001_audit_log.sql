-- The audit trail: who did what to which case. Append-only (enforced by a
-- trigger, not just by convention) and hash-chained so that an edit made
-- around the trigger, directly on disk or in a restored backup, is detectable.
-- +goose Up
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    case_id   uuid,
    detail    text NOT NULL DEFAULT '',
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL UNIQUE
);
CREATE INDEX audit_log_case_idx ON audit_log (case_id, id) WHERE case_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
