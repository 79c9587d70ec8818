package referral

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/roster"
)

// dump returns the whole database as pg_dump writes it, times in UTC.
func (h *harness) dump() string {
	h.t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		dir, ferr := pglocal.FindBinaries()
		if ferr != nil {
			h.t.Fatalf("pg_dump: not on PATH and %v", ferr)
		}
		bin = filepath.Join(dir, "pg_dump")
	}
	cmd := exec.Command(bin, "--no-owner", "--dbname="+h.pool.Config().ConnString())
	cmd.Env = append(os.Environ(), "PGTZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	return string(out)
}

// pgTime is t as PostgreSQL writes a timestamptz in UTC.
func pgTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + "+00" }

// S1: erasing her erases her referrals' copies of the incident time (the
// clinical deadline is serve-by, and River's scheduled time of the serve
// jobs), revokes them, tells the providers that were sent them, and frees
// their reply codes.
func TestEraseRevokesReferralsAndForgetsDeadlines(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Counsellor, phoneCou)
	// An incident time to the second, so its deadlines are unlike any
	// other time in the database.
	incident := tuesday10.Add(-10*time.Hour - 17*time.Minute - 23*time.Second)
	c := h.openCase(casefile.CaseInput{
		Urgent: true, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice},
		IncidentAt: &incident, Narrative: narrative,
	})
	refs := h.create(c)
	if len(refs) != 2 {
		t.Fatalf("referrals = %+v", refs)
	}
	health, police := refs[0], refs[1]
	h.dispatch(health.ID)
	if out := h.reply(phoneA, "OK "+health.ReplyCode); out.Result != ReplyAcknowledged {
		t.Fatalf("ack: %+v", out)
	}
	pep := incident.Add(casefile.PEPWindow)
	secrets := []string{pgTime(pep), pgTime(incident.Add(casefile.ECWindow)), pgTime(nearAt(health.CreatedAt, pep))}
	before := h.dump()
	for _, s := range secrets[:1] {
		if !strings.Contains(before, s) {
			t.Fatalf("dump before erasure lacks %s: the check below would prove nothing", s)
		}
	}

	if err := h.cases.EraseContact(h.ctx, h.pool, c.ContactID, "survivor"); err != nil {
		t.Fatal(err)
	}

	for _, r := range h.referrals(c.ID) {
		if r.Status != Revoked || r.ServeBy != nil || r.BreachedAt != nil {
			t.Errorf("after erasure: %+v; want revoked, no serve-by, no breach", r)
		}
		ev := h.history(r.ID)
		if last := ev[len(ev)-1]; last.To != Revoked || last.Reason != "case_erased" {
			t.Errorf("last event of %s = %+v; want revoked for case_erased", r.ID, last)
		}
	}
	// The health post acknowledged and may act on it: it is told the
	// request is withdrawn. The police were never sent theirs.
	if w := h.rec.withdrawals(); len(w) != 1 || w[0].ReferralID != health.ID || w[0].Phone != phoneA ||
		w[0].ReplyCode != health.ReplyCode || w[0].Reference != c.Reference || w[0].Lang != "es" {
		t.Errorf("withdrawal notices = %+v; want one, to the health post, for %s code %s", w, c.Reference, health.ReplyCode)
	}
	var jobs int
	if err := h.pool.QueryRow(h.ctx, `SELECT count(*) FROM river_job WHERE args->>'referral_id' = ANY($1)`,
		[]string{health.ID.String(), police.ID.String()}).Scan(&jobs); err != nil || jobs != 0 {
		t.Errorf("%d River jobs of her referrals survive the erasure (%v)", jobs, err)
	}
	after := h.dump()
	for _, s := range secrets {
		if strings.Contains(after, s) {
			t.Errorf("dump after erasure still holds %s, which tells the incident time", s)
		}
	}
	// Her codes are free again for the next case at the same providers,
	// once a late reply to them can no longer arrive.
	h.clk.Advance(codeQuarantine)
	next := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}})
	for _, r := range h.create(next) {
		if r.ReplyCode != "1000" {
			t.Errorf("next referral to %s got code %s; the erased case's code was not freed", r.CodePhone, r.ReplyCode)
		}
	}
}

