-- Survivors (contact), their cases and everything written about them.
--
-- Rule (DESIGN §3): a column is plaintext only if it is a coarse operational
-- fact (ids, status, timestamps, urgency, service kinds, community, consent,
-- deadlines, contact hours). Everything that identifies a survivor or tells
-- what happened is a *_sealed bytea, encrypted by package casefile under the
-- row's data key (DEK); the DEK is stored only wrapped by a key-encryption key
-- (KEK) that lives outside the database. Erasure destroys the wrapped DEK
-- (crypto-shredding) and also drops the ciphertext from the live tables.
-- +goose Up
CREATE TABLE contact (
    id               uuid PRIMARY KEY,
    -- HMAC of the E.164 number under the blind-index key index_key_id; NULL
    -- once erased, so she is no longer recognised when she texts again.
    phone_index      bytea UNIQUE,
    index_key_id     text,
    kek_id           text,
    wrapped_dek      bytea,
    phone_sealed     bytea,
    -- Keyed one-way token of the normalised code word (purpose bound to the
    -- contact id), so neither the database nor the application can read it.
    code_word_token  bytea,
    code_word_key_id text,
    -- Wrong code words in a row, and the lock they trigger: a caller ID can
    -- be spoofed, so guessing must not be free.
    code_word_failures     smallint NOT NULL DEFAULT 0,
    code_word_locked_until timestamptz,
    created_at       timestamptz NOT NULL,
    erased_at        timestamptz,
    CONSTRAINT contact_live_has_keys CHECK (
        erased_at IS NOT NULL OR (phone_index IS NOT NULL AND index_key_id IS NOT NULL
            AND kek_id IS NOT NULL AND wrapped_dek IS NOT NULL AND phone_sealed IS NOT NULL)),
    CONSTRAINT contact_erased_has_nothing CHECK (
        erased_at IS NULL OR (phone_index IS NULL AND wrapped_dek IS NULL
            AND phone_sealed IS NULL AND code_word_token IS NULL)),
    CONSTRAINT contact_code_word_keyed CHECK ((code_word_token IS NULL) = (code_word_key_id IS NULL))
);
-- The re-wrap job and `amparo keys status` look for keys by KEK / index key.
CREATE INDEX contact_kek_idx ON contact (kek_id) WHERE wrapped_dek IS NOT NULL;
CREATE INDEX contact_index_key_idx ON contact (index_key_id) WHERE phone_index IS NOT NULL;

CREATE TABLE case_file (
    id                uuid PRIMARY KEY,
    reference         text NOT NULL UNIQUE CHECK (reference ~ '^AMP-[0-9A-Z]{4,8}$'),
    contact_id        uuid NOT NULL REFERENCES contact (id),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'erased')),
    urgent            boolean NOT NULL,
    needs             text[] NOT NULL CHECK (needs <@ ARRAY['health', 'police', 'shelter', 'legal', 'psychosocial']),
    -- The needs she agreed to be referred for (a subset of needs).
    consented_needs   text[] NOT NULL DEFAULT '{}' CHECK (consented_needs <@ needs),
    community         text NOT NULL DEFAULT '',
    may_text          boolean NOT NULL,
    may_call          boolean NOT NULL,
    contact_from_hour smallint NOT NULL CHECK (contact_from_hour BETWEEN 0 AND 23),
    contact_to_hour   smallint NOT NULL CHECK (contact_to_hour BETWEEN 0 AND 24),
    lang              text NOT NULL CHECK (lang IN ('es', 'en')),
    -- Clinical deadlines stay plaintext so the queue and SLA timers work
    -- without decrypting; the incident time itself is sealed. Erasure clears
    -- them, since they imply the incident time.
    pep_deadline      timestamptz,
    ec_deadline       timestamptz,
    next_deadline     timestamptz GENERATED ALWAYS AS (LEAST(pep_deadline, ec_deadline)) STORED,
    incident_sealed   bytea,
    narrative_sealed  bytea,
    created_at        timestamptz NOT NULL,
    erased_at         timestamptz,
    CONSTRAINT case_erased_is_empty CHECK (
        erased_at IS NULL OR (status = 'erased' AND incident_sealed IS NULL AND narrative_sealed IS NULL
            AND pep_deadline IS NULL AND ec_deadline IS NULL))
);
CREATE INDEX case_file_contact_idx ON case_file (contact_id, created_at);
-- The caseworker queue: live cases, urgent first, then nearest clinical
-- deadline, then oldest.
CREATE INDEX case_file_queue_idx ON case_file (status, urgent DESC, next_deadline NULLS LAST, created_at)
    WHERE erased_at IS NULL;
-- Statistics by period and community keep working after erasure.
CREATE INDEX case_file_stats_idx ON case_file (created_at, community);

CREATE TABLE case_key (
    case_id      uuid PRIMARY KEY REFERENCES case_file (id),
    kek_id       text,
    wrapped_dek  bytea,
    destroyed_at timestamptz,
    CONSTRAINT case_key_live_or_destroyed CHECK (
        (destroyed_at IS NULL AND kek_id IS NOT NULL AND wrapped_dek IS NOT NULL)
        OR (destroyed_at IS NOT NULL AND kek_id IS NULL AND wrapped_dek IS NULL))
);
CREATE INDEX case_key_kek_idx ON case_key (kek_id) WHERE destroyed_at IS NULL;

CREATE TABLE case_note (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES case_file (id),
    author      text NOT NULL,
    body_sealed bytea,
    created_at  timestamptz NOT NULL
);
CREATE INDEX case_note_case_idx ON case_note (case_id, created_at);

CREATE TABLE follow_up (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES case_file (id),
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,39}$'),
    due_at      timestamptz NOT NULL,
    urgent      boolean NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    note_sealed bytea,
    created_at  timestamptz NOT NULL
);
CREATE INDEX follow_up_case_idx ON follow_up (case_id, created_at);
-- The caseworker task list: open tasks, urgent first, then soonest due.
CREATE INDEX follow_up_open_idx ON follow_up (urgent DESC, due_at) WHERE status = 'open';

-- +goose Down
DROP TABLE follow_up;
DROP TABLE case_note;
DROP TABLE case_key;
DROP TABLE case_file;
DROP TABLE contact;
