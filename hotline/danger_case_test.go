package hotline

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// She says she is in danger now, then goes on and completes the triage: the
// urgent case opened at once and the case the triage describes are one case.
func TestDangerThenTriageIsOneCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("sí").Expect(text(t, es, templates.KeyDangerAlerted))
	alert := e.sim.Phone(counsellor).ExpectSMS("AMP-")
	ref := refPattern.FindString(alert.Body)
	if alert.Body != text(t, es, templates.KeyStaffDangerNow, "ref", ref, "code", codeIn(alert.Body)) {
		t.Fatalf("alert %q", alert.Body)
	}
	var urgentID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE reference = $1 AND urgent`, ref).Scan(&urgentID); err != nil {
		t.Fatalf("no urgent case %s: %v", ref, err)
	}

	survivor.Send("sí").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("sí").Expect(text(t, es, templates.KeyNeeds))
	survivor.Send("1 2").Expect(text(t, es, templates.KeyWhen))
	survivor.Send("1").Expect("acude a un centro de salud antes de")
	survivor.Expect(communityQuestion(t, es, false))
	survivor.Send("1").ExpectSMS("1 Salud", "2 Policia")
	survivor.Send("TODOS").Expect(text(t, es, templates.KeyContact))
	survivor.Send("1").Expect(text(t, es, templates.KeyHours))
	survivor.Send("1").Expect(text(t, es, templates.KeyCodeWord))
	summary := survivor.Send("girasol").ExpectSMS("AMP-")
	if want := text(t, es, templates.KeySummary, "ref", ref); summary.Body != want {
		t.Fatalf("summary %q; want the urgent case's reference: %q", summary.Body, want)
	}

	// Exactly one case for her, the urgent one, carrying the full triage.
	if n := e.count("case_file", ""); n != 1 {
		t.Fatalf("%d cases for one conversation; want 1", n)
	}
	c, err := e.cases.GetCase(e.ctx, e.pool, urgentID)
	if err != nil {
		t.Fatal(err)
	}
	wantNeeds := []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}
	if c.Reference != ref || !c.Urgent || c.Status != casefile.StatusOpen || !slices.Equal(c.Needs, wantNeeds) ||
		!c.Consent[casefile.NeedHealth] || !c.Consent[casefile.NeedPolice] || len(c.Consent) != 2 ||
		c.Community == "" || !c.Contact.MayText || c.IncidentAt == nil || c.PEPDeadline == nil || c.ECDeadline == nil {
		t.Errorf("the one case = %+v", c)
	}
	if !c.PEPDeadline.Equal(c.IncidentAt.Add(casefile.PEPWindow)) || !c.ECDeadline.Equal(c.IncidentAt.Add(casefile.ECWindow)) {
		t.Errorf("deadlines pep %v ec %v for incident %v", c.PEPDeadline, c.ECDeadline, c.IncidentAt)
	}
	if ok, err := e.cases.CheckCodeWord(e.ctx, e.pool, c.ContactID, "girasol"); !ok || err != nil {
		t.Errorf("code word on her contact: %v, %v", ok, err)
	}
	if n := e.count("contact", ""); n != 1 {
		t.Errorf("%d contacts; want 1", n)
	}
	if n := e.count("conversation", "case_id = $1", urgentID); n != 1 {
		t.Errorf("conversation does not point at the one case (%d)", n)
	}

	// Referrals hang off that case, one per consented need.
	if n, all := e.count("referral", "case_id = $1", urgentID), e.count("referral", ""); n != 2 || all != 2 {
		t.Errorf("referrals: %d on the case, %d in all; want 2 and 2", n, all)
	}
	for _, p := range []string{healthPhone, policePhone} {
		e.sim.Phone(p).ExpectSMS(ref)
	}

	// On-call heard of the danger exactly once.
	if n := e.count("outbound_message", "purpose = 'staff_alert'"); n != 1 {
		t.Errorf("%d staff alerts; want the one danger alert", n)
	}
	var toCounsellor []string
	for _, m := range e.sim.Thread(counsellor) {
		if m.Dir == carrier.ToPhone && strings.Contains(m.Body, "AMP-") {
			toCounsellor = append(toCounsellor, m.Body)
		}
	}
	if len(toCounsellor) != 1 {
		t.Errorf("counsellor got %q; want one alert", toCounsellor)
	}

	e.assertNotStored("girasol", survivorPhone, "987654321")
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// Staff erased the urgent case while she was still answering: her answers
// open a new case instead of failing every message from then on.
func TestDangerCaseErasedMidwayOpensANewOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("sí").Expect(text(t, es, templates.KeyDangerAlerted))
	var urgentID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE urgent`).Scan(&urgentID); err != nil {
		t.Fatal(err)
	}
	if err := e.cases.EraseCase(e.ctx, e.pool, urgentID, "sup-1"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"sí", "sí", "3", "1", "NINGUNO", "4"} {
		survivor.Send(step).ExpectSMS()
	}
	summary := survivor.Send("girasol").ExpectSMS("AMP-")
	ref := refPattern.FindString(summary.Body)
	if n := e.count("case_file", "reference = $1 AND status = 'open' AND urgent AND id <> $2", ref, urgentID); n != 1 {
		t.Fatalf("no new urgent case %s after the first was erased", ref)
	}
	if n := e.count("case_file", "status = 'erased'"); n != 1 {
		t.Fatal("the erased case came back")
	}
}

