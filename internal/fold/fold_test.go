package fold

import "testing"

func TestPlain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                   "",
		"si":                 "si",
		"SÍ":                 "si",
		"Florencia de MORÁ":  "florencia de mora",
		"niño pingüino caça": "nino pinguino caca",
		"AÑO Ñandú":          "ano nandu",
		"e\u0301":            "e", // the accent typed as its own mark
		"Ýşţ":                "yst",
		"1ª ¿qué? 10h":       "1ª ¿que? 10h",
	} {
		if got := Plain(in); got != want {
			t.Errorf("Plain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAccentsKeepsCase(t *testing.T) {
	t.Parallel()
	if got := Accents("Policía Nacional del PERÚ"); got != "Policia Nacional del PERU" {
		t.Errorf("Accents = %q", got)
	}
}
