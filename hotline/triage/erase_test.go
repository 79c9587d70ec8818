package triage

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/templates"
)

// checkWord answers a CheckCodeWord the way the hotline does, checking the
// turn's replies like converse.
func checkWord(t *testing.T, st State, ok bool, want [][]string, effects []Effect) State {
	t.Helper()
	st, out := CodeWordResult(st, ok, t0)
	st = roundTrip(t, st)
	texts := render(t, out)
	if len(texts) != len(want) {
		t.Fatalf("code word %v: replies %q, want %d", ok, texts, len(want))
	}
	for j, text := range texts {
		for _, f := range want[j] {
			if !strings.Contains(text, f) {
				t.Errorf("code word %v: reply %d = %q, want it to contain %q", ok, j, text, f)
			}
		}
	}
	if !reflect.DeepEqual(out.Effects, effects) {
		t.Errorf("code word %v: effects %#v, want %#v", ok, out.Effects, effects)
	}
	return st
}

func erased(out Output) bool { return slices.Contains(out.Effects, Effect(EraseConfirmed{})) }

// Caller ID can be spoofed: in a returning conversation BORRAR erases only
// after her code word matched, and then only once she confirms.
func TestEraseReturningNeedsCodeWord(t *testing.T) {
	st := converse(t, NewReturning(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"BORRAR", [][]string{frags("Para borrar tus datos escribe tu palabra clave", "2 para seguir sin borrar")}, nil},
		{"1", [][]string{frags("Esa palabra no coincide")}, nil}, // a confirmation is not her code word
		{"borrar si", [][]string{frags("Para borrar tus datos escribe tu palabra clave")}, nil},
		{"Pera", nil, []Effect{CheckCodeWord{Word: "pera"}}},
	})
	st = checkWord(t, st, false, [][]string{frags("Esa palabra no coincide")}, nil)
	if st.Step != stepEraseWord || st.Tries != 2 || st.Verified {
		t.Fatalf("after a wrong word: %#v", st)
	}
	st = converse(t, st, t0, []turn{
		{"Mangó", nil, []Effect{CheckCodeWord{Word: "mango"}}},
	})
	st = checkWord(t, st, true, [][]string{frags("¿Borramos todo lo que tenemos de ti?")}, nil)
	if st.Step != stepEraseConfirm || !st.Verified || st.Tries != 0 {
		t.Fatalf("after her word: %#v", st)
	}
	st = converse(t, st, t0, []turn{
		{"1", [][]string{frags("Borramos tus datos")}, []Effect{EraseConfirmed{}}},
	})
	if st.Step != stepErased || st.Returning || st.Verified || st.Tries != 0 {
		t.Errorf("after erasing: %#v", st)
	}

	// Her word, then no: nothing is erased and she is back where she was.
	wait := converse(t, NewReturning(t0, "en"), t0, []turn{
		{"hi", [][]string{frags("Are you in danger now?")}, nil},
		{"2", [][]string{frags("code word")}, nil},
		{"ERASE YES", [][]string{frags("To delete your data write your code word")}, nil},
		{"mango", nil, []Effect{CheckCodeWord{Word: "mango"}}},
	})
	verified := checkWord(t, wait, true, [][]string{frags("ERASE YES")}, nil)
	converse(t, verified, t0, []turn{
		{"2", [][]string{frags("Nothing was deleted"), frags("What do you need?", "1 A counsellor")}, nil},
		{"ERASE", [][]string{frags("ERASE YES")}, nil}, // verified: as in a first conversation
		{"erase yes", [][]string{frags("We deleted your data")}, []Effect{EraseConfirmed{}}},
	})
}

// A wrong word never erases, whatever follows, and wrong words at either
// prompt share the one lockout.
func TestEraseWrongWordsShareTheLockout(t *testing.T) {
	st := reachable(t)["return_wait"]
	st = checkWord(t, st, false, [][]string{frags("no coincide", "NUEVO")}, nil) // one wrong at the return prompt
	st = converse(t, st, t0, []turn{
		{"borrar", [][]string{frags("Para borrar tus datos")}, nil},
		{"pera", nil, []Effect{CheckCodeWord{Word: "pera"}}},
	})
	st = checkWord(t, st, false, [][]string{frags("Esa palabra no coincide")}, nil)
	st = converse(t, st, t0, []turn{
		{"uva", nil, []Effect{CheckCodeWord{Word: "uva"}}},
	})
	// The third wrong word: nothing erased, and the old case is locked for
	// this conversation, so she is offered a new one.
	st = checkWord(t, st, false, [][]string{frags("sin tu palabra clave no borramos nada"), frags("¿Abrimos un caso nuevo?")}, nil)
	if st.Step != stepReturnLocked || st.Tries != maxCodeWordTries {
		t.Fatalf("after the lockout: %#v", st)
	}
	// Locked: BORRAR no longer asks, and INICIO does not reset the count.
	for _, in := range []string{"borrar", "BORRAR SI", "delete 1"} {
		next, out := Step(st, in, t0)
		texts := render(t, out)
		if erased(out) || len(texts) != 2 || !strings.Contains(texts[0], "sin tu palabra clave") || next.Step != stepReturnLocked {
			t.Errorf("%q when locked: %q %#v", in, texts, out.Effects)
		}
	}
	st = converse(t, st, t0, []turn{
		{"INICIO", [][]string{frags("¿Estás en peligro ahora?")}, nil},
		{"2", [][]string{frags("¿Abrimos un caso nuevo?")}, nil},
		{"1", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"borrar", [][]string{frags("sin tu palabra clave no borramos nada"), frags("¿Abrimos un caso?")}, nil},
	})
	if st.Step != stepConsent {
		t.Errorf("step %s", st.Step)
	}
}

