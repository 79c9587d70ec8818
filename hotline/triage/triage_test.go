package triage

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/templates"
)

// t0 is 10:00 in Trujillo.
var t0 = time.Date(2026, time.March, 10, 15, 0, 0, 0, time.UTC)

const testRef = "AMP-7K3Q"

type turn struct {
	in      string
	want    [][]string // per reply, fragments its text must contain
	effects []Effect
}

func frags(f ...string) []string { return f }

// converse plays turns a minute apart, checking every reply and effect, and
// that the state survives a JSON round trip at every step.
func converse(t *testing.T, st State, now time.Time, turns []turn) State {
	t.Helper()
	for i, tt := range turns {
		var out Output
		st, out = trujillo.Step(st, tt.in, now)
		st = roundTrip(t, st)
		texts := render(t, out)
		if len(texts) != len(tt.want) {
			t.Fatalf("turn %d %q: %d replies %q, want %d", i, tt.in, len(texts), texts, len(tt.want))
		}
		for j, text := range texts {
			for _, f := range tt.want[j] {
				if !strings.Contains(text, f) {
					t.Errorf("turn %d %q: reply %d = %q, want it to contain %q", i, tt.in, j, text, f)
				}
			}
		}
		if !reflect.DeepEqual(out.Effects, tt.effects) {
			t.Errorf("turn %d %q: effects %#v, want %#v", i, tt.in, out.Effects, tt.effects)
		}
		now = now.Add(time.Minute)
	}
	return st
}

func render(t *testing.T, out Output) []string {
	t.Helper()
	var texts []string
	for _, m := range out.WithReference(testRef).Replies {
		text, err := m.Render(out.Lang)
		if err != nil {
			t.Fatalf("render %s: %v", m.Key, err)
		}
		if enc, n := templates.Segments(text); n > 2 {
			t.Errorf("%s takes %d %s segments: %q", m.Key, n, enc, text)
		}
		texts = append(texts, text)
	}
	return texts
}

func roundTrip(t *testing.T, st State) State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("JSON round trip changed the state:\n got %#v\nwant %#v", back, st)
	}
	return back
}

func ptr(t time.Time) *time.Time { return &t }

func TestConversationSpanish(t *testing.T) {
	incident := t0.Add(4*time.Minute - 10*time.Hour) // turn 4 is at t0+4m
	converse(t, New(t0, "es"), t0, []turn{
		{"Hola", [][]string{frags("105", "Linea 100", "¿Estas en peligro ahora? 1 Si 2 No", "palabra clave", "English: reply EN")}, nil},
		{"no", [][]string{frags("¿Abrimos un caso?", "equipo Amparo", "confidencial salvo")}, nil},
		{"Sí", [][]string{frags("1 Salud", "5 Apoyo psicologico")}, nil},
		{"1, 2 y 5", [][]string{frags("¿Cuando ocurrio?", "6 Prefiero no decir")}, nil},
		// Ten hours before 10:04 Lima is 00:04; 72 h later is 00:04 on 13/03.
		{"hace 10 horas", [][]string{frags("antes del 13/03 00:04"), frags("1 El Porvenir")}, nil},
		// Her needs are numbered from 1 as shown, not as in the needs question.
		{"2", [][]string{frags("1 Salud 2 Policia 3 Apoyo psicologico", "TODOS o NINGUNO")}, nil},
		{"1 3", [][]string{frags("1 Solo mensajes")}, nil},
		{"1", [][]string{frags("¿A qué hora es seguro?")}, nil},
		{"de 9 a 13", [][]string{frags("palabra clave")}, nil},
		{"Mangó", [][]string{frags("tu caso es "+testRef, "BORRAR")}, []Effect{OpenCase{
			Needs: []string{"health", "police", "psychosocial"}, Community: "la-esperanza",
			IncidentAt: ptr(incident), Consent: map[string]bool{"health": true, "police": false, "psychosocial": true},
			MayText: true, FromHour: 9, ToHour: 13, CodeWord: "mango", Lang: "es",
		}}},
		{"gracias", [][]string{frags("INICIO", "AYUDA")}, nil},
	})
}

