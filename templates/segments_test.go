package templates

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name     string
		text     string
		encoding string
		segments int
	}{
		{"empty", "", GSM7, 1},
		{"160 GSM-7", a(160), GSM7, 1},
		{"161 GSM-7", a(161), GSM7, 2},
		{"306 GSM-7", a(306), GSM7, 2},
		{"307 GSM-7", a(307), GSM7, 3},
		{"extension counts double", a(159) + "€", GSM7, 2},
		{"extension fits", a(158) + "€", GSM7, 1},
		{"all extension chars", "\f^{}\\[~]|€", GSM7, 1},
		// 152 + 2 + 152 = 306 septets, but the escape pair cannot straddle
		// the first boundary, so the second segment needs 154.
		{"escape pair not split", a(152) + "€" + a(152), GSM7, 3},
		{"escape pair fits", a(152) + "€" + a(151), GSM7, 2},
		{"GSM-7 accents and Spanish punctuation", "éèùìòÇØøÅåÄÖÑÜ§äöñüà¿¡É", GSM7, 1},
		{"á forces UCS-2", "á", UCS2, 1},
		{"í forces UCS-2", "Línea 100", UCS2, 1},
		{"ó forces UCS-2", "ó", UCS2, 1},
		{"ú forces UCS-2", "ú", UCS2, 1},
		{"Á forces UCS-2", "Á", UCS2, 1},
		{"ç is not GSM-7", "ç", UCS2, 1},
		{"70 UCS-2", strings.Repeat("á", 70), UCS2, 1},
		{"71 UCS-2", strings.Repeat("á", 71), UCS2, 2},
		{"134 UCS-2", strings.Repeat("á", 134), UCS2, 2},
		{"135 UCS-2", strings.Repeat("á", 135), UCS2, 3},
		{"emoji costs two", a(68) + "😀", UCS2, 1},
		{"emoji overflows", a(69) + "😀", UCS2, 2},
		// 66 + 2 + 66 = 134 units, but the surrogate pair cannot straddle the
		// first boundary, so the second segment needs 68.
		{"surrogate pair not split", a(66) + "😀" + a(66), UCS2, 3},
		{"surrogate pair fits", a(66) + "😀" + a(65), UCS2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, n := Segments(tt.text)
			if enc != tt.encoding || n != tt.segments {
				t.Errorf("Segments = %s %d, want %s %d", enc, n, tt.encoding, tt.segments)
			}
		})
	}
}

func TestFoldGSM7KeepsATextInGSM7(t *testing.T) {
	for in, want := range map[string]string{
		"Policía":              "Policia",
		"Apoyo psicológico":    "Apoyo psicologico",
		"Comisaría Ñaña, Pérú": "Comisaria Ñaña, Péru",
		"Av. José Gálvez 120":  "Av. José Galvez 120",
	} {
		got := FoldGSM7(in)
		if got != want {
			t.Errorf("FoldGSM7(%q) = %q, want %q", in, got, want)
		}
		if enc, _ := Segments(got); enc != GSM7 {
			t.Errorf("FoldGSM7(%q) is still %s", in, enc)
		}
	}
}
