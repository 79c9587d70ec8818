package hotline

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/templates"
)

const (
	supervisor = "+51900000801"
	dutyPhone  = "+51944000001"
	health2    = "+51900000905"
)

// chainDirectory adds a second health post that H escalates to.
const chainDirectory = `{"timezone": "America/Lima", "organizations": [{"key": "org", "name": "Org", "services": [
  {"key": "hp", "name": "H", "address": "Av. Sol 123", "kind": "health_post", "needs": ["health"], "communities": ["*"],
   "hours": "always", "capacity": 50, "duty_phone": "` + healthPhone + `", "ack_minutes": {"urgent": 15, "routine": 120},
   "priority": 10, "next": "hp2"},
  {"key": "hp2", "name": "H2", "kind": "health_post", "needs": ["health"], "communities": ["*"],
   "hours": "always", "capacity": 50, "duty_phone": "` + health2 + `", "ack_minutes": {"urgent": 15, "routine": 120},
   "priority": 20}]}]}`

// advance moves the fake clock and makes the River jobs due by then
// available at once, as River's scheduler (reading the same clock) would
// within a few seconds.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clk.Advance(d)
	exec := riverpgxv5.New(e.pool).GetExecutor()
	tx, err := exec.Begin(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback(e.ctx)
	now := e.clk.Now()
	if _, err := tx.JobSchedule(e.ctx, &riverdriver.JobScheduleParams{Max: 1000, Now: &now}); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// triage takes her through the Spanish intake: in danger no, case yes,
// the needs answer given (health among them, today), El Porvenir, all
// referrals, texts only, at the hours answer given. It returns her case
// reference.
func (e *env) triage(needs, hours string) string {
	e.t.Helper()
	survivor := e.sim.Phone(survivorPhone)
	for _, step := range []string{"Hola", "2", "1", needs, "1"} {
		survivor.Send(step).ExpectSMS()
	}
	survivor.ExpectSMS() // the community question follows the PEP advice
	for _, step := range []string{"1", "TODOS", "1", hours} {
		survivor.Send(step).ExpectSMS()
	}
	return refPattern.FindString(survivor.Send("girasol").ExpectSMS("AMP-").Body)
}

// code returns the reply code of a provider notice.
func code(t *testing.T, m string) string {
	t.Helper()
	c := codePattern.FindStringSubmatch(m)
	if c == nil {
		t.Fatalf("no reply code in %q", m)
	}
	return c[1]
}

func TestWhereToGoArrivesAfterOK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	ref := e.triage("1 2", "4") // health and police; 8 to 21: it is 10:00
	survivor := e.sim.Phone(survivorPhone)
	health := e.sim.Phone(healthPhone).ExpectSMS(ref)
	police := e.sim.Phone(policePhone).ExpectSMS(ref)
	e.sim.Settle()
	e.sim.AssertQuiet() // nothing for her before a provider answers

	health.Reply("OK " + code(t, health.Body)).Expect(text(t, es, templates.KeyProviderAcknowledged, "ref", ref))
	survivor.Expect(text(t, es, templates.KeySurvivorWhere, "place", "H, Av. Sol 123", "deadline", "13/03 00:00"))
	// Police is named only as the need she chose, never by its place.
	police.Reply("OK " + code(t, police.Body)).ExpectSMS()
	survivor.Expect(text(t, es, templates.KeySurvivorTaken, "need", "Policia"))
	// Accepting after acknowledging tells her nothing more.
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		r, err := e.refs.ForCase(e.ctx, tx, e.caseID(ref))
		if err != nil {
			return err
		}
		return e.refs.Transition(e.ctx, tx, r[0].ID, referral.Accepted, "provider:hp", "portal")
	}); err != nil {
		t.Fatal(err)
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
	e.assertNotStored("Av. Sol 123")
}