// A whole intake answered in her own words, no option number anywhere:
// each answer is understood the first time, and the case is the one the
// numbers would have opened.
func TestIntakeInHerOwnWords(t *testing.T) {
	// "ayer en la noche" is taken at yesterday's earliest moment: 00:00 on
	// 09/03 in Lima, 05:00 UTC.
	yesterday := time.Date(2026, time.March, 9, 5, 0, 0, 0, time.UTC)
	converse(t, New(t0, "es"), t0, []turn{
		{"Hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
		{"no, ahora no", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"sí por favor", [][]string{frags("1 Salud")}, nil},
		{"salud y policía", [][]string{frags("¿Cuando ocurrio?")}, nil},
		{"ayer en la noche", [][]string{frags("antes del"), frags("1 El Porvenir")}, nil},
		{"La Esperanza", [][]string{frags("1 Salud 2 Policia", "TODOS o NINGUNO")}, nil},
		{"si a todo", [][]string{frags("1 Solo mensajes")}, nil},
		{"solo mensajes", [][]string{frags("¿A qué hora es seguro?")}, nil},
		{"en las mañanas", [][]string{frags("palabra clave")}, nil},
		{"Mangó", [][]string{frags("tu caso es " + testRef)}, []Effect{OpenCase{
			Needs: []string{"health", "police"}, Community: "la-esperanza",
			IncidentAt: ptr(yesterday), Consent: map[string]bool{"health": true, "police": true},
			MayText: true, FromHour: 8, ToHour: 12, CodeWord: "mango", Lang: "es",
		}}},
	})
}

// Refusing a code word is answered with why it matters, in her language,
// and she can still choose one; "no sé" gets the rules again.
func TestCodeWordRefusedIsExplained(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
		{"no", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"si", [][]string{frags("1 Salud")}, nil},
		{"3", [][]string{frags("1 El Porvenir")}, nil},
		{"1", [][]string{frags("1 Refugio")}, nil},
		{"1", [][]string{frags("1 Solo mensajes")}, nil},
		{"4", [][]string{frags("Elige una palabra clave")}, nil},
		{"no quiero palabra clave", [][]string{frags("protege tu caso", "cualquier palabra")}, nil},
		{"no sé", [][]string{frags("de 3 a 20 letras")}, nil},
	})
	if st.Step != stepCodeWord {
		t.Fatalf("after refusing, step %q; she must still be able to choose one", st.Step)
	}
	en := converse(t, New(t0, "en"), t0, []turn{{"hello", [][]string{frags("in danger")}, nil}})
	en.Step = stepCodeWord
	converse(t, en, t0, []turn{{"I don't want one", [][]string{frags("protects your case")}, nil}})
}

func TestConversationEnglishInDanger(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"Hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
		{"INGLÉS", [][]string{frags("105", "Linea 100", "Are you in danger now? 1 Yes 2 No", "code word", "Español: responde ES")}, nil},
		{"yes", [][]string{frags("counsellor on duty", "105", "1 Yes 2 No")}, []Effect{DangerNow{}}},
		{"1", [][]string{frags("Shall we open a case?", "Amparo team", "Confidential unless")}, nil},
		{"Y", [][]string{frags("1 Health", "2 Police report")}, nil},
		{"shelter and a lawyer please", [][]string{frags("1 El Porvenir", "4 Other")}, nil},
		{"other", [][]string{frags("1 Shelter 2 Legal", "ALL or NONE")}, nil},
		{"all", [][]string{frags("4 Do not contact me")}, nil},
		{"4", [][]string{frags("code word")}, nil},
		{"Tiger7", [][]string{frags("your case is " + testRef)}, []Effect{OpenCase{
			Urgent: true, Needs: []string{"shelter", "legal"}, Community: "other",
			Consent: map[string]bool{"shelter": true, "legal": true}, CodeWord: "tiger7", Lang: "en",
		}}},
	})
	if st.OwesCallback() || !st.Finished() {
		t.Errorf("OwesCallback %v Finished %v, want a finished case that owes no callback", st.OwesCallback(), st.Finished())
	}
	if st.CodeWord != "" || st.Needs != nil {
		t.Errorf("answers kept after the case was opened: %#v", st)
	}
}

func TestDangerThenStopHere(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"1", [][]string{frags("consejera de turno")}, []Effect{DangerNow{}}},
		{"no", [][]string{frags("Linea 100")}, nil},
	})
	// Stopping here is not a case: the counsellor still owes her a call.
	if !st.OwesCallback() || !st.Finished() {
		t.Errorf("OwesCallback %v Finished %v", st.OwesCallback(), st.Finished())
	}
}

