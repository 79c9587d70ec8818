package hotline

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// queue commits one outbound message and returns its id.
func (e *env) queue(o sms.Message) uuid.UUID {
	e.t.Helper()
	var id uuid.UUID
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) (err error) {
		id, err = e.out.Enqueue(e.ctx, tx, o)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) status(id uuid.UUID) (status string, attempts int, code *int) {
	e.t.Helper()
	if err := e.pool.QueryRow(e.ctx, `SELECT status, attempts, error_code FROM outbound_message WHERE id = $1`, id).
		Scan(&status, &attempts, &code); err != nil {
		e.t.Fatal(err)
	}
	return status, attempts, code
}

// testCase opens a committed case for a fresh contact.
func (e *env) testCase(phone string) casefile.Case {
	e.t.Helper()
	contact, err := e.cases.CreateContact(e.ctx, e.pool, phone)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.cases.OpenCase(e.ctx, e.pool, contact.ID, casefile.CaseInput{Needs: []casefile.Need{casefile.NeedHealth},
		Consent: map[casefile.Need]bool{casefile.NeedHealth: true}, Lang: "es", Community: "El Porvenir"})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// openReferral commits a case for a fresh contact with a consented health
// need, and its referral (pending: no River here dispatches it).
func (e *env) openReferral(phone string) referral.Referral {
	e.t.Helper()
	c := e.testCase(phone)
	var refs []referral.Referral
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) (err error) {
		refs, err = e.refs.CreateForCase(e.ctx, tx, c.ID)
		return err
	})
	if err != nil || len(refs) != 1 {
		e.t.Fatalf("referral: %v, %v", refs, err)
	}
	return refs[0]
}

func (e *env) followUps(caseID uuid.UUID, kind casefile.FollowUpKind) int {
	e.t.Helper()
	fs, err := e.cases.FollowUps(e.ctx, e.pool, caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, f := range fs {
		if f.Kind == kind {
			n++
		}
	}
	return n
}

func TestSendAndStatusCallbacksMoveForwardOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: counsellor, Body: "Amparo: prueba", TTL: sms.StaffAlertTTL})
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Settle()
	if st, attempts, _ := e.status(id); st != "delivered" || attempts != 1 {
		t.Fatalf("status %s after %d attempts, want delivered after 1", st, attempts)
	}
	e.sim.Phone(counsellor).Expect("Amparo: prueba")

	var sid string
	if err := e.pool.QueryRow(e.ctx, `SELECT twilio_sid FROM outbound_message WHERE id = $1`, id).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	for _, late := range []string{"sent", "queued", "failed"} {
		resp := e.post("/twilio/status?m="+id.String(), url.Values{"MessageSid": {sid}, "MessageStatus": {late}}, testToken)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("status callback answered %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	if st, _, _ := e.status(id); st != "delivered" {
		t.Fatalf("late callbacks moved delivered to %s", st)
	}
	// A callback naming another sid, or unsigned, changes nothing.
	resp := e.post("/twilio/status?m="+id.String(), url.Values{"MessageSid": {carrier.NewSID("SM")}, "MessageStatus": {"undelivered"}}, "")
	if resp.StatusCode != 403 {
		t.Fatalf("unsigned callback answered %d", resp.StatusCode)
	}
	resp.Body.Close()
	// A repeated job finds the row handed over and sends nothing again.
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Calls(counsellor); n != 1 {
		t.Fatalf("%d REST calls, want 1", n)
	}
	e.assertNotStored("prueba")
}

func TestTemporaryFailureIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.sim.Fail(counsellor, carrier.Fault{HTTPStatus: 503, Code: 20503, Times: 2})
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: counsellor, Body: "x", TTL: sms.StaffAlertTTL})
	for attempt := 1; attempt <= 2; attempt++ {
		err := e.sender.Send(e.ctx, id, false)
		var se *sms.SendError
		if !errors.As(err, &se) || se.Permanent {
			t.Fatalf("attempt %d: %v, want a temporary failure", attempt, err)
		}
		if st, n, code := e.status(id); st != "pending" || n != attempt || code == nil || *code != 20503 {
			t.Fatalf("after attempt %d: %s, %d attempts, code %v", attempt, st, n, code)
		}
	}
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Settle()
	if st, n, _ := e.status(id); st != "delivered" || n != 3 {
		t.Fatalf("%s after %d attempts", st, n)
	}
}

