package referral

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
)

// C1: a late "NO 1000" meant for a referral that already escalated must not
// decline the provider's next referral. Its code stays out of use for that
// phone for codeQuarantine after it closed, then is the smallest free again.
func TestStaleReplyNeverActsOnReusedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	health := []casefile.Need{casefile.NeedHealth}
	a := h.create(h.openCase(casefile.CaseInput{Urgent: true, Needs: health}))[0]
	if a.CodePhone != phoneA || a.ReplyCode != "1000" {
		t.Fatalf("first referral: %+v", a)
	}
	h.dispatch(a.ID)
	h.clk.Advance(15 * time.Minute)
	if k := h.ackDeadline(a.ID); k != river.EventKindJobCompleted {
		t.Fatalf("ack deadline: %s", k)
	}
	if s := h.get(a.ID).Status; s != Escalated {
		t.Fatalf("nobody answered, want escalated: %s", s)
	}
	closedAt := h.svc.now()

	// P's next referral, within the quarantine: 1000 is not handed out.
	b := h.create(h.openCase(casefile.CaseInput{Urgent: true, Needs: health}))[0]
	if b.CodePhone != phoneA || b.ReplyCode != "1001" {
		t.Fatalf("referral B: phone %s code %s; want %s with 1001 (1000 quarantined)", b.CodePhone, b.ReplyCode, phoneA)
	}
	h.dispatch(b.ID)
	if out := h.reply(phoneA, "NO 1000"); out.Result != ReplyPassedOn || out.ReferralID != a.ID {
		t.Fatalf("a late NO meant for A: %+v; want passed_on for A, acting on nothing", out)
	}
	if s := h.get(b.ID).Status; s != Notified {
		t.Fatalf("B after the late NO for A: %s; want notified", s)
	}
	if out := h.reply(phoneA, "OK 1001"); out.Result != ReplyAcknowledged || out.ReferralID != b.ID {
		t.Fatalf("OK for B: %+v", out)
	}
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, b.ID, Revoked, "cw-1", "test") })

	// One microsecond before A's quarantine ends, 1000 and 1001 are both
	// still out of use; at its end they are free again.
	h.clk.Set(closedAt.Add(codeQuarantine - time.Microsecond))
	c := h.create(h.openCase(casefile.CaseInput{Urgent: true, Needs: health}))[0]
	if c.CodePhone != phoneA || c.ReplyCode != "1002" {
		t.Fatalf("referral C just inside the quarantine: phone %s code %s; want 1002", c.CodePhone, c.ReplyCode)
	}
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, c.ID, Revoked, "cw-1", "test") })
	h.clk.Set(closedAt.Add(codeQuarantine))
	d := h.create(h.openCase(casefile.CaseInput{Urgent: true, Needs: health}))[0]
	if d.CodePhone != phoneA || d.ReplyCode != "1000" {
		t.Fatalf("referral D after the quarantine: phone %s code %s; want 1000 reused", d.CodePhone, d.ReplyCode)
	}
}

// A missed serve-by alerts the supervisor on call, discreetly and once,
// however often the job runs.
func TestServeDeadlineMissedAlertsSupervisorOnce(t *testing.T) {
	t.Parallel()
	if _, ok := roster.AlertServeDeadlineMissed.CatalogueKey(); !ok {
		t.Fatalf("no catalogue text for staff alert %q", roster.AlertServeDeadlineMissed)
	}
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	h.onCall(roster.Counsellor, phoneCou)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}})
	r := h.create(c)[0]
	h.clk.Set(r.ServeBy.Add(time.Microsecond))
	for range 2 {
		if k := h.serveDeadline(r.ID, stageMissed); k != river.EventKindJobCompleted {
			t.Fatalf("missed: %s", k)
		}
	}
	if got := h.get(r.ID); got.BreachedAt == nil {
		t.Fatalf("not breached: %+v", got)
	}
	_, alerts := h.rec.snapshot()
	want := roster.Alert{Phone: phoneSup, Kind: roster.AlertServeDeadlineMissed, CaseID: c.ID, Reference: c.Reference}
	if len(alerts) != 1 || alerts[0] != want {
		t.Fatalf("alerts = %+v; want exactly [%+v]", alerts, want)
	}
}

