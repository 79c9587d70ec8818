package triage

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/amparo/amparo/templates"
)

// FuzzStep feeds any message to every reachable step: Step must not panic,
// must answer her (directly, or through CodeWordResult after a
// CheckCodeWord), every reply must render within two segments, and the new
// state must survive a JSON round trip.
func FuzzStep(f *testing.F) {
	states := reachable(f)
	names := slices.Sorted(maps.Keys(states))
	for _, in := range []string{"", "1", "2", "sí", "SALIR", "borrar sí", "AYUDA", "INGLÉS", "1 3 4",
		"hace 71 horas", "9-13", "Mangó", "nuevo", "INICIO", "hello", "EN", "\xff", "ñ", strings.Repeat("9", 300),
		"me está pegando", "no estoy en peligro"} {
		for i := range names {
			f.Add(uint8(i), in, false)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, input string, codeWordOK bool) {
		st := states[names[int(which)%len(names)]]
		next, out := trujillo.Step(st, input, t0)
		if check, ok := onlyCheck(out); ok {
			next, out = trujillo.CodeWordResult(next, codeWordOK, t0)
			if check.Word == "" || utf8.RuneCountInString(check.Word) > maxCodeWord {
				t.Errorf("CheckCodeWord %q", check.Word)
			}
		}
		if len(out.Replies) == 0 {
			t.Fatalf("%s %q: no reply: %#v", st.Step, input, out)
		}
		for _, m := range out.WithReference(testRef).Replies {
			text, err := m.Render(out.Lang)
			if err != nil {
				t.Fatalf("%s %q: %v", st.Step, input, err)
			}
			if _, n := templates.Segments(text); n > 2 {
				t.Errorf("%s %q: %d segments: %q", st.Step, input, n, text)
			}
		}
		b, err := json.Marshal(next)
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, next) {
			t.Fatalf("round trip: %v\n%#v\n%#v", err, back, next)
		}
		if !next.LastAt.Equal(t0) {
			t.Errorf("LastAt %v", next.LastAt)
		}
	})
}

func onlyCheck(out Output) (CheckCodeWord, bool) {
	if len(out.Effects) != 1 || len(out.Replies) != 0 {
		return CheckCodeWord{}, false
	}
	c, ok := out.Effects[0].(CheckCodeWord)
	return c, ok
}

// FuzzKeyword: normalisation is idempotent and bounded, and case or
// accents never change which keyword a message is.
func FuzzKeyword(f *testing.F) {
	for _, s := range []string{"SALIR", "Sálir!", "borrar sí", "INGLÉS", "ESPAÑOL", "ayuda", "", "\xff", "İ", "ẞ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm := normalize(s)
		if again := normalize(norm); again != norm {
			t.Errorf("normalize not idempotent: %q → %q → %q", s, norm, again)
		}
		if len(norm) > 2*maxInput || !utf8.ValidString(norm) {
			t.Errorf("normalize(%q) = %q", s, norm)
		}
		kw := parseKeyword(norm)
		if kw != kwNone && parseKeyword(normalize(strings.ToUpper(norm))) != kw {
			t.Errorf("keyword of %q changes with case", s)
		}
		for _, w := range fields(norm) {
			if w == "" {
				t.Errorf("fields(%q) has an empty word", norm)
			}
		}
	})
}
