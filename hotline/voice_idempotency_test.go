package hotline

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// postRaw is e.post for goroutines: it reports failure instead of calling
// t.Fatal, which only the test's own goroutine may do.
func (e *env) postRaw(path string, form url.Values) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", carrier.Sign(testToken, e.srv.URL+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// postConcurrently delivers n copies of one signed webhook at once and
// returns the bodies answered.
func (e *env) postConcurrently(n int, path string, form url.Values) []string {
	e.t.Helper()
	bodies := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, body, err := e.postRaw(path, form)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("status %d: %s", code, body)
			}
			bodies[i], errs[i] = body, err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("copy %d: %v", i, err)
		}
	}
	return bodies
}

func voiceForm(call string) url.Values {
	return url.Values{"CallSid": {call}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
}

// dialAction is the path of the <Dial> action callback in a TwiML answer.
func (e *env) dialAction(twiml string) string {
	e.t.Helper()
	i := strings.Index(twiml, `action="`)
	if i < 0 || !strings.Contains(twiml, "<Dial") {
		e.t.Fatalf("no <Dial> action in %s", twiml)
	}
	action := twiml[i+len(`action="`):]
	action, err := url.QueryUnescape(strings.ReplaceAll(action[:strings.Index(action, `"`)], "&amp;", "&"))
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimPrefix(action, e.srv.URL)
}

// caseOfDial is the case id the <Dial> action carries.
func (e *env) caseOfDial(path string) uuid.UUID {
	e.t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := uuid.Parse(u.Query().Get("c"))
	if err != nil {
		e.t.Fatalf("dial action %q: %v", path, err)
	}
	return id
}

// checkOnce asserts the effects of one danger call: one urgent case, one
// urgent callback task and one on-call alert, whatever was delivered twice.
func (e *env) checkOnce(caseID uuid.UUID, wantCallback int) {
	e.t.Helper()
	if n := e.count("case_file", "urgent"); n != 1 {
		e.t.Errorf("%d urgent cases, want 1", n)
	}
	if n := e.count("follow_up", "kind = 'callback' AND urgent AND case_id = $1", caseID); n != wantCallback {
		e.t.Errorf("%d urgent callback tasks, want %d", n, wantCallback)
	}
	if n := e.count("outbound_message", "purpose = 'staff_alert' AND case_id = $1", caseID); n != 1 {
		e.t.Errorf("%d on-call alerts, want 1", n)
	}
}

func allSame(t *testing.T, what string, first string, bodies ...string) {
	t.Helper()
	for i, b := range bodies {
		if b != first {
			t.Fatalf("%s copy %d answered differently:\n%s\nfirst:\n%s", what, i, b, first)
		}
	}
}

func TestVoiceDialedNoAnswerTwiceIsProcessedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := voiceForm(carrier.NewSID("CA"))
	dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	path := e.dialAction(dialed)
	caseID := e.caseOfDial(path)
	e.checkOnce(caseID, 0)

	noAnswer := withParam(form, "DialCallStatus", "no-answer")
	first := readAll(t, e.post(path, noAnswer, testToken))
	if !strings.Contains(first, text(t, templates.ES, templates.KeyVoiceEmergency)) ||
		!strings.Contains(first, text(t, templates.ES, templates.KeyVoiceCallback)) {
		t.Fatalf("farewell: %s", first)
	}
	second := readAll(t, e.post(path, noAnswer, testToken))
	allSame(t, "dialed", first, second)
	e.checkOnce(caseID, 1)
}

func TestVoiceDialedNoAnswerConcurrentCopies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := voiceForm(carrier.NewSID("CA"))
	path := e.dialAction(readAll(t, e.post("/twilio/voice/danger?l=en", withParam(form, "Digits", "1"), testToken)))
	caseID := e.caseOfDial(path)

	bodies := e.postConcurrently(10, path, withParam(form, "DialCallStatus", "no-answer"))
	if !strings.Contains(bodies[0], text(t, templates.EN, templates.KeyVoiceCallback)) {
		t.Fatalf("farewell: %s", bodies[0])
	}
	allSame(t, "dialed", bodies[0], bodies[1:]...)
	e.checkOnce(caseID, 1)
	// A late retry still answers what the first delivery did.
	late := readAll(t, e.post(path, withParam(form, "DialCallStatus", "no-answer"), testToken))
	allSame(t, "dialed", bodies[0], late)
	e.checkOnce(caseID, 1)
}

func TestVoiceDangerPressTwiceOpensOneCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := voiceForm(carrier.NewSID("CA"))
	press := withParam(form, "Digits", "1")
	first := readAll(t, e.post("/twilio/voice/danger?l=es", press, testToken))
	second := readAll(t, e.post("/twilio/voice/danger?l=es", press, testToken))
	if !strings.Contains(first, counsellor) {
		t.Fatalf("dial: %s", first)
	}
	allSame(t, "danger", first, second)
	e.checkOnce(e.caseOfDial(e.dialAction(first)), 0)
}

func TestVoiceDangerPressConcurrentCopies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := voiceForm(carrier.NewSID("CA"))
	bodies := e.postConcurrently(10, "/twilio/voice/danger?l=es", withParam(form, "Digits", "1"))
	allSame(t, "danger", bodies[0], bodies[1:]...)
	path := e.dialAction(bodies[0])
	e.checkOnce(e.caseOfDial(path), 0)

	dialed := e.postConcurrently(10, path, withParam(form, "DialCallStatus", "no-answer"))
	allSame(t, "dialed", dialed[0], dialed[1:]...)
	e.checkOnce(e.caseOfDial(path), 1)
}

// What the voice webhooks keep to be answered twice is nothing readable: no
// caller's number and no counsellor's.
func TestVoiceEventStoresNothingReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := voiceForm(carrier.NewSID("CA"))
	path := e.dialAction(readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken)))
	readAll(t, e.post(path, withParam(form, "DialCallStatus", "no-answer"), testToken))
	if n := e.count("voice_event", ""); n != 2 {
		t.Fatalf("%d voice events, want 2", n)
	}
	for _, needle := range []string{survivorPhone, strings.TrimPrefix(survivorPhone, "+"), counsellor, strings.TrimPrefix(counsellor, "+"), "Dial", "Say"} {
		var n int
		err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM voice_event t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
			needle, fmt.Sprintf("%x", needle)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("voice_event holds %q readable", needle)
		}
	}
}
