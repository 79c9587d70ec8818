-- Counters for the supervisors' SLA board: open referrals per (status,
-- community, need, service). Without them the board counted every open
-- referral from referral_board_idx on every load (100,000 index entries and
-- more, most of the page's time; bench/README.md, "Portal: SLA board"). Now
-- it sums a few hundred counter rows and counts from the index only the
-- overdue ranges, which are small.
--
-- The counts are kept by a trigger on referral, not by the transitions in
-- Go: every way a referral changes (the transitions, escalation, erasure,
-- a case's delete cascading, a hand-made fix in psql) passes through it, in
-- the same transaction as the change, so a count cannot drift from the rows
-- it counts. Only the board's open states are counted; a referral that
-- leaves them leaves the counters.
--
-- referral.status, community, need and service_id are all NOT NULL
-- (community since 00210, with '' for a referral routed without one), so
-- the key needs no sentinel for NULL: '' is already the value the board's
-- filters compare with.
--
-- A counter row whose count falls to 0 stays: the keys are few (states x
-- communities x needs x services), and a row that is never deleted cannot
-- race with a concurrent insert of the same key. A decrement that finds no
-- row, or would go below zero, fails the write instead of leaving a wrong
-- count. The counters hold no more than the board already shows: coarse
-- community, need and service, no case and nothing about a survivor.
-- +goose Up
CREATE TABLE referral_board_count (
    status     text NOT NULL CHECK (status IN ('pending', 'notified', 'acknowledged', 'accepted')),
    community  text NOT NULL,
    need       text NOT NULL,
    service_id uuid NOT NULL,
    n          integer NOT NULL CHECK (n >= 0),
    PRIMARY KEY (status, community, need, service_id)
);

-- +goose StatementBegin
CREATE FUNCTION referral_board_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- The board's open states: keep in step with referral.BoardStates
    -- (referral/board.go) and referral_board_idx (00210).
    was_open boolean := TG_OP <> 'INSERT' AND OLD.status IN ('pending', 'notified', 'acknowledged', 'accepted');
    is_open  boolean := TG_OP <> 'DELETE' AND NEW.status IN ('pending', 'notified', 'acknowledged', 'accepted');
    dec_first boolean;
BEGIN
    IF was_open AND is_open AND (OLD.status, OLD.community, OLD.need, OLD.service_id)
            IS NOT DISTINCT FROM (NEW.status, NEW.community, NEW.need, NEW.service_id) THEN
        RETURN NULL;
    END IF;
    -- Two counter rows change in key order, so two transitions cannot
    -- take the same pair of row locks in opposite orders.
    dec_first := NOT is_open OR (was_open AND (OLD.status, OLD.community, OLD.need, OLD.service_id)
        < (NEW.status, NEW.community, NEW.need, NEW.service_id));
    IF was_open AND dec_first THEN
        UPDATE referral_board_count SET n = n - 1
        WHERE status = OLD.status AND community = OLD.community AND need = OLD.need AND service_id = OLD.service_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'referral_board_count: no counter for an open referral (%)', OLD.status;
        END IF;
    END IF;
    IF is_open THEN
        INSERT INTO referral_board_count AS c (status, community, need, service_id, n)
        VALUES (NEW.status, NEW.community, NEW.need, NEW.service_id, 1)
        ON CONFLICT (status, community, need, service_id) DO UPDATE SET n = c.n + 1;
    END IF;
    IF was_open AND NOT dec_first THEN
        UPDATE referral_board_count SET n = n - 1
        WHERE status = OLD.status AND community = OLD.community AND need = OLD.need AND service_id = OLD.service_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'referral_board_count: no counter for an open referral (%)', OLD.status;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Writers wait from here to the commit, so the backfill below counts
-- exactly the rows the trigger will go on from.
LOCK TABLE referral IN SHARE ROW EXCLUSIVE MODE;
CREATE TRIGGER referral_board_count_insert_delete AFTER INSERT OR DELETE ON referral
    FOR EACH ROW EXECUTE FUNCTION referral_board_count_move();
CREATE TRIGGER referral_board_count_update AFTER UPDATE OF status, community, need, service_id ON referral
    FOR EACH ROW EXECUTE FUNCTION referral_board_count_move();
INSERT INTO referral_board_count (status, community, need, service_id, n)
SELECT status, community, need, service_id, count(*)
FROM referral WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')
GROUP BY status, community, need, service_id;

-- +goose Down
DROP TRIGGER referral_board_count_update ON referral;
DROP TRIGGER referral_board_count_insert_delete ON referral;
DROP FUNCTION referral_board_count_move();
DROP TABLE referral_board_count;
