-- Referrals: the service directory, the referrals made to it and their
-- history, the on-call roster and the provider-reply rate limit. Nothing here
-- identifies a survivor: a referral points at a case by id and carries only
-- the need, urgency, status and deadlines; provider and staff phone numbers
-- are work numbers, not survivor data.
-- +goose Up
CREATE TABLE organization (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key        text NOT NULL UNIQUE,
    name       text NOT NULL,
    demo       boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE service (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key             text NOT NULL UNIQUE,
    organization_id uuid NOT NULL REFERENCES organization (id),
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('health_post', 'police', 'shelter', 'cem', 'legal_aid', 'psychosocial')),
    needs           text[] NOT NULL CHECK (cardinality(needs) > 0),
    -- Normalised community names ("el porvenir"); '*' covers every community.
    communities     text[] NOT NULL,
    -- "always", or {"mon": ["08:00-20:00"], ...} in the service's time zone.
    hours           jsonb NOT NULL,
    timezone        text NOT NULL DEFAULT 'America/Lima',
    capacity        integer NOT NULL CHECK (capacity >= 0),
    duty_phone      text NOT NULL CHECK (duty_phone ~ '^\+[1-9][0-9]{6,14}$'),
    lang            text NOT NULL DEFAULT 'es',
    ack_urgent_min  integer NOT NULL CHECK (ack_urgent_min > 0),
    ack_routine_min integer NOT NULL CHECK (ack_routine_min > 0),
    priority        integer NOT NULL DEFAULT 100,
    next_service_id uuid REFERENCES service (id) ON DELETE SET NULL,
    -- false while nobody answers the duty phone: routing and escalation skip it.
    active          boolean NOT NULL DEFAULT true,
    demo            boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_needs_idx ON service USING gin (needs);
CREATE INDEX service_duty_phone_idx ON service (duty_phone);

CREATE TABLE referral (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES case_file (id) ON DELETE CASCADE,
    service_id  uuid NOT NULL REFERENCES service (id),
    parent_id   uuid REFERENCES referral (id) ON DELETE SET NULL,
    need        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'notified', 'acknowledged', 'accepted', 'declined',
                                                'completed', 'revoked', 'expired', 'escalated')),
    urgent      boolean NOT NULL,
    override    boolean NOT NULL DEFAULT false,
    ack_by      timestamptz NOT NULL,
    serve_by    timestamptz,
    breached_at timestamptz,
    reply_code  text NOT NULL CHECK (reply_code ~ '^[0-9]{4}$'),
    code_phone  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
-- The open statuses below must match Status.Open in referral/status.go
-- (a test compares them). A code means something only together with the
-- phone it was sent to, and only while its referral is open.
CREATE UNIQUE INDEX referral_open_code_idx ON referral (code_phone, reply_code)
    WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted');
-- One live referral per need of a case: a retried CreateForCase, or two
-- copies of the server racing, cannot send a survivor to two places at once.
CREATE UNIQUE INDEX referral_open_need_idx ON referral (case_id, need)
    WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted');
CREATE INDEX referral_service_open_idx ON referral (service_id)
    WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted');
CREATE INDEX referral_case_idx ON referral (case_id, created_at);

CREATE TABLE referral_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referral (id) ON DELETE CASCADE,
    from_status text,
    to_status   text NOT NULL,
    actor       text NOT NULL,
    -- A short code ("ack_deadline_missed", "override:imminent_danger"), never prose.
    reason      text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX referral_event_referral_idx ON referral_event (referral_id, id);

CREATE TABLE on_call (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role      text NOT NULL CHECK (role IN ('counsellor', 'supervisor')),
    phone     text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX on_call_role_idx ON on_call (role, starts_at, ends_at);

-- Provider replies per phone in a fixed window. In PostgreSQL, not in memory,
-- because every copy of the server must see the same count.
CREATE TABLE provider_reply_limit (
    phone        text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL
);

-- +goose Down
DROP TABLE provider_reply_limit;
DROP TABLE on_call;
DROP TABLE referral_event;
DROP TABLE referral;
DROP TABLE service;
DROP TABLE organization;