// An English first message starts in English: no keyword stands between
// her and the welcome.
func TestEnglishFirstMessage(t *testing.T) {
	for _, in := range []string{"help", "Hello", "hi", "Hi, I need help", "good evening", "HELLO?"} {
		_, out := trujillo.Step(New(t0, "es"), in, t0)
		texts := render(t, out)
		if out.Lang != templates.EN || len(texts) == 0 || !strings.Contains(texts[len(texts)-1], "Are you in danger now?") {
			t.Errorf("first message %q: %s %q", in, out.Lang, texts)
		}
	}
	for _, in := range []string{"hola", "ayuda", "necesito ayuda, estoy en peligro", "1", "no", "hola hello"} {
		if _, out := trujillo.Step(New(t0, "es"), in, t0); out.Lang != templates.ES {
			t.Errorf("first message %q started in %s", in, out.Lang)
		}
	}
	// Only the first message chooses; later, an English word is an answer.
	st, _ := trujillo.Step(New(t0, "es"), "hola", t0)
	if _, out := trujillo.Step(st, "hello", t0); out.Lang != templates.ES {
		t.Errorf("a later message switched to %s", out.Lang)
	}
	converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("English: reply EN")}, nil},
		{"EN", [][]string{frags("Are you in danger now?", "Español: responde ES")}, nil},
		{"ES", [][]string{frags("¿Estas en peligro ahora?")}, nil},
	})
}

func TestStopMidway(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"1", [][]string{frags("¿Qué necesitas?")}, nil},
		// SALIR says what stops, that she will still be answered, and how
		// to come back.
		{" Salir! ", [][]string{frags("no te enviaremos mas mensajes", "105", "Linea 100", "INICIO")}, []Effect{Stop{}}},
		// Her own messages are answered: never silence. Danger in her
		// words raises the alarm, and she still reads the way back.
		{"necesito ayuda, estoy en peligro", [][]string{frags("consejera de turno", "105"), frags("105", "Linea 100", "INICIO")},
			[]Effect{DangerNow{}}},
		{"1", [][]string{frags("105", "INICIO")}, nil},
		{"ENGLISH", [][]string{frags("Emergency", "105", "RESTART")}, nil},
	})
	if !st.Finished() || st.Needs != nil || st.Step != stepStopped {
		t.Fatalf("after SALIR: %#v", st)
	}
	// Only her explicit request brings the conversation back.
	converse(t, st, t0, []turn{
		{"HELP", [][]string{frags("Emergency", "105", "RESTART")}, nil},
		{"restart", [][]string{frags("Are you in danger now?")}, []Effect{Resume{}}},
	})
}

func TestStopWordsAtEveryStep(t *testing.T) {
	for name, st := range reachable(t) {
		for _, word := range []string{"SALIR", "stop", "Stop.", "sálir"} {
			_, out := trujillo.Step(st, word, t0)
			if len(out.Replies) != 1 || out.Replies[0].Key != templates.KeyStop || !reflect.DeepEqual(out.Effects, []Effect{Stop{}}) {
				t.Errorf("%s: %q gave %#v", name, word, out)
			}
		}
	}
}

func TestErase(t *testing.T) {
	toNeeds := []turn{
		{"hola", [][]string{frags("105")}, nil},
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"1", [][]string{frags("¿Qué necesitas?")}, nil},
	}
	unverified := []Effect{EraseConfirmed{}}
	const ask, done = "Para borrar todo envia tu palabra clave", "Borramos lo que se puede borrar sin palabra clave"
	tests := []struct {
		name  string
		turns []turn
		erase bool
	}{
		{"confirmed with 1", []turn{
			{"BORRAR", [][]string{frags(ask, "Si no tienes, responde 1")}, nil},
			{"1", [][]string{frags(done)}, unverified},
			{"hola", [][]string{frags("INICIO")}, nil},
		}, true},
		{"confirmed with sí", []turn{
			{"borrar", [][]string{frags(ask)}, nil},
			{"Sí", [][]string{frags(done)}, unverified},
		}, true},
		{"confirmed in one message", []turn{
			{"Borrar, sí", [][]string{frags(done)}, unverified},
		}, true},
		{"confirmed with BORRAR SI after asking", []turn{
			{"borrar", [][]string{frags(ask)}, nil},
			{"BORRAR SÍ", [][]string{frags(done)}, unverified},
		}, true},
		{"english", []turn{
			{"DELETE", [][]string{frags(ask)}, nil},
			{"erase yes", [][]string{frags(done)}, unverified},
		}, true},
		{"declined with 2", []turn{
			{"borrar", [][]string{frags(ask)}, nil},
			{"2", [][]string{frags("No borramos nada"), frags("¿Qué necesitas?")}, nil},
			{"3", [][]string{frags("1 El Porvenir")}, nil},
		}, false},
		{"anything else is a code word to check", []turn{
			{"borrar", [][]string{frags(ask)}, nil},
			{"mango", nil, []Effect{CheckCodeWord{Word: "mango"}}},
		}, false},
		{"asked twice", []turn{
			{"borrar", [][]string{frags(ask)}, nil},
			{"borrar", [][]string{frags(ask)}, nil},
			{"no", [][]string{frags("No borramos nada"), frags("¿Qué necesitas?")}, nil},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := converse(t, New(t0, "es"), t0, append(append([]turn{}, toNeeds...), tt.turns...))
			if got := st.Step == stepErased; got != tt.erase {
				t.Errorf("erased = %v, want %v (step %s)", got, tt.erase, st.Step)
			}
		})
	}
}

