package triage

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/amparo/amparo/templates"
)

func keys(out Output) []string {
	var ks []string
	for _, m := range out.Replies {
		ks = append(ks, m.Key)
	}
	return ks
}

// A danger statement in her own words is heard at every step, raises the
// alarm once per conversation, tells her a counsellor will write to her and
// the emergency numbers, and keeps her where she was.
func TestDangerInHerOwnWordsAtEveryStep(t *testing.T) {
	states := reachable(t)
	for _, name := range slices.Sorted(maps.Keys(states)) {
		st := states[name]
		for _, in := range []string{"me está pegando", "AUXILIOOO", "he's hitting me", "toy encerrada"} {
			next, out := trujillo.Step(st, in, t0)
			texts := render(t, out)
			// Once she has said how she may be contacted, the alarm carries
			// it and she is told the counsellor keeps to it.
			heard, alarm := templates.KeyDangerHeard, DangerNow{}
			switch name {
			case "hours": // texts and calls, hours not said yet
				heard, alarm = templates.KeyDangerHeardAgreed, DangerNow{Agreed: true, MayText: true, MayCall: true, ToHour: 24}
			case "codeword":
				heard, alarm = templates.KeyDangerHeardAgreed, DangerNow{Agreed: true, MayText: true, MayCall: true, FromHour: 9, ToHour: 13}
			}
			var wantEffects []Effect
			if !st.Danger {
				wantEffects = []Effect{alarm}
			}
			if !reflect.DeepEqual(out.Effects, wantEffects) {
				t.Errorf("%s %q: effects %#v, want %#v", name, in, out.Effects, wantEffects)
			}
			var want []string
			switch name {
			case "start", "danger", "danger_wait":
				want = []string{templates.KeyDangerAlerted}
			case "stopped":
				// Still stopped: the counsellor has her alert, and she reads
				// how to be written to again.
				want = []string{templates.KeyDangerPaused, templates.KeyStopped}
			case "done", "erased":
				want = []string{heard}
			default:
				_, q := again(st)
				want = append([]string{heard}, keys(q)...)
			}
			if got := keys(out); !slices.Equal(got, want) {
				t.Errorf("%s %q: replies %v %q, want %v", name, in, got, texts, want)
			}
			if !strings.Contains(texts[0], "105") {
				t.Errorf("%s %q: no emergency number in %q", name, in, texts[0])
			}
			// New texts keep to one GSM-7 segment: an accent would make it UCS-2.
			if enc, n := templates.Segments(texts[0]); out.Replies[0].Key != templates.KeyDangerAlerted && (enc != templates.GSM7 || n != 1) {
				t.Errorf("%s %q: %s in %d %s segments", name, in, out.Replies[0].Key, n, enc)
			}
			if !next.OwesCallback() || !reflect.DeepEqual(next.Needs, st.Needs) || next.Community != st.Community ||
				(next.Step == stepStopped) != (name == "stopped") {
				t.Errorf("%s %q: next state %#v", name, in, next)
			}
			// Once per conversation: she may say it again, nobody is alerted twice.
			if _, out := trujillo.Step(next, in, t0); len(out.Effects) != 0 || len(out.Replies) == 0 {
				t.Errorf("%s %q said twice: %#v", name, in, out)
			}
		}
	}
}

// Danger at the needs question: the alarm goes at once, her answers so far
// are kept, and the case the triage opens is the urgent one.
func TestDangerMidIntakeKeepsHerAnswers(t *testing.T) {
	converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
		{"no", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"si", [][]string{frags("¿Qué necesitas?")}, nil},
		{"ya llego, me kiere pegar", [][]string{
			frags("consejera de turno", "te escribira por este chat", "105", "Linea 100"),
			frags("1 Salud 2 Denuncia"),
		}, []Effect{DangerNow{}}},
		{"2", [][]string{frags("1 El Porvenir")}, nil},
		{"está rompiendo la puerta", [][]string{frags("te escribira por este chat"), frags("1 El Porvenir")}, nil},
		{"1", [][]string{frags("1 Policia", "TODOS o NINGUNO")}, nil},
		{"todos", [][]string{frags("1 Solo mensajes")}, nil},
		{"4", [][]string{frags("palabra clave")}, nil},
		{"girasol", [][]string{frags("tu caso es " + testRef)}, []Effect{OpenCase{
			Urgent: true, Needs: []string{"police"}, Community: "el-porvenir", Consent: map[string]bool{"police": true},
			CodeWord: "girasol", Lang: "es",
		}}},
	})
}