// Her hours are 18 to 21: the OK at 10:05 is answered at 18:00, not before.
func TestWhereToGoWaitsForHerHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ref := e.triage("1", "3") // health; 18 to 21
	survivor := e.sim.Phone(survivorPhone)
	health := e.sim.Phone(healthPhone).ExpectSMS(ref)
	e.advance(5 * time.Minute)
	health.Reply("OK " + code(t, health.Body)).ExpectSMS()
	e.sim.Settle()
	e.sim.AssertQuiet()

	opening := time.Date(2026, 3, 10, 18, 0, 0, 0, lima)
	var notBefore, scheduled time.Time
	if err := e.pool.QueryRow(e.ctx, `SELECT m.not_before, j.scheduled_at FROM outbound_message m
		JOIN river_job j ON j.kind = 'sms.send' AND j.args->>'outbound_id' = m.id::text
		WHERE m.purpose = 'survivor' AND m.status = 'pending'`).Scan(&notBefore, &scheduled); err != nil {
		t.Fatal(err)
	}
	if !notBefore.Equal(opening) || !scheduled.Equal(opening) {
		t.Fatalf("queued for %v (job %v), want her window's opening %v", notBefore.In(lima), scheduled.In(lima), opening)
	}
	e.advance(opening.Add(-time.Second).Sub(e.clk.Now()))
	e.sim.Settle()
	e.sim.AssertQuiet()
	e.advance(time.Second)
	survivor.Expect(text(t, templates.ES, templates.KeySurvivorWhere, "place", "H, Av. Sol 123", "deadline", "13/03 00:00"))
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// She says SALIR while the text waits for her hours: it never goes.
func TestWhereToGoNotSentAfterSalir(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ref := e.triage("1", "3") // health; 18 to 21
	survivor := e.sim.Phone(survivorPhone)
	health := e.sim.Phone(healthPhone).ExpectSMS(ref)
	health.Reply("OK " + code(t, health.Body)).ExpectSMS()
	survivor.Send("SALIR").Expect(text(t, templates.ES, templates.KeyStop))
	e.advance(8 * time.Hour) // past 18:00
	e.sim.Settle()
	e.sim.AssertQuiet()
	if n := e.count("outbound_message", "purpose = 'survivor' AND status = 'canceled'"); n != 1 {
		t.Fatalf("%d canceled texts to her, want the one she stopped", n)
	}
	if n := e.sim.Calls(survivorPhone); n != 0 {
		t.Fatalf("%d texts reached her through the API after SALIR", n)
	}
}

