package referral

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/migrations"
)

// boardCounts reads referral_board_count (rows at 0 left out) and the same
// grouping counted from the referrals themselves.
func (h *harness) boardCounts() (counters, counted map[string]int) {
	h.t.Helper()
	read := func(q string) map[string]int {
		rows, err := h.pool.Query(h.ctx, q)
		if err != nil {
			h.t.Fatal(err)
		}
		out := map[string]int{}
		var (
			st, community, need string
			service             uuid.UUID
			n                   int
		)
		if _, err := pgx.ForEachRow(rows, []any{&st, &community, &need, &service, &n}, func() error {
			out[fmt.Sprintf("%s/%s/%s/%s", st, community, need, service)] = n
			return nil
		}); err != nil {
			h.t.Fatal(err)
		}
		return out
	}
	return read(`SELECT status, community, need, service_id, n FROM referral_board_count WHERE n <> 0`),
		read(`SELECT status, community, need, service_id, count(*)::int FROM referral
			WHERE ` + boardOpen + ` GROUP BY status, community, need, service_id`)
}

// checkBoardCounts fails unless the counters equal a count of the open
// referrals, and the board's counts equal them per state.
func (h *harness) checkBoardCounts(step string, wantOpen int) {
	h.t.Helper()
	counters, counted := h.boardCounts()
	if !maps.Equal(counters, counted) {
		h.t.Fatalf("%s: counters %v, referrals %v", step, counters, counted)
	}
	total := 0
	for _, n := range counted {
		total += n
	}
	if total != wantOpen {
		h.t.Fatalf("%s: %d open referrals, want %d (the step did not do what the test meant)", step, total, wantOpen)
	}
	b, err := h.svc.Board(h.ctx, h.pool, BoardFilter{PerState: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	perState := map[Status]int{}
	for _, st := range BoardStates {
		perState[st] = 0
	}
	rows, err := h.pool.Query(h.ctx, `SELECT status, count(*)::int FROM referral WHERE `+boardOpen+` GROUP BY status`)
	if err != nil {
		h.t.Fatal(err)
	}
	var (
		st Status
		n  int
	)
	if _, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error { perState[st] = n; return nil }); err != nil {
		h.t.Fatal(err)
	}
	if !maps.Equal(b.Count, perState) {
		h.t.Fatalf("%s: board counts %v, referrals %v", step, b.Count, perState)
	}
}

// TestBoardCountersFollowEveryTransition drives referrals through every way
// the package moves one (and the writes made by hand in psql), checking
// after each that the counters of migration 00260 are exact.
func TestBoardCountersFollowEveryTransition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.checkBoardCounts("empty", 0)

	// Create, notify, acknowledge, accept, serve.
	c1 := h.openCase(casefile.CaseInput{
		Needs:   []casefile.Need{casefile.NeedHealth, casefile.NeedPolice, casefile.NeedLegal},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedPolice: true},
	})
	refs := h.create(c1)
	if len(refs) != 2 {
		t.Fatalf("referrals = %+v", refs)
	}
	health, police := refs[0], refs[1]
	h.checkBoardCounts("create", 2)
	h.create(c1)
	h.checkBoardCounts("create again (nothing new)", 2)
	h.dispatch(health.ID)
	h.checkBoardCounts("notify", 2)
	if out := h.reply(phoneA, "OK "+health.ReplyCode); out.Result != ReplyAcknowledged {
		t.Fatalf("ack: %+v", out)
	}
	h.checkBoardCounts("acknowledge", 2)
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, health.ID, Accepted, "provider:x", "portal") })
	h.checkBoardCounts("accept", 2)
	h.inTx(func(tx pgx.Tx) error {
		return h.svc.Transition(h.ctx, tx, health.ID, Completed, "provider:x", "served")
	})
	h.checkBoardCounts("serve", 1)
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, police.ID, Expired, "cw-1", "test") })
	h.checkBoardCounts("expire", 0)

	// Decline (re-routes to B), escalate on the acknowledge deadline (to
	// C), escalate by hand (no one after C), cancel.
	c2 := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	a := h.create(c2)[0]
	h.checkBoardCounts("create 2", 1)
	h.dispatch(a.ID)
	if out := h.reply(phoneA, "NO "+a.ReplyCode); out.Result != ReplyDeclined {
		t.Fatalf("decline: %+v", out)
	}
	h.checkBoardCounts("decline", 1)
	all := h.referrals(c2.ID)
	b := all[len(all)-1]
	if b.CodePhone != phoneB || b.Status != Pending {
		t.Fatalf("after decline: %+v", all)
	}
	h.clk.Advance(3 * time.Hour)
	h.ackDeadline(b.ID)
	all = h.referrals(c2.ID)
	cRef := all[len(all)-1]
	if h.get(b.ID).Status != Escalated || cRef.CodePhone != phoneC || !cRef.Status.Open() {
		t.Fatalf("after the acknowledge deadline: %+v", all)
	}
	h.checkBoardCounts("escalate on deadline", 1)
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, cRef.ID, Escalated, "cw-1", "no_answer") })
	h.checkBoardCounts("escalate by hand", 0)

	c3 := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}})
	p3 := h.create(c3)[0]
	h.checkBoardCounts("create 3", 1)
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, p3.ID, Revoked, "cw-1", "caseworker") })
	h.checkBoardCounts("cancel", 0)

	// Consent withdrawn: CreateForCase revokes.
	in := casefile.CaseInput{Lang: "es", Community: "El Porvenir",
		Needs:   []casefile.Need{casefile.NeedHealth, casefile.NeedPolice},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedPolice: true}}
	c4 := h.openCase(in)
	h.create(c4)
	h.checkBoardCounts("create 4", 2)
	in.Consent = map[casefile.Need]bool{casefile.NeedPolice: true}
	h.inTx(func(tx pgx.Tx) error {
		if _, err := h.cases.CompleteCase(h.ctx, tx, c4.ID, in); err != nil {
			return err
		}
		_, err := h.svc.CreateForCase(h.ctx, tx, c4.ID)
		return err
	})
	h.checkBoardCounts("consent withdrawn", 1)

	// An override, then the case erased: every open referral revoked.
	c5 := h.openCase(casefile.CaseInput{
		Needs:   []casefile.Need{casefile.NeedHealth, casefile.NeedPolice},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true}})
	h5 := h.create(c5)[0]
	h.dispatch(h5.ID)
	h.inTx(func(tx pgx.Tx) error {
		_, _, err := h.svc.Refer(h.ctx, tx, c5.ID, casefile.NeedPolice, "cw-1", "imminent_danger")
		return err
	})
	h.checkBoardCounts("override", 3)
	if err := h.cases.EraseContact(h.ctx, h.pool, c5.ContactID, "survivor"); err != nil {
		t.Fatal(err)
	}
	h.checkBoardCounts("erase", 1)

	// A transaction that rolls back leaves the counters as they were.
	c6 := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}})
	tx, err := h.pool.Begin(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.CreateForCase(h.ctx, tx, c6.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.checkBoardCounts("rolled back", 1)

	// Writes made by hand: a key column changed in place, a row deleted,
	// a case deleted (its referrals go by cascade).
	p6 := h.create(c6)[0]
	h.checkBoardCounts("create 6", 2)
	for _, q := range []string{
		`UPDATE referral SET community = 'otra' WHERE id = $1`,
		`UPDATE referral SET need = 'legal', service_id = (SELECT id FROM service WHERE duty_phone = '` + phoneA + `') WHERE id = $1`,
		`UPDATE referral SET status = 'accepted', updated_at = updated_at WHERE id = $1`,
		`UPDATE referral SET status = status, community = community WHERE id = $1`,
		`DELETE FROM referral WHERE id = $1`,
	} {
		if _, err := h.pool.Exec(h.ctx, q, p6.ID); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		h.checkBoardCounts(q, map[bool]int{true: 1, false: 2}[q[0] == 'D'])
	}
	h.inTx(func(tx pgx.Tx) error {
		for _, q := range []string{`DELETE FROM case_key WHERE case_id = $1`, `DELETE FROM case_file WHERE id = $1`} {
			if _, err := tx.Exec(h.ctx, q, c4.ID); err != nil {
				return err
			}
		}
		return nil
	})
	h.checkBoardCounts("case deleted", 0)
}

// TestBoardCountersCountTheBoardStates ties the trigger and backfill of
// migration 00260 to BoardStates, as TestBoardStatesAreTheOpenStates ties
// referral_board_idx.
func TestBoardCountersCountTheBoardStates(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../migrations/sql/00260_board_counts.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM new_rows WHERE " + boardOpen, "FROM old_rows WHERE " + boardOpen, "FROM referral WHERE " + boardOpen} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("00260 does not count the board's states: %q missing", want)
		}
	}
}

