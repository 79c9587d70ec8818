package templates

import (
	"strings"

	"github.com/amparo/amparo/internal/fold"
)

// FoldGSM7 drops the accents GSM-7 lacks from s ("Policía" → "Policia"),
// keeping those it has (ñ, ü, é): a value put into a text, such as a
// service's name, must not switch the whole message to UCS-2 and halve
// its room.
func FoldGSM7(s string) string {
	var b strings.Builder
	for _, r := range s {
		if gsmBasic[r] || gsmExtension[r] {
			b.WriteRune(r)
			continue
		}
		b.WriteString(fold.Accents(string(r)))
	}
	return b.String()
}