// A send whose answer is lost may have gone out: it waits for Twilio's
// status callback instead of sending the text a second time.
func TestLostAnswerWaitsForTheCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.sim.Fail(counsellor, carrier.Fault{LostAnswer: true})
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: counsellor, Body: "Amparo: prueba", TTL: sms.StaffAlertTTL})
	err := e.sender.Send(e.ctx, id, false)
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) || snooze.Duration != sms.LostAnswerWait {
		t.Fatalf("lost answer: %v; want a snooze of %v", err, sms.LostAnswerWait)
	}
	// Run again at once, as River might, perhaps before the callback:
	// nothing is sent.
	if err := e.sender.Send(e.ctx, id, false); err != nil && !errors.As(err, &snooze) {
		t.Fatal(err)
	}
	e.sim.Settle() // Twilio's callbacks arrive
	if st, attempts, _ := e.status(id); st != "delivered" || attempts != 1 {
		t.Fatalf("after the callbacks: %s after %d attempts; want delivered after 1", st, attempts)
	}
	if err := e.sender.Send(e.ctx, id, false); err != nil { // the snoozed job wakes
		t.Fatal(err)
	}
	e.sim.Settle()
	if n := e.sim.Calls(counsellor); n != 1 {
		t.Fatalf("%d REST calls, want 1: the text went out twice", n)
	}
	e.sim.Phone(counsellor).Expect("Amparo: prueba")
	e.sim.AssertQuiet()
}

func TestPermanentFailureStopsAndRaisesTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.testCase("+51987000111")
	e.sim.Fail(counsellor, carrier.Fault{HTTPStatus: 400, Code: 21211})
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, CaseID: &c.ID, To: counsellor, Body: "x", TTL: sms.StaffAlertTTL})
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatalf("a permanent failure must complete the job, got %v", err)
	}
	if st, n, code := e.status(id); st != "failed" || n != 1 || code == nil || *code != 21211 {
		t.Fatalf("%s, %d attempts, code %v", st, n, code)
	}
	if n := e.followUps(c.ID, "delivery_failed"); n != 1 {
		t.Fatalf("%d delivery_failed tasks, want 1", n)
	}
	// Undelivered after acceptance (carrier error 30003) also raises a task.
	e.sim.Fail(counsellor, carrier.Fault{Undelivered: true, Code: 30003})
	id = e.queue(sms.Message{Purpose: sms.PurposeStaff, CaseID: &c.ID, To: counsellor, Body: "y", TTL: sms.StaffAlertTTL})
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Settle()
	if st, _, code := e.status(id); st != "undelivered" || code == nil || *code != 30003 {
		t.Fatalf("%s, code %v", st, code)
	}
	if n := e.followUps(c.ID, "delivery_failed"); n != 2 {
		t.Fatalf("%d delivery_failed tasks, want 2", n)
	}
	// The last allowed attempt turns a temporary failure permanent.
	e.sim.Fail(counsellor, carrier.Fault{HTTPStatus: 500, Code: 20500})
	id = e.queue(sms.Message{Purpose: sms.PurposeStaff, CaseID: &c.ID, To: counsellor, Body: "z", TTL: sms.StaffAlertTTL})
	if err := e.sender.Send(e.ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.status(id); st != "failed" {
		t.Fatalf("final attempt left %s", st)
	}
}

func TestExpiredMessageIsNeverSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	id := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: counsellor, Body: "x", TTL: sms.StaffAlertTTL})
	e.clk.Advance(sms.StaffAlertTTL)
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.status(id); st != "expired" {
		t.Fatalf("status %s, want expired", st)
	}
	if n := e.sim.Calls(counsellor); n != 0 {
		t.Fatalf("expired message sent %d times", n)
	}
}

// survivorCase opens a committed case for phone with the contact profile
// prefs.
func (e *env) survivorCase(phone string, prefs casefile.ContactPrefs) casefile.Case {
	e.t.Helper()
	contact, err := e.cases.CreateContact(e.ctx, e.pool, phone)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.cases.OpenCase(e.ctx, e.pool, contact.ID, casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice},
		Lang: "es", Community: "El Porvenir", Contact: prefs})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// toSurvivor queues body to the case's survivor, committed, and returns the