func TestHelpAtSeveralSteps(t *testing.T) {
	tests := []struct {
		step, word string
		question   string
	}{
		{"danger", "AYUDA", "¿Estas en peligro ahora?"},
		{"consent", "ayuda", "¿Abrimos un caso?"},
		{"when", "Ayuda!", "¿Cuando ocurrio?"},
		{"referrals", "¡AYUDA!", "1 Salud 2 Policia 3 Apoyo psicologico"},
		{"codeword", "help", "palabra clave"},
		{"danger_wait", "ayuda", "¿Estas en peligro ahora?"},
		{"return_menu", "ayuda", "1 Que una consejera te contacte"},
		{"erase_confirm", "ayuda", "BORRAR SI"},
		{"erase_word", "ayuda", "Para borrar todo envia tu palabra clave"},
		{"erase_wait", "ayuda", "Para borrar todo envia tu palabra clave"},
	}
	states := reachable(t)
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			st, ok := states[tt.step]
			if !ok {
				t.Fatalf("no state %q", tt.step)
			}
			next, out := trujillo.Step(st, tt.word, t0)
			texts := render(t, out)
			if len(texts) != 2 || !strings.Contains(texts[0], "105") || !strings.Contains(texts[0], "Linea 100") ||
				!strings.Contains(texts[0], "INICIO") || !strings.Contains(texts[1], tt.question) {
				t.Errorf("help = %q", texts)
			}
			if len(out.Effects) != 0 {
				t.Errorf("help had effects %#v", out.Effects)
			}
			// Help leaves the question where it was.
			if _, again := trujillo.Step(next, "?", t0); len(again.Replies) == 0 {
				t.Errorf("no re-prompt after help")
			}
		})
	}
	for _, step := range []string{"done", "stopped", "erased"} {
		_, out := trujillo.Step(states[step], "AYUDA", t0)
		if texts := render(t, out); len(texts) != 1 || !strings.Contains(texts[0], "105") {
			t.Errorf("%s: help = %q", step, texts)
		}
	}
}

func TestUnknownAnswersRePrompt(t *testing.T) {
	want := map[string]string{
		"danger":      "Responde 1 si estas en peligro ahora o 2 si no",
		"continue":    "Responde 1 para seguir por mensaje o 2",
		"consent":     "Responde 1 si aceptas abrir un caso o 2",
		"needs":       "1 Salud 2 Denuncia 3 Refugio 4 Legal 5 Apoyo psicologico",
		"when":        "Responde 1 a 6",
		"community":   "1 El Porvenir, 2 La Esperanza, 3 Florencia de Mora o 4 Otra",
		"referrals":   "Responde los numeros (1 Salud 2 Policia 3 Apoyo psicologico), TODOS o NINGUNO",
		"contact":     "1 Solo mensajes, 2 Mensajes y llamadas",
		"hours":       "Responde 1 a 4",
		"codeword":    "de 3 a 20 letras",
		"return_menu": "1 para que te contacte una consejera",
		"erase_word":  "Esa palabra no coincide. Envia tu palabra clave, 1 si no tienes",
		"stopped":     "Para empezar de nuevo escribe INICIO",
		"done":        "INICIO",
		"erased":      "INICIO",
	}
	states := reachable(t)
	for step, fragment := range want {
		for _, in := range []string{"banana split", "", "¿?", "7", "no sé", "si pero"} {
			if step == "codeword" && in == "banana split" {
				continue
			}
			st := states[step]
			next, out := trujillo.Step(st, in, t0)
			texts := render(t, out)
			if len(texts) != 1 || !strings.Contains(texts[0], fragment) {
				t.Errorf("%s %q: replies %q, want one containing %q", step, in, texts, fragment)
			}
			if len(out.Effects) != 0 {
				t.Errorf("%s %q: effects %#v", step, in, out.Effects)
			}
			if next.Step != st.Step {
				t.Errorf("%s %q: moved to %s", step, in, next.Step)
			}
		}
	}
}

