package hotline

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/templates"
)

// BORRAR erases what she told us, not the hotline's defence against a
// flood: a caller over the rate limit stays over it after erasing, or
// erasing would reset the limit at will.
func TestBorrarKeepsRateLimitWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.RateLimit = 3 })
	pest := e.sim.Phone("+51987000333")
	pest.Send("hola").Expect(text(t, templates.ES, templates.KeyWelcome))
	pest.Send("BORRAR SI").ExpectSMS()
	pest.Send("hola").ExpectSMS()
	pest.Send("hola")
	pest.ExpectNothing()
	if n := e.count("inbound_message", "outcome = 'rate_limited'"); n != 1 {
		t.Fatalf("%d messages rate limited after BORRAR, want 1", n)
	}
}

// SALIR stops what the system starts, never the answers to what she
// writes: she is told so, and a later message gets the emergency numbers
// and the way back, while a text the system queued for her is still held.
func TestSalirNeverSilencesHerOwnMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("SALIR").Expect(text(t, es, templates.KeyStop), "105", "INICIO")
	survivor.Send("necesito ayuda, estoy en peligro").Expect(text(t, es, templates.KeyDangerPaused), "105")
	survivor.Expect(text(t, es, templates.KeyStopped), "105", "Linea 100", "INICIO")
	survivor.Send("hola?").Expect(text(t, es, templates.KeyStopped))
	survivor.Send("EN").Expect(text(t, templates.EN, templates.KeyStopped))
	id := e.queue(sms.Message{Purpose: sms.PurposeSurvivor, To: survivorPhone, Body: "x", TTL: sms.SurvivorTTL})
	if err := e.sender.Send(e.ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.status(id); st != "canceled" {
		t.Fatalf("a system-started text after SALIR is %s", st)
	}
	// A new conversation after SALIR is answered too, and still stopped.
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	survivor.Send("ayuda").Expect(text(t, es, templates.KeyHelp))
	survivor.Expect(text(t, es, templates.KeyWelcome))
	if n := e.count("sms_opt_out", ""); n != 1 {
		t.Fatalf("%d opt-outs after a new conversation, want 1", n)
	}
	e.sim.AssertQuiet()
}

// An English first message starts the English conversation; the Spanish
// welcome says how to switch.
func TestEnglishWithoutASecretWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const en = templates.EN
	for i, first := range []string{"hello", "Hi", "help", "good evening"} {
		phone := e.sim.Phone(fmt.Sprintf("+5198700010%d", i))
		phone.Send(first)
		if first == "help" {
			phone.Expect(text(t, en, templates.KeyHelp))
		}
		phone.Expect(text(t, en, templates.KeyWelcome))
		phone.Send("2").Expect(text(t, en, templates.KeyConsent))
	}
	es := e.sim.Phone(survivorPhone)
	es.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome), "English: reply EN")
	es.Send("EN").Expect(text(t, en, templates.KeyWelcome))
}

// Choosing a code word is not proving it: right after her intake, BORRAR
// and BORRAR SI from her number, which anyone can spoof, keep her case.
func TestBorrarNeedsTheCodeWordChosenInTheSameConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	caseID := openCaseBySMS(e, survivor, "girasol")
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
	survivor.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
	if n := e.count("inbound_message", "wrapped_dek IS NOT NULL"); n != 0 {
		t.Errorf("%d message texts kept after BORRAR", n)
	}
	// With the word, everything goes.
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDone))
	if _, err := e.cases.GetCase(e.ctx, e.pool, caseID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("GetCase after erasure: %v, want ErrErased", err)
	}
}

// A danger alert keeps its callback whatever is sent without a code word:
// BORRAR SI keeps the urgent case and calls her back now; SALIR, or "no",
// leaves the callback owed when she goes silent.
func TestNoCodeWordFreeMessageCancelsADangerCallback(t *testing.T) {
	t.Parallel()
	const es = templates.ES
	callbacks := func(e *env) int { return e.count("follow_up", "kind = 'callback' AND urgent") }

	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("1").Expect(text(t, es, templates.KeyDangerAlerted))
	survivor.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	if n := e.count("case_file", "urgent AND status = 'open'"); n != 1 {
		t.Fatalf("%d open urgent cases after BORRAR SI, want 1", n)
	}
	if callbacks(e) != 1 || e.count("outbound_message", "purpose = 'staff_alert'") != 2 {
		t.Fatal("no callback raised for the danger alert")
	}

	for _, end := range []string{"SALIR", "no"} {
		e := newEnv(t, false)
		survivor := e.sim.Phone(survivorPhone)
		survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
		survivor.Send("1").Expect(text(t, es, templates.KeyDangerAlerted))
		survivor.Send(end).ExpectSMS("105")
		e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
		if _, err := e.h.ExpireIdle(e.ctx); err != nil {
			t.Fatal(err)
		}
		if callbacks(e) != 1 {
			t.Errorf("%s after danger: no callback when she went silent", end)
		}
	}
}

