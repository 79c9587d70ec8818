package casefile_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
)

// waitForLockWait returns once some other session of this database waits on
// a lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := pool.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no session waits on a lock: the interleaving under test did not happen")
}

// assertShredded checks that nothing written about the case can be read.
func assertShredded(t *testing.T, f *fixture, caseID uuid.UUID) {
	t.Helper()
	var live int
	if err := f.pool.QueryRow(f.ctx, `
		SELECT (SELECT count(*) FROM case_note WHERE case_id = $1 AND body_sealed IS NOT NULL)
		     + (SELECT count(*) FROM follow_up WHERE case_id = $1 AND note_sealed IS NOT NULL)
		     + (SELECT count(*) FROM case_key WHERE case_id = $1 AND wrapped_dek IS NOT NULL)`, caseID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("case %s: %d sealed values or keys survive its erasure", caseID, live)
	}
	if _, err := f.store.Notes(f.ctx, f.pool, caseID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("Notes after erasure: %v; want ErrErased", err)
	}
	if _, err := f.store.FollowUps(f.ctx, f.pool, caseID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("FollowUps after erasure: %v; want ErrErased", err)
	}
}

// S2: an erasure racing a note or a follow-up must never deadlock (which
// would make PostgreSQL abort one of them, possibly her BORRAR), and what was
// written in the race must be shredded with the rest.
func TestEraseRacingWritesNeverDeadlocks(t *testing.T) {
	t.Parallel()
	writes := map[string]func(f *fixture, db casefile.DB, caseID uuid.UUID) error{
		"AddNote": func(f *fixture, db casefile.DB, caseID uuid.UUID) error {
			_, err := f.store.AddNote(f.ctx, db, caseID, "u-1", "nota escrita durante el borrado")
			return err
		},
		"AddFollowUp": func(f *fixture, db casefile.DB, caseID uuid.UUID) error {
			return f.store.AddFollowUp(f.ctx, db, caseID, casefile.FollowUp{Kind: "callback", DueAt: t0, Note: "llamar"})
		},
	}
	erases := map[string]func(f *fixture, c casefile.Case) error{
		"EraseCase": func(f *fixture, c casefile.Case) error { return f.store.EraseCase(f.ctx, f.pool, c.ID, "u-2") },
		"EraseContact": func(f *fixture, c casefile.Case) error {
			return f.store.EraseContact(f.ctx, f.pool, c.ContactID, "survivor")
		},
	}
	for wname, write := range writes {
		for ename, erase := range erases {
			t.Run(wname+"/"+ename, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				ct := f.contact(t, f.store, "+51987000101")
				c := f.openCase(t, f.store, ct.ID, input())

				// The exact interleaving: the writer has its share lock on
				// the case key (its first step) when the erasure starts;
				// the erasure then waits for that key; the writer's insert
				// then checks its foreign key on the case row.
				tx, err := f.pool.Begin(f.ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback(f.ctx)
				if _, err := tx.Exec(f.ctx, `SELECT 1 FROM case_key WHERE case_id = $1 FOR SHARE`, c.ID); err != nil {
					t.Fatal(err)
				}
				erased := make(chan error, 1)
				go func() { erased <- erase(f, c) }()
				waitForLockWait(t, f.pool)
				if err := write(f, tx, c.ID); err != nil {
					t.Fatalf("%s during the erasure: %v", wname, err)
				}
				if err := tx.Commit(f.ctx); err != nil {
					t.Fatalf("commit %s: %v", wname, err)
				}
				if err := <-erased; err != nil {
					t.Fatalf("%s failed: %v", ename, err)
				}
				assertShredded(t, f, c.ID)

				// And free-running, a few times: whichever goes first, the
				// erasure commits and nothing written survives it.
				for i := range 5 {
					ct := f.contact(t, f.store, fmt.Sprintf("+5198700020%d", i))
					c := f.openCase(t, f.store, ct.ID, input())
					var wg sync.WaitGroup
					werrs := make([]error, 3)
					for j := range werrs {
						wg.Go(func() { werrs[j] = write(f, f.pool, c.ID) })
					}
					eerr := erase(f, c)
					wg.Wait()
					if eerr != nil {
						t.Fatalf("run %d: %s failed: %v", i, ename, eerr)
					}
					for _, err := range werrs {
						if err != nil && !errors.Is(err, casefile.ErrErased) {
							t.Fatalf("run %d: %s: %v", i, wname, err)
						}
					}
					assertShredded(t, f, c.ID)
				}
			})
		}
	}
}