// Everyone gets the same first reply; her code word, sent in answer to it,
// opens her returning menu. Whether a number has a record never changes a
// reply: a word is checked for every number, and a wrong one is answered
// like any unclear answer.
func TestReturningSurvivor(t *testing.T) {
	st := converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("105", "Linea 100", "Si ya nos escribiste, envia tu palabra clave")}, nil},
		{"Mangó", nil, []Effect{CheckCodeWord{Word: "mango"}}},
	})
	wrong, out := trujillo.CodeWordResult(st, false, t0)
	if texts := render(t, out); len(texts) != 1 || out.Replies[0].Key != templates.KeyDangerRetry {
		t.Fatalf("wrong word: %q", texts)
	}
	if _, unclear := trujillo.Step(reachable(t)["danger"], "banana split", t0); !reflect.DeepEqual(unclear.Replies, out.Replies) {
		t.Errorf("a wrong word is answered %#v, an unclear answer %#v", out.Replies, unclear.Replies)
	}
	// Her word in answer to the welcome is also her choice to come back
	// after SALIR; the same word at BORRAR is not (TestEraseWithCodeWord).
	right, out := trujillo.CodeWordResult(st, true, t0)
	if texts := render(t, out); len(texts) != 1 || !strings.Contains(texts[0], "1 Que una consejera te contacte") ||
		!reflect.DeepEqual(out.Effects, []Effect{Resume{Verified: true}}) {
		t.Fatalf("right word: %q %#v", texts, out.Effects)
	}
	converse(t, right, t0, []turn{
		{"1", [][]string{frags("consejera te contactara")}, []Effect{Callback{}}},
	})
	converse(t, right, t0, []turn{
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
	})
	// Not in danger, with no code word: a new case, as for everyone.
	converse(t, wrong, t0, []turn{
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
	})

	// Three wrong words end the checks for this conversation; the replies
	// stay those of an unclear answer.
	st = converse(t, wrong, t0, []turn{
		{"pera", nil, []Effect{CheckCodeWord{Word: "pera"}}},
	})
	st, _ = trujillo.CodeWordResult(st, false, t0)
	st = converse(t, st, t0, []turn{
		{"uva", nil, []Effect{CheckCodeWord{Word: "uva"}}},
	})
	st, _ = trujillo.CodeWordResult(st, false, t0)
	converse(t, st, t0, []turn{
		{"mango", [][]string{frags("Responde 1 si estas en peligro ahora")}, nil},
		{"1", [][]string{frags("consejera de turno")}, []Effect{DangerNow{}}},
	})

	// In danger first, then her word is no longer asked for: a new case.
	converse(t, New(t0, "en"), t0, []turn{
		{"hi", [][]string{frags("Are you in danger now?")}, nil},
		{"1", [][]string{frags("counsellor")}, []Effect{DangerNow{}}},
		{"1", [][]string{frags("Shall we open a case?")}, nil},
	})
}

func TestCodeWordResultOutOfTurn(t *testing.T) {
	st := reachable(t)["needs"]
	next, out := trujillo.CodeWordResult(st, true, t0)
	if next.Step != stepNeeds || len(out.Replies) != 1 || out.Replies[0].Key != templates.KeyNeeds {
		t.Errorf("CodeWordResult out of turn: %s %#v", next.Step, out)
	}
}

func TestRestartKeepsLanguageAndDanger(t *testing.T) {
	st := converse(t, New(t0, "en"), t0, []turn{
		{"hi", [][]string{frags("Are you in danger now?")}, nil},
		{"1", [][]string{frags("counsellor")}, []Effect{DangerNow{}}},
		{"1", [][]string{frags("Shall we open a case?")}, nil},
		{"1", [][]string{frags("What do you need?")}, nil},
		{"4", [][]string{frags("Where are you?")}, nil},
		{"INICIO", [][]string{frags("Are you in danger now?")}, []Effect{Resume{}}},
		{"español", [][]string{frags("¿Estas en peligro ahora?")}, nil},
	})
	if !st.OwesCallback() || st.Needs != nil || st.Lang != "es" {
		t.Errorf("after restart: %#v", st)
	}
}

