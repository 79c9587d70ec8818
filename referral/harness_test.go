package referral

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/roster"
)

// tuesday10 is a Tuesday, 10:00 in Trujillo: every weekday provider is open.
var tuesday10 = time.Date(2026, 3, 10, 10, 0, 0, 0, lima)

var lima = func() *time.Location {
	l, err := time.LoadLocation("America/Lima")
	if err != nil {
		panic(err)
	}
	return l
}()

// Test directory for El Porvenir. Health: hp-a (weekdays, capacity 1) →
// hp-b (always) → hp-c (always); police always; legal weekdays.
const testDirectory = `{
  "timezone": "America/Lima",
  "organizations": [{
    "key": "org", "name": "Org",
    "services": [
      {"key": "hp-a", "name": "A", "kind": "health_post", "needs": ["health"], "communities": ["El Porvenir"],
       "hours": {"mon": ["08:00-20:00"], "tue": ["08:00-20:00"], "wed": ["08:00-20:00"], "thu": ["08:00-20:00"], "fri": ["08:00-20:00"]},
       "capacity": 1, "duty_phone": "+51900000901", "ack_minutes": {"urgent": 15, "routine": 120}, "priority": 10, "next": "hp-b"},
      {"key": "hp-b", "name": "B", "kind": "health_post", "needs": ["health"], "communities": ["el_porvenir"],
       "hours": "always", "capacity": 50, "duty_phone": "+51900000902", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 20, "next": "hp-c"},
      {"key": "hp-c", "name": "C", "kind": "health_post", "needs": ["health"], "communities": ["*"],
       "hours": "always", "capacity": 50, "duty_phone": "+51900000903", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 30},
      {"key": "pol", "name": "P", "kind": "police", "needs": ["police"], "communities": ["El Porvenir"],
       "hours": "always", "capacity": 100000, "duty_phone": "+51900000904", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 10},
      {"key": "leg", "name": "L", "kind": "legal_aid", "needs": ["legal"], "communities": ["El Porvenir"],
       "hours": {"mon": ["08:00-17:00"]}, "capacity": 5, "duty_phone": "+51900000905",
       "ack_minutes": {"urgent": 60, "routine": 480}, "priority": 10}
    ]
  }]
}`

const (
	phoneA   = "+51900000901"
	phoneB   = "+51900000902"
	phoneC   = "+51900000903"
	phonePol = "+51900000904"
	phoneSup = "+51900000801"
	phoneCou = "+51900000802"
)

// recorder is the Notifier: it keeps what referral asked to send.
type recorder struct {
	mu        sync.Mutex
	notices   []ProviderNotice
	withdrawn []ProviderNotice
	passedOn  []ProviderNotice
	alerts    []roster.Alert
	told      []SurvivorNotice
	onSend    func(ProviderNotice)
}

func (r *recorder) NotifyPassedOn(_ context.Context, _ pgx.Tx, n ProviderNotice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passedOn = append(r.passedOn, n)
	return nil
}

func (r *recorder) TellSurvivor(_ context.Context, _ pgx.Tx, n SurvivorNotice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.told = append(r.told, n)
	return nil
}

// survivorSide returns the passed-on notices and what she was told so far.
func (r *recorder) survivorSide() (passedOn []ProviderNotice, told []SurvivorNotice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ProviderNotice(nil), r.passedOn...), append([]SurvivorNotice(nil), r.told...)
}

func (r *recorder) NotifyProvider(_ context.Context, _ pgx.Tx, n ProviderNotice) error {
	r.mu.Lock()
	r.notices = append(r.notices, n)
	f := r.onSend
	r.mu.Unlock()
	if f != nil {
		f(n)
	}
	return nil
}

func (r *recorder) NotifyWithdrawn(_ context.Context, _ pgx.Tx, n ProviderNotice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.withdrawn = append(r.withdrawn, n)
	return nil
}

