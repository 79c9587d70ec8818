-- The hotline's own tables: what came in from Twilio, what goes out, the
-- sealed triage conversation, and abuse control. Phone numbers appear only as
-- blind indexes (HMAC) or sealed under a per-row data key; bodies only sealed.
-- +goose Up

-- One row per Twilio MessageSid: the unique key is what makes a retried or
-- duplicated webhook a no-op. The reply we answered with is kept (sealed) so
-- a retry gets the same TwiML. Erasure (BORRAR) nulls the key and blobs.
CREATE TABLE inbound_message (
    id          uuid PRIMARY KEY,
    message_sid text NOT NULL UNIQUE,
    phone_index bytea,
    kek_id      text,
    wrapped_dek bytea,
    body_sealed bytea,
    reply_sealed bytea,
    outcome     text NOT NULL DEFAULT 'received'
        CHECK (outcome IN ('received', 'survivor', 'provider', 'blocked', 'rate_limited', 'unroutable', 'erased')),
    received_at timestamptz NOT NULL
);
CREATE INDEX inbound_message_phone_idx ON inbound_message (phone_index) WHERE phone_index IS NOT NULL;

-- The triage conversation with one caller. state is triage.State as JSON,
-- sealed with the conversation's own data key (wrapped by a KEK). It stays
-- active (SALIR and the summary are states of triage) until it expires or
-- she erases; then only coarse facts remain: key and state are nulled.
CREATE TABLE conversation (
    id            uuid PRIMARY KEY,
    phone_index   bytea NOT NULL,
    contact_id    uuid,
    case_id       uuid,
    kek_id        text,
    wrapped_dek   bytea,
    state_sealed  bytea,
    status        text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'expired', 'erased')),
    -- she flagged danger now and the triage has not reached an end: if she
    -- goes silent, a counsellor calls back.
    danger        boolean NOT NULL DEFAULT false,
    started_at    timestamptz NOT NULL,
    last_activity timestamptz NOT NULL
);
-- At most one live conversation per caller, whatever the interleaving.
CREATE UNIQUE INDEX conversation_active_idx ON conversation (phone_index) WHERE status = 'active';
CREATE INDEX conversation_idle_idx ON conversation (last_activity) WHERE status = 'active';

-- A caller who said SALIR/STOP: nothing the system starts goes to her until
-- she writes again.
CREATE TABLE sms_opt_out (
    phone_index bytea PRIMARY KEY,
    at          timestamptz NOT NULL
);

-- Outbound SMS handed to Twilio by the hotline.send_sms River job. status_rank
-- lets a status callback move a row forward only, in one UPDATE.
CREATE TABLE outbound_message (
    id           uuid PRIMARY KEY,
    purpose      text NOT NULL CHECK (purpose IN ('provider_notice', 'staff_alert', 'survivor')),
    referral_id  uuid,
    case_id      uuid,
    to_index     bytea NOT NULL,
    kek_id       text,
    wrapped_dek  bytea,
    to_sealed    bytea,
    body_sealed  bytea,
    status       text NOT NULL DEFAULT 'pending',
    status_rank  smallint NOT NULL DEFAULT 0,
    not_before   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    window_from  smallint,
    window_to    smallint,
    twilio_sid   text UNIQUE,
    attempts     integer NOT NULL DEFAULT 0,
    error_code   integer,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX outbound_message_to_idx ON outbound_message (to_index) WHERE status = 'pending';

-- Per-caller message counter over a fixed window, shared by every copy of
-- the server. The row lock it takes also serialises one caller's messages.
CREATE TABLE caller_rate (
    phone_index  bytea PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL
);

-- A supervisor's block on a caller. reason is a code from a fixed list, never
-- free text, because it is shown and audited.
CREATE TABLE caller_block (
    id          uuid PRIMARY KEY,
    phone_index bytea NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('prank', 'abusive', 'spam', 'impersonation', 'other')),
    until       timestamptz NOT NULL,
    set_by      text NOT NULL,
    created_at  timestamptz NOT NULL,
    lifted_at   timestamptz
);
CREATE INDEX caller_block_phone_idx ON caller_block (phone_index, until) WHERE lifted_at IS NULL;

-- A voice call that reached "in danger now": a retried webhook of the same
-- call finds its case instead of opening a second one.
CREATE TABLE voice_call (
    call_sid text PRIMARY KEY,
    case_id  uuid NOT NULL,
    at       timestamptz NOT NULL
);

-- +goose Down
DROP TABLE voice_call;
DROP TABLE caller_block;
DROP TABLE caller_rate;
DROP TABLE outbound_message;
DROP TABLE sms_opt_out;
DROP TABLE conversation;
DROP TABLE inbound_message;
