-- Where a service is, from the directory: a health post's name and address
-- are texted to her when it takes her request. Work data, not hers.
-- +goose Up
ALTER TABLE service ADD COLUMN address text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE service DROP COLUMN address;
