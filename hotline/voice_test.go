package hotline

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

func TestVoiceDangerDialsOnCallThenCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	call := carrier.NewSID("CA")
	form := url.Values{"CallSid": {call}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}

	menu := readAll(t, e.post("/twilio/voice", form, testToken))
	if !strings.Contains(menu, "<Gather") || !strings.Contains(menu, text(t, templates.EN, templates.KeyVoiceLang)) {
		t.Fatalf("menu: %s", menu)
	}
	if resp := e.post("/twilio/voice", form, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned voice webhook answered %d", resp.StatusCode)
	}

	lang := readAll(t, e.post("/twilio/voice/lang?l=es", withParam(form, "Digits", "1"), testToken))
	if !strings.Contains(lang, text(t, templates.ES, templates.KeyVoiceDanger)) {
		t.Fatalf("danger question: %s", lang)
	}
	dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "SpeechResult", "Sí, ayúdenme"), testToken))
	if !strings.Contains(dialed, "<Dial") || !strings.Contains(dialed, counsellor) || strings.Contains(dialed, "Record") {
		t.Fatalf("dial: %s", dialed)
	}
	// The same webhook again (Twilio retry) opens no second case.
	readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	if n := e.count("case_file", "urgent"); n != 1 {
		t.Fatalf("%d urgent cases, want 1", n)
	}
	action := dialed[strings.Index(dialed, `action="`)+len(`action="`):]
	action, _ = url.QueryUnescape(strings.ReplaceAll(action[:strings.Index(action, `"`)], "&amp;", "&"))
	path := strings.TrimPrefix(action, e.srv.URL)
	done := readAll(t, e.post(path, withParam(form, "DialCallStatus", "no-answer"), testToken))
	if !strings.Contains(done, text(t, templates.ES, templates.KeyVoiceEmergency)) || !strings.Contains(done, text(t, templates.ES, templates.KeyVoiceCallback)) {
		t.Fatalf("farewell: %s", done)
	}
	if e.count("follow_up", "kind = 'callback' AND urgent") != 1 {
		t.Fatal("no urgent callback task")
	}
	// "No": the numbers and a way to text, no case.
	no := readAll(t, e.post("/twilio/voice/danger?l=en", withParam(form, "Digits", "2"), testToken))
	if !strings.Contains(no, text(t, templates.EN, templates.KeyVoiceSMSOffer)) || strings.Contains(no, "<Dial") {
		t.Fatalf("no-danger answer: %s", no)
	}
}

// A caller in danger must reach a person even when nobody is on the roster
// or the database is down: then she is put through to the fallback duty
// phones from the configuration.
func TestVoiceDangerFallsBackToDutyNumbers(t *testing.T) {
	t.Parallel()
	const duty = "+51944000001"
	withFallback := func(c *envSetup) { c.fallback = []string{duty} }
	danger := func(e *env) (url.Values, string) {
		form := url.Values{"CallSid": {carrier.NewSID("CA")}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
		return form, readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form, "Digits", "1"), testToken))
	}
	dialedAction := func(e *env, twiml string) string {
		action := twiml[strings.Index(twiml, `action="`)+len(`action="`):]
		action, _ = url.QueryUnescape(strings.ReplaceAll(action[:strings.Index(action, `"`)], "&amp;", "&"))
		return strings.TrimPrefix(action, e.srv.URL)
	}

	t.Run("empty roster", func(t *testing.T) {
		e := newEnv(t, false, withFallback)
		if _, err := e.pool.Exec(e.ctx, `DELETE FROM on_call`); err != nil {
			t.Fatal(err)
		}
		form, twiml := danger(e)
		if !strings.Contains(twiml, ">"+duty+"</Number>") {
			t.Fatalf("not put through to the fallback duty phone: %s", twiml)
		}
		if e.count("case_file", "urgent") != 1 {
			t.Fatal("no urgent case for the call")
		}
		// Nobody answers: the case still gets its callback.
		done := readAll(t, e.post(dialedAction(e, twiml), withParam(form, "DialCallStatus", "no-answer"), testToken))
		if !strings.Contains(done, text(t, templates.ES, templates.KeyVoiceCallback)) || e.count("follow_up", "kind = 'callback' AND urgent") != 1 {
			t.Fatalf("no callback after a missed fallback dial: %s", done)
		}
	})

	t.Run("database down", func(t *testing.T) {
		e := newEnv(t, false, withFallback)
		e.pool.Close()
		form, twiml := danger(e)
		if !strings.Contains(twiml, "<Dial") || !strings.Contains(twiml, ">"+duty+"</Number>") || strings.Contains(twiml, counsellor) {
			t.Fatalf("with the database down, want a dial to the fallback phone only: %s", twiml)
		}
		// No case could be opened, so a missed dial promises no callback.
		done := readAll(t, e.post(dialedAction(e, twiml), withParam(form, "DialCallStatus", "no-answer"), testToken))
		if !strings.Contains(done, text(t, templates.ES, templates.KeyVoiceEmergency)) || strings.Contains(done, text(t, templates.ES, templates.KeyVoiceCallback)) {
			t.Fatalf("after a missed fallback dial: %s", done)
		}
	})

	t.Run("database down, no fallback configured", func(t *testing.T) {
		e := newEnv(t, false)
		e.pool.Close()
		_, twiml := danger(e)
		if strings.Contains(twiml, "<Dial") || !strings.Contains(twiml, text(t, templates.ES, templates.KeyVoiceEmergency)) {
			t.Fatalf("want the emergency numbers: %s", twiml)
		}
	})
}

func withParam(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for key, vals := range v {
		out[key] = vals
	}
	out.Set(k, val)
	return out
}

func TestDemoPhonePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(e.srv.URL+"/demo/phone/send", url.Values{"from": {"987 654 321"}, "body": {"Hola"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/demo/phone" {
		t.Fatalf("send answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	page, err := http.Get(e.srv.URL + "/demo/phone")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, page)
	if !strings.Contains(body, survivorPhone) || !strings.Contains(body, "Linea 100") || !strings.Contains(body, "<form") {
		t.Fatalf("page: %s", body)
	}
}
