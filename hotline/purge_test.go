package hotline

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// purgeAll works every queued twilio_purge job as River would: once
// failing while Twilio is down, then again until each succeeds, then once
// more, which must change nothing.
func (e *env) purgeAll(jobs []sms.PurgeArgs) {
	e.t.Helper()
	e.sim.FailPurges(1)
	if err := e.sender.Purge(jobs[0]); err == nil {
		e.t.Fatal("a purge during a Twilio outage reported success; River would not retry it")
	} else if strings.Contains(err.Error(), survivorPhone) {
		e.t.Fatalf("purge error quotes her number: %v", err)
	}
	for range 2 {
		for _, a := range jobs {
			if err := e.sender.Purge(a); err != nil {
				e.t.Fatalf("purge %+v: %v", a, err)
			}
		}
	}
}

// purged reports what the carrier recorded for sid: redactions and deletions.
func purged(sim *carrier.Carrier, sid string) (redacted, deleted int) {
	for _, p := range sim.Purges() {
		if p.SID == sid {
			switch p.Action {
			case "redact":
				redacted++
			case "delete":
				deleted++
			}
		}
	}
	return redacted, deleted
}

// BORRAR reaches what Twilio keeps of her: every text she sent, every text
// we sent her and every call she made is redacted and deleted there, by
// jobs that carry the sids alone; and here, nothing links her calls to her
// cases any more.
func TestBorrarHasTwilioForgetHerMessagesAndCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	caseID := openCaseBySMS(e, survivor, "girasol", "1", "1") // texts only, mornings (the clock's 10:00)
	call := carrier.NewSID("CA")
	form := url.Values{"CallSid": {call}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	if dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken)); !strings.Contains(dialed, "<Dial") {
		t.Fatalf("danger call: %s", dialed)
	}
	toHer := e.toSurvivor(caseID, "Amparo: hola")
	if toHer == uuid.Nil {
		t.Fatal("her profile allows texts now, but the text to her was not queued")
	}
	if err := e.sender.Send(e.ctx, toHer, false); err != nil {
		t.Fatal(err)
	}
	survivor.Expect("Amparo: hola")
	e.sim.Settle()
	e.clk.Advance(2 * time.Hour)
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDone))

	var hers []string // every sid Twilio's log ties to her number
	for _, m := range e.sim.Thread(survivorPhone) {
		if m.Via != "twiml" { // TwiML replies get sids we never learn
			hers = append(hers, m.SID)
		}
	}
	jobs := e.assertPurgesQueued(append(slices.Clone(hers), call)...)
	if n := e.count("voice_call", "") + e.count("voice_event", ""); n != 0 {
		t.Errorf("%d rows still tie her call to her case", n)
	}
	if n := e.count("river_job", "kind = $1 AND scheduled_at < $2", sms.PurgeArgs{}.Kind(), e.clk.Now().Add(purgeDelay)); n != 0 {
		t.Errorf("%d purge job(s) due before what is in flight at Twilio has finished", n)
	}
	e.assertNotStored(survivorPhone)

	e.purgeAll(jobs)
	for _, sid := range hers {
		if r, d := purged(e.sim, sid); r != 1 || d != 1 {
			t.Errorf("message %s: redacted %d and deleted %d time(s) at Twilio, want once each", sid, r, d)
		}
	}
	if r, d := purged(e.sim, call); r != 0 || d != 1 {
		t.Errorf("call: redacted %d, deleted %d time(s) at Twilio, want deleted once", r, d)
	}
	for _, m := range e.sim.Thread(survivorPhone) {
		if m.Via != "twiml" && (!m.Deleted || m.Body != "") {
			t.Errorf("Twilio still holds %s: %q", m.SID, m.Body)
		}
	}
}

// A week on, the retention sweep leaves nothing that links a message or a
// call to her: not the recipient index of a text that failed early (its
// key went then, its index stayed), not a sid, not the call's case; and
// Twilio is asked to forget them.
func TestRetentionForgetsLinksAndHasTwilioForgetThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	sent := e.sim.Thread(survivorPhone)[0].SID
	failing := "+51987000555"
	e.sim.Fail(failing, carrier.Fault{HTTPStatus: 400, Code: 21211})
	failed := e.queue(sms.Message{Purpose: sms.PurposeStaff, To: failing, Body: "Amparo: x", TTL: sms.SurvivorTTL})
	if err := e.sender.Send(e.ctx, failed, false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.status(failed); st != "failed" {
		t.Fatalf("text to an invalid number is %s", st)
	}
	caller := "+51987000333"
	call := carrier.NewSID("CA")
	form := url.Values{"CallSid": {call}, "From": {caller}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	if e.count("voice_call", "") != 1 || e.count("voice_event", "") != 1 {
		t.Fatal("the danger call left no idempotency rows to sweep")
	}
	if _, err := e.h.BlockCaller(e.ctx, Block{Phone: "+51987000222", Reason: "prank", Until: e.clk.Now().Add(time.Hour), SetBy: "u-sup"}); err != nil {
		t.Fatal(err)
	}

	e.clk.Advance(messageRetention + time.Minute)
	if _, err := e.h.ShredOldMessages(e.ctx); err != nil {
		t.Fatal(err)
	}
	for table, linked := range map[string]string{
		"inbound_message":  "phone_index IS NOT NULL OR message_sid IS NOT NULL",
		"outbound_message": "to_index IS NOT NULL OR twilio_sid IS NOT NULL",
		"voice_call":       "",
		"voice_event":      "",
		"caller_rate":      "",
		"caller_block":     "phone_index IS NOT NULL",
		"conversation":     "phone_index IS NOT NULL AND status <> 'active'",
	} {
		if n := e.count(table, linked); n != 0 {
			t.Errorf("%s: %d row(s) still linked after the retention sweep", table, n)
		}
	}
	e.purgeAll(e.assertPurgesQueued(sent, call))
	if r, d := purged(e.sim, sent); r != 1 || d != 1 {
		t.Errorf("her text: redacted %d, deleted %d at Twilio", r, d)
	}
	if _, d := purged(e.sim, call); d != 1 {
		t.Errorf("the call: deleted %d at Twilio", d)
	}
}

// A case erased by staff forgets its calls too: nothing links the CallSid
// to the case any more, and Twilio is asked to delete the call record.
func TestErasedCaseForgetsItsCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	call := carrier.NewSID("CA")
	form := url.Values{"CallSid": {call}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	caseID := e.caseOfDial(e.dialAction(dialed))
	if err := e.cases.EraseCase(e.ctx, e.pool, caseID, "u-caseworker"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("voice_call", "") + e.count("voice_event", ""); n != 0 {
		t.Errorf("%d rows still tie the call to the erased case", n)
	}
	e.purgeAll(e.assertPurgesQueued(call))
	if _, d := purged(e.sim, call); d != 1 {
		t.Errorf("call deleted %d time(s) at Twilio, want once", d)
	}
}
