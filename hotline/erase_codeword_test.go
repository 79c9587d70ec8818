package hotline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// caseByRef returns the id of the case with the reference ref.
func (e *env) caseByRef(ref string) uuid.UUID {
	e.t.Helper()
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE reference = $1`, ref).Scan(&id); err != nil {
		e.t.Fatalf("case %s: %v", ref, err)
	}
	return id
}

// assertKept fails unless her case can still be read and her number is
// still recognised: nothing was erased.
func (e *env) assertKept(caseID uuid.UUID) {
	e.t.Helper()
	if _, err := e.cases.GetCase(e.ctx, e.pool, caseID); err != nil {
		e.t.Fatalf("case no longer readable: %v", err)
	}
	if _, found, err := e.cases.FindContact(e.ctx, e.pool, survivorPhone); err != nil || !found {
		e.t.Fatalf("contact no longer found (%v)", err)
	}
	if n := e.count("audit_log", "action = 'contact.erase'"); n != 0 {
		e.t.Fatalf("%d erasures audited", n)
	}
}

// openCaseBySMS plays a whole first conversation and returns her case.
func openCaseBySMS(e *env, survivor *carrier.Phone, codeWord string, contact ...string) uuid.UUID {
	e.t.Helper()
	if len(contact) == 0 {
		contact = []string{"4"} // no contact
	}
	for _, step := range append([]string{"Hola", "2", "1", "3", "1", "NINGUNO"}, contact...) {
		survivor.Send(step).ExpectSMS()
	}
	summary := survivor.Send(codeWord).ExpectSMS("AMP-")
	return e.caseByRef(refPattern.FindString(summary.Body))
}

// Caller ID can be spoofed: from a later conversation, a number match alone
// never erases her record. BORRAR asks whoever texts for her code word;
// confirming without it, or with wrong words, keeps her case.
func TestBorrarFromALaterConversationNeedsHerCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	caseID := openCaseBySMS(e, survivor, "girasol")
	e.clk.Advance(2 * time.Hour)

	// Someone with her number, not her code word.
	spoofer := survivor
	spoofer.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	spoofer.Send("margarita").Expect(text(t, es, templates.KeyEraseCodeWordRetry))
	e.assertKept(caseID)
	spoofer.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
	// The third wrong word in a conversation ends the checks in it.
	spoofer.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	for _, w := range []string{"sandia", "pera"} {
		spoofer.Send(w).Expect(text(t, es, templates.KeyEraseCodeWordRetry))
	}
	spoofer.Send("uva").Expect(text(t, es, templates.KeyEraseLocked))
	spoofer.Expect(text(t, es, templates.KeyWelcome))
	spoofer.Send("borrar").Expect(text(t, es, templates.KeyEraseLocked))
	spoofer.Expect(text(t, es, templates.KeyWelcome))
	spoofer.Send("girasol").Expect(text(t, es, templates.KeyDangerRetry)) // no longer checked here
	e.assertKept(caseID)

	// She herself, in a later conversation, erases with her code word.
	e.clk.Advance(2 * time.Hour)
	survivor.Send("Borrar").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("Girasol").Expect(text(t, es, templates.KeyEraseConfirm))
	e.assertKept(caseID) // not before she confirms
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDone))
	if _, err := e.cases.GetCase(e.ctx, e.pool, caseID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("GetCase after erasure: %v, want ErrErased", err)
	}
	if _, found, err := e.cases.FindContact(e.ctx, e.pool, survivorPhone); err != nil || found {
		t.Errorf("contact still found (%v)", err)
	}
	if n := e.count("conversation", "status = 'active'"); n != 0 {
		t.Errorf("%d conversations still active", n)
	}
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("2").Expect(text(t, es, templates.KeyConsent))
	e.sim.AssertQuiet()
}

// Once her code word matched in a conversation, BORRAR only confirms;
// declining keeps everything, and she goes back to her menu.
func TestBorrarAfterHerCodeWordInTheSameConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	caseID := openCaseBySMS(e, survivor, "girasol")
	e.clk.Advance(2 * time.Hour)

	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyReturnMenu))
	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseConfirm))
	survivor.Send("2").Expect(text(t, es, templates.KeyEraseCancelled))
	survivor.Expect(text(t, es, templates.KeyReturnMenu))
	e.assertKept(caseID)
	survivor.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDone))
	if _, err := e.cases.GetCase(e.ctx, e.pool, caseID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("GetCase after erasure: %v, want ErrErased", err)
	}
}

// A case opened when she said she was in danger, and then left, has no code
// word; her number still holds it, so BORRAR without a code word cannot
// destroy it by text.
func TestBorrarCannotEraseAnEarlierCaseWithoutCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *envSetup) { c.IdleAfter = time.Hour })
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("1").Expect(text(t, es, templates.KeyDangerAlerted))
	var caseID uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM case_file WHERE urgent`).Scan(&caseID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Hour)

	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("girasol").Expect(text(t, es, templates.KeyEraseCodeWordRetry))
	survivor.Send("2").Expect(text(t, es, templates.KeyEraseCancelled))
	survivor.Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("no").Expect(text(t, es, templates.KeyConsent))
	survivor.Send("BORRAR SI").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
}

// A conversation begun while her number had nothing, when a case is opened
// for it by another channel (a call, here by casefile directly): BORRAR in
// it now reaches more than the conversation stored, so without a code word
// the case stays.
func TestBorrarAfterACaseOpenedElsewhereNeedsCodeWord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const es = templates.ES
	survivor := e.sim.Phone(survivorPhone)
	survivor.Send("Hola").Expect(text(t, es, templates.KeyWelcome))
	survivor.Send("2").Expect(text(t, es, templates.KeyConsent))

	var caseID uuid.UUID
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		c, err := e.h.openUrgentCase(context.Background(), tx, survivorPhone, es, casefile.ContactPrefs{MayCall: true})
		caseID = c.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	survivor.Send("BORRAR").Expect(text(t, es, templates.KeyEraseCodeWord))
	survivor.Send("1").Expect(text(t, es, templates.KeyEraseDoneNoCodeWord))
	e.assertKept(caseID)
}