// caseID returns the id of the case with reference ref.
func (e *env) caseID(ref string) (id uuid.UUID) {
	e.t.Helper()
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE reference = $1`, ref).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// healthCase opens a case that consents to health only, texts any time, and
// refers it.
func (e *env) healthCase() casefile.Case {
	e.t.Helper()
	contact, err := e.cases.CreateContact(e.ctx, e.pool, survivorPhone)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.cases.OpenCase(e.ctx, e.pool, contact.ID, casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedHealth},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true}, Lang: "es", Community: "El Porvenir",
		Contact: casefile.ContactPrefs{MayText: true}})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		_, err := e.refs.CreateForCase(e.ctx, tx, c.ID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) onCall(role roster.Role, phone string) {
	e.t.Helper()
	if err := e.roster.Add(e.ctx, e.pool, role, phone, tuesday10.Add(-time.Hour), tuesday10.Add(30*24*time.Hour)); err != nil {
		e.t.Fatal(err)
	}
}

// Nobody answers H in time: H hears that the request passed on, H2 gets it,
// the supervisor gets one text that it moved on, and nothing else is sent.
// H's late OK is told the same, not that its code is unknown.
func TestEscalationToNextServiceIsOneTextEach(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	if err := referral.LoadDirectory(e.ctx, e.pool, strings.NewReader(chainDirectory)); err != nil {
		t.Fatal(err)
	}
	e.onCall(roster.Supervisor, supervisor)
	c := e.healthCase()
	health := e.sim.Phone(healthPhone).ExpectSMS(c.Reference)
	hc := code(t, health.Body)
	e.sim.Settle()
	e.advance(15 * time.Minute)

	passed := text(t, es, templates.KeyProviderPassedOn, "ref", c.Reference, "code", hc)
	e.sim.Phone(healthPhone).Expect(passed)
	e.sim.Phone(health2).ExpectSMS(c.Reference, "OK ")
	e.sim.Phone(supervisor).Expect(text(t, es, templates.KeyStaffEscalated, "ref", c.Reference))
	e.sim.Settle()
	e.sim.AssertQuiet()

	health.Reply("OK " + hc).Expect(passed)
	e.advance(time.Minute) // a folded alert would be due by now
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// Nobody answers H and nobody else can take it: H hears it passed on and
// the supervisor gets the one "no service available" text, not "passed to
// the next service" as well.
func TestEscalationWithNoServiceIsOneAlert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	e.onCall(roster.Supervisor, supervisor)
	c := e.healthCase()
	health := e.sim.Phone(healthPhone).ExpectSMS(c.Reference)
	e.sim.Settle()
	e.advance(15 * time.Minute)
	e.sim.Phone(healthPhone).Expect(text(t, es, templates.KeyProviderPassedOn, "ref", c.Reference, "code", code(t, health.Body)))
	e.sim.Phone(supervisor).Expect(text(t, es, templates.KeyStaffNoProvider, "ref", c.Reference))
	e.advance(time.Minute)
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// Alerts about one case to one phone within a minute of a text are folded
// into one text at the minute's end; another case's alert is not held up.
func TestStaffAlertsAboutACaseAreFolded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	c := e.survivorCase(survivorPhone, casefile.ContactPrefs{})
	other := e.survivorCase("+51987000555", casefile.ContactPrefs{})
	alert := func(caseID casefile.Case, kind roster.AlertKind) {
		t.Helper()
		if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
			return e.out.AlertStaff(e.ctx, tx, roster.Alert{Phone: supervisor, Kind: kind, CaseID: caseID.ID, Reference: caseID.Reference})
		}); err != nil {
			t.Fatal(err)
		}
	}
	sup := e.sim.Phone(supervisor)
	alert(c, roster.AlertEscalated)
	sup.Expect(text(t, es, templates.KeyStaffEscalated, "ref", c.Reference))
	e.advance(10 * time.Second)
	alert(c, roster.AlertServeDeadlineNear)
	alert(c, roster.AlertNoProvider)
	alert(c, roster.AlertNoProvider) // the same again adds nothing
	alert(other, roster.AlertEscalated)
	sup.Expect(text(t, es, templates.KeyStaffEscalated, "ref", other.Reference))
	e.advance(49 * time.Second)
	e.sim.Settle()
	e.sim.AssertQuiet()
	e.advance(time.Second)
	sup.Expect(text(t, es, templates.KeyStaffNoProvider, "ref", c.Reference) + " " + text(t, es, templates.KeyStaffMore, "n", "1"))
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// A danger alert nobody answers goes, once, to the supervisor and the
// fallback duty phones.
func TestUnansweredDangerAlertEscalatesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, func(s *envSetup) { s.fallback = []string{dutyPhone} })
	const es = templates.ES
	e.onCall(roster.Supervisor, supervisor)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").ExpectSMS()
	survivor.Send("1").Expect(text(t, es, templates.KeyDangerAlerted))
	alert := e.sim.Phone(counsellor).ExpectSMS("OK ")
	code := codeIn(alert.Body)
	ref := refPattern.FindString(alert.Body)
	e.advance(10*time.Minute - time.Second)
	e.sim.Settle()
	e.sim.AssertQuiet()
	e.advance(time.Second)
	unanswered := text(t, es, templates.KeyStaffDangerUnanswered, "ref", ref)
	e.sim.Phone(supervisor).Expect(unanswered)
	e.sim.Phone(dutyPhone).Expect(unanswered)
	e.advance(time.Hour)
	e.sim.Settle()
	e.sim.AssertQuiet()
	// A late answer still takes the case, and escalates nothing again.
	alert.Reply("OK " + code).Expect(text(t, es, templates.KeyStaffDangerTaken, "ref", ref))
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// The counsellor's OK answers the alert: nothing escalates, and the same
// code from another phone is not an answer.
func TestAnsweredDangerAlertDoesNotEscalate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, func(s *envSetup) { s.fallback = []string{dutyPhone} })
	const es = templates.ES
	e.onCall(roster.Supervisor, supervisor)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").ExpectSMS()
	survivor.Send("1").ExpectSMS()
	alert := e.sim.Phone(counsellor).ExpectSMS("OK ")
	code := codeIn(alert.Body)
	ref := refPattern.FindString(alert.Body)
	// From the supervisor's phone, the code means nothing: it is read as
	// someone writing to the hotline.
	e.sim.Phone(supervisor).Send("OK " + code).Expect(text(t, es, templates.KeyWelcome))
	alert.Reply("ok " + code).Expect(text(t, es, templates.KeyStaffDangerTaken, "ref", ref))
	e.advance(time.Hour)
	e.sim.Settle()
	e.sim.AssertQuiet()
	if n := e.count("danger_alert", "answered_at IS NOT NULL AND escalated_at IS NULL"); n != 1 {
		t.Fatalf("%d answered, unescalated danger alerts; want 1", n)
	}
}

// After SALIR the portal must not hand her number to a provider: SaidStop
// says so for her case, from the same opt-out list the sender reads.
func TestSaidStopFollowsSalir(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ref := e.triage("1", "3")
	id := e.caseID(ref)
	stopped := func() bool {
		t.Helper()
		var s bool
		err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) (err error) {
			s, err = e.out.SaidStop(e.ctx, tx, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if stopped() {
		t.Fatal("stopped before SALIR")
	}
	e.sim.Phone(survivorPhone).Send("SALIR").Expect(text(t, templates.ES, templates.KeyStop))
	if !stopped() {
		t.Fatal("not stopped after SALIR")
	}
}
