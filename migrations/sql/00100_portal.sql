-- The staff portal: accounts, their server-side sessions, and the case
-- columns the caseworker's desk orders and filters by.
--
-- staff_user belongs to package portal. Its TOTP secret is sealed under a
-- per-account data key wrapped by a KEK, like a case's; the password is an
-- Argon2id PHC string. Lockout state lives here, not in a process's memory,
-- because several copies of the server share it.
-- +goose Up
CREATE TABLE staff_user (
    id               uuid PRIMARY KEY,
    username         text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    role             text NOT NULL CHECK (role IN ('caseworker', 'supervisor', 'provider', 'admin')),
    -- The provider's organisation (organization.key); NULL for staff of the hotline.
    org_key          text REFERENCES organization (key),
    -- The communities whose cases she works; empty means every community.
    communities      text[] NOT NULL DEFAULT '{}',
    password_hash    text NOT NULL,
    kek_id           text NOT NULL,
    wrapped_dek      bytea NOT NULL,
    totp_sealed      bytea NOT NULL,
    -- Set by the first sign-in that gives a valid code; until then the
    -- sign-in page shows the enrolment QR code.
    totp_enrolled_at timestamptz,
    -- The last 30-second step whose code was accepted: a code is good once.
    totp_last_step   bigint NOT NULL DEFAULT 0,
    failed_attempts  integer NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    disabled_at      timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT staff_provider_has_org CHECK ((role = 'provider') = (org_key IS NOT NULL))
);

-- scs's pgxstore layout: the session library owns the rows' contents.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Owned by casefile: who works the case, and the GBVIMS incident type
-- (one of the six core types; a coarse category kept for statistics).
ALTER TABLE case_file
    ADD COLUMN assigned_to uuid REFERENCES staff_user (id),
    ADD COLUMN incident_type text CHECK (incident_type IN ('rape', 'sexual_assault', 'physical_assault',
        'forced_marriage', 'denial_of_resources', 'psychological_abuse'));
-- The desk's tiers each read one of these, newest work first, so the
-- queue page never sorts every open case.
CREATE INDEX case_file_desk_urgent_idx ON case_file (created_at) WHERE status = 'open' AND urgent;
CREATE INDEX case_file_desk_pep_idx ON case_file (pep_deadline) WHERE status = 'open' AND pep_deadline IS NOT NULL;
CREATE INDEX case_file_desk_ec_idx ON case_file (ec_deadline) WHERE status = 'open' AND ec_deadline IS NOT NULL;
CREATE INDEX case_file_desk_open_idx ON case_file (created_at) WHERE status = 'open';
CREATE INDEX case_file_assigned_idx ON case_file (assigned_to) WHERE status = 'open';
CREATE INDEX follow_up_desk_idx ON follow_up (due_at, case_id) WHERE status = 'open';
CREATE INDEX follow_up_desk_now_idx ON follow_up (due_at, case_id) WHERE status = 'open' AND (kind = 'callback' OR urgent);
-- Referrals that wait for an acknowledgement (the desk's stalled tier).
CREATE INDEX referral_stalled_idx ON referral (ack_by, case_id) WHERE status IN ('pending', 'notified');

-- +goose Down
DROP INDEX referral_stalled_idx;
DROP INDEX follow_up_desk_now_idx;
DROP INDEX follow_up_desk_idx;
ALTER TABLE case_file DROP COLUMN incident_type, DROP COLUMN assigned_to;
DROP TABLE sessions;
DROP TABLE staff_user;