// "In danger now" with nobody on the roster: the fallback duty phone gets
// the alert, so that she is not left waiting on an empty rota.
func TestDangerWithEmptyRosterAlertsFallbackDuty(t *testing.T) {
	t.Parallel()
	const duty = "+51944000001"
	e := newEnv(t, true, func(s *envSetup) { s.fallback = []string{duty} })
	if _, err := e.pool.Exec(e.ctx, `DELETE FROM on_call`); err != nil {
		t.Fatal(err)
	}
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	survivor.Send("sí").Expect(text(t, templates.ES, templates.KeyDangerAlerted))
	alert := e.sim.Phone(duty).ExpectSMS("AMP-")
	if ref := refPattern.FindString(alert.Body); alert.Body != text(t, templates.ES, templates.KeyStaffDangerNow, "ref", ref, "code", codeIn(alert.Body)) {
		t.Fatalf("alert %q", alert.Body)
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// A counsellor put on the roster the way an administrator does (amparo
// oncall add) is who the next danger alert reaches; one whose shift was
// removed is not.
func TestDangerAlertsAShiftAddedByAnAdministrator(t *testing.T) {
	t.Parallel()
	const added = "+51944000002"
	e := newEnv(t, true)
	if _, err := e.pool.Exec(e.ctx, `DELETE FROM on_call`); err != nil {
		t.Fatal(err)
	}
	old, err := roster.AddShift(e.ctx, e.pool, roster.Shift{Role: roster.Counsellor, Phone: counsellor,
		Starts: tuesday10.Add(-time.Hour), Ends: tuesday10.Add(time.Hour)}, "cli", tuesday10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roster.AddShift(e.ctx, e.pool, roster.Shift{Role: roster.Counsellor, Phone: added,
		Starts: tuesday10.Add(-time.Minute), Ends: tuesday10.Add(8 * time.Hour)}, "cli", tuesday10); err != nil {
		t.Fatal(err)
	}
	if err := roster.RemoveShift(e.ctx, e.pool, old, "cli", tuesday10); err != nil {
		t.Fatal(err)
	}
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	survivor.Send("sí").Expect(text(t, templates.ES, templates.KeyDangerAlerted))
	e.sim.Phone(added).ExpectSMS("AMP-")
	e.sim.Phone(counsellor).ExpectNothing()
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// A danger alert that reached nobody (an empty roster and no fallback
// phones) still queues its escalation job; with no alert to escalate, the
// job ends instead of failing at every attempt.
func TestDangerEscalationWithoutAlertsEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return e.h.dangerUnanswered(e.ctx, tx, uuid.New()) })
	if err != nil {
		t.Fatalf("escalating a case without danger alerts: %v", err)
	}
}
