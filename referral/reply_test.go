package referral

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		accept bool
		code   string
		ok     bool
	}{
		{"OK 4821", true, "4821", true},
		{"ok4821", true, "4821", true},
		{"  Ok   4821  ", true, "4821", true},
		{"OK: 4821.", true, "4821", true},
		{"sí 4821", true, "4821", true},
		{"SÍ 4821", true, "4821", true},
		{"Acepto 4821", true, "4821", true},
		{"NO 4821", false, "4821", true},
		{"no-4821", false, "4821", true},
		{"rechazo #4821!", false, "4821", true},
		{"¡no 4821!", false, "4821", true},
		{"4821 OK", false, "", false},
		{"OK 482", false, "", false},
		{"OK 48211", false, "", false},
		{"OK 48 21", false, "", false},
		{"OK 4821 gracias", false, "", false},
		{"O K 4821", false, "", false},
		{"OKAY 4821", false, "", false},
		{"NOK 4821", false, "", false},
		{"OK", false, "", false},
		{"hola", false, "", false},
		{"OK ４８２１", false, "", false}, // full-width digits are not the code
		{"", false, "", false},
		{"OK " + strings.Repeat(" ", 80) + "4821", false, "", false},
	} {
		accept, code, ok := ParseReply(tc.in)
		if accept != tc.accept || code != tc.code || ok != tc.ok {
			t.Errorf("ParseReply(%q) = %v %q %v, want %v %q %v", tc.in, accept, code, ok, tc.accept, tc.code, tc.ok)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"OK 4821", "no 1000", "Sí 0000", "ACEPTO-9999", "rechazo 12345", "ok\u0301 1234", "\xff", "¡NO 4821!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		accept, code, ok := ParseReply(text)
		if !ok {
			if accept || code != "" {
				t.Fatalf("not a reply, yet accept=%v code=%q", accept, code)
			}
			return
		}
		if len(text) > maxReplyLen || !utf8.ValidString(code) || len(code) != 4 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("ParseReply(%q) gave code %q", text, code)
		}
		if !strings.Contains(text, code) {
			t.Fatalf("code %q is not in %q", code, text)
		}
		// Case never changes the meaning.
		a2, c2, ok2 := ParseReply(strings.ToLower(text))
		if ok2 && (a2 != accept || c2 != code) {
			t.Fatalf("lower-casing %q changed the reading", text)
		}
	})
}
