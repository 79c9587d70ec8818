-- Every SMS rewrites her conversation's last_activity. While that column was
-- indexed (conversation_idle_idx), no such update could be HOT: each one
-- added a new entry to every index of the table. The expiry sweep finds idle
-- conversations through started_at instead, which never changes and is
-- never later than last_activity: a conversation idle for longer than
-- IdleAfter also began longer ago than that.
--
-- The fillfactor leaves room on each page for the new row versions those
-- updates write, so that they can stay on the page (HOT). It applies to
-- pages written from now on.
-- +goose Up
DROP INDEX conversation_idle_idx;
CREATE INDEX conversation_started_idx ON conversation (started_at) WHERE status = 'active';
ALTER TABLE conversation SET (fillfactor = 75);

-- +goose Down
ALTER TABLE conversation RESET (fillfactor);
DROP INDEX conversation_started_idx;
CREATE INDEX conversation_idle_idx ON conversation (last_activity) WHERE status = 'active';
