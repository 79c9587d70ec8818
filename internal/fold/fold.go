// Package fold is the one accent-folding rule. Survivors, providers and
// whoever keeps the directory type the same word with and without accents
// ("Sí", "si"; "Florencia de Mora", "FLORENCIA DE MORÁ"), and an SMS is
// cheaper without the accents GSM-7 lacks. Every place that compares or
// trims such text folds it here, so "the same word" means one thing
// everywhere. It imports nothing of ours, so any package may use it.
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Accents returns s without its accents, case kept ("Policía" → "Policia",
// "ñ" → "n"): s is decomposed (NFD) and its combining marks dropped, so an
// accent typed as a separate mark goes too.
func Accents(s string) string {
	if isASCII(s) {
		// Most of what arrives is plain ASCII; it has nothing to fold.
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Plain returns s in lower case without accents: the form in which two
// spellings of one word compare equal.
func Plain(s string) string { return Accents(strings.ToLower(s)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