// C3: completing her case again after she withdrew consent for a need
// revokes that need's open referral in the same transaction, frees its code
// and deletes its pending jobs; consented needs and a caseworker's override
// keep theirs.
func TestCreateForCaseRevokesWithdrawnConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	in := casefile.CaseInput{
		Urgent: true, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice, casefile.NeedLegal},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedPolice: true},
		Lang:    "es", Community: "El Porvenir",
	}
	c := h.openCase(in)
	refs := h.create(c)
	if len(refs) != 2 {
		t.Fatalf("want health and police referrals, got %+v", refs)
	}
	health, police := refs[0], refs[1]
	h.dispatch(health.ID)
	// Legal aid opens on Mondays: her caseworker's override goes there.
	h.clk.Set(time.Date(2026, 3, 16, 10, 0, 0, 0, lima))
	var legal Referral
	h.inTx(func(tx pgx.Tx) (err error) {
		legal, _, err = h.svc.Refer(h.ctx, tx, c.ID, casefile.NeedLegal, "cw-1", "imminent_danger")
		return err
	})
	if !legal.Override || !legal.Status.Open() {
		t.Fatalf("override referral: %+v", legal)
	}

	// She withdraws consent for health; legal stays without her consent.
	in.Consent = map[casefile.Need]bool{casefile.NeedPolice: true}
	var again []Referral
	h.inTx(func(tx pgx.Tx) (err error) {
		if _, err := h.cases.CompleteCase(h.ctx, tx, c.ID, in); err != nil {
			return err
		}
		again, err = h.svc.CreateForCase(h.ctx, tx, c.ID)
		return err
	})
	if len(again) != 1 || again[0].ID != police.ID {
		t.Fatalf("CreateForCase after withdrawal = %+v; want only the police referral", again)
	}
	got := h.get(health.ID)
	if got.Status != Revoked || !got.UpdatedAt.Equal(h.svc.now()) {
		t.Fatalf("health after withdrawal: %+v; want revoked now", got)
	}
	ev := h.history(health.ID)
	if last := ev[len(ev)-1]; last.From != Notified || last.To != Revoked || last.Reason != "consent_withdrawn" || last.Actor != "system" {
		t.Fatalf("history = %+v", ev)
	}
	if w := h.rec.withdrawals(); len(w) != 1 || w[0].ReferralID != health.ID || w[0].Phone != phoneA || w[0].ReplyCode != health.ReplyCode || w[0].Reference != c.Reference {
		t.Fatalf("withdrawal notices = %+v; want one, to the health post that was sent the request", w)
	}
	if s := h.get(police.ID).Status; s != Pending {
		t.Fatalf("police (still consented): %s", s)
	}
	if s := h.get(legal.ID).Status; !s.Open() {
		t.Fatalf("override referral revoked: %s", s)
	}
	var jobs int
	if err := h.pool.QueryRow(h.ctx, `SELECT count(*) FROM river_job WHERE args->>'referral_id' = $1 AND state <> 'completed'`,
		health.ID.String()).Scan(&jobs); err != nil || jobs != 0 {
		t.Fatalf("%d pending jobs of the revoked referral remain (%v)", jobs, err)
	}
	if out := h.reply(phoneA, "OK "+health.ReplyCode); out.Result != ReplyWithdrawn {
		t.Fatalf("a reply to the revoked referral: %+v; want withdrawn", out)
	}
	// Its place and (after the quarantine) its code are free again.
	h.clk.Advance(codeQuarantine)
	next := h.create(h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}}))[0]
	if next.CodePhone != phoneA || next.ReplyCode != health.ReplyCode {
		t.Fatalf("next health referral: phone %s code %s; want %s's place and code %s", next.CodePhone, next.ReplyCode, phoneA, health.ReplyCode)
	}
	// Giving consent again refers the need afresh.
	in.Consent = map[casefile.Need]bool{casefile.NeedPolice: true, casefile.NeedHealth: true}
	h.inTx(func(tx pgx.Tx) (err error) {
		if _, err := h.cases.CompleteCase(h.ctx, tx, c.ID, in); err != nil {
			return err
		}
		again, err = h.svc.CreateForCase(h.ctx, tx, c.ID)
		return err
	})
	if len(again) != 2 || again[0].Need != casefile.NeedHealth || again[0].ID == health.ID {
		t.Fatalf("after consent is given again: %+v", again)
	}
}
