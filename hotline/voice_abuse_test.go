package hotline

import (
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

func callForm(from string) url.Values {
	return url.Values{"CallSid": {carrier.NewSID("CA")}, "From": {from}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
}

// assertNothingStarted fails unless no case, callback, alert or call row
// exists: what a refused caller must never cause.
func (e *env) assertNothingStarted() {
	e.t.Helper()
	for _, table := range []string{"case_file", "voice_call", "follow_up", "outbound_message"} {
		if n := e.count(table, ""); n != 0 {
			e.t.Errorf("%d rows in %s, want none", n, table)
		}
	}
}

// A blocked caller hears the emergency numbers, at the start of a call and
// at its danger step (the block may come in the middle of a call), and
// nothing opens a case or rings anyone. Lifting the block restores the IVR.
func TestVoiceObeysCallerBlocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	emergency := text(t, templates.ES, templates.KeyVoiceEmergency)

	during := callForm(survivorPhone)
	if menu := readAll(t, e.post("/twilio/voice", during, testToken)); !strings.Contains(menu, "<Gather") {
		t.Fatalf("before the block: %s", menu)
	}
	id, err := e.h.BlockCaller(e.ctx, Block{Phone: survivorPhone, Reason: "prank", Until: e.clk.Now().Add(time.Hour), SetBy: "sup-1"})
	if err != nil {
		t.Fatal(err)
	}
	danger := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(during, "Digits", "1"), testToken))
	if !strings.Contains(danger, emergency) || strings.Contains(danger, "<Dial") {
		t.Fatalf("danger press of a caller blocked mid-call: %s", danger)
	}

	next := callForm(survivorPhone)
	start := readAll(t, e.post("/twilio/voice", next, testToken))
	if !strings.Contains(start, emergency) || strings.Contains(start, "<Gather") || strings.Contains(start, "<Redirect") {
		t.Fatalf("a blocked caller's call: %s", start)
	}
	danger = readAll(t, e.post("/twilio/voice/danger?l=es", withParam(next, "Digits", "1"), testToken))
	if !strings.Contains(danger, emergency) || strings.Contains(danger, "<Dial") {
		t.Fatalf("a blocked caller's danger press: %s", danger)
	}
	e.assertNothingStarted()

	if err := e.h.LiftBlock(e.ctx, id, "sup-1"); err != nil {
		t.Fatal(err)
	}
	after := callForm(survivorPhone)
	if menu := readAll(t, e.post("/twilio/voice", after, testToken)); !strings.Contains(menu, "<Gather") {
		t.Fatalf("after the block was lifted: %s", menu)
	}
	if dial := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(after, "Digits", "1"), testToken)); !strings.Contains(dial, "<Dial") {
		t.Fatalf("danger press after the block was lifted: %s", dial)
	}
	e.assertNotStored(survivorPhone, "987654321")
}

// Calls count against the same per-caller limit as texts, once per call.
func TestVoiceCallsCountAgainstTheCallerRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.RateLimit = 2 })
	emergency := text(t, templates.ES, templates.KeyVoiceEmergency)
	e.sim.Phone(survivorPhone).Send("Hola").ExpectSMS()
	first := callForm(survivorPhone)
	if menu := readAll(t, e.post("/twilio/voice", first, testToken)); !strings.Contains(menu, "<Gather") {
		t.Fatalf("second contact within the limit: %s", menu)
	}
	over := callForm(survivorPhone)
	if start := readAll(t, e.post("/twilio/voice", over, testToken)); !strings.Contains(start, emergency) || strings.Contains(start, "<Gather") {
		t.Fatalf("third contact over the limit: %s", start)
	}
	if danger := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(over, "Digits", "1"), testToken)); strings.Contains(danger, "<Dial") ||
		!strings.Contains(danger, emergency) {
		t.Fatalf("danger press of a call over the limit: %s", danger)
	}
	if n := e.count("case_file", ""); n != 0 {
		t.Fatalf("%d cases opened over the limit", n)
	}
	e.clk.Advance(e.h.cfg.RateWindow + time.Minute)
	if menu := readAll(t, e.post("/twilio/voice", callForm(survivorPhone), testToken)); !strings.Contains(menu, "<Gather") {
		t.Fatalf("in the next window: %s", menu)
	}
}