// SALIR is lifted only by her: with a code word on file, by that word;
// without one, by INICIO. A new conversation or BORRAR does not lift it.
func TestSalirIsLiftedOnlyByHer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	optedOut := func() bool { return e.count("sms_opt_out", "") == 1 }
	survivor := e.sim.Phone(survivorPhone)
	openCaseBySMS(e, survivor, "girasol")
	survivor.Send("SALIR").Expect(text(t, es, templates.KeyStop))
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)

	spoofer := survivor
	spoofer.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	spoofer.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	spoofer.Send("INICIO").Expect(text(t, es, templates.KeyRestartStopped))
	spoofer.Expect(text(t, es, templates.KeyWelcome))
	if !optedOut() {
		t.Fatal("SALIR lifted without her code word")
	}
	// Her code word given to erase is not a wish to hear from us again.
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("2").Expect(text(t, es, templates.KeyEraseCancelled))
	survivor.Expect(text(t, es, templates.KeyWelcome))
	if !optedOut() {
		t.Fatal("her code word given for BORRAR lifted SALIR")
	}
	// Proven, INICIO lifts it.
	survivor.Send("INICIO").Expect(text(t, es, templates.KeyResumed))
	survivor.Expect(text(t, es, templates.KeyWelcome))
	if optedOut() {
		t.Fatal("INICIO after her code word did not lift SALIR")
	}
	// And so does her code word in answer to the welcome.
	survivor.Send("SALIR").Expect(text(t, es, templates.KeyStop))
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyResumed))
	survivor.Expect(text(t, es, templates.KeyReturnMenu))
	if optedOut() {
		t.Fatal("her code word did not lift SALIR")
	}

	// A number with no code word: INICIO, and nothing else, lifts it.
	other := e.sim.Phone("+51987000444")
	other.Send("SALIR").Expect(text(t, es, templates.KeyStop))
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	other.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	if e.count("sms_opt_out", "") != 1 {
		t.Fatal("a new conversation lifted SALIR")
	}
	other.Send("INICIO").Expect(text(t, es, templates.KeyRestartStopped))
	other.Expect(text(t, es, templates.KeyWelcome))
	if e.count("sms_opt_out", "") != 0 {
		t.Fatal("INICIO did not lift SALIR of a number without a code word")
	}
}

// Until her code word is proven, no reply depends on whether her number
// has a record: a number with a case and code word and a number never seen
// get byte-identical replies, through SALIR and BORRAR too.
func TestRepliesDoNotRevealARecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	known, unknown := e.sim.Phone(survivorPhone), e.sim.Phone("+51987000555")
	openCaseBySMS(e, known, "girasol")
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)

	idle := "\x00idle"
	script := []string{"Hola", "margarita", "2", "SALIR", "hola", idle, "Hola", "INICIO", "BORRAR", "tigre",
		"BORRAR SI", "Hola", "no", "BORRAR", "1", idle, "hola", "2"}
	for i, in := range script {
		if in == idle {
			e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
			continue
		}
		a, err := known.Text(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := unknown.Text(in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("step %d %q: known number got %q, unknown %q", i, in, a, b)
		}
	}
	if _, found, err := e.cases.FindContact(e.ctx, e.pool, survivorPhone); err != nil || !found {
		t.Fatalf("her record went without her code word (%v)", err)
	}

	// An opt-out is a record too: INICIO reads the same with or without one.
	stopped, fresh := e.sim.Phone("+51987000666"), e.sim.Phone("+51987000777")
	stopped.Send("SALIR").Expect(text(t, templates.ES, templates.KeyStop))
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	a, err := stopped.Text("INICIO")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fresh.Text("INICIO")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("INICIO after SALIR got %q, never stopped %q", a, b)
	}
}
