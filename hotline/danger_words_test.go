package hotline

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// alertsTo returns the danger alerts the phone received.
func (e *env) alertsTo(phone string) []string {
	var got []string
	for _, m := range e.sim.Thread(phone) {
		if m.Dir == carrier.ToPhone && strings.Contains(m.Body, "AMP-") {
			got = append(got, m.Body)
		}
	}
	return got
}

// She says it in her own words at the needs question, and again later: the
// on-call counsellor gets one alert, the triage goes on where it was, and
// the case it opens is the urgent one.
func TestDangerInHerWordsMidIntakeAlertsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("no").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("sí").Expect(text(t, es, templates.KeyNeeds))
	survivor.Send("ya llegó, me kiere pegar").Expect(text(t, es, templates.KeyDangerHeard))
	survivor.Expect(text(t, es, templates.KeyNeedsRetry))
	alert := e.sim.Phone(counsellor).ExpectSMS("AMP-")
	ref := refPattern.FindString(alert.Body)
	if alert.Body != text(t, es, templates.KeyStaffDangerNow, "ref", ref, "code", codeIn(alert.Body)) {
		t.Fatalf("alert %q", alert.Body)
	}
	var urgentID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE reference = $1 AND urgent`, ref).Scan(&urgentID); err != nil {
		t.Fatalf("no urgent case %s: %v", ref, err)
	}
	// She was told a counsellor will write to her here: the case says so.
	f, err := e.cases.CaseFacts(e.ctx, e.pool, urgentID)
	if err != nil || f.Contact != (casefile.ContactPrefs{MayText: true, FromHour: 0, ToHour: 24}) {
		t.Fatalf("urgent case contact %+v, %v", f.Contact, err)
	}

	survivor.Send("2").Expect(communityQuestion(t, es, false))
	survivor.Send("está rompiendo la puerta").Expect(text(t, es, templates.KeyDangerHeard))
	survivor.Expect(communityQuestion(t, es, true))
	survivor.Send("1").ExpectSMS("1 Policia")
	survivor.Send("TODOS").Expect(text(t, es, templates.KeyContact))
	survivor.Send("1").Expect(text(t, es, templates.KeyHours))
	survivor.Send("1").Expect(text(t, es, templates.KeyCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeySummary, "ref", ref))
	e.sim.Phone(policePhone).ExpectSMS(ref)

	if n := e.count("case_file", ""); n != 1 {
		t.Errorf("%d cases; want the one urgent case", n)
	}
	if got := e.alertsTo(counsellor); len(got) != 1 {
		t.Errorf("counsellor got %q; want one alert", got)
	}
	if n := e.count("outbound_message", "purpose = 'staff_alert'"); n != 1 {
		t.Errorf("%d staff alerts; want 1", n)
	}
	e.assertNotStored("rompiendo", "kiere pegar")
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// After the summary of a routine case, she writes that he is hitting her:
// that case was not urgent and nobody was alerted, so now someone is.
func TestDangerAfterTheSummaryAlertsOnCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const en = templates.EN
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hi").ExpectSMS()
	survivor.Send("english").Expect(text(t, en, templates.KeyWelcome))
	for _, step := range []string{"no", "yes", "3", "1", "none", "4"} {
		survivor.Send(step).ExpectSMS()
	}
	survivor.Send("sunflower").ExpectSMS("AMP-")
	e.sim.Phone(counsellor).ExpectNothing()

	survivor.Send("he's hitting me").Expect(text(t, en, templates.KeyDangerHeard))
	alert := e.sim.Phone(counsellor).ExpectSMS("AMP-")
	ref := refPattern.FindString(alert.Body)
	if n := e.count("case_file", "reference = $1 AND urgent", ref); n != 1 {
		t.Errorf("the alert names %s, which is not an urgent case", ref)
	}
	if n := e.count("case_file", ""); n != 2 {
		t.Errorf("%d cases; want the routine one and the urgent one", n)
	}
	survivor.Send("help me please").Expect(text(t, en, templates.KeyDangerHeard))
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// Her first message says it: the alarm goes at once. She then declines to
// open a case: she is told the urgent case is open, never "no case".
func TestDangerThenDeclinedConsentSaysTheCaseIsOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("toy encerrada").Expect(text(t, es, templates.KeyDangerAlerted))
	e.sim.Phone(counsellor).ExpectSMS("AMP-")
	survivor.Send("1").Expect(text(t, es, templates.KeyConsent))
	reply := survivor.Send("no").ExpectSMS(text(t, es, templates.KeyDangerOpen))
	if strings.Contains(reply.Body, "no abrimos") {
		t.Errorf("told there is no case: %q", reply.Body)
	}
	if n := e.count("case_file", "urgent AND status = 'open'"); n != 1 {
		t.Errorf("%d open urgent cases; want 1", n)
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// After SALIR her messages are answered, and danger in her words alerts
// the counsellor; SALIR stands, since anyone can write such words from her
// number: only INICIO or her code word lifts it (TestSalirIsLiftedOnlyByHer).
func TestDangerAfterStopIsHeard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("SALIR").Expect(text(t, es, templates.KeyStop))
	survivor.Send("hola").Expect(text(t, es, templates.KeyStopped))
	survivor.Send("auxilio me quiere matar").Expect(text(t, es, templates.KeyDangerPaused))
	survivor.Expect(text(t, es, templates.KeyStopped))
	e.sim.Phone(counsellor).ExpectSMS("AMP-")
	if n := e.count("sms_opt_out", ""); n != 1 {
		t.Errorf("%d opt-outs after danger words, want SALIR to stand", n)
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
}

// The call's speech answer is read by the same matcher: "me está pegando"
// reaches the danger branch, "no estoy en peligro" does not, and every
// <Gather> listens for speech in the caller's language.
func TestVoiceSpeechInHerOwnWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	form := func() url.Values {
		return url.Values{"CallSid": {carrier.NewSID("CA")}, "From": {survivorPhone}, "To": {hotlineNumber}, "AccountSid": {testAccount}}
	}
	for path, lang := range map[string]string{"/twilio/voice": "es-PE", "/twilio/voice/lang?l=es": "es-PE"} {
		twiml := readAll(t, e.post(path, form(), testToken))
		if !strings.Contains(twiml, `input="dtmf speech"`) || !strings.Contains(twiml, `language="`+lang+`"`) {
			t.Errorf("%s gathers without speech in %s: %s", path, lang, twiml)
		}
	}
	en := readAll(t, e.post("/twilio/voice/lang?l=es", withParam(form(), "Digits", "2"), testToken))
	if !strings.Contains(en, `input="dtmf speech"`) || !strings.Contains(en, `language="en-US"`) {
		t.Errorf("English danger question: %s", en)
	}

	dialed := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form(), "SpeechResult", "me está pegando"), testToken))
	if !strings.Contains(dialed, "<Dial") || !strings.Contains(dialed, counsellor) {
		t.Fatalf("speech %q did not reach the danger branch: %s", "me está pegando", dialed)
	}
	if n := e.count("case_file", "urgent"); n != 1 {
		t.Errorf("%d urgent cases; want 1", n)
	}
	for speech, want := range map[string]string{
		"he locked me in":     "<Dial",
		"no estoy en peligro": text(t, templates.ES, templates.KeyVoiceSMSOffer),
		"tal vez":             text(t, templates.ES, templates.KeyVoiceRetry),
	} {
		twiml := readAll(t, e.post("/twilio/voice/danger?l=es", withParam(form(), "SpeechResult", speech), testToken))
		if !strings.Contains(twiml, want) || (want != "<Dial" && strings.Contains(twiml, "<Dial")) {
			t.Errorf("speech %q: %s", speech, twiml)
		}
	}
}
