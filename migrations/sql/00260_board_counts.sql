-- Counters for the supervisors' SLA board: open referrals per (status,
-- community, need, service). Without them the board counted every open
-- referral from referral_board_idx on every load (100,000 index entries and
-- more, most of the page's time; bench/README.md, "Portal: SLA board"). Now
-- it sums a few hundred counter rows and counts from the index only the
-- overdue ranges, which are small.
--
-- The counts are kept by triggers on referral, not by the transitions in
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
-- referral_board_count_add moves one counter by delta; a decrement that
-- finds no row, or would go below zero, fails the write.
CREATE FUNCTION referral_board_count_add(k_status text, k_community text, k_need text, k_service uuid, delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF delta > 0 THEN
        INSERT INTO referral_board_count AS c (status, community, need, service_id, n)
        VALUES (k_status, k_community, k_need, k_service, delta)
        ON CONFLICT (status, community, need, service_id) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF delta < 0 THEN
        UPDATE referral_board_count SET n = n + delta
        WHERE status = k_status AND community = k_community AND need = k_need AND service_id = k_service;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'referral_board_count: no counter for open referrals leaving %', k_status;
        END IF;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Once per statement, over the rows it wrote (transition tables): a bulk
-- UPDATE of many referrals moves each counter once, by its net change,
-- where a per-row trigger would update the same counter row once per
-- referral, each time past all its earlier versions. Counters move in key
-- order, so two transactions take their row locks in the same order.
-- The open states are the board's: keep in step with referral.BoardStates
-- (referral/board.go) and referral_board_idx (00210).
CREATE FUNCTION referral_board_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR d IN SELECT status, community, need, service_id, count(*)::integer AS n FROM new_rows WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LOOP
            PERFORM referral_board_count_add(d.status, d.community, d.need, d.service_id, d.n);
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR d IN SELECT status, community, need, service_id, -count(*)::integer AS n FROM old_rows WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LOOP
            PERFORM referral_board_count_add(d.status, d.community, d.need, d.service_id, d.n);
        END LOOP;
    ELSE
        FOR d IN SELECT status, community, need, service_id, sum(n)::integer AS n FROM (
                    SELECT status, community, need, service_id, 1 AS n FROM new_rows WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')
                    UNION ALL
                    SELECT status, community, need, service_id, -1 FROM old_rows WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')) moved
                GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4 LOOP
            PERFORM referral_board_count_add(d.status, d.community, d.need, d.service_id, d.n);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Writers wait from here to the commit, so the backfill below counts
-- exactly the rows the triggers will go on from. (A trigger with
-- transition tables takes one event and no column list: hence three.)
LOCK TABLE referral IN SHARE ROW EXCLUSIVE MODE;
CREATE TRIGGER referral_board_count_insert AFTER INSERT ON referral
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_board_count_move();
CREATE TRIGGER referral_board_count_update AFTER UPDATE ON referral
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_board_count_move();
CREATE TRIGGER referral_board_count_delete AFTER DELETE ON referral
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_board_count_move();
INSERT INTO referral_board_count (status, community, need, service_id, n)
SELECT status, community, need, service_id, count(*)
FROM referral WHERE status IN ('pending', 'notified', 'acknowledged', 'accepted')
GROUP BY status, community, need, service_id;

-- +goose Down
DROP TRIGGER referral_board_count_delete ON referral;
DROP TRIGGER referral_board_count_update ON referral;
DROP TRIGGER referral_board_count_insert ON referral;
DROP FUNCTION referral_board_count_move();
DROP FUNCTION referral_board_count_add(text, text, text, uuid, integer);
DROP TABLE referral_board_count;
