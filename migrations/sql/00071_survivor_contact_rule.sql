-- A text to a survivor is no longer tied to the hours stored with it: the
-- sender reads what she allows from her case when the text is due
-- (hotline.ContactAt), so a change of her hours or a SALIR in between holds.
-- +goose Up
ALTER TABLE outbound_message DROP COLUMN window_from, DROP COLUMN window_to;

-- +goose Down
ALTER TABLE outbound_message ADD COLUMN window_from smallint, ADD COLUMN window_to smallint;
