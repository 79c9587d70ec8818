package hotline

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/templates"
)

// text renders a catalogue text, so the scripts below follow the catalogue.
func text(t testing.TB, lang, key string, args ...string) string {
	t.Helper()
	var m map[string]string
	for i := 0; i+1 < len(args); i += 2 {
		if m == nil {
			m = map[string]string{}
		}
		m[args[i]] = args[i+1]
	}
	s, err := templates.Render(lang, key, m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	refPattern = regexp.MustCompile(`AMP-[0-9A-Z]+`)
	// okCode is the four-digit code a staff alert asks to be answered with.
	okCode      = regexp.MustCompile(`OK ([0-9]{4})`)
	codePattern = regexp.MustCompile(`OK (\d{4})`)
)

// waitReferral waits until the case's referral for need reaches status.
func (e *env) waitReferral(need, status string) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if e.count("referral", "need = $1 AND status = $2", need, status) == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	var got []string
	rows, _ := e.pool.Query(context.Background(), `SELECT need || ':' || status FROM referral`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	e.t.Fatalf("referral %s never reached %s; have %v", need, status, got)
}

func TestConversationInSpanishEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("no").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("sí").Expect(text(t, es, templates.KeyNeeds))
	survivor.Send("1 2").Expect(text(t, es, templates.KeyWhen))
	survivor.Send("1").Expect("acude a un centro de salud antes de")
	survivor.Expect(communityQuestion(t, es, false))
	referrals, _, _ := strings.Cut(text(t, es, templates.KeyReferrals, "options", "\x00"), "\x00")
	survivor.Send("1").Expect(referrals, "1 Salud", "2 Policia")
	survivor.Send("TODOS").Expect(text(t, es, templates.KeyContact))
	survivor.Send("1").Expect(text(t, es, templates.KeyHours))
	survivor.Send("1").Expect(text(t, es, templates.KeyCodeWord))
	summary := survivor.Send("girasol").ExpectSMS("AMP-")
	ref := refPattern.FindString(summary.Body)
	if summary.Body != text(t, es, templates.KeySummary, "ref", ref) {
		t.Fatalf("summary %q", summary.Body)
	}

	if n := e.count("case_file", "reference = $1", ref); n != 1 {
		t.Fatalf("case %s not stored", ref)
	}
	// Referrals start, and each provider gets a discreet notice to answer.
	health := e.sim.Phone(healthPhone).ExpectSMS(ref)
	code := codePattern.FindStringSubmatch(health.Body)[1]
	health.Reply("OK " + code).Expect(text(t, es, templates.KeyProviderAcknowledged, "ref", ref))
	e.waitReferral("health", "acknowledged")
	// She is told where to go, and until when (the PEP window of "today").
	survivor.Expect(text(t, es, templates.KeySurvivorWhere, "place", "H, Av. Sol 123", "deadline", "13/03 00:00"))
	police := e.sim.Phone(policePhone).ExpectSMS(ref)
	police.Reply("NO " + codePattern.FindStringSubmatch(police.Body)[1]).Expect(text(t, es, templates.KeyProviderDeclined, "ref", ref))

	e.assertNotStored("girasol", survivorPhone, "987654321")
	e.sim.Settle()
	e.sim.AssertQuiet()
}

func TestConversationInEnglishWithDangerEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const en = templates.EN
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hello").Expect(text(t, en, templates.KeyWelcome))
	survivor.Send("yes").Expect(text(t, en, templates.KeyDangerAlerted))
	// The on-call counsellor hears at once, discreetly.
	alert := e.sim.Phone(counsellor).ExpectSMS("AMP-")
	ref := refPattern.FindString(alert.Body)
	if alert.Body != text(t, templates.ES, templates.KeyStaffDangerNow, "ref", ref, "code", codeIn(alert.Body)) {
		t.Fatalf("alert %q", alert.Body)
	}
	if e.count("case_file", "urgent") != 1 {
		t.Fatal("no urgent case")
	}
	survivor.Send("1").Expect(text(t, en, templates.KeyConsent))
	survivor.Send("yes").Expect(text(t, en, templates.KeyNeeds))
	survivor.Send("police").Expect(communityQuestion(t, en, false))
	survivor.Send("2").ExpectSMS("1 Police")
	survivor.Send("ALL").Expect(text(t, en, templates.KeyContact))
	survivor.Send("4").Expect(text(t, en, templates.KeyCodeWord))
	summary := survivor.Send("lighthouse").ExpectSMS("Done, your case is")
	e.sim.Phone(policePhone).ExpectSMS(refPattern.FindString(summary.Body))
	e.sim.Settle()
	e.sim.AssertQuiet()
}

func TestSalirMidwayStopsEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("2").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("1").Expect(text(t, es, templates.KeyNeeds))
	survivor.Send("Salir").Expect(text(t, es, templates.KeyStop))
	// A later answer is not read as triage, and is answered all the same.
	survivor.Send("3").Expect(text(t, es, templates.KeyStopped))
	survivor.Send("AYUDA").Expect(text(t, es, templates.KeyHelp))
	if e.count("case_file", "") != 0 || e.count("sms_opt_out", "") != 1 {
		t.Fatal("SALIR left a case or no opt-out")
	}
	e.sim.Settle()
	e.sim.AssertQuiet()
	// INICIO is her choice to come back; with no code word on file it
	// lifts her SALIR.
	survivor.Send("INICIO").Expect(text(t, es, templates.KeyRestartStopped))
	survivor.Expect(text(t, es, templates.KeyWelcome))
	if e.count("sms_opt_out", "") != 0 {
		t.Fatal("opt-out kept after she restarted")
	}
}

func TestReturningSurvivorNeedsHerCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	for _, step := range []string{"Hola", "2", "1", "3", "1", "NINGUNO", "4"} {
		survivor.Send(step).ExpectSMS()
	}
	survivor.Send("girasol").ExpectSMS("AMP-")
	e.clk.Advance(2 * time.Hour)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("margarita").Expect(text(t, es, templates.KeyDangerRetry))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyReturnMenu))
	survivor.Send("1").Expect(text(t, es, templates.KeyReturnCallback))
	if e.count("follow_up", "kind = 'callback'") != 1 {
		t.Fatal("no callback task")
	}
	e.sim.AssertQuiet()
}

// A caseworker's text from the portal invites a reply; whoever answers
// from her phone is asked for the code word before anything about the case
// is said, and the case's reference never appears in the answers until it
// matched.
func TestReplyToACaseworkersTextAsksForHerCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	// Texts only, 8 to 21 h.
	for _, step := range []string{"Hola", "2", "1", "3", "1", "NINGUNO", "1", "4"} {
		survivor.Send(step).ExpectSMS()
	}
	ref := refPattern.FindString(survivor.Send("girasol").ExpectSMS("AMP-").Body)
	e.clk.Advance(2 * time.Hour)
	var caseID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE reference = $1`, ref).Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	hello := text(t, es, templates.KeySurvivorPortalHello)
	if id := e.toSurvivor(caseID, hello); id == uuid.Nil {
		t.Fatal("not queued inside her hours")
	}
	survivor.Expect(hello)
	for _, reply := range []string{"Hola, quien es?", "margarita"} {
		got := survivor.Send(reply).ExpectSMS()
		if strings.Contains(got.Body, ref) {
			t.Fatalf("%q answered with her reference before her code word: %q", reply, got.Body)
		}
		if reply == "Hola, quien es?" && got.Body != text(t, es, templates.KeyWelcome) {
			t.Fatalf("first reply answered %q, want the welcome that asks for her code word", got.Body)
		}
	}
	survivor.Send("girasol").Expect(text(t, es, templates.KeyReturnMenu))
	e.sim.AssertQuiet()
}

func TestBorrarErasesHer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	for _, step := range []string{"Hola", "2", "1", "3", "1", "NINGUNO", "4"} {
		survivor.Send(step).ExpectSMS()
	}
	survivor.Send("girasol").ExpectSMS("AMP-")
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDone))
	if n := e.count("inbound_message", "wrapped_dek IS NOT NULL OR phone_index IS NOT NULL"); n != 0 {
		t.Errorf("%d inbound rows still readable", n)
	}
	if n := e.count("conversation", "status = 'active'"); n != 0 {
		t.Errorf("%d conversations still active", n)
	}
	if _, found, err := e.cases.FindContact(e.ctx, e.pool, survivorPhone); err != nil || found {
		t.Errorf("contact still found (%v)", err)
	}
	// She can start again, as a stranger.
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("2").Expect(text(t, es, templates.KeyConsent))
}

func TestAbandonedDangerBecomesUrgentCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").ExpectSMS()
	survivor.Send("1").ExpectSMS() // in danger now, then silence
	other := e.sim.Phone("+51987000222")
	other.Send("Hola").ExpectSMS()
	other.Send("2").ExpectSMS()
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	n, err := e.h.ExpireIdle(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("expired %d (%v), want 2", n, err)
	}
	if e.count("follow_up", "kind = 'callback' AND urgent") != 1 {
		t.Fatal("no urgent callback for the abandoned danger conversation")
	}
	// danger_now at the time, and callback now.
	if e.count("outbound_message", "purpose = 'staff_alert'") != 2 {
		t.Fatal("on-call counsellor not alerted of the callback")
	}
	if e.count("conversation", "state_sealed IS NOT NULL") != 0 {
		t.Fatal("expired conversations keep their state")
	}
	if e.count("conversation", "phone_index IS NOT NULL OR index_key_id IS NOT NULL") != 0 {
		t.Fatal("expired conversations keep her phone index, which ties her number to when she wrote and to her case")
	}
	if n, _ := e.h.ExpireIdle(e.ctx); n != 0 {
		t.Fatal("a second sweep expired again")
	}
}

func TestBlockedAndRateLimitedCallersAreOnlyRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.RateLimit = 3 })
	pest := e.sim.Phone("+51987000333")
	for range 3 {
		pest.Send("hola").ExpectSMS()
	}
	pest.Send("hola")
	pest.ExpectNothing()
	if e.count("inbound_message", "outcome = 'rate_limited'") != 1 {
		t.Fatal("over-limit message not recorded as such")
	}
	e.clk.Advance(11 * time.Minute)
	pest.Send("hola").ExpectSMS()

	id, err := e.h.BlockCaller(e.ctx, Block{Phone: "+51987000333", Reason: "prank", Until: e.clk.Now().Add(time.Hour), SetBy: "sup-1"})
	if err != nil {
		t.Fatal(err)
	}
	pest.Send("hola")
	pest.ExpectNothing()
	if e.count("inbound_message", "outcome = 'blocked'") != 1 || e.count("audit_log", "action = 'caller.block' AND actor = 'sup-1'") != 1 {
		t.Fatal("block not recorded or not audited")
	}
	if _, err := e.h.BlockCaller(e.ctx, Block{Phone: "+51987000333", Reason: "she said bad things", Until: e.clk.Now().Add(time.Hour), SetBy: "sup-1"}); err == nil {
		t.Fatal("free-text reason accepted")
	}
	if err := e.h.LiftBlock(e.ctx, id, "sup-1"); err != nil {
		t.Fatal(err)
	}
	pest.Send("hola").ExpectSMS()
	e.assertNotStored("987000333")
}

// codeIn is the reply code a staff alert carries: drawn at random, so read
// from the text itself.
func codeIn(body string) string {
	m := okCode.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}
