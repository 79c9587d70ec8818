-- A danger alert to the staff on call carries a reply code; until someone
-- answers "OK <code>" from a phone it was sent to, a River job escalates it
-- to the supervisor and the fallback duty phones, once (hotline/danger.go).
-- One row per phone alerted; phones are staff work numbers, as in on_call.
-- +goose Up
CREATE TABLE danger_alert (
    id           uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES case_file (id) ON DELETE CASCADE,
    phone        text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    reply_code   text NOT NULL CHECK (reply_code ~ '^[0-9]{4}$'),
    created_at   timestamptz NOT NULL,
    answer_by    timestamptz NOT NULL,
    answered_at  timestamptz,
    escalated_at timestamptz
);
CREATE INDEX danger_alert_case_idx ON danger_alert (case_id);
CREATE INDEX danger_alert_reply_idx ON danger_alert (phone, reply_code, created_at);
CREATE INDEX danger_alert_code_idx ON danger_alert (created_at, reply_code);

-- +goose Down
DROP TABLE danger_alert;
