-- Wrong reply codes per provider phone, in a fixed window. Codes are four
-- digits, so guessing is bounded here and not in a server's memory: every
-- copy of the server shares the count.
-- +goose Up
CREATE TABLE provider_code_miss (
    phone        text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    misses       integer NOT NULL CHECK (misses > 0)
);

-- +goose Down
DROP TABLE provider_code_miss;