// withdrawals returns the withdrawal notices asked for so far.
func (r *recorder) withdrawals() []ProviderNotice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ProviderNotice(nil), r.withdrawn...)
}

func (r *recorder) AlertStaff(_ context.Context, _ pgx.Tx, a roster.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return nil
}

func (r *recorder) snapshot() ([]ProviderNotice, []roster.Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ProviderNotice(nil), r.notices...), append([]roster.Alert(nil), r.alerts...)
}

// riverTime lets River's scheduler and producer follow the fake clock.
type riverTime struct{ c *clock.Fake }

func (r riverTime) Now() time.Time { return r.c.Now() }
func (r riverTime) NowOrNil() *time.Time {
	t := r.c.Now()
	return &t
}

type harness struct {
	t        testing.TB
	ctx      context.Context
	pool     *pgxpool.Pool
	clk      *clock.Fake
	cases    *casefile.Store
	rec      *recorder
	svc      *Service
	inserter *jobs.Deferred
	roster   *roster.Roster
	config   *river.Config
	phones   atomic.Int64
	// eraseGate, if set, runs once inside the next erasure, after it has
	// locked the case rows.
	eraseGate atomic.Pointer[func()]
}

func newHarness(t testing.TB, directory string) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), pool: pgtest.New(t), clk: clock.NewFake(tuesday10), rec: &recorder{}}
	raw, err := crypto.GenerateKeyring(tuesday10)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := crypto.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	h.inserter = &jobs.Deferred{}
	// Wired as cmd/amparo wires it: an erasure erases the case's referrals
	// in the same transaction. eraseGate lets a test stop an erasure there.
	h.cases = casefile.New(h.pool, kr, kr.BlindIndex(), h.clk, casefile.WithEraseHook(
		func(ctx context.Context, tx pgx.Tx, cases []casefile.ErasedCase, at time.Time) error {
			if g := h.eraseGate.Swap(nil); g != nil {
				(*g)()
			}
			return EraseHook(h.rec, h.inserter)(ctx, tx, cases, at)
		}))
	h.roster = roster.New(h.clk, nil)
	h.svc = New(h.pool, h.cases, h.inserter, h.rec, h.clk, WithRoster(h.roster))
	// Tests name the codes they expect, so they take the first free one;
	// TestReplyCodesAreDrawnAtRandom runs the real draw.
	h.svc.pickCode = firstFree
	workers := river.NewWorkers()
	AddWorkers(workers, h.svc)
	h.config = &river.Config{Workers: workers, Test: river.TestConfig{Time: riverTime{h.clk}}}
	h.inserter.Set(h.newClient())
	if err := LoadDirectory(h.ctx, h.pool, strings.NewReader(directory)); err != nil {
		t.Fatal(err)
	}
	return h
}