// At the danger question her own words answer it, both ways, and what is
// neither gets the question again with the emergency numbers: never a dead end.
func TestDangerQuestionInHerOwnWords(t *testing.T) {
	danger := reachable(t)["danger"]
	tests := []struct {
		in      string
		want    string
		effects []Effect
	}{
		{"sí, estoy en peligro", "Avisamos a la consejera de turno", []Effect{DangerNow{}}},
		{"Si", "Avisamos a la consejera de turno", []Effect{DangerNow{}}},
		{"1 sí", "Avisamos a la consejera de turno", []Effect{DangerNow{}}},
		{"me quiere pegar", "Avisamos a la consejera de turno", []Effect{DangerNow{}}},
		{"no estoy en peligro", "¿Abrimos un caso?", nil},
		{"2, estoy bien", "¿Abrimos un caso?", nil},
		{"no", "¿Abrimos un caso?", nil},
		{"no sé", "Emergencias: 105 o Linea 100", nil},
		{"tengo miedo", "Emergencias: 105 o Linea 100", nil},
		{"sí pero no ahora", "Emergencias: 105 o Linea 100", nil},
	}
	for _, tt := range tests {
		_, out := trujillo.Step(danger, tt.in, t0)
		texts := render(t, out)
		if len(texts) != 1 || !strings.Contains(texts[0], tt.want) || !reflect.DeepEqual(out.Effects, tt.effects) {
			t.Errorf("%q: %q %#v; want %q, %#v", tt.in, texts, out.Effects, tt.want, tt.effects)
		}
	}
}

// Once an urgent case is open, no reply may say there is none: each way of
// ending the conversation without the summary says the case is open, that a
// counsellor will write to her, and that BORRAR erases it.
func TestNoCaseIsNeverSaidAfterDanger(t *testing.T) {
	open := frags("caso urgente sigue abierto", "te escribira por este chat", "BORRAR")
	t.Run("not by text", func(t *testing.T) {
		// She declined to go on by text: no promise to write to her.
		converse(t, New(t0, "es"), t0, []turn{
			{"auxilio", [][]string{frags("¿Seguimos por mensaje?")}, []Effect{DangerNow{}}},
			{"2", [][]string{frags("La consejera de turno ya tiene tu aviso", "105")}, nil},
		})
	})
	t.Run("consent declined", func(t *testing.T) {
		converse(t, New(t0, "es"), t0, []turn{
			{"hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
			{"1", [][]string{frags("¿Seguimos por mensaje?")}, []Effect{DangerNow{}}},
			{"1", [][]string{frags("¿Abrimos un caso?")}, nil},
			{"no", [][]string{open}, nil},
		})
	})
	t.Run("consent declined after danger mid-intake and INICIO", func(t *testing.T) {
		converse(t, New(t0, "en"), t0, []turn{
			{"hi", [][]string{frags("Are you in danger now?")}, nil},
			{"no", [][]string{frags("Shall we open a case?")}, nil},
			{"he locked me in", [][]string{frags("will write to you here"), frags("Reply 1 to agree")}, []Effect{DangerNow{}}},
			{"restart", [][]string{frags("Are you in danger now?")}, []Effect{Resume{}}},
			{"no", [][]string{frags("Shall we open a case?")}, nil},
			{"no", [][]string{frags("urgent case stays open", "will write to you here", "ERASE")}, nil},
		})
	})
	t.Run("returning, nothing for now", func(t *testing.T) {
		st := reachable(t)["return_menu"]
		st, _ = trujillo.Step(st, "socorro", t0)
		converse(t, st, t0, []turn{{"3", [][]string{open}, nil}})
	})
	t.Run("without danger the refusals stay as they were", func(t *testing.T) {
		states := reachable(t)
		for name, want := range map[string]string{"consent": "no abrimos un caso", "return_menu": "Cuidate"} {
			in := "2"
			if name == "return_menu" {
				in = "3"
			}
			if _, out := trujillo.Step(states[name], in, t0); !strings.Contains(render(t, out)[0], want) {
				t.Errorf("%s: %q", name, render(t, out))
			}
		}
	})
}

// After SALIR, danger in her words raises the alarm and is answered, but
// does not undo SALIR: anyone can write such words from her number.
func TestDangerAfterStopIsAnswered(t *testing.T) {
	st := reachable(t)["stopped"]
	if _, out := trujillo.Step(st, "hola", t0); !slices.Equal(keys(out), []string{templates.KeyStopped}) {
		t.Fatalf("stopped conversation answered %q", render(t, out))
	}
	next, out := trujillo.Step(st, "ayudenme me quiere matar", t0)
	if next.Step != stepStopped || !reflect.DeepEqual(out.Effects, []Effect{DangerNow{}}) ||
		!slices.Equal(keys(out), []string{templates.KeyDangerPaused, templates.KeyStopped}) {
		t.Errorf("after SALIR: %s %#v", next.Step, out)
	}
}

// She asked not to be contacted, then says she is in danger: the alarm goes,
// and nothing promises to write to or call her.
func TestDangerAfterNoContactPromisesNoContact(t *testing.T) {
	st := New(t0, "es")
	for _, in := range []string{"hola", "2", "1", "2", "1", "todos"} {
		st, _ = trujillo.Step(st, in, t0)
	}
	converse(t, st, t0, []turn{
		{"4", [][]string{frags("palabra clave")}, nil},
		{"me quiere matar", [][]string{frags("La consejera de turno ya tiene tu aviso"), frags("de 3 a 20 letras")},
			[]Effect{DangerNow{Agreed: true}}},
	})
}
