package triage

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkWord answers a CheckCodeWord the way the hotline does, checking the
// turn's replies like converse.
func checkWord(t *testing.T, st State, ok bool, want [][]string, effects []Effect) State {
	t.Helper()
	st, out := trujillo.CodeWordResult(st, ok, t0)
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

// BORRAR asks everyone the same: her code word, or 1 to erase what no code
// word protects. Her word, once it matches, leads to a confirmation that
// erases everything.
func TestEraseWithCodeWord(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"BORRAR", [][]string{frags("Para borrar todo envia tu palabra clave", "Si no tienes, responde 1", "2")}, nil},
		{"Pera", nil, []Effect{CheckCodeWord{Word: "pera"}}},
	})
	st = checkWord(t, st, false, [][]string{frags("Esa palabra no coincide")}, nil)
	if st.Step != stepEraseWord || st.Tries != 1 || st.Verified {
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
		{"1", [][]string{frags("Borramos tus datos")}, []Effect{EraseConfirmed{Verified: true}}},
	})
	if st.Step != stepErased || st.Verified || st.Tries != 0 {
		t.Errorf("after erasing: %#v", st)
	}

	// Her word, then no: nothing is erased and she is back where she was.
	wait := converse(t, New(t0, "en"), t0, []turn{
		{"hi", [][]string{frags("Are you in danger now?")}, nil},
		{"2", [][]string{frags("Shall we open a case?")}, nil},
		{"ERASE", [][]string{frags("To delete everything send your code word")}, nil},
		{"mango", nil, []Effect{CheckCodeWord{Word: "mango"}}},
	})
	verified := checkWord(t, wait, true, [][]string{frags("ERASE YES")}, nil)
	converse(t, verified, t0, []turn{
		{"2", [][]string{frags("Nothing was deleted"), frags("Shall we open a case?")}, nil},
		{"ERASE", [][]string{frags("ERASE YES")}, nil}, // verified: no second check
		{"erase yes", [][]string{frags("We deleted your data")}, []Effect{EraseConfirmed{Verified: true}}},
	})
}

// A wrong word never erases, and wrong words at the danger question and at
// BORRAR share the one lockout. Locked, BORRAR SI still erases what no code
// word protects.
func TestEraseWrongWordsShareTheLockout(t *testing.T) {
	st := reachable(t)["danger_wait"]
	st = checkWord(t, st, false, [][]string{frags("Responde 1 si estas en peligro")}, nil) // one wrong at the welcome
	st = converse(t, st, t0, []turn{
		{"borrar", [][]string{frags("Para borrar todo")}, nil},
		{"pera", nil, []Effect{CheckCodeWord{Word: "pera"}}},
	})
	st = checkWord(t, st, false, [][]string{frags("Esa palabra no coincide")}, nil)
	st = converse(t, st, t0, []turn{
		{"uva", nil, []Effect{CheckCodeWord{Word: "uva"}}},
	})
	st = checkWord(t, st, false, [][]string{frags("ya no probamos palabras clave"), frags("¿Estas en peligro ahora?")}, nil)
	if st.Step != stepDanger || st.Tries != maxCodeWordTries {
		t.Fatalf("after the lockout: %#v", st)
	}
	// Locked: BORRAR no longer asks, and INICIO does not reset the count.
	for _, in := range []string{"borrar", "delete"} {
		next, out := trujillo.Step(st, in, t0)
		texts := render(t, out)
		if erased(out) || len(texts) != 2 || !strings.Contains(texts[0], "ya no probamos") || next.Step != stepDanger {
			t.Errorf("%q when locked: %q %#v", in, texts, out.Effects)
		}
	}
	st = converse(t, st, t0, []turn{
		{"INICIO", [][]string{frags("¿Estas en peligro ahora?")}, []Effect{Resume{}}},
		{"mango", [][]string{frags("Responde 1 si estas en peligro")}, nil},
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"borrar", [][]string{frags("ya no probamos"), frags("¿Abrimos un caso?")}, nil},
		{"BORRAR SI", [][]string{frags("sin palabra clave")}, []Effect{EraseConfirmed{}}},
	})
}

// Leaving the prompt with 2 erases nothing; after SALIR she hears the way
// back as for any other message.
func TestEraseCodeWordCancelled(t *testing.T) {
	converse(t, reachable(t)["erase_word"], t0, []turn{
		{"2", [][]string{frags("No borramos nada"), frags("¿Abrimos un caso?")}, nil},
	})
	converse(t, reachable(t)["erase_word"], t0, []turn{
		{"no", [][]string{frags("No borramos nada"), frags("¿Abrimos un caso?")}, nil},
	})
	stopped := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"salir", [][]string{frags("no te enviaremos mas mensajes")}, []Effect{Stop{}}},
		{"borrar", [][]string{frags("Para borrar todo")}, nil},
		{"2", [][]string{frags("No borramos nada"), frags("INICIO")}, nil},
		{"hola", [][]string{frags("INICIO")}, nil},
		{"borrar", [][]string{frags("Para borrar todo")}, nil},
		{"x", [][]string{frags("Esa palabra no coincide")}, nil},
		{"q", [][]string{frags("Esa palabra no coincide")}, nil},
		{"z", [][]string{frags("ya no probamos"), frags("INICIO")}, nil},
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
		{"INICIO", [][]string{frags("105")}, []Effect{Resume{Verified: true}}},
		{"2", [][]string{frags("1 Que una consejera te contacte")}, nil},
		{"borrar", [][]string{frags("BORRAR SI")}, nil},
		{"1", [][]string{frags("Borramos tus datos")}, []Effect{EraseConfirmed{Verified: true}}},
	})
	if st.Step != stepErased {
		t.Errorf("step %s", st.Step)
	}
}

// Choosing a code word is not proving it: right after her intake, BORRAR
// asks for the word she just chose, and BORRAR SI without it is an
// unverified erasure (the hotline keeps what the word protects).
func TestEraseAfterIntakeNeedsTheNewCodeWord(t *testing.T) {
	done := reachable(t)["done"]
	converse(t, done, t0, []turn{
		{"BORRAR", [][]string{frags("Para borrar todo envia tu palabra clave")}, nil},
		{"mango", nil, []Effect{CheckCodeWord{Word: "mango"}}},
	})
	converse(t, done, t0, []turn{
		{"BORRAR SI", [][]string{frags("sin palabra clave")}, []Effect{EraseConfirmed{}}},
	})
}

func TestEraseWaitAnsweredLate(t *testing.T) {
	// A code-word result that arrives out of turn changes nothing.
	st := reachable(t)["erase_word"]
	next, out := trujillo.CodeWordResult(st, true, t0.Add(time.Minute))
	if next.Step != stepEraseWord || next.Verified || erased(out) {
		t.Errorf("out of turn: %#v %#v", next, out)
	}
}