// The counsellor's phone shows the hotline's number, never hers, and before
// the call is joined she hears what it is, from a signed route of ours whose
// URL carries nothing about the caller.
func TestDangerTransferHidesHerNumberAndWhispers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := callForm(survivorPhone)
	raw := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	var doc struct {
		Dial struct {
			CallerID string `xml:"callerId,attr"`
			Numbers  []struct {
				URL    string `xml:"url,attr"`
				Method string `xml:"method,attr"`
				Number string `xml:",chardata"`
			} `xml:"Number"`
		} `xml:"Dial"`
	}
	if err := xml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Dial.CallerID != hotlineNumber || len(doc.Dial.Numbers) != 1 || doc.Dial.Numbers[0].Number != counsellor {
		t.Fatalf("dial: %s", raw)
	}
	var caseID string
	if err := e.pool.QueryRow(e.ctx, `SELECT id::text FROM case_file`).Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	whisper := doc.Dial.Numbers[0]
	if whisper.URL != e.srv.URL+"/twilio/voice/whisper" || whisper.Method != http.MethodPost {
		t.Fatalf("whisper URL %q (%s), want our whisper route with nothing in its query", whisper.URL, whisper.Method)
	}
	for _, secret := range []string{survivorPhone, "987654321", caseID, form.Get("CallSid")} {
		if strings.Contains(whisper.URL, secret) {
			t.Fatalf("whisper URL carries %q", secret)
		}
	}
	// Twilio fetches it for the counsellor's leg of the call.
	leg := url.Values{"CallSid": {carrier.NewSID("CA")}, "ParentCallSid": {form.Get("CallSid")}, "From": {hotlineNumber},
		"To": {counsellor}, "AccountSid": {testAccount}}
	said := readAll(t, e.post("/twilio/voice/whisper", leg, testToken))
	if !strings.Contains(said, "<Say") || !strings.Contains(said, text(t, templates.ES, templates.KeyVoiceWhisper)) ||
		strings.Contains(said, "<Dial") || strings.Contains(said, "987654321") {
		t.Fatalf("whisper: %s", said)
	}
	if resp := e.post("/twilio/voice/whisper", leg, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned whisper answered %d", resp.StatusCode)
	}
}

// A sender whose From is not a phone number still gets the emergency
// numbers, and nothing of the message is kept.
func TestUnroutableSenderGetsEmergencyNumbersAndNothingIsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for _, from := range []string{"MOVISTAR", "12345", "+"} {
		sender := e.sim.Phone(from)
		sender.Send("Hola, mi pareja me pegó").Expect(text(t, templates.ES, templates.KeyEmergency))
	}
	for _, table := range []string{"inbound_message", "conversation", "contact", "caller_rate", "outbound_message"} {
		if n := e.count(table, ""); n != 0 {
			t.Errorf("%d rows in %s for senders nobody can be routed to", n, table)
		}
	}
	e.assertNotStored("me pegó", "MOVISTAR")
}

// A malformed webhook (a signed form whose CallSid or MessageSid is not a
// Twilio sid) is refused with a 400 and a warning: Twilio never sends one,
// so nothing is done and no operator is paged as if a caller were lost.
func TestMalformedWebhookIsRefusedWithAWarning(t *testing.T) {
	t.Parallel()
	logs := &pgtest.LogBuffer{}
	e := newEnv(t, false, func(c *envSetup) {
		c.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	broken := url.Values{"CallSid": {"CA-not-a-sid"}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	for _, path := range []string{"/twilio/voice", "/twilio/voice/lang?l=es", "/twilio/voice/danger?l=es", "/twilio/voice/dialed?l=es", "/twilio/voice/whisper"} {
		if resp := e.post(path, withParam(broken, "Digits", "1"), testToken); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s with a broken CallSid answered %d", path, resp.StatusCode)
		}
	}
	if resp := e.post("/twilio/sms", smsForm("SM-not-a-sid", survivorPhone, "Hola"), testToken); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sms with a broken MessageSid answered %d", resp.StatusCode)
	}
	log := logs.String()
	if strings.Contains(log, "level=ERROR") || strings.Count(log, "level=WARN msg=\"hotline: webhook refused\"") != 6 {
		t.Fatalf("want six warnings and no error, log:\n%s", log)
	}
	if strings.Contains(log, "987654321") || strings.Contains(log, "not-a-sid") {
		t.Fatalf("the log carries the form:\n%s", log)
	}
	for _, table := range []string{"voice_event", "inbound_message"} {
		if n := e.count(table, ""); n != 0 {
			t.Errorf("%d rows in %s", n, table)
		}
	}
	e.assertNothingStarted()
}