// newClient returns a River client on the harness database (not started).
func (h *harness) newClient() *river.Client[pgx.Tx] {
	h.t.Helper()
	cfg := *h.config
	client, err := river.NewClient(riverpgxv5.New(h.pool), &cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return client
}

// openCase opens a case for a new contact, committed.
func (h *harness) openCase(in casefile.CaseInput) casefile.Case {
	h.t.Helper()
	if in.Lang == "" {
		in.Lang = "es"
	}
	if in.Community == "" {
		in.Community = "El Porvenir"
	}
	if in.Consent == nil {
		in.Consent = map[casefile.Need]bool{}
		for _, n := range in.Needs {
			in.Consent[n] = true
		}
	}
	contact, err := h.cases.CreateContact(h.ctx, h.pool, fmt.Sprintf("+5198765%04d", h.phones.Add(1)))
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.cases.OpenCase(h.ctx, h.pool, contact.ID, in)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// inTx runs fn in a committed transaction.
func (h *harness) inTx(fn func(tx pgx.Tx) error) {
	h.t.Helper()
	if err := pgx.BeginFunc(h.ctx, h.pool, fn); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) create(c casefile.Case) []Referral {
	h.t.Helper()
	var out []Referral
	h.inTx(func(tx pgx.Tx) (err error) {
		out, err = h.svc.CreateForCase(h.ctx, tx, c.ID)
		return err
	})
	return out
}

func firstFree(int) (int, error) { return 0, nil }

func (h *harness) reply(from, text string) ReplyOutcome {
	h.t.Helper()
	var out ReplyOutcome
	h.inTx(func(tx pgx.Tx) (err error) {
		out, err = h.svc.HandleProviderReply(h.ctx, tx, from, text)
		return err
	})
	return out
}

func (h *harness) get(id uuid.UUID) Referral {
	h.t.Helper()
	r, err := h.svc.Get(h.ctx, h.pool, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) referrals(caseID uuid.UUID) []Referral {
	h.t.Helper()
	rs, err := h.svc.ForCase(h.ctx, h.pool, caseID)
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

func (h *harness) onCall(role roster.Role, phone string) {
	h.t.Helper()
	if err := h.roster.Add(h.ctx, h.pool, role, phone, tuesday10.Add(-time.Hour), tuesday10.Add(30*24*time.Hour)); err != nil {
		h.t.Fatal(err)
	}
}

// job returns the River job of kind for a referral (and stage, if any).
func (h *harness) job(kind string, id uuid.UUID, stage string) *rivertype.JobRow {
	h.t.Helper()
	var jobID int64
	err := h.pool.QueryRow(h.ctx, `
		SELECT id FROM river_job WHERE kind = $1 AND args->>'referral_id' = $2 AND COALESCE(args->>'stage', '') = $3
		ORDER BY id LIMIT 1`,
		kind, id.String(), stage).Scan(&jobID)
	if err != nil {
		h.t.Fatalf("job %s for %s: %v", kind, id, err)
	}
	client := h.newClient()
	row, err := client.JobGet(h.ctx, jobID)
	if err != nil {
		h.t.Fatal(err)
	}
	return row
}

// work runs the job River holds for args through River's test worker,
// committed. Once that job has finished, it runs a fresh copy with the same
// args instead, as an at-least-once redelivery would.
func work[T river.JobArgs](h *harness, w river.Worker[T], args T, id uuid.UUID, stage string) river.EventKind {
	h.t.Helper()
	row := h.job(args.Kind(), id, stage)
	tw := rivertest.NewWorker(h.t, riverpgxv5.New(h.pool), h.config, w)
	var kind river.EventKind
	h.inTx(func(tx pgx.Tx) error {
		var (
			res *rivertest.WorkResult
			err error
		)
		if row.FinalizedAt != nil {
			res, err = tw.Work(h.ctx, h.t, tx, args, nil)
		} else {
			res, err = tw.WorkJob(h.ctx, h.t, tx, row)
		}
		if err != nil {
			return err
		}
		kind = res.EventKind
		return nil
	})
	return kind
}

func (h *harness) dispatch(id uuid.UUID) river.EventKind {
	return work(h, river.Worker[DispatchArgs](&dispatchWorker{s: h.svc}), DispatchArgs{ReferralID: id}, id, "")
}

func (h *harness) ackDeadline(id uuid.UUID) river.EventKind {
	return work(h, river.Worker[AckDeadlineArgs](&ackDeadlineWorker{s: h.svc}), AckDeadlineArgs{ReferralID: id}, id, "")
}

func (h *harness) serveDeadline(id uuid.UUID, stage string) river.EventKind {
	return work(h, river.Worker[ServeDeadlineArgs](&serveDeadlineWorker{s: h.svc}), ServeDeadlineArgs{ReferralID: id, Stage: stage}, id, stage)
}

func (h *harness) history(id uuid.UUID) []Event {
	h.t.Helper()
	ev, err := h.svc.History(h.ctx, h.pool, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func (h *harness) followUps(caseID uuid.UUID) []casefile.FollowUp {
	h.t.Helper()
	f, err := h.cases.FollowUps(h.ctx, h.pool, caseID)
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}
