-- The communities a survivor picks from, in the order she is offered them:
-- data from the service directory, so that another city needs no code
-- change. Names and keys of places, never anything about a person.
-- +goose Up
CREATE TABLE community (
    key      text PRIMARY KEY,
    name     text NOT NULL CHECK (name <> ''),
    position integer NOT NULL UNIQUE,
    demo     boolean NOT NULL DEFAULT false
);

-- +goose Down
DROP TABLE community;