// row's id (uuid.Nil when the rule says never).
func (e *env) toSurvivor(caseID uuid.UUID, body string) uuid.UUID {
	e.t.Helper()
	var queued bool
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) (err error) {
		_, queued, err = e.out.EnqueueToSurvivor(e.ctx, tx, caseID, sms.SurvivorText{Body: body})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if !queued {
		return uuid.Nil
	}
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM outbound_message WHERE purpose = 'survivor' ORDER BY created_at DESC LIMIT 1`).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestSurvivorMessagesWaitForHerHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.survivorCase(survivorPhone, casefile.ContactPrefs{MayText: true, FromHour: 9, ToHour: 12})
	e.clk.Set(time.Date(2026, 3, 10, 20, 30, 0, 0, lima))
	id := e.toSurvivor(c.ID, "x")
	var notBefore time.Time
	if err := e.pool.QueryRow(e.ctx, `SELECT not_before FROM outbound_message WHERE id = $1`, id).Scan(&notBefore); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 11, 9, 0, 0, 0, lima); !notBefore.Equal(want) {
		t.Fatalf("not_before %v, want %v", notBefore.In(lima), want)
	}
	var job rivertype.JobRow
	if err := e.pool.QueryRow(e.ctx, `SELECT scheduled_at FROM river_job WHERE kind = 'sms.send'`).Scan(&job.ScheduledAt); err != nil {
		t.Fatal(err)
	}
	if !job.ScheduledAt.Equal(notBefore) {
		t.Fatalf("job scheduled at %v, want %v", job.ScheduledAt, notBefore)
	}
	// Run early anyway (a clock jump, a manual retry): it snoozes, sends nothing.
	err := e.sender.Send(e.ctx, id, false)
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) || snooze.Duration != 12*time.Hour+30*time.Minute {
		t.Fatalf("early run: %v, want a 12h30 snooze", err)
	}
	if e.sim.Calls(survivorPhone) != 0 {
		t.Fatal("sent outside her hours")
	}
	e.clk.Set(time.Date(2026, 3, 11, 9, 0, 0, 0, lima))
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	e.sim.Settle()
	e.sim.Phone(survivorPhone).Expect("x")

	// She allowed calls only: nothing is queued at all.
	calls := e.survivorCase("+51987000444", casefile.ContactPrefs{MayCall: true, FromHour: 9, ToHour: 12})
	if id := e.toSurvivor(calls.ID, "x"); id != uuid.Nil {
		t.Fatal("a text queued to a survivor who allowed calls only")
	}
}

func TestStoppedSurvivorGetsNothingQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.survivorCase(survivorPhone, casefile.ContactPrefs{MayText: true, FromHour: 9, ToHour: 12})
	e.clk.Set(time.Date(2026, 3, 10, 20, 0, 0, 0, lima))
	id := e.toSurvivor(c.ID, "x")
	e.sim.Phone(survivorPhone).Send("SALIR").Expect(text(t, templates.ES, templates.KeyStop))
	if st, _, _ := e.status(id); st != "canceled" {
		t.Fatalf("queued message is %s after SALIR", st)
	}
	if id := e.toSurvivor(c.ID, "x"); id != uuid.Nil {
		t.Fatal("a text queued after SALIR")
	}
	e.sim.AssertQuiet()
}

// Her SALIR holds across an index-key rotation, and when it comes between
// the queueing and the send: the sender asks again.
func TestStopHoldsAcrossIndexKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.survivorCase(survivorPhone, casefile.ContactPrefs{MayText: true})
	id := e.toSurvivor(c.ID, "x")
	// Recorded as a SALIR under the old key would be, without cancelling
	// the queued row the way the conversation does.
	if _, err := e.pool.Exec(e.ctx, `INSERT INTO sms_opt_out (phone_index, at) VALUES ($1, $2)`,
		e.kr.BlindIndex().Current(survivorPhone), tuesday10); err != nil {
		t.Fatal(err)
	}
	rotated, err := crypto.RotateIndexKey(e.rawKeyring, tuesday10.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.restartWith(rotated) // the hotline and the sender look her up under the new key
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.status(id); st != "canceled" || e.sim.Calls(survivorPhone) != 0 {
		t.Fatalf("text after SALIR and a rotation: %s, %d calls", st, e.sim.Calls(survivorPhone))
	}
}

func TestProviderNoticeIsDiscreet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		return e.out.NotifyProvider(e.ctx, tx, referral.ProviderNotice{ReferralID: e.openReferral(survivorPhone).ID,
			Phone: healthPhone, Reference: "AMP-7K3Q", ReplyCode: "4821", Lang: "es"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var args string
	if err := e.pool.QueryRow(e.ctx, `SELECT args::text FROM river_job WHERE kind = 'sms.send'`).Scan(&args); err != nil {
		t.Fatal(err)
	}
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM outbound_message`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if args != `{"outbound_id": "`+id.String()+`"}` {
		t.Fatalf("job args %s carry more than the id", args)
	}
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	// It says where to look (the portal's inbox, at the public address)
	// and nothing about her.
	m := e.sim.Phone(healthPhone).ExpectSMS("AMP-7K3Q", "OK 4821", "Detalles: "+e.h.cfg.PublicURL+"/inbox")
	for _, word := range []string{"violencia", "violence", "víctima", "sobreviviente", "abuso", "mujer"} {
		if containsFold(m.Body, word) {
			t.Errorf("provider notice names %q: %s", word, m.Body)
		}
	}
}

// A public address too long for the provider notice to fit two segments is
// refused when the sender is built, not discovered in a truncated text.
func TestPublicURLTooLongForTheProviderNoticeIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	cfg := e.smsConfig
	cfg.PublicURL = "https://amparo.example.org/" + strings.Repeat("x", sms.MaxPublicURL)
	_, err := sms.NewSender(cfg, sms.SenderDeps{Pool: e.pool, Keys: e.kr, Notifier: e.out, Referrals: e.refs, Clock: e.clk})
	if err == nil || !strings.Contains(err.Error(), "AMPARO_PUBLIC_URL") {
		t.Fatalf("NewSender with a %d-character public URL: %v", len(cfg.PublicURL), err)
	}
}