func TestLanguageSwitchRepeatsTheQuestion(t *testing.T) {
	converse(t, New(t0, "es"), t0, []turn{
		{"hola", [][]string{frags("¿Estas en peligro ahora?")}, nil},
		{"2", [][]string{frags("¿Abrimos un caso?")}, nil},
		{"English", [][]string{frags("Shall we open a case?")}, nil},
		{"yes", [][]string{frags("What do you need?")}, nil},
		{"Spanish", [][]string{frags("¿Qué necesitas?")}, nil},
	})
}

func TestFirstMessageIsAlwaysTheDangerQuestion(t *testing.T) {
	// A first message that says she is in danger is no question to answer:
	// TestDangerInHerOwnWordsAtEveryStep.
	for _, in := range []string{"", "hola", "1", "sí", "borrarx", "\xff\xfe"} {
		_, out := trujillo.Step(New(t0, ""), in, t0)
		texts := render(t, out)
		if len(texts) != 1 || !strings.Contains(texts[0], "105") || !strings.Contains(texts[0], "Linea 100") {
			t.Errorf("first reply to %q = %q", in, texts)
		}
		if len(out.Effects) != 0 {
			t.Errorf("first message %q had effects %#v", in, out.Effects)
		}
	}
}

func TestStepDoesNotChangeItsInput(t *testing.T) {
	st := reachable(t)["contact"]
	before, _ := json.Marshal(st)
	for _, in := range []string{"1", "borrar", "salir", "inicio"} {
		trujillo.Step(st, in, t0)
	}
	after, _ := json.Marshal(st)
	if string(before) != string(after) {
		t.Errorf("Step changed its input:\n%s\n%s", before, after)
	}
}

func TestUnmarshalVersions(t *testing.T) {
	tests := []struct {
		in          string
		ok, version bool // accepted; rejected for its version
	}{
		{`{"v":1,"step":"needs","lang":"es","last_at":"2026-03-10T15:00:00Z"}`, true, false},
		{`{"step":"needs"}`, false, true},
		{`{"v":2,"step":"needs"}`, false, true},
		{`{"v":"1"}`, false, false},
	}
	for _, tt := range tests {
		var st State
		err := json.Unmarshal([]byte(tt.in), &st)
		if (err == nil) != tt.ok || errors.Is(err, ErrVersion) != tt.version {
			t.Errorf("%s: err %v, want ok %v, version error %v", tt.in, err, tt.ok, tt.version)
		}
	}
}

// reachable drives conversations to every step, by name.
func reachable(t testing.TB) map[string]State {
	t.Helper()
	play := func(st State, ins ...string) State {
		now := t0
		for _, in := range ins {
			st, _ = trujillo.Step(st, in, now)
			now = now.Add(time.Minute)
		}
		return st
	}
	fresh := New(t0, "es")
	main := []string{"hola", "2", "1", "1 2 5", "hace 10 horas", "2", "todos", "2", "9-13", "mango"}
	names := []string{"danger", "consent", "needs", "when", "community", "referrals", "contact", "hours", "codeword", "done"}
	states := map[string]State{"start": fresh}
	for i, name := range names {
		states[name] = play(fresh, main[:i+1]...)
	}
	states["continue"] = play(fresh, "hola", "1")
	states["stopped"] = play(fresh, "hola", "salir")
	states["erased"] = play(fresh, "hola", "borrar si")
	states["erase_word_stopped"] = play(fresh, "hola", "salir", "borrar")
	states["danger_wait"] = play(fresh, "hola", "mango")
	states["return_menu"], _ = trujillo.CodeWordResult(states["danger_wait"], true, t0)
	states["erase_confirm"] = play(states["return_menu"], "borrar")
	states["erase_word"] = play(fresh, "hola", "2", "borrar")
	states["erase_wait"] = play(fresh, "hola", "2", "borrar", "mango")
	for name, st := range states {
		if !strings.HasPrefix(name, string(st.Step)) {
			t.Fatalf("reachable: %s is at step %s", name, st.Step)
		}
	}
	return states
}

// After SALIR, BORRAR still works, and leaving it is answered too.
func TestEraseAfterStop(t *testing.T) {
	st := reachable(t)["erase_word_stopped"]
	converse(t, st, t0, []turn{
		{"2", [][]string{frags("No borramos nada"), frags("INICIO")}, nil},
		{"borrar", [][]string{frags("Para borrar todo")}, nil},
		{"1", [][]string{frags("Borramos lo que se puede borrar sin palabra clave")}, []Effect{EraseConfirmed{}}},
	})
}