// waitForLockWait returns once some session of this database waits on a
// lock.
func (h *harness) waitForLockWait() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := h.pool.QueryRow(h.ctx, `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			h.t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatal("no session waits on a lock: the interleaving under test did not happen")
}

// S2: a consent override (which takes the audit lock and inserts a
// referral) racing her erasure must not deadlock, and must not leave a live
// referral to an erased case.
func TestEraseRacingReferOverrideNeverDeadlocks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	in := casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true}}
	refer := func(c casefile.Case) error {
		return pgx.BeginFunc(h.ctx, h.pool, func(tx pgx.Tx) error {
			_, _, err := h.svc.Refer(h.ctx, tx, c.ID, casefile.NeedPolice, "u-1", "imminent_danger")
			return err
		})
	}
	check := func(run int, c casefile.Case, eraseErr, referErr error) {
		t.Helper()
		if eraseErr != nil {
			t.Fatalf("run %d: erasure failed: %v", run, eraseErr)
		}
		if referErr != nil && !errors.Is(referErr, casefile.ErrErased) {
			t.Fatalf("run %d: Refer: %v", run, referErr)
		}
		for _, r := range h.referrals(c.ID) {
			if r.Status.Open() || r.ServeBy != nil {
				t.Fatalf("run %d: referral left after erasure: %+v", run, r)
			}
		}
	}

	// The interleaving that deadlocked: the erasure holds the case row when
	// the override starts; the override takes the audit lock and inserts
	// its referral; the erasure then wants the audit lock.
	c := h.openCase(in)
	locked, release := make(chan struct{}), make(chan struct{})
	gate := func() { close(locked); <-release }
	h.eraseGate.Store(&gate)
	erased := make(chan error, 1)
	go func() { erased <- h.cases.EraseContact(h.ctx, h.pool, c.ContactID, "survivor") }()
	<-locked
	referred := make(chan error, 1)
	go func() { referred <- refer(c) }()
	h.waitForLockWait()
	close(release)
	check(0, c, <-erased, <-referred)

	// And free-running, a few times.
	for run := 1; run <= 5; run++ {
		c := h.openCase(in)
		referred := make(chan error, 1)
		go func() { referred <- refer(c) }()
		err := h.cases.EraseContact(h.ctx, h.pool, c.ContactID, "survivor")
		check(run, c, err, <-referred)
	}
}

// S6: referral reads only a case's plaintext facts: a provider packet needs
// no case key (so it can never open her narrative).
func TestPacketNeedsNoCaseKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	incident := tuesday10.Add(-10 * time.Hour)
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth},
		IncidentAt: &incident, Narrative: narrative})
	r := h.create(c)[0]
	raw, err := crypto.GenerateKeyring(tuesday10)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := crypto.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	// A service whose keyring holds none of the keys of this case.
	blind := New(h.pool, casefile.New(h.pool, kr, kr.BlindIndex(), h.clk), h.inserter, h.rec, h.clk)
	p, err := blind.Packet(h.ctx, h.pool, r.ID)
	if err != nil {
		t.Fatalf("Packet without the case key: %v", err)
	}
	if p.Reference != c.Reference || len(p.Deadlines) != 2 || !p.Deadlines[0].By.Equal(*c.PEPDeadline) {
		t.Fatalf("packet = %+v", p)
	}
	if err := h.cases.EraseCase(h.ctx, h.pool, c.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := blind.Packet(h.ctx, h.pool, r.ID); !errors.Is(err, casefile.ErrErased) {
		t.Fatalf("Packet of an erased case: %v; want ErrErased", err)
	}
}

// C4: a directory that fails half-way (an escalation link to a service that
// does not exist) leaves nothing of itself behind.
func TestLoadDirectoryAllOrNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	const bad = `{"organizations": [{"key": "new-org", "name": "New", "services": [
	  {"key": "new-hp", "name": "N", "kind": "health_post", "needs": ["health"], "communities": ["*"],
	   "hours": "always", "capacity": 3, "duty_phone": "+51900000999", "ack_minutes": {"urgent": 15, "routine": 120},
	   "next": "no-such-service"},
	  {"key": "hp-b", "name": "B renamed", "kind": "health_post", "needs": ["health"], "communities": ["*"],
	   "hours": "always", "capacity": 0, "duty_phone": "+51900000902", "ack_minutes": {"urgent": 15, "routine": 120}}]}]}`
	err := LoadDirectory(h.ctx, h.pool, strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "no-such-service") {
		t.Fatalf("LoadDirectory = %v; want the unknown escalation target refused", err)
	}
	var orgs, services, capB int
	if err := h.pool.QueryRow(h.ctx, `
		SELECT (SELECT count(*) FROM organization WHERE key = 'new-org'),
		       (SELECT count(*) FROM service WHERE key = 'new-hp'),
		       (SELECT capacity FROM service WHERE key = 'hp-b')`).Scan(&orgs, &services, &capB); err != nil {
		t.Fatal(err)
	}
	if orgs != 0 || services != 0 || capB != 50 {
		t.Fatalf("a refused directory was half-loaded: new org %d, new service %d, hp-b capacity %d (want 0, 0, 50)",
			orgs, services, capB)
	}
	// In a caller's transaction it is a savepoint: the caller's own work stays.
	h.inTx(func(tx pgx.Tx) error {
		if err := LoadDirectory(h.ctx, tx, strings.NewReader(bad)); err == nil {
			t.Error("LoadDirectory in a transaction accepted a bad file")
		}
		_, err := tx.Exec(h.ctx, `SELECT 1`)
		return err
	})
}