// The erase hook runs in the erasure's transaction, with the erased cases.
func TestEraseHookRunsInTheErasure(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got [][]casefile.ErasedCase
		at  []time.Time
	)
	fail := false
	hook := func(ctx context.Context, tx pgx.Tx, cases []casefile.ErasedCase, when time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		got, at = append(got, cases), append(at, when)
		if fail {
			return errors.New("hook failed")
		}
		return nil
	}
	f := newFixture(t, casefile.WithEraseHook(hook))
	ct := f.contact(t, f.store, "+51987000301")
	a := f.openCase(t, f.store, ct.ID, input())
	b := f.openCase(t, f.store, ct.ID, input())
	if err := f.store.EraseCase(f.ctx, f.pool, a.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if err := f.store.EraseContact(f.ctx, f.pool, ct.ID, "survivor"); err == nil {
		t.Fatal("EraseContact succeeded although its hook failed")
	}
	if c, err := f.store.GetCase(f.ctx, f.pool, b.ID); err != nil || c.Status != casefile.StatusOpen {
		t.Fatalf("a failed hook must roll the erasure back: %v, %v", c.Status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := [][]casefile.ErasedCase{{{ID: a.ID, Reference: a.Reference}}, {{ID: b.ID, Reference: b.Reference}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("hook calls = %v; want %v (an erased case is not erased again)", got, want)
	}
	if !at[0].Equal(t0) {
		t.Errorf("hook time = %v, want the store's clock %v", at[0], t0)
	}
}

// S3: a triage from her number (which may be spoofed) cannot replace her
// code word or lift its lock.
func TestCodeWordNotReplacedByLaterTriage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000401")
	in := input()
	in.CodeWord = "Girasol"
	f.openCase(t, f.store, ct.ID, in)
	check := func(word string) (bool, error) { return f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, word) }
	for i := range 5 {
		if ok, err := check(fmt.Sprintf("adivina%d", i)); ok || err != nil {
			t.Fatalf("guess %d: %v, %v", i, ok, err)
		}
	}
	in.CodeWord = "Impostor"
	f.openCase(t, f.store, ct.ID, in)
	urgent := f.openCase(t, f.store, ct.ID, casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedPsychosocial}, Lang: "es"})
	if _, err := f.store.CompleteCase(f.ctx, f.pool, urgent.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := check("Impostor"); !errors.Is(err, casefile.ErrCodeWordLocked) {
		t.Fatalf("a new triage lifted the guessing lock: %v", err)
	}
	f.clk.Advance(61 * time.Minute)
	if ok, err := check("Impostor"); ok || err != nil {
		t.Fatalf("the word from a later triage replaced hers: %v, %v", ok, err)
	}
	if ok, err := check("girasol"); !ok || err != nil {
		t.Fatalf("her own word: %v, %v", ok, err)
	}

	// A contact with no word yet gets the one her triage gives.
	other := f.contact(t, f.store, "+51987000402")
	f.openCase(t, f.store, other.ID, in)
	if ok, err := f.store.CheckCodeWord(f.ctx, f.pool, other.ID, "impostor"); !ok || err != nil {
		t.Fatalf("first code word not set: %v, %v", ok, err)
	}
}

// S4: each lockout is longer than the one before (doubling, capped); the
// count runs on across locks.
func TestCodeWordLockoutsDouble(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000501")
	f.openCase(t, f.store, ct.ID, input()) // code word "Girasol"
	check := func(word string) (bool, error) { return f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, word) }
	lock := time.Hour
	for round := range 10 {
		for i := range 5 {
			if ok, err := check(fmt.Sprintf("adivina%d", i)); ok || err != nil {
				t.Fatalf("round %d guess %d: %v, %v", round, i, ok, err)
			}
		}
		f.clk.Advance(lock - time.Minute)
		if _, err := check("girasol"); !errors.Is(err, casefile.ErrCodeWordLocked) {
			t.Fatalf("round %d: a minute before the %v lock ends: %v; want locked", round, lock, err)
		}
		f.clk.Advance(time.Minute)
		lock = min(2*lock, 7*24*time.Hour)
	}
	if ok, err := check("girasol"); !ok || err != nil {
		t.Fatalf("right word after the last lock: %v, %v", ok, err)
	}
	// A right answer clears the count: the next lock is an hour again.
	for i := range 5 {
		check(fmt.Sprintf("otra%d", i))
	}
	f.clk.Advance(time.Hour)
	if ok, err := check("girasol"); !ok || err != nil {
		t.Fatalf("after a right answer the lock should start over at an hour: %v, %v", ok, err)
	}
}

// S4: a code word needs at least three letters or digits.
func TestCodeWordMinimumLength(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"ab": "", "a.b": "", "Á-7": "", "abc": "abc", "1 2 3": "123"} {
		if got := casefile.NormalizeCodeWord(in); got != want {
			t.Errorf("normalize(%q) = %q; want %q", in, got, want)
		}
	}
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000601")
	in := input()
	in.CodeWord = "Yo"
	if _, err := f.store.OpenCase(f.ctx, f.pool, ct.ID, in); !errors.Is(err, casefile.ErrInvalidInput) {
		t.Fatalf("two-letter code word: %v; want ErrInvalidInput", err)
	}
}

// S6: CaseFacts reads plaintext only: it works without the case's key, and
// keeps GetCase's errors.
func TestCaseFactsNeedNoKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000701")
	c := f.openCase(t, f.store, ct.ID, input())
	// A store whose keyring has none of the keys that wrapped this case.
	stranger := f.storeWith(t, generate(t))
	if _, err := stranger.GetCase(f.ctx, f.pool, c.ID); err == nil {
		t.Fatal("GetCase opened a case without its key: the test proves nothing")
	}
	facts, err := stranger.CaseFacts(f.ctx, f.pool, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := casefile.Facts{ID: c.ID, Reference: c.Reference, ContactID: c.ContactID, Status: c.Status, Urgent: c.Urgent,
		Needs: c.Needs, Consent: c.Consent, Community: c.Community, Contact: c.Contact, Lang: c.Lang,
		PEPDeadline: c.PEPDeadline, ECDeadline: c.ECDeadline, CreatedAt: c.CreatedAt}
	if fmt.Sprintf("%+v", facts) != fmt.Sprintf("%+v", want) {
		t.Fatalf("CaseFacts =\n %+v\nwant\n %+v", facts, want)
	}
	if _, err := f.store.CaseFacts(f.ctx, f.pool, uuid.New()); !errors.Is(err, casefile.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
	if err := f.store.EraseCase(f.ctx, f.pool, c.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CaseFacts(f.ctx, f.pool, c.ID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("erased case: %v; want ErrErased", err)
	}
}