// Leaving the code-word prompt with 2 erases nothing; after SALIR it stays
// silent as a cancelled confirmation does.
func TestEraseCodeWordCancelled(t *testing.T) {
	converse(t, reachable(t)["erase_word"], t0, []turn{
		{"2", [][]string{frags("No borramos nada"), frags("palabra clave", "NUEVO")}, nil},
	})
	converse(t, reachable(t)["erase_word"], t0, []turn{
		{"no", [][]string{frags("No borramos nada"), frags("palabra clave", "NUEVO")}, nil},
	})
	stopped := converse(t, NewReturning(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"salir", nil, []Effect{Stop{}}},
		{"borrar", [][]string{frags("Para borrar tus datos")}, nil},
		{"2", nil, []Effect{Stop{}}},
		{"hola", nil, []Effect{Stop{}}},
		{"borrar", [][]string{frags("Para borrar tus datos")}, nil},
		{"x", [][]string{frags("Esa palabra no coincide")}, nil},
		{"y", [][]string{frags("Esa palabra no coincide")}, nil},
		// Locked while stopped: she hears why nothing was erased, and nothing else.
		{"z", [][]string{frags("sin tu palabra clave no borramos nada")}, nil},
	})
	if stopped.Step != stepStopped {
		t.Errorf("step %s", stopped.Step)
	}
}

// After her code word matched, the conversation stays verified: a new case
// opened from the returning menu, or INICIO, does not ask again.
func TestEraseAfterVerifiedNewCase(t *testing.T) {
	menu := reachable(t)["return_menu"]
	st := converse(t, menu, t0, []turn{
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"no", [][]string{frags("no abrimos un caso")}, nil},
		{"INICIO", [][]string{frags("105")}, nil},
		{"2", [][]string{frags("1 Que una consejera te contacte")}, nil},
		{"borrar", [][]string{frags("BORRAR SI")}, nil},
		{"1", [][]string{frags("Borramos tus datos")}, []Effect{EraseConfirmed{}}},
	})
	if st.Step != stepErased {
		t.Errorf("step %s", st.Step)
	}
	// NUEVO skips her code word: a new case then, but BORRAR still needs it,
	// since it would erase the earlier case too.
	converse(t, reachable(t)["return_word"], t0, []turn{
		{"nuevo", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"1", [][]string{frags("¿Qué necesitas?")}, nil},
		{"borrar sí", [][]string{frags("Para borrar tus datos")}, nil},
	})
}

// The hotline may learn only later that the number has an earlier case:
// AsReturning makes the same message ask for the code word instead.
func TestAsReturning(t *testing.T) {
	confirm := reachable(t)["erase_confirm"]
	if _, out := Step(confirm, "1", t0); !erased(out) {
		t.Fatalf("a new conversation's BORRAR: %#v", out)
	}
	st, out := Step(AsReturning(confirm), "1", t0)
	if erased(out) || st.Step != stepEraseWord || len(out.Replies) != 1 || out.Replies[0].Key != templates.KeyEraseCodeWord {
		t.Fatalf("as returning: %s %#v", st.Step, out)
	}
	converse(t, st, t0, []turn{
		{"2", [][]string{frags("No borramos nada"), frags("¿Abrimos un caso?")}, nil},
	})
	if !reflect.DeepEqual(AsReturning(reachable(t)["return_menu"]), reachable(t)["return_menu"]) {
		t.Error("AsReturning changed a returning conversation")
	}
	if confirm.Returning {
		t.Error("AsReturning changed its input")
	}
	// A confirmation stored by an earlier release, before the code word was
	// asked for BORRAR, is not taken as leave to erase.
	old := confirm
	old.Returning = true
	if _, out := Step(old, "1", t0); erased(out) {
		t.Errorf("stored unverified confirmation erased: %#v", out)
	}
}

func TestEraseWaitAnsweredLate(t *testing.T) {
	// A code-word result that arrives out of turn changes nothing.
	st := reachable(t)["erase_confirm"]
	next, out := CodeWordResult(st, true, t0.Add(time.Minute))
	if next.Step != stepEraseConfirm || next.Verified || erased(out) {
		t.Errorf("out of turn: %#v %#v", next, out)
	}
}
