package hotline

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/templates"
)

// A danger conversation whose urgent case staff erased before it went idle
// must still expire, must not jam the sweep for everyone else, and must
// not turn her next text into an error.
func TestErasedDangerCaseDoesNotJamExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").ExpectSMS()
	survivor.Send("1").ExpectSMS() // in danger now: an urgent case opens
	var caseID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, "SELECT id FROM case_file WHERE urgent").Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	if err := e.cases.EraseCase(e.ctx, e.pool, caseID, "staff-1"); err != nil {
		t.Fatal(err)
	}
	other := e.sim.Phone("+51987000222")
	other.Send("Hola").ExpectSMS()
	other.Send("1").ExpectSMS() // also in danger, then silent

	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	n, err := e.h.ExpireIdle(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("expired %d (%v), want 2", n, err)
	}
	if got := e.count("follow_up", "kind = 'callback' AND urgent"); got != 1 {
		t.Fatalf("%d urgent callbacks, want 1 (for the case that still exists)", got)
	}
	survivor.Send("Hola").Expect(text(t, templates.ES, templates.KeyWelcome))
}

// A spoofer of her number, which holds an urgent case but no code word,
// opens a "new" case and picks a code word; that word must not become hers,
// or it would unlock BORRAR on her record.
func TestUnverifiedNewCaseCannotSetHerCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("1").Expect(text(t, es, templates.KeyDangerAlerted)) // urgent case, no code word
	var caseID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, "SELECT id FROM case_file WHERE urgent").Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)

	spoofer := survivor
	spoofer.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	// New case: consent, legal aid, El Porvenir, refer, texts, mornings,
	// then a code word of his choosing.
	spoofer.Send("2").Expect(text(t, es, templates.KeyConsent))
	for _, msg := range []string{"1", "4", "1", "TODOS", "1", "1"} {
		spoofer.Send(msg).ExpectSMS()
	}
	spoofer.Send("tigre").Expect("AMP-")
	if e.count("contact", "code_word_token IS NOT NULL") != 0 {
		t.Fatal("an unverified conversation set the number's code word")
	}
	spoofer.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	spoofer.Send("tigre").Expect(text(t, es, templates.KeyEraseCodeWordRetry))
	spoofer.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
}

// BORRAR leaves no trail of her earlier conversations: their rows tied her
// number's index to when she wrote and whether she flagged danger. One that
// expired lost its index then; what remains of it points at nobody.
func TestBorrarForgetsEarlierConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("2").Expect(text(t, es, templates.KeyConsent))
	e.clk.Advance(e.h.cfg.IdleAfter + time.Minute)
	if _, err := e.h.ExpireIdle(e.ctx); err != nil {
		t.Fatal(err)
	}
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	if n := e.count("conversation", "phone_index IS NOT NULL OR contact_id IS NOT NULL OR case_id IS NOT NULL"); n != 0 {
		t.Errorf("%d conversations still tied to her after BORRAR", n)
	}
}
