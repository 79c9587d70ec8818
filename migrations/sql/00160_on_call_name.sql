-- Who is on call, so `amparo oncall list` tells two shifts on one phone apart.
-- A staff member's name, never a survivor's.
-- +goose Up
ALTER TABLE on_call ADD COLUMN name text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE on_call DROP COLUMN name;
