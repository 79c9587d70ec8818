-- One row per step of a voice call that has effects ("in danger now" opens
-- the urgent case and alerts whoever is on call; "nobody answered" files the
-- urgent callback). The unique key on (call_sid, step) is what makes a
-- retried or duplicated voice webhook a no-op: the row is inserted first, in
-- the same transaction as the effects, so a concurrent copy waits on it and
-- then does nothing. The TwiML answered the first time is kept, sealed under
-- the row's own data key, so every copy gets the same answer. call_sid is
-- Twilio's id; nothing about the caller is stored here.
-- +goose Up
CREATE TABLE voice_event (
    id           uuid PRIMARY KEY,
    call_sid     text NOT NULL,
    step         text NOT NULL CHECK (step IN ('danger', 'dialed')),
    kek_id       text NOT NULL,
    wrapped_dek  bytea NOT NULL,
    twiml_sealed bytea,
    at           timestamptz NOT NULL,
    UNIQUE (call_sid, step)
);

-- +goose Down
DROP TABLE voice_event;
