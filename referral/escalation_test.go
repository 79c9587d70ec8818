package referral

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
)

// An escalation that finds the next provider tells the supervisor once that
// it moved on, never that no service is available; the provider it was
// taken from is told it passed on, with its own code.
func TestEscalationToNextProviderHasOneOutcome(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	c := h.openCase(casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.dispatch(r.ID)
	h.clk.Advance(15 * time.Minute)
	h.ackDeadline(r.ID)
	h.ackDeadline(r.ID) // redelivered: nothing more

	_, alerts := h.rec.snapshot()
	if len(alerts) != 1 || alerts[0].Kind != roster.AlertEscalated {
		t.Fatalf("alerts = %+v; want one escalation alert", alerts)
	}
	passed, _ := h.rec.survivorSide()
	if len(passed) != 1 || passed[0].Phone != phoneA || passed[0].ReplyCode != r.ReplyCode || passed[0].Reference != c.Reference {
		t.Fatalf("passed-on notices = %+v; want one to A with its code", passed)
	}
	if f := h.followUps(c.ID); len(f) != 0 {
		t.Fatalf("follow-ups = %+v; the supervisor on call owns it", f)
	}
}

// With nobody left to take the need, the escalation's one outcome is the
// "no service available" alert and task, not "passed to the next service".
func TestEscalationWithNoNextProviderAlertsOnlyNoProvider(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	h.onCall(roster.Supervisor, phoneSup)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.dispatch(r.ID)
	if _, err := h.pool.Exec(h.ctx, `UPDATE service SET active = false WHERE key IN ('hp-b', 'hp-c')`); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(2 * time.Hour)
	h.ackDeadline(r.ID)
	h.ackDeadline(r.ID)

	_, alerts := h.rec.snapshot()
	if len(alerts) != 1 || alerts[0] != (roster.Alert{Phone: phoneSup, Kind: roster.AlertNoProvider, CaseID: c.ID, Reference: c.Reference}) {
		t.Fatalf("alerts = %+v; want exactly one no-provider alert", alerts)
	}
	if f := h.followUps(c.ID); len(f) != 1 || f[0].Kind != casefile.FollowUpNoProvider {
		t.Fatalf("follow-ups = %+v; want one no-provider task", f)
	}
	if passed, _ := h.rec.survivorSide(); len(passed) != 1 || passed[0].Phone != phoneA {
		t.Fatalf("passed-on notices = %+v", passed)
	}
}

// A provider that answers after its request escalated is told it passed on,
// and its answer changes nothing; a revoked request's late answer is told
// it was withdrawn; a code from another phone stays unknown.
func TestLateReplyToClosedRequestSaysWhatBecameOfIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testDirectory)
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth}})
	r := h.create(c)[0]
	h.dispatch(r.ID)
	h.inTx(func(tx pgx.Tx) error { return h.svc.NoticeFailed(h.ctx, tx, r.ID) })
	before := h.referrals(c.ID)

	if out := h.reply(phoneA, "OK "+r.ReplyCode); out.Result != ReplyPassedOn || out.ReferralID != r.ID {
		t.Fatalf("late OK: %+v", out)
	}
	if out := h.reply(phoneA, "NO "+r.ReplyCode); out.Result != ReplyPassedOn {
		t.Fatalf("late NO: %+v", out)
	}
	if out := h.reply(phonePol, "OK "+r.ReplyCode); out.Result != ReplyUnknownCode {
		t.Fatalf("code from another phone: %+v", out)
	}
	// An honest late answer is not a wrong code: repeated past the
	// wrong-code limit (5), it does not lock the phone.
	for range 5 {
		h.reply(phoneA, "OK "+r.ReplyCode)
	}
	if out := h.reply(phoneA, "OK "+r.ReplyCode); out.Result != ReplyPassedOn {
		t.Fatalf("late answers locked the phone: %+v", out)
	}
	after := h.referrals(c.ID)
	if len(after) != len(before) || after[0].Status != Escalated || after[1].Status != before[1].Status {
		t.Fatalf("a late reply acted: %+v → %+v", before, after)
	}

	next := after[1]
	h.dispatch(next.ID)
	h.inTx(func(tx pgx.Tx) error { return h.svc.Transition(h.ctx, tx, next.ID, Revoked, "cw-1", "caseworker") })
	if out := h.reply(phoneB, "OK "+next.ReplyCode); out.Result != ReplyWithdrawn {
		t.Fatalf("late OK to a revoked request: %+v", out)
	}
	// Past the quarantine the code may belong to another request: unknown.
	h.clk.Advance(codeQuarantine + time.Minute)
	if out := h.reply(phoneA, "OK "+r.ReplyCode); out.Result != ReplyUnknownCode {
		t.Fatalf("after the quarantine: %+v", out)
	}
}

// The provider's OK tells her once where to go: for health the post's name
// and address and the clinical window still open; accepting later tells her
// nothing more.
func TestAcknowledgementTellsHerOnce(t *testing.T) {
	t.Parallel()
	dir := `{"timezone": "America/Lima", "organizations": [{"key": "org", "name": "Org", "services": [
	  {"key": "hp", "name": "Posta Alto Trujillo", "address": "Av. Sol 123", "kind": "health_post", "needs": ["health"],
	   "communities": ["*"], "hours": "always", "capacity": 5, "duty_phone": "` + phoneA + `",
	   "ack_minutes": {"urgent": 15, "routine": 120}},
	  {"key": "pol", "name": "Comisaria", "address": "Jr. Luna 9", "kind": "police", "needs": ["police"],
	   "communities": ["*"], "hours": "always", "capacity": 5, "duty_phone": "` + phonePol + `",
	   "ack_minutes": {"urgent": 15, "routine": 120}}]}]}`
	h := newHarness(t, dir)
	incident := tuesday10.Add(-80 * time.Hour) // PEP closed, EC open
	c := h.openCase(casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}, IncidentAt: &incident})
	refs := h.create(c)
	for _, r := range refs {
		h.dispatch(r.ID)
	}
	h.reply(phoneA, "OK "+refs[0].ReplyCode)
	h.reply(phoneA, "OK "+refs[0].ReplyCode) // a repeat
	h.inTx(func(tx pgx.Tx) error {
		return h.svc.Transition(h.ctx, tx, refs[0].ID, Accepted, "provider:x", "portal")
	})
	h.reply(phonePol, "SI "+refs[1].ReplyCode)

	_, told := h.rec.survivorSide()
	if len(told) != 2 {
		t.Fatalf("told %d times, want once per acknowledged referral: %+v", len(told), told)
	}
	health, police := told[0], told[1]
	ec := incident.Add(casefile.ECWindow)
	if health.CaseID != c.ID || health.Need != casefile.NeedHealth || health.Place != "Posta Alto Trujillo, Av. Sol 123" ||
		health.Until == nil || !health.Until.Equal(ec) || health.Loc.String() != "America/Lima" || health.Lang != "es" {
		t.Fatalf("health notice = %+v; want the post, its address and the EC deadline", health)
	}
	if police.Need != casefile.NeedPolice || police.Place != "" || police.Until != nil {
		t.Fatalf("police notice = %+v; only health names a place or a time", police)
	}
}
