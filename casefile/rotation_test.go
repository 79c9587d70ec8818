package casefile_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
)

// runRewrap enqueues the re-wrap job and works it with a real River client on
// the test database until it completes.
func (f *fixture) runRewrap(t testing.TB, s *casefile.Store, log *slog.Logger) {
	t.Helper()
	workers := river.NewWorkers()
	casefile.AddWorkers(workers, s)
	client, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		Logger:            log,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(f.ctx)
	if err := s.EnqueueRewrap(f.ctx, client, "u-admin"); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted || ev.Job.Kind != (casefile.RewrapArgs{}).Kind() {
			t.Fatalf("re-wrap job: %s (errors %v)", ev.Kind, ev.Job.Errors)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("re-wrap job did not complete within 30 s")
	}
}

func usageOf(t testing.TB, f *fixture, s *casefile.Store, id string) casefile.KEKUsage {
	t.Helper()
	st, err := s.KeyStatus(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range st {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("KeyStatus has no line for %s: %+v", id, st)
	return casefile.KEKUsage{}
}

// Keyring A → [B, A] → re-wrap through River → B alone opens everything.
func TestRotationEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 23
	var cases []casefile.Case
	for i := range n {
		ct := f.contact(t, f.store, fmt.Sprintf("+5198710%04d", i))
		cases = append(cases, f.openCase(t, f.store, ct.ID, input()))
	}
	if err := f.store.EraseCase(f.ctx, f.pool, cases[0].ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	kekA := parse(t, f.ring).CurrentKEKID()

	ringBA, err := crypto.RotateKeyring(f.ring, t0)
	if err != nil {
		t.Fatal(err)
	}
	kekB := parse(t, ringBA).CurrentKEKID()
	storeBA := f.storeWith(t, ringBA)
	casefile.SetRewrapPace(storeBA, 5, 0) // several batches, each run snoozing
	// Work written during the rotation window goes under B straight away.
	late := f.openCase(t, storeBA, cases[1].ContactID, input())
	cases = append(cases, late)

	// A crashed earlier run left one batch done.
	if moved, err := casefile.RewrapOneBatch(f.ctx, storeBA); err != nil || moved != 10 {
		t.Fatalf("first batch: %d, %v", moved, err)
	}
	if u := usageOf(t, f, storeBA, kekA); u.Retirable || u.Rows != 2*n-1-10 {
		t.Fatalf("before re-wrap, A: %+v", u)
	}
	f.runRewrap(t, storeBA, slog.New(slog.DiscardHandler))

	var snoozes int
	if err := f.pool.QueryRow(f.ctx, `SELECT COALESCE((metadata->>'snoozes')::int, 0) FROM river_job WHERE kind = 'casefile.rewrap'`).Scan(&snoozes); err != nil || snoozes < 3 {
		t.Errorf("job runs: %d snoozes, %v; want several runs", snoozes, err)
	}
	a, b := usageOf(t, f, storeBA, kekA), usageOf(t, f, storeBA, kekB)
	if !a.Retirable || a.Rows != 0 || !a.InKeyring || a.Current {
		t.Errorf("after re-wrap, A: %+v; want retirable", a)
	}
	if b.Rows != 2*(n+1)-1-1 || !b.Current || b.Retirable { // n+1 cases, n contacts, one key destroyed
		t.Errorf("after re-wrap, B: %+v", b)
	}

	// B alone: every case and contact opens, zero failures.
	storeB := f.storeWith(t, without(t, ringBA, kekA))
	for i, c := range cases {
		got, err := storeB.GetCase(f.ctx, f.pool, c.ID)
		if i == 0 {
			if !errors.Is(err, casefile.ErrErased) {
				t.Errorf("erased case with B alone: %v", err)
			}
			continue
		}
		if err != nil || got.Narrative != c.Narrative {
			t.Errorf("case %d with B alone: %v", i, err)
		}
		if _, err := storeB.ContactKey(f.ctx, f.pool, c.ContactID); err != nil {
			t.Errorf("contact key %d with B alone: %v", i, err)
		}
	}
	if _, found, err := storeB.FindContact(f.ctx, f.pool, "+51987100007"); !found || err != nil {
		t.Errorf("FindContact with B alone: %v, %v", found, err)
	}
	// And with A alone nothing opens any more: the old KEK protects nothing.
	storeA := f.storeWith(t, f.ring)
	if _, err := storeA.GetCase(f.ctx, f.pool, cases[2].ID); !errors.Is(err, crypto.ErrUnknownKEK) {
		t.Errorf("A alone after re-wrap: %v; want ErrUnknownKEK", err)
	}

	var batches int
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM audit_log WHERE action = 'keys.rewrap.batch'`).Scan(&batches); err != nil || batches < 5 {
		t.Errorf("audited batches: %d, %v", batches, err)
	}
}

// An index-key rotation: she is still recognised, her code word still
// works, and after the re-wrap job the old index key can go.
func TestIndexKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000011")
	f.openCase(t, f.store, ct.ID, input()) // code word "Girasol"
	idxA := parse(t, f.ring).BlindIndex().CurrentKeyID()

	ringIdx, err := crypto.RotateIndexKey(f.ring, t0)
	if err != nil {
		t.Fatal(err)
	}
	idxB := parse(t, ringIdx).BlindIndex().CurrentKeyID()
	s := f.storeWith(t, ringIdx)
	got, found, err := s.FindContact(f.ctx, f.pool, "987 000 011")
	if err != nil || !found || got.ID != ct.ID {
		t.Fatalf("FindContact during index rotation: %+v, %v, %v", got, found, err)
	}
	if _, err := s.CreateContact(f.ctx, f.pool, "+51987000011"); !errors.Is(err, casefile.ErrContactExists) {
		t.Fatalf("CreateContact during index rotation: %v; want ErrContactExists", err)
	}
	if u := usageOf(t, f, s, idxA); u.Rows != 2 || u.Retirable {
		t.Fatalf("index A before: %+v (phone + code word)", u)
	}
	// A right code word moves its token to the new key ...
	if ok, err := s.CheckCodeWord(f.ctx, f.pool, ct.ID, "girasol"); !ok || err != nil {
		t.Fatalf("CheckCodeWord during index rotation: %v, %v", ok, err)
	}
	// ... and the job moves the phone index.
	f.runRewrap(t, s, slog.New(slog.DiscardHandler))
	if u := usageOf(t, f, s, idxA); u.Rows != 0 || !u.Retirable || !u.Index {
		t.Fatalf("index A after: %+v; want retirable", u)
	}

	onlyB := f.storeWith(t, without(t, ringIdx, idxA))
	if got, found, err := onlyB.FindContact(f.ctx, f.pool, "+51987000011"); err != nil || !found || got.ID != ct.ID {
		t.Fatalf("FindContact with index key B alone (%s): %v, %v", idxB, found, err)
	}
	if ok, err := onlyB.CheckCodeWord(f.ctx, f.pool, ct.ID, "GIRASOL"); !ok || err != nil {
		t.Fatalf("CheckCodeWord with index key B alone: %v, %v", ok, err)
	}
}

// KeyStatus flags a key the database needs but the keyring lacks.
func TestKeyStatusMissingKEK(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.contact(t, f.store, "+51987000012")
	other := f.storeWith(t, generate(t))
	st, err := other.KeyStatus(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, u := range st {
		if !u.InKeyring {
			missing++
			if u.Rows != 1 || u.Retirable {
				t.Errorf("missing key line: %+v", u)
			}
		}
	}
	if missing != 2 { // the KEK and the index key of the first keyring
		t.Errorf("KeyStatus = %+v; want two keys not in the keyring", st)
	}
}