// TestBoardCountersBackfill takes migration 00260 down and up again over
// open and closed referrals: the Down leaves no trace, and the Up's
// backfill counts the rows already there, as it will in production.
func TestBoardCountersBackfill(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}})
	refs := h.create(c)
	h.dispatch(refs[0].ID)
	if out := h.reply(phoneA, "NO "+refs[0].ReplyCode); out.Result != ReplyDeclined {
		t.Fatalf("decline: %+v", out)
	}
	h.checkBoardCounts("before", 2)

	db := stdlib.OpenDBFromPool(h.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(h.ctx, 250); err != nil {
		t.Fatalf("down: %v", err)
	}
	var left bool
	if err := h.pool.QueryRow(h.ctx, `SELECT to_regclass('referral_board_count') IS NOT NULL
		OR EXISTS (SELECT FROM pg_proc WHERE proname = 'referral_board_count_move')
		OR EXISTS (SELECT FROM pg_trigger WHERE tgname LIKE 'referral_board_count%')`).Scan(&left); err != nil || left {
		t.Fatalf("00260 down left its table, function or triggers (%v)", err)
	}
	// Moves made while the counters are down are counted by the backfill.
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, refs[1].ID, Revoked, "cw-1", "test") })
	if _, err := p.UpTo(h.ctx, 260); err != nil {
		t.Fatalf("up: %v", err)
	}
	h.checkBoardCounts("after down and up", 1)
}
